//! Shared helpers of the lab's tests: a [`Lab`] (failing loudly when the
//! machine cannot run it), the two runtimes' nodes, pods, and assertions
//! that print the workload's output when they fail.
#![allow(dead_code, clippy::panic)]

pub mod on_cri;

use std::path::PathBuf;

use node_lab::{Lab, Node, Outcome, Pod, RuntimeDefaults, Seccomp, Workload};

/// The lab, or a panic that says why it cannot run (not root, missing
/// tools — and that `bash acceptance/lab/setup.sh` installs them).
pub fn lab() -> Lab {
    match Lab::new() {
        Ok(lab) => lab,
        Err(e) => panic!("{e}"),
    }
}

/// nested-probe as the workspace build made it (the harness runs no cargo).
pub fn probe_binary() -> PathBuf {
    let p = acceptance::target_dir().join("debug/nested-probe");
    assert!(
        p.exists(),
        "{} is missing: `make build` (or `cargo build -p nested-probe`) builds it",
        p.display()
    );
    p
}

/// A containerd node, `seccompDefault: false`.
pub fn containerd() -> Node {
    Node::new(RuntimeDefaults::containerd().unwrap())
}

/// A CRI-O node, `seccompDefault: false`.
pub fn cri_o() -> Node {
    Node::new(RuntimeDefaults::cri_o().unwrap())
}

/// A pod running as `uid` (group = uid), everything else at the Kubernetes
/// defaults except an explicit `seccompProfile: Unconfined`.
pub fn pod(uid: u32) -> Pod {
    Pod {
        run_as_user: uid,
        run_as_group: uid,
        seccomp: Seccomp::Unconfined,
        ..Pod::default()
    }
}

/// `drop: [ALL]` + `add: caps`.
pub fn only(mut pod: Pod, caps: &[&str]) -> Pod {
    pod.capabilities_drop = vec!["ALL".into()];
    pod.capabilities_add = caps.iter().map(|c| c.to_string()).collect();
    pod
}

/// `add: caps` on top of the runtime's defaults.
pub fn plus(mut pod: Pod, caps: &[&str]) -> Pod {
    pod.capabilities_add = caps.iter().map(|c| c.to_string()).collect();
    pod
}

/// `drop: caps` from the runtime's defaults.
pub fn minus(mut pod: Pod, caps: &[&str]) -> Pod {
    pod.capabilities_drop = caps.iter().map(|c| c.to_string()).collect();
    pod
}

/// `hostUsers: false`.
pub fn userns(mut pod: Pod) -> Pod {
    pod.host_users = false;
    pod
}

/// `procMount: Unmasked`.
pub fn unmasked(mut pod: Pod) -> Pod {
    pod.proc_mount_unmasked = true;
    pod
}

/// `allowPrivilegeEscalation: false`.
pub fn nnp(mut pod: Pod) -> Pod {
    pod.allow_privilege_escalation = Some(false);
    pod
}

/// Runs and returns the outcome, panicking on a lab error.
pub fn run(lab: &Lab, pod: &Pod, node: &Node, w: &Workload) -> Outcome {
    match lab.run(pod, node, w) {
        Ok(o) => o,
        Err(e) => panic!("lab error for {w:?}: {e}"),
    }
}

/// The workload passed.
pub fn passes(lab: &Lab, pod: &Pod, node: &Node, w: &Workload) -> Outcome {
    let o = run(lab, pod, node, w);
    assert!(
        o.ok,
        "{w:?} on {} should pass with {pod:?}\nexit {} after {:?}:\n{}",
        node.runtime.name, o.exit_code, o.took, o.output
    );
    o
}

/// The workload failed and said `message`.
pub fn fails_with(lab: &Lab, pod: &Pod, node: &Node, w: &Workload, message: &str) -> Outcome {
    let o = run(lab, pod, node, w);
    assert!(
        !o.ok && o.output.contains(message),
        "{w:?} on {} should fail with `{message}` for {pod:?}\nexit {} after {:?}:\n{}",
        node.runtime.name,
        o.exit_code,
        o.took,
        o.output
    );
    o
}

/// `line` with run-specific numbers blanked: a run of 5 or more digits
/// (with `hex`, a hex run that starts with a digit: ids, addresses)
/// becomes `N`; the result is cut to 160 characters.
pub fn blank_numbers(line: &str, hex: bool) -> String {
    let mut out = String::new();
    let mut digits = String::new();
    for c in line.chars().chain(std::iter::once(' ')) {
        let part = if hex {
            c.is_ascii_hexdigit() && (c.is_ascii_digit() || !digits.is_empty())
        } else {
            c.is_ascii_digit()
        };
        if part {
            digits.push(c);
            continue;
        }
        if digits.len() >= 5 {
            out.push('N');
        } else {
            out.push_str(&digits);
        }
        digits.clear();
        out.push(c);
    }
    out.trim_end().chars().take(160).collect()
}
