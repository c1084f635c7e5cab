//! The lab itself: it reports the machine, leaves the host's mounts as they
//! were, removes each bundle, and kills a container that runs too long.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use node_lab::{LabError, RunOptions, Workload};
use std::time::Duration;

fn host_cgroup_mounts() -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| l.contains("cgroup"))
        .map(|l| {
            l.split_whitespace()
                .skip(3)
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

fn bundles(lab: &node_lab::Lab) -> usize {
    std::fs::read_dir(lab.work_dir().join("bundles"))
        .unwrap()
        .count()
}

#[test]
fn versions_describe_the_machine() {
    let v = lab().versions();
    assert!(v.crun.starts_with("crun version"), "{v:?}");
    assert!(v.bwrap.starts_with("bubblewrap"), "{v:?}");
    assert!(v.podman.starts_with("podman version"), "{v:?}");
    assert!(!v.kernel.is_empty() && !v.lsms.is_empty(), "{v:?}");
    assert!(v.lsms.iter().any(|l| l == "capability"), "{v:?}");
}

#[test]
fn host_mounts_stay_and_bundles_go() {
    let lab = lab();
    let before = host_cgroup_mounts();
    passes(
        &lab,
        &userns(pod(1000)),
        &containerd(),
        &Workload::Shell("grep cgroup2 /proc/self/mountinfo".into()),
    );
    let mut node = containerd();
    node.max_user_namespaces = Some(3);
    let o = passes(
        &lab,
        &pod(0),
        &node,
        &Workload::Shell("cat /proc/sys/user/max_user_namespaces".into()),
    );
    assert_eq!(o.output.trim(), "3");
    assert_eq!(host_cgroup_mounts(), before);
    assert_eq!(bundles(&lab), 0);
}

#[test]
fn a_hanging_container_is_killed() {
    let lab = lab();
    // A sleep whose argument no other process has.
    let marker = format!("sleep 3{}", std::process::id());
    let r = lab.run_with(
        &pod(1000),
        &containerd(),
        &Workload::Shell(format!("echo started; {marker}")),
        &RunOptions {
            timeout: Some(Duration::from_secs(2)),
            ..RunOptions::default()
        },
    );
    match r {
        Err(LabError::TimedOut { output, .. }) => assert!(output.contains("started"), "{output}"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    let ps = std::process::Command::new("ps")
        .args(["-eo", "args"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&ps.stdout).contains(&marker),
        "the container's process survived"
    );
    assert_eq!(bundles(&lab), 0);
}
