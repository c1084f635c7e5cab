//! `nested_capability`'s bootstrap inputs through real Terraform: your own
//! settings that contradict what the sandbox needs, bad cluster keys and
//! settings a platform cannot take are refused at `terraform validate` and
//! `plan`, at the line of the attribute at fault.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use acceptance::{REQUIRED_PROVIDERS, Workspace, terraforms};

fn config(body: &str) -> String {
    format!(
        r#"{REQUIRED_PROVIDERS}
provider "nested" {{
  offline = true
}}

data "nested_capability" "x" {{
{body}
}}

output "user_data" {{
  value = data.nested_capability.x.user_data
}}
"#
    )
}

/// Terraform's error text on one line.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn contradictions_and_bad_keys_are_refused_at_their_attribute() {
    let tf = &terraforms().unwrap()[0];
    // Lines 12.. of main.tf hold the body.
    let cases: &[(&str, &str, &str, usize)] = &[
        (
            r#"  sandbox            = "nsjail"
  platform           = "eks"
  kubernetes_version = "1.35"
  ami_family         = "bottlerocket"
  bootstrap_extra_settings = "[settings.kernel.sysctl]\n\"user.max_user_namespaces\" = \"0\"\n""#,
            "Bootstrap settings cannot be used",
            "user.max_user_namespaces",
            16,
        ),
        (
            r#"  sandbox            = "podman"
  platform           = "eks"
  kubernetes_version = "1.35"
  ami_family         = "al2023"
  cluster = {
    name                  = "prod"
    api_server_endpoint   = "https://example.eks.amazonaws.com"
    certificate_authority = "Q0E="
    service_cidr          = "10.100.0.0"
  }"#,
            "Invalid service CIDR",
            "10.100.0.0/16",
            20,
        ),
        (
            r#"  sandbox            = "podman"
  platform           = "eks"
  kubernetes_version = "1.35"
  ami_family         = "al2023"
  ids_per_pod        = 131072
  bootstrap_extra_settings = "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    config:\n      userNamespaces:\n        idsPerPod: 65536\n""#,
            "Bootstrap settings cannot be used",
            "sets userNamespaces.idsPerPod to 65536, but the sandbox needs 131072",
            17,
        ),
        (
            r#"  sandbox            = "landjail"
  platform           = "eks_fargate"
  bootstrap_extra_settings = "[settings.kubernetes]\nmax-pods = 58\n""#,
            "This platform takes no user data",
            "Remove bootstrap_extra_settings",
            14,
        ),
    ];
    for (body, summary, detail, line) in cases {
        let ws = Workspace::new(tf, &config(body)).unwrap();
        for cmd in ["validate", "plan"] {
            let r = ws.run(&[cmd, "-no-color"]).unwrap();
            assert!(!r.ok(), "{cmd} accepted:\n{body}\n{}", r.text());
            let e = flat(&r.stderr);
            assert!(e.contains(summary), "{cmd}: {summary} in {e}");
            assert!(e.contains(detail), "{cmd}: {detail} in {e}");
            assert!(
                e.contains(&format!("on main.tf line {line}")),
                "{cmd}: line {line} in {e}"
            );
        }
    }
}

#[test]
fn merged_settings_and_cluster_keys_reach_the_outputs() {
    let tf = &terraforms().unwrap()[0];
    let ws = Workspace::new(
        tf,
        &config(
            r##"  sandbox            = "podman"
  platform           = "eks"
  kubernetes_version = "1.35"
  ami_family         = "bottlerocket"
  ids_per_pod        = 131072
  bootstrap_extra_settings = "# mine\n[settings.kubernetes]\nmax-pods = 58\n"
  cluster = {
    name                  = "prod"
    api_server_endpoint   = "https://example.eks.amazonaws.com"
    certificate_authority = "Q0E="
    service_cidr          = "10.100.0.0/16"
    dns_ip                = "10.100.0.10"
  }"##,
        ),
    )
    .unwrap();
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let out = ws.outputs().unwrap();
    let toml = out["user_data"]["value"].as_str().unwrap();
    for want in [
        "# mine",
        "max-pods = 58",
        "cluster-name = \"prod\"",
        "cluster-dns-ip = \"10.100.0.10\"",
        "ids-per-pod = 131072",
        "\"sandbox.nested.dev/podman\" = \"true\"",
        "\"user.max_user_namespaces\" = \"65536\"",
    ] {
        assert!(toml.contains(want), "{want} in\n{toml}");
    }
    // One [settings.kubernetes] table, not two.
    assert_eq!(toml.matches("[settings.kubernetes]\n").count(), 1, "{toml}");
    let again = ws
        .run(&["plan", "-detailed-exitcode", "-no-color"])
        .unwrap();
    assert_eq!(again.code, 0, "{}", again.text());
}

/// The expressions the guide "Pod settings in kubernetes_pod and Helm"
/// uses on the object outputs evaluate for every shape they take: keys a
/// sandbox does not need are absent (landjail adds no capability, a root
/// nsjail has `runAsUser`, bubblewrap on Bottlerocket 1.35 a seccomp
/// profile).
#[test]
fn object_outputs_work_in_the_guides_expressions() {
    let tf = &terraforms().unwrap()[0];
    let ws = Workspace::new(
        tf,
        concat!("\n", acceptance::required_providers!(), r#"provider "nested" {
  offline = true
}
locals {
  cases = {
    podman     = { sandbox = "podman", family = "al2023", root = false }
    landjail   = { sandbox = "landjail", family = "al2023", root = false }
    nsjail     = { sandbox = "nsjail", family = "bottlerocket", root = true }
    bubblewrap = { sandbox = "bubblewrap", family = "bottlerocket", root = false }
  }
}
data "nested_capability" "x" {
  for_each           = local.cases
  sandbox            = each.value.sandbox
  platform           = "eks"
  kubernetes_version = "1.35"
  ami_family         = each.value.family
  run_as_root        = each.value.root
}
output "pod" {
  value = {
    for k, d in data.nested_capability.x : k => {
      host_users      = lookup(d.pod_spec_object, "hostUsers", null)
      add             = lookup(d.container_security_context_object.capabilities, "add", [])
      drop            = d.container_security_context_object.capabilities.drop
      run_as_non_root = lookup(d.container_security_context_object, "runAsNonRoot", null)
      run_as_user     = lookup(d.container_security_context_object, "runAsUser", null)
      seccomp         = can(d.container_security_context_object.seccompProfile) ? d.container_security_context_object.seccompProfile.type : null
      manifest_spec   = merge(d.pod_spec_object, { securityContext = d.pod_security_context_object })
      helm            = yamlencode({ securityContext = d.container_security_context_object })
    }
  }
}
"#),
    )
    .unwrap();
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let pod = &ws.outputs().unwrap()["pod"]["value"];
    assert_eq!(pod["podman"]["host_users"], false);
    assert_eq!(
        pod["podman"]["add"],
        serde_json::json!(["SETGID", "SETUID"])
    );
    assert_eq!(pod["podman"]["manifest_spec"]["hostUsers"], false);
    assert_eq!(pod["landjail"]["add"], serde_json::json!([]));
    assert_eq!(pod["landjail"]["host_users"], serde_json::Value::Null);
    assert_eq!(pod["nsjail"]["run_as_user"], 0);
    assert_eq!(pod["nsjail"]["run_as_non_root"], serde_json::Value::Null);
    assert_eq!(pod["bubblewrap"]["seccomp"], "Unconfined");
    assert_eq!(pod["podman"]["drop"], serde_json::json!(["ALL"]));
    assert!(
        pod["podman"]["helm"]
            .as_str()
            .unwrap()
            .contains("\"procMount\": \"Unmasked\"")
    );
}
