//! landjail (Landlock ABI 4 network rules) in pod containers: it needs
//! nothing from the pod; it fails only on a kernel without Landlock ABI 4.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use node_lab::{RunOptions, Seccomp, Workload};

#[test]
fn passes_with_no_capabilities_and_every_profile() {
    let lab = lab();
    let mut p = nnp(only(pod(1000), &[]));
    let o = passes(&lab, &p, &containerd(), &Workload::Landjail);
    assert!(
        o.output
            .contains("connect 127.0.0.1:18081 (denied): Permission denied"),
        "{}",
        o.output
    );
    assert!(
        o.output
            .contains("bind 127.0.0.1:18082 (not allowed): Permission denied"),
        "{}",
        o.output
    );
    p.seccomp = Seccomp::RuntimeDefault;
    passes(&lab, &p, &containerd(), &Workload::Landjail);
    passes(&lab, &userns(p.clone()), &cri_o(), &Workload::Landjail);
    // no_new_privs off: landjail sets it itself, as go-landlock does.
    passes(&lab, &pod(0), &cri_o(), &Workload::Landjail);
}

#[test]
fn fails_on_a_kernel_without_landlock() {
    let lab = lab();
    let o = lab
        .run_with(
            &pod(1000),
            &containerd(),
            &Workload::Landjail,
            &RunOptions {
                deny_syscalls: vec![("landlock_create_ruleset".into(), 38)],
                ..RunOptions::default()
            },
        )
        .unwrap();
    assert!(
        !o.ok
            && o.output
                .contains("missing kernel Landlock support. Got Landlock ABI v0, wanted 4"),
        "{}",
        o.output
    );
}
