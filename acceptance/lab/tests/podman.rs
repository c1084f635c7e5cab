//! Rootless podman (uid 1000, vfs, `--network none`) in pod containers:
//! it needs an unmasked /proc, no_new_privs off, newuidmap/newgidmap that
//! can work (file capabilities with SETUID+SETGID in the bounding set, or
//! Debian's setuid-root helpers with SYS_ADMIN), subuid ranges inside the
//! pod's ids, and a seccomp profile that lets it clone and sethostname.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use node_lab::{PodmanOptions, Seccomp, Workload};

const PODMAN: Workload = Workload::Podman;

fn setuid_helpers() -> Workload {
    Workload::PodmanWith(PodmanOptions {
        setuid_helpers: true,
        ..PodmanOptions::default()
    })
}

#[test]
fn file_capability_helpers_with_and_without_a_pod_user_namespace() {
    let lab = lab();
    let node = containerd();
    let o = passes(&lab, &unmasked(userns(pod(1000))), &node, &PODMAN);
    // Nested root is uid 1000 of the pod; 1..999 and 1001..65535 come from /etc/subuid.
    let words = o.output.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("INNER: uid=0 gid=0"), "{}", o.output);
    assert!(
        words.contains("0 1000 1 1 1 999 1000 1001 64535"),
        "{}",
        o.output
    );
    passes(&lab, &unmasked(pod(1000)), &node, &PODMAN);
    // The least set: SETUID and SETGID in the bounding set.
    passes(
        &lab,
        &only(unmasked(userns(pod(1000))), &["SETUID", "SETGID"]),
        &node,
        &PODMAN,
    );
    fails_with(
        &lab,
        &only(unmasked(userns(pod(1000))), &["SETUID"]),
        &node,
        &PODMAN,
        "fork/exec /lab/fcaps/newgidmap: operation not permitted",
    );
}

#[test]
fn masked_proc_and_no_new_privs_break_it() {
    let lab = lab();
    let node = containerd();
    fails_with(
        &lab,
        &userns(pod(1000)),
        &node,
        &PODMAN,
        "crun: open /proc/sys/net/ipv4/ping_group_range: Read-only file system",
    );
    fails_with(
        &lab,
        &nnp(unmasked(userns(pod(1000)))),
        &node,
        &PODMAN,
        "newuidmap: write to uid_map failed: Operation not permitted",
    );
}

#[test]
fn setuid_root_helpers_need_sys_admin() {
    let lab = lab();
    let node = containerd();
    let p = unmasked(userns(pod(1000)));
    fails_with(
        &lab,
        &p,
        &node,
        &setuid_helpers(),
        "newuidmap: write to uid_map failed: Operation not permitted",
    );
    passes(&lab, &plus(p, &["SYS_ADMIN"]), &node, &setuid_helpers());
}

#[test]
fn seccomp_profiles() {
    let lab = lab();
    let mut p = unmasked(userns(pod(1000)));
    passes(&lab, &p, &cri_o(), &PODMAN);
    p.seccomp = Seccomp::RuntimeDefault;
    fails_with(
        &lab,
        &p,
        &containerd(),
        &PODMAN,
        "cannot clone: Operation not permitted",
    );
    // containers-common's profile blocks sethostname without SYS_ADMIN.
    fails_with(
        &lab,
        &p,
        &cri_o(),
        &PODMAN,
        "crun: sethostname: Operation not permitted",
    );
    let uts_host = Workload::PodmanWith(PodmanOptions {
        run_args: vec!["--uts=host".into()],
        ..PodmanOptions::default()
    });
    passes(&lab, &p, &cri_o(), &uts_host);
}
