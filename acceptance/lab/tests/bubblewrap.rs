//! Bubblewrap (the Zuul command) in pod containers: it needs an unmasked
//! /proc, a seccomp profile that allows user namespaces and pivot_root, and
//! SETFCAP when it runs as root; as uid 1000 it needs no capability.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use node_lab::{Seccomp, Workload};

const BWRAP: Workload = Workload::Bubblewrap;

#[test]
fn uid_1000_needs_only_an_unmasked_proc() {
    let lab = lab();
    let node = containerd();
    // No capabilities and no_new_privs are fine; so is the host user namespace.
    passes(
        &lab,
        &nnp(only(unmasked(userns(pod(1000))), &[])),
        &node,
        &BWRAP,
    );
    passes(&lab, &unmasked(pod(1000)), &node, &BWRAP);
    fails_with(
        &lab,
        &userns(pod(1000)),
        &node,
        &BWRAP,
        "bwrap: Can't mount proc on /newroot/proc: Operation not permitted",
    );
}

#[test]
fn root_needs_setfcap_on_both_runtimes() {
    let lab = lab();
    let root = unmasked(userns(pod(0)));
    // containerd's defaults include SETFCAP; drop ALL + add SETFCAP is the least set.
    passes(&lab, &root, &containerd(), &BWRAP);
    passes(
        &lab,
        &only(root.clone(), &["SETFCAP"]),
        &containerd(),
        &BWRAP,
    );
    fails_with(
        &lab,
        &minus(root.clone(), &["SETFCAP"]),
        &containerd(),
        &BWRAP,
        "bwrap: setting up uid map: Operation not permitted",
    );
    // CRI-O's defaults lack SETFCAP.
    fails_with(
        &lab,
        &root,
        &cri_o(),
        &BWRAP,
        "bwrap: setting up uid map: Operation not permitted",
    );
    passes(&lab, &plus(root, &["SETFCAP"]), &cri_o(), &BWRAP);
}

#[test]
fn containerd_runtime_default_blocks_it_cri_o_profile_does_not() {
    let lab = lab();
    let mut p = unmasked(userns(pod(1000)));
    p.seccomp = Seccomp::RuntimeDefault;
    // bwrap 0.8's wording ("No permissions to creating new namespace").
    fails_with(
        &lab,
        &p,
        &containerd(),
        &BWRAP,
        "bwrap: No permissions to creat",
    );
    // SYS_ADMIN lets the clone through, but RuntimeDefault never allows pivot_root.
    fails_with(
        &lab,
        &plus(p.clone(), &["SYS_ADMIN"]),
        &containerd(),
        &BWRAP,
        "bwrap: pivot_root: Operation not permitted",
    );
    passes(&lab, &p, &cri_o(), &BWRAP);
}

#[test]
fn unset_seccomp_follows_the_kubelet_seccomp_default() {
    let lab = lab();
    let mut p = unmasked(userns(pod(1000)));
    p.seccomp = Seccomp::Unset;
    let mut node = containerd();
    passes(&lab, &p, &node, &BWRAP);
    node.seccomp_default = true;
    fails_with(&lab, &p, &node, &BWRAP, "bwrap: No permissions to creat");
}
