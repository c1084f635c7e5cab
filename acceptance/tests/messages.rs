//! Messages a new user meets first, through real Terraform (offline): one
//! error per mistake, naming the right side, the right format and a value
//! that works.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use acceptance::{REQUIRED_PROVIDERS, Workspace, terraforms};

fn offline(body: &str) -> String {
    format!(
        r#"
{REQUIRED_PROVIDERS}provider "nested" {{
  offline = true
}}
{body}
"#
    )
}

/// Terraform's text without its box drawing and line wrapping.
fn flat(text: &str) -> String {
    text.replace('│', "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn plan_errors(ws: &Workspace, body: &str) -> (String, usize) {
    ws.write("main.tf", &offline(body)).unwrap();
    let r = ws.run(&["plan", "-no-color"]).unwrap();
    assert_ne!(r.code, 0, "{}", r.text());
    (flat(&r.stderr), r.stderr.matches("Error: ").count())
}

#[test]
fn first_mistakes_get_one_clear_error_each() {
    let tf = &terraforms().unwrap()[0];
    let ws = Workspace::new(tf, &offline("")).unwrap();

    // A wrongly-cased enum: one error, with the spelling to use.
    let (text, n) = plan_errors(
        &ws,
        r#"
data "nested_capability" "x" {
  sandbox            = "nsjail"
  platform           = "eks"
  kubernetes_version = "1.33"
  ami_family         = "Bottlerocket"
}
"#,
    );
    assert_eq!(n, 1, "{text}");
    assert!(
        text.contains("\"Bottlerocket\" is not a valid value for `ami_family`: values are case-sensitive; write \"bottlerocket\"."),
        "{text}"
    );
    assert!(!text.contains("a AMI"), "{text}");

    // Bottlerocket TOML on an al2023 pool: says it is TOML, what al2023
    // takes, at bootstrap_extra_settings.
    let (text, n) = plan_errors(
        &ws,
        r#"
resource "nested_nodegroup" "x" {
  cluster_name       = "prod"
  name               = "agents"
  node_role_arn      = "arn:aws:iam::123456789012:role/nodes"
  subnet_ids         = ["subnet-0a1b2c3d"]
  sandbox            = "podman"
  ami_family         = "al2023"
  kubernetes_version = "1.34"
  bootstrap_extra_settings = <<-EOT
    [settings.kubernetes]
    max-pods = 58
  EOT
}
"#,
    );
    assert_eq!(n, 1, "{text}");
    assert!(
        text.contains("this is TOML (Bottlerocket settings), but ami_family al2023 takes an Amazon Linux MIME multipart document"),
        "{text}"
    );
    assert!(
        text.contains("bootstrap_extra_settings = <<-EOT"),
        "at the attribute: {text}"
    );
    assert!(!text.contains("not a MIME multipart document"), "{text}");

    // A Kubernetes version no family has images for, family left to the
    // provider: a version that works, not the family that just failed.
    let (text, _) = plan_errors(
        &ws,
        r#"
data "nested_capability" "x" {
  sandbox            = "nsjail"
  platform           = "eks"
  kubernetes_version = "1.38"
}
"#,
    );
    assert!(
        text.contains("No AMI family this provider knows has node images for Kubernetes 1.38"),
        "{text}"
    );
    assert!(
        text.contains("set kubernetes_version to \"1.37\""),
        "{text}"
    );
    assert!(!text.contains("There are no al2023"), "{text}");

    // merge_bottlerocket_toml: names base and overlay correctly, and no
    // sandbox (it is a generic function).
    let (text, _) = plan_errors(
        &ws,
        r#"
output "merged" {
  value = provider::nested::merge_bottlerocket_toml("[a]\nb = 1\n", "[a.b]\nc = 1\n")
}
"#,
    );
    assert!(
        text.contains("a.b is a value in base but a table in overlay"),
        "{text}"
    );
    assert!(!text.contains("sandbox"), "{text}");
}
