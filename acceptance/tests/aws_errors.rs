//! AWS failures through real Terraform: each reaches the user as one
//! sentence saying what failed, why and what to do, never as the SDK's
//! debug dump.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use acceptance::nodegroup::{config_with, nodegroup};
use acceptance::{Workspace, free_port, terraforms};

/// The node group (no `kubernetes_version`, so plan asks EKS for the
/// cluster's) with a provider pointed at `endpoint`.
fn body(endpoint: &str) -> String {
    config_with(endpoint, "max_retries = 1", &nodegroup(""))
}

/// No SDK internals in what Terraform shows.
fn no_debug_dump(text: &str) {
    for internal in [
        "DispatchFailure",
        "ConnectorError",
        "source:",
        "Some(",
        "{ ",
    ] {
        assert!(!text.contains(internal), "{internal:?} shown:\n{text}");
    }
}

#[test]
fn a_closed_port_is_one_sentence_naming_the_endpoint_and_the_fix() {
    let tf = &terraforms().unwrap()[0];
    // A port nothing listens on.
    let port = free_port().unwrap();
    let endpoint = format!("http://127.0.0.1:{port}");
    let mut ws = Workspace::new(tf, &body(&endpoint)).unwrap();
    ws.env("AWS_ACCESS_KEY_ID", "testing");
    ws.env("AWS_SECRET_ACCESS_KEY", "testing");
    ws.env("AWS_EC2_METADATA_DISABLED", "true");
    let r = ws.run(&["plan", "-no-color"]).unwrap();
    assert_ne!(r.code, 0, "{}", r.text());
    let text = r.stderr.replace('\n', " ").replace("│", "");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains(&format!(
            "DescribeCluster for EKS Cluster (prod) could not reach {endpoint} (Connection refused"
        )),
        "{}",
        r.text()
    );
    assert!(
        text.contains("offline = true") && text.contains("`endpoints`"),
        "{text}"
    );
    assert!(
        r.stderr.contains("cluster_name"),
        "at the attribute: {}",
        r.text()
    );
    no_debug_dump(&r.stderr);
}

#[test]
fn missing_credentials_are_one_sentence_naming_aws_profile_and_offline() {
    let tf = &terraforms().unwrap()[0];
    let port = free_port().unwrap();
    let mut ws = Workspace::new(tf, &body(&format!("http://127.0.0.1:{port}"))).unwrap();
    // Nothing for the credential chain to find.
    let none = ws.path().join("no-such-file");
    let none = none.to_str().unwrap();
    for (k, v) in [
        ("AWS_ACCESS_KEY_ID", ""),
        ("AWS_SECRET_ACCESS_KEY", ""),
        ("AWS_SESSION_TOKEN", ""),
        ("AWS_PROFILE", ""),
        ("AWS_CONFIG_FILE", none),
        ("AWS_SHARED_CREDENTIALS_FILE", none),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ] {
        ws.env(k, v);
    }
    let r = ws.run(&["plan", "-no-color"]).unwrap();
    assert_ne!(r.code, 0, "{}", r.text());
    let text = r.stderr.replace("│", "");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains(
            "DescribeCluster for EKS Cluster (prod) was not sent: no AWS credentials were found"
        ),
        "{}",
        r.text()
    );
    assert!(
        text.contains("AWS_PROFILE") && text.contains("offline = true"),
        "{text}"
    );
    no_debug_dump(&r.stderr);
}
