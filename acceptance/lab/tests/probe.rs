//! The repository's nested-probe in a pod container: `--sandbox X --json`
//! gives an exit code and a JSON report. The probe is the binary the
//! workspace build made.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use node_lab::Workload;
use std::path::PathBuf;

/// nested-probe as the workspace build made it (`make build`); the tests
/// never run cargo themselves.
fn build_probe() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target")),
        PathBuf::from,
    );
    let p = target.join("debug/nested-probe");
    assert!(
        p.exists(),
        "{} is missing: `make build` (cargo nextest list --workspace) builds it",
        p.display()
    );
    p
}

#[test]
fn probe_reports_from_inside_the_pod_container() {
    let lab = lab().with_probe(build_probe());
    let w = Workload::Probe {
        sandbox: "bubblewrap".into(),
    };
    // Where bubblewrap runs, the probe must say so; where /proc is masked, it must not.
    let o = run(&lab, &unmasked(userns(pod(1000))), &containerd(), &w);
    assert!(o.report.is_some(), "no JSON report:\n{}", o.output);
    assert!(
        o.ok,
        "probe says bubblewrap cannot run where it does:\n{}\n{:#?}",
        o.output, o.report
    );
    let o = run(&lab, &userns(pod(1000)), &containerd(), &w);
    assert!(o.report.is_some(), "no JSON report:\n{}", o.output);
    assert!(
        !o.ok,
        "probe says bubblewrap runs under a masked /proc:\n{}",
        o.output
    );
}
