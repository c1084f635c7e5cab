//! Seccomp in pod containers: containerd's RuntimeDefault (moby's profile
//! resolved against the bounding set) versus Unconfined.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use node_lab::{Seccomp, Workload};

fn unshare() -> Workload {
    Workload::Shell("grep '^Seccomp:' /proc/self/status; unshare --user --map-root-user true && echo UNSHARE-OK".into())
}

#[test]
fn runtime_default_filters_unshare_without_sys_admin() {
    let lab = lab();
    let mut p = pod(1000);
    let o = passes(&lab, &p, &containerd(), &unshare());
    assert!(
        o.output.contains("Seccomp:\t0") && o.output.contains("UNSHARE-OK"),
        "{}",
        o.output
    );
    p.seccomp = Seccomp::RuntimeDefault;
    let o = fails_with(
        &lab,
        &p,
        &containerd(),
        &unshare(),
        "unshare: unshare failed: Operation not permitted",
    );
    assert!(o.output.contains("Seccomp:\t2"), "{}", o.output);
    // With SYS_ADMIN in the bounding set the rule set allows it (the caps are not effective for uid 1000).
    let o = passes(&lab, &plus(p, &["SYS_ADMIN"]), &containerd(), &unshare());
    assert!(o.output.contains("Seccomp:\t2"), "{}", o.output);
}
