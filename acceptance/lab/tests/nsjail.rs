//! Coder Boundary's nsjail jail in pod containers. A non-root agent needs
//! NET_ADMIN, SYS_ADMIN, SETUID and SETGID in the bounding set and
//! no_new_privs off (sudo + setpriv); root needs NET_ADMIN + SETFCAP (user
//! namespace mode) or NET_ADMIN + SYS_ADMIN (`--no-user-namespace`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use node_lab::{Seccomp, Workload};

const JAIL: Workload = Workload::Nsjail {
    no_user_namespace: false,
};
const NETNS_ONLY: Workload = Workload::Nsjail {
    no_user_namespace: true,
};

fn agent() -> node_lab::Pod {
    only(pod(1000), &["NET_ADMIN", "SYS_ADMIN", "SETUID", "SETGID"])
}

#[test]
fn non_root_agent_passes_with_the_four_capabilities() {
    let lab = lab();
    let o = passes(&lab, &agent(), &containerd(), &JAIL);
    assert!(
        o.output.contains("proxy got from 192.168.100.2"),
        "{}",
        o.output
    );
    passes(&lab, &agent(), &containerd(), &NETNS_ONLY);
    // In a pod user namespace too (sudo is root-owned through the idmapped /usr).
    passes(&lab, &userns(agent()), &containerd(), &JAIL);
    // The defaults (which include SETUID/SETGID) + NET_ADMIN, SYS_ADMIN, on both runtimes.
    let defaults = plus(pod(1000), &["NET_ADMIN", "SYS_ADMIN"]);
    passes(&lab, &defaults, &containerd(), &JAIL);
    passes(&lab, &defaults, &cri_o(), &JAIL);
}

#[test]
fn non_root_agent_fails_without_each_piece() {
    let lab = lab();
    let node = containerd();
    fails_with(
        &lab,
        &only(pod(1000), &["NET_ADMIN", "SYS_ADMIN"]),
        &node,
        &JAIL,
        "sudo: unable to change to root gid: Operation not permitted",
    );
    fails_with(
        &lab,
        &only(pod(1000), &["NET_ADMIN", "SETUID", "SETGID"]),
        &node,
        &JAIL,
        "setpriv: apply capabilities: Operation not permitted",
    );
    fails_with(
        &lab,
        &nnp(agent()),
        &node,
        &JAIL,
        "sudo: The \"no new privileges\" flag is set, which prevents sudo from running as root.",
    );
}

#[test]
fn non_root_agent_works_under_runtime_default() {
    let lab = lab();
    let mut p = agent();
    p.seccomp = Seccomp::RuntimeDefault;
    // SYS_ADMIN is in the bounding set, so RuntimeDefault allows the clone.
    passes(&lab, &p, &containerd(), &JAIL);
}

#[test]
fn root_agent_modes() {
    let lab = lab();
    let node = containerd();
    passes(&lab, &only(pod(0), &["NET_ADMIN", "SETFCAP"]), &node, &JAIL);
    fails_with(
        &lab,
        &only(pod(0), &["NET_ADMIN", "SYS_ADMIN"]),
        &node,
        &JAIL,
        "unshare: write failed /proc/self/uid_map: Operation not permitted",
    );
    passes(
        &lab,
        &only(pod(0), &["NET_ADMIN", "SYS_ADMIN"]),
        &node,
        &NETNS_ONLY,
    );
    fails_with(
        &lab,
        &only(pod(0), &["NET_ADMIN"]),
        &node,
        &NETNS_ONLY,
        "unshare: unshare failed: Operation not permitted",
    );
    let mut rd = only(pod(0), &["NET_ADMIN", "SETFCAP"]);
    rd.seccomp = Seccomp::RuntimeDefault;
    fails_with(
        &lab,
        &rd,
        &node,
        &JAIL,
        "unshare: unshare failed: Operation not permitted",
    );
}

#[test]
fn root_agent_on_cri_o_needs_setfcap_added() {
    let lab = lab();
    fails_with(
        &lab,
        &plus(pod(0), &["NET_ADMIN"]),
        &cri_o(),
        &JAIL,
        "unshare: write failed /proc/self/uid_map: Operation not permitted",
    );
    passes(
        &lab,
        &plus(pod(0), &["NET_ADMIN", "SETFCAP"]),
        &cri_o(),
        &JAIL,
    );
}
