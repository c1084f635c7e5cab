//! Every runnable example under examples/ plans and applies as documented.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use acceptance::{Moto, Workspace, repo_root, terraforms};

#[test]
fn quickstart_applies_against_moto_and_replans_clean() {
    let moto = Moto::start().unwrap();
    let tf = &terraforms().unwrap()[0];
    let mut ws = Workspace::from_example(tf, &repo_root().join("examples/quickstart")).unwrap();
    ws.env("TF_VAR_aws_endpoint", &moto.endpoint());
    ws.env("AWS_ACCESS_KEY_ID", "testing");
    ws.env("AWS_SECRET_ACCESS_KEY", "testing");
    ws.must(&["validate", "-no-color"]).unwrap();
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let out = ws.outputs().unwrap();
    assert_eq!(out["kernel_floors"]["value"]["landjail"], "6.7");
    assert_eq!(
        out["node_sysctls"]["value"]["nsjail"]["user.max_user_namespaces"],
        "65536"
    );
    assert_eq!(out["podman_floor_from_function"]["value"], "6.3");
    let again = ws
        .run(&["plan", "-detailed-exitcode", "-no-color"])
        .unwrap();
    assert_eq!(again.code, 0, "{}", again.text());
    ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
}

#[test]
fn fargate_rejected_fails_plan_with_the_landjail_recommendation() {
    for tf in terraforms().unwrap() {
        let ws =
            Workspace::from_example(&tf, &repo_root().join("examples/fargate-rejected")).unwrap();
        let r = ws.run(&["plan", "-no-color"]).unwrap();
        assert_ne!(r.code, 0, "{}", r.text());
        let e = r.stderr.replace('\n', " ");
        let e = e.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(e.contains("nsjail cannot run on EKS Fargate"), "{e}");
        assert!(e.contains("sandbox = \"landjail\" instead"), "{e}");
        assert!(e.contains("kernel ≥ 6.7"), "{e}");
        assert!(
            e.contains("Fargate does not publish its kernel version"),
            "{e}"
        );
        // The error points at the platform attribute (line 16).
        assert!(e.contains("main.tf line 16"), "{e}");
    }
}
