//! Bad inputs through real Terraform: each one is refused at `terraform
//! plan` (offline, so nothing could have been created), with the rule, at
//! the line of the attribute at fault.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use acceptance::{REQUIRED_PROVIDERS, Workspace, terraforms};

const GOOD: &[(&str, &str)] = &[
    ("cluster_name", "\"prod\""),
    ("name", "\"agents\""),
    ("node_role_arn", "\"arn:aws:iam::123456789012:role/nodes\""),
    ("subnet_ids", "[\"subnet-0a1b2c3d\"]"),
    ("sandbox", "\"nsjail\""),
    ("ami_family", "\"bottlerocket\""),
    ("kubernetes_version", "\"1.33\""),
    ("instance_types", "[\"m6i.large\"]"),
];

fn config(attr: &str, value: &str) -> String {
    let mut body = String::new();
    let mut replaced = false;
    for (k, v) in GOOD {
        if *k == attr {
            body.push_str(&format!("  {k} = {value}\n"));
            replaced = true;
        } else {
            body.push_str(&format!("  {k} = {v}\n"));
        }
    }
    if !replaced {
        body.push_str(&format!("  {attr} = {value}\n"));
    }
    format!(
        r#"
{REQUIRED_PROVIDERS}provider "nested" {{
  offline = true
}}
resource "nested_nodegroup" "agents" {{
{body}}}
"#
    )
}

#[test]
fn every_bad_input_is_refused_at_plan_at_its_attribute() {
    let tf = &terraforms().unwrap()[0];
    let ws = Workspace::new(tf, &config("name", "\"agents\"")).unwrap();
    let ok = ws.run(&["plan", "-no-color"]).unwrap();
    assert!(ok.ok(), "the base configuration plans: {}", ok.text());

    let huge = "x".repeat(1 << 20);
    let cases: Vec<(&str, String, &str)> = vec![
        ("name", "\"\"".into(), "Invalid node group name"),
        (
            "name",
            "\"agents pool!/é\"".into(),
            "Invalid node group name",
        ),
        ("name", format!("\"{}\"", "a".repeat(64)), "at most 63"),
        ("cluster_name", "\"\"".into(), "Invalid cluster name"),
        ("subnet_ids", "[]".into(), "No subnets"),
        (
            "node_role_arn",
            "\"eks-nodes\"".into(),
            "Invalid node role ARN",
        ),
        (
            "node_role_arn",
            "\"arn:aws:s3:::nodes\"".into(),
            "not an IAM role ARN",
        ),
        (
            "scaling",
            "{ min_size = 0, max_size = 0 }".into(),
            "Invalid max_size",
        ),
        (
            "scaling",
            "{ min_size = 1.5, max_size = 3 }".into(),
            "not a whole number",
        ),
        (
            "labels",
            "{ \"bad key!\" = \"x\" }".into(),
            "Invalid label key",
        ),
        (
            "labels",
            format!("{{ k = \"{}\" }}", "v".repeat(64)),
            "Invalid label value",
        ),
        (
            "labels",
            format!("{{ k = \"{huge}\" }}"),
            "Invalid label value",
        ),
        (
            "taints",
            "[{ key = \"bad key!\", effect = \"NoSchedule\" }]".into(),
            "Invalid taint key",
        ),
        (
            "taints",
            "[{ key = \"a\", effect = \"NoSchedule\" }, { key = \"a\", effect = \"NoSchedule\" }]"
                .into(),
            "Duplicate taint",
        ),
        ("tags", "{ \"aws:owner\" = \"x\" }".into(), "reserves"),
        (
            "tags",
            format!(
                "{{ {} }}",
                (0..49)
                    .map(|i| format!("k{i} = \"v\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "Too many tags",
        ),
        ("kubernetes_version", "\"1.33.0\"".into(), "write \"1.33\""),
        ("kubernetes_version", "\"01.33\"".into(), "write \"1.33\""),
        ("kubernetes_version", "\"v1.33\"".into(), "write \"1.33\""),
        (
            "instance_types",
            "[\"m7g.large\"]".into(),
            "does not match the architecture",
        ),
        (
            "instance_types",
            "[\"m6i.huge\"]".into(),
            "Invalid instance type",
        ),
        ("max_user_namespaces", "1.5".into(), "not a whole number"),
        ("max_user_namespaces", "1099511627776".into(), "INT_MAX"),
        (
            "max_user_namespaces",
            "18446744073709551615".into(),
            "INT_MAX",
        ),
        ("timeouts", "{ create = \"abc\" }".into(), "Invalid timeout"),
        ("timeouts", "{ create = \"-5m\" }".into(), "negative"),
        (
            "timeouts",
            "{ create = \"99999999999999999999h\" }".into(),
            "longer than a year",
        ),
        (
            "bootstrap_extra_settings",
            format!(
                "\"[settings.host-containers.admin]\\nenabled = true\\n# {}\\n\"",
                "c".repeat(17000)
            ),
            "User data too large",
        ),
    ];
    let mut refused = 0;
    for (attr, value, expect) in &cases {
        ws.write("main.tf", &config(attr, value)).unwrap();
        let r = ws.run(&["plan", "-no-color"]).unwrap();
        let shown = if value.len() > 80 {
            &value[..80]
        } else {
            value
        };
        assert_ne!(r.code, 0, "{attr} = {shown} was accepted:\n{}", r.text());
        assert!(
            r.stderr.contains(expect),
            "{attr} = {shown}: no {expect:?} in\n{}",
            &r.stderr[..r.stderr.len().min(3000)]
        );
        // Terraform shows the attribute's own line under the error.
        let at_line = r.stderr.lines().any(|l| {
            l.trim_start().split_once(':').is_some_and(|(n, rest)| {
                n.trim().parse::<u32>().is_ok() && rest.trim_start().starts_with(attr)
            })
        });
        assert!(
            at_line,
            "{attr} = {shown}: error not at the attribute:\n{}",
            &r.stderr[..r.stderr.len().min(3000)]
        );
        // Terraform quotes the offending source line once; the provider's
        // own message never repeats a huge value.
        assert!(
            r.stderr.len() < value.len() + 20_000,
            "{attr}: a huge value is echoed back ({} bytes of errors)",
            r.stderr.len()
        );
        assert!(!r.stderr.contains("bug in the provider"), "{}", r.text());
        refused += 1;
    }
    eprintln!(
        "{refused} of {} bad inputs refused at their attribute",
        cases.len()
    );
}

#[test]
fn an_endpoint_port_that_cannot_exist_is_refused_at_config() {
    let tf = &terraforms().unwrap()[0];
    let body = concat!(
        "\n",
        acceptance::required_providers!(),
        r#"provider "nested" {
  region    = "us-east-1"
  endpoints = { eks = "http://127.0.0.1:99999" }
}
data "nested_capability" "x" {
  sandbox            = "landjail"
  platform           = "eks"
  kubernetes_version = "1.33"
}
"#
    );
    let ws = Workspace::new(tf, body).unwrap();
    let r = ws.run(&["plan", "-no-color"]).unwrap();
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("1 to 65535"), "{}", r.text());
}

/// A value on a read-only attribute (resources and data sources) is refused
/// by `terraform validate`, at that attribute's line; before, it validated,
/// applied and showed "No changes".
#[test]
fn a_value_on_a_read_only_attribute_is_refused_at_validate() {
    let tf = &terraforms().unwrap()[0];
    let capability = |attr: &str| {
        format!(
            r#"
{REQUIRED_PROVIDERS}provider "nested" {{
  offline = true
}}
data "nested_capability" "x" {{
  sandbox            = "nsjail"
  platform           = "eks"
  kubernetes_version = "1.33"
  {attr}
}}
"#
        )
    };
    let ws = Workspace::new(tf, &config("arn", "\"x\"")).unwrap();
    let cases = [
        (config("arn", "\"x\""), "arn"),
        (config("status", "\"ACTIVE\""), "status"),
        (config("user_data", "\"x\""), "user_data"),
        (
            config("launch_template_id", "timestamp()"),
            "launch_template_id",
        ),
        (capability("user_data = \"x\""), "user_data"),
        (capability("sysctls = {}"), "sysctls"),
    ];
    for (body, attr) in &cases {
        ws.write("main.tf", body).unwrap();
        let r = ws.run(&["validate", "-no-color"]).unwrap();
        assert_ne!(r.code, 0, "{attr} was accepted:\n{}", r.text());
        assert!(
            r.stderr.contains(&format!("`{attr}` is read-only")),
            "{attr}: {}",
            r.text()
        );
        let at_line = r.stderr.lines().any(|l| {
            l.trim_start().split_once(':').is_some_and(|(n, rest)| {
                n.trim().parse::<u32>().is_ok() && rest.trim_start().starts_with(attr)
            })
        });
        assert!(at_line, "{attr}: error not at the attribute:\n{}", r.text());
    }
    // The base configuration (no read-only attribute set) still validates.
    ws.write("main.tf", &capability("")).unwrap();
    let r = ws.run(&["validate", "-no-color"]).unwrap();
    assert!(r.ok(), "{}", r.text());
}

#[path = "bad_inputs/every_attribute.rs"]
mod every_attribute;
#[path = "bad_inputs/harmless.rs"]
mod harmless;
#[path = "bad_inputs/valid.rs"]
mod valid;

/// Every configurable attribute of every schema, generated from the schema
/// Terraform reports, fed quotes, newlines, NUL, 1 MB, ±∞, negatives, huge
/// and fractional numbers, empty and 1000-entry collections: each refused at
/// its attribute with the rule, or accepted and listed as harmless with why.
#[test]
fn every_attribute_of_every_schema_refuses_hostile_input_or_is_harmless() {
    let tf = &terraforms().unwrap()[0];
    every_attribute::every_attribute(tf);
}
