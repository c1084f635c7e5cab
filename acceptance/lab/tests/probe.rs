//! The repository's nested-probe in a pod container: `--sandbox X --json`
//! gives an exit code and a JSON report. The probe is the binary the
//! workspace build made.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use node_lab::Workload;

#[test]
fn probe_reports_from_inside_the_pod_container() {
    let lab = lab().with_probe(probe_binary());
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
