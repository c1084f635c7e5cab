//! Devices in pod containers: /dev/net/tun opens for a non-root user with
//! and without a pod user namespace (0666, as on a typical node; this VM's
//! own node is 0600, so the lab binds a 0666 copy in a user namespace).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use node_lab::Workload;

#[test]
fn tun_opens_for_uid_1000() {
    let lab = lab();
    let open = Workload::Shell("ls -l /dev/net/tun; exec 3<>/dev/net/tun && echo TUN-OPEN".into());
    let mut p = pod(1000);
    p.devices = vec!["/dev/net/tun".into()];
    let o = passes(&lab, &p, &containerd(), &open);
    assert!(o.output.contains("TUN-OPEN"), "{}", o.output);
    passes(&lab, &userns(p.clone()), &containerd(), &open);
    fails_with(
        &lab,
        &pod(1000),
        &containerd(),
        &open,
        "No such file or directory",
    );
}
