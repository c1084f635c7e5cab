//! The node sysctl `user.max_user_namespaces`, emulated with an outer user
//! namespace (the host's value is never written).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use node_lab::Workload;

#[test]
fn zero_blocks_bubblewrap_and_65536_allows_it() {
    let lab = lab();
    let mut node = containerd();
    node.max_user_namespaces = Some(0);
    let o = fails_with(
        &lab,
        &unmasked(pod(1000)),
        &node,
        &Workload::Bubblewrap,
        "Creating new namespace failed: nesting depth or /proc/sys/user/max_*_namespaces exceeded (ENOSPC)",
    );
    let _ = o;
    let limit = run(
        &lab,
        &pod(1000),
        &node,
        &Workload::Shell("cat /proc/sys/user/max_user_namespaces".into()),
    );
    assert_eq!(limit.output.trim(), "0", "{}", limit.output);
    node.max_user_namespaces = Some(65536);
    passes(&lab, &unmasked(pod(1000)), &node, &Workload::Bubblewrap);
    passes(
        &lab,
        &unmasked(userns(pod(1000))),
        &node,
        &Workload::Bubblewrap,
    );
}

#[test]
fn zero_blocks_nsjail_and_user_namespace_pods() {
    let lab = lab();
    let mut node = containerd();
    node.max_user_namespaces = Some(0);
    fails_with(
        &lab,
        &only(pod(1000), &["NET_ADMIN", "SYS_ADMIN", "SETUID", "SETGID"]),
        &node,
        &Workload::Nsjail {
            no_user_namespace: false,
        },
        "unshare: unshare failed: No space left on device",
    );
    // A hostUsers: false pod cannot even start on such a node.
    fails_with(
        &lab,
        &userns(pod(1000)),
        &node,
        &Workload::Shell("true".into()),
        "No space left on device",
    );
}
