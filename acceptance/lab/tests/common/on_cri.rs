//! Helpers of the tests that run the provider's decisions on containerd's
//! CRI (`cri.rs`, `cri_seccomp.rs`).

use std::path::PathBuf;

use nested_provider::capability::{CapabilityData, Decision};
use node_lab::Pod;
use node_lab::Workload;
use node_lab::cri::{CriLab, CriOutcome};
use node_lab::record::check_recorded;
use serde_json::Value as Json;

use super::probe_binary;

pub fn data() -> &'static CapabilityData {
    CapabilityData::embedded().unwrap()
}

pub fn pod_of(d: &Decision, uid: u32) -> Pod {
    let mut pod = Pod::from_provider_outputs(
        &d.pod_spec.to_string(),
        &d.pod_security_context.to_string(),
        &d.container_security_context.to_string(),
        uid,
    )
    .unwrap();
    pod.devices = d.devices.clone();
    pod
}

pub fn workload(sandbox: &str, d: &Decision) -> Workload {
    match sandbox {
        "nsjail" => Workload::Nsjail {
            no_user_namespace: d.runtime_args.iter().any(|a| a == "--no-user-namespace"),
        },
        "landjail" => Workload::Landjail,
        "bubblewrap" => Workload::Bubblewrap,
        "podman" => Workload::Podman,
        other => panic!("no workload for {other}"),
    }
}

/// How the sandbox ran: Debian's real bubblewrap and podman; Coder's
/// Boundary (nsjail jail) and landjail are Go programs whose modules this
/// machine cannot fetch, so their steps are re-enacted (scripts/nsjail.sh,
/// src/bin/landjail.rs) from their source.
pub fn evidence(sandbox: &str) -> &'static str {
    match sandbox {
        "nsjail" | "landjail" => "re-enacted",
        _ => "real binary",
    }
}

/// nested-probe in the mode the pod starts the sandbox in.
pub fn probe(sandbox: &str, d: &Decision) -> Workload {
    Workload::ProbeWith {
        sandbox: sandbox.into(),
        setuid_helpers: false,
        env: if d.runtime_args.iter().any(|a| a == "--no-user-namespace") {
            vec!["BOUNDARY_NO_USER_NAMESPACE=true".into()]
        } else {
            Vec::new()
        },
    }
}

/// The line that says why a run failed, with run-specific numbers blanked.
pub fn why(o: &CriOutcome) -> String {
    const KEYS: [&str; 8] = [
        "operation not permitted",
        "permission denied",
        "not permitted",
        "read-only file system",
        "failed",
        "cannot",
        "error",
        "unable",
    ];
    const NOISE: [&str; 4] = [
        "unable to send audit message",
        "is not a shared mount",
        "cgroups-v1",
        "level=warning",
    ];
    let lines: Vec<&str> = o
        .output
        .lines()
        .filter(|l| !NOISE.iter().any(|n| l.contains(n)))
        // podman's `time=… level=error msg="running `helper args…`: the
        // helper's words"`: the words, without the time and the pid.
        .map(|l| l.rsplit_once("`: ").map_or(l, |(_, tail)| tail))
        // podman's log prefix `time="…" level=error msg="`: the message only.
        .map(
            |l| match (l.starts_with("time=\""), l.split_once(" msg=\"")) {
                (true, Some((_, msg))) => msg,
                _ => l,
            },
        )
        .map(|l| l.trim_end_matches('"').trim_end_matches("\\n"))
        .collect();
    let line = KEYS
        .iter()
        .find_map(|k| lines.iter().find(|l| l.to_ascii_lowercase().contains(k)))
        .or_else(|| lines.last())
        .copied()
        .unwrap_or("")
        .trim();
    super::blank_numbers(line, true)
}

pub fn start(lab: &node_lab::Lab, series: &str) -> CriLab {
    CriLab::start(lab, series, Some(&probe_binary())).unwrap_or_else(|e| panic!("{e}"))
}

pub fn recorded(name: &str, results: &Json) {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../schemas")).join(name);
    if let Err(e) = check_recorded(
        &path,
        results,
        "UPDATE_LAB_RESULTS=1 cargo nextest run -p node-lab --test cri --test cri_seccomp, then make docs",
    ) {
        panic!("{e}");
    }
}
