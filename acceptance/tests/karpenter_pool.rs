//! `nested_karpenter_pool` through real Terraform: every sandbox × mode ×
//! family planned and read, the manifests re-read by PyYAML and checked
//! field by field against the v1 CRD structure, the Bottlerocket user data
//! re-read by tomllib against Karpenter's merge
//! (`acceptance/tools/check_karpenter.py`), and the refusals at plan at
//! their attribute.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use acceptance::{Workspace, repo_root, terraforms, venv};
use serde_json::{Value, json};

const HEADER: &str = concat!("\n", acceptance::required_providers!(), r##""##);

const SANDBOXES: [&str; 4] = ["nsjail", "landjail", "bubblewrap", "podman"];

/// Every case: (name, inputs as HCL attributes, the same as JSON).
fn cases() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for sandbox in SANDBOXES {
        for family in ["bottlerocket", "al2023"] {
            let mut c = json!({
                "sandbox": sandbox, "mode": "karpenter", "ami_family": family,
                "karpenter_version": "1.9.0", "cluster_name": "demo",
            });
            c["bootstrap_extra_settings"] = if family == "bottlerocket" {
                json!(
                    "[settings.kubernetes]\nmax-pods = 58\npod-pids-limit = 1024\nnot-a-karpenter-key = \"x\"\n"
                )
            } else {
                json!("#!/bin/bash\necho from-the-user\n")
            };
            if sandbox == "podman" && family == "bottlerocket" {
                c["ids_per_pod"] = json!(131072);
            }
            out.push((format!("karpenter-{family}-{sandbox}"), c));
        }
        let mut c = json!({ "sandbox": sandbox, "mode": "auto_mode", "cluster_name": "demo" });
        if matches!(sandbox, "bubblewrap" | "podman") {
            c["allow_privileged_sysctl_daemonset"] = json!(true);
        }
        out.push((format!("auto_mode-{sandbox}"), c));
    }
    out
}

fn hcl(v: &Value) -> String {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| format!("  {k} = {v}\n"))
        .collect()
}

fn data_block(name: &str, inputs: &Value) -> String {
    format!(
        r#"
data "nested_karpenter_pool" "{name}" {{
{}  kubernetes_version           = "1.33"
  role                         = "KarpenterNodeRole-demo"
  subnet_selector_tags         = {{ "karpenter.sh/discovery" = "demo" }}
  security_group_selector_tags = {{ "karpenter.sh/discovery" = "demo" }}
}}
"#,
        hcl(inputs)
    )
}

#[test]
fn every_sandbox_mode_and_family_renders_manifests_the_crds_take() {
    let python = venv().unwrap().join("bin/python");
    for tf in terraforms().unwrap() {
        let mut config = HEADER.to_string();
        let mut outputs = Vec::new();
        // Terraform's own YAML parser, as kubernetes_manifest users reach it.
        let mut decoded = Vec::new();
        for (name, inputs) in cases() {
            config.push_str(&data_block(&name, &inputs));
            outputs.push(format!(
                "    \"{name}\" = data.nested_karpenter_pool.{name}"
            ));
            decoded.push(format!(
                "    \"{name}\" = [yamldecode(data.nested_karpenter_pool.{name}.node_class_manifest).kind, yamldecode(data.nested_karpenter_pool.{name}.node_pool_manifest).spec.template.spec.nodeClassRef.kind]"
            ));
        }
        config.push_str(&format!(
            "output \"cases\" {{\n  value = {{\n{}\n  }}\n}}\n",
            outputs.join("\n")
        ));
        config.push_str(&format!(
            "output \"decoded\" {{\n  value = {{\n{}\n  }}\n}}\n",
            decoded.join("\n")
        ));
        let ws = Workspace::new(&tf, &config).unwrap();
        ws.must(&["plan", "-no-color"]).unwrap();
        ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
        let out = ws.outputs().unwrap();
        let mut all = serde_json::Map::new();
        for (name, case) in cases() {
            let o = out["cases"]["value"][&name].clone();
            assert!(o.is_object(), "{name}: {o}");
            let kind = if case["mode"] == "auto_mode" {
                "NodeClass"
            } else {
                "EC2NodeClass"
            };
            assert_eq!(
                out["decoded"]["value"][&name],
                json!([kind, kind]),
                "{name}: yamldecode"
            );
            all.insert(name, json!({ "case": case, "out": o }));
        }
        let file = ws.path().join("cases.json");
        std::fs::write(&file, serde_json::to_string(&all).unwrap()).unwrap();
        let run = std::process::Command::new(&python)
            .arg(repo_root().join("acceptance/tools/check_karpenter.py"))
            .arg(&file)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&run.stdout);
        assert!(
            run.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(text.contains("in 12 cases"), "{text}");
    }
}

/// A plan that must fail, and the attribute its error names.
fn refused(inputs: Value, attr: &str, says: &str) {
    for tf in terraforms().unwrap() {
        let config = format!("{HEADER}{}", data_block("p", &inputs));
        let ws = Workspace::new(&tf, &config).unwrap();
        let run = ws.run(&["plan", "-no-color"]).unwrap();
        let text = run.text();
        assert!(!run.ok(), "plan should fail: {inputs}\n{text}");
        assert!(
            text.contains("data.nested_karpenter_pool.p")
                && text.contains(&format!(":   {attr} = ")),
            "error not at {attr}: {text}"
        );
        assert!(text.contains(says), "{says:?} not in {text}");
    }
}

#[test]
fn auto_mode_refuses_bubblewrap_and_podman_at_plan_without_the_opt_in() {
    for sandbox in ["bubblewrap", "podman"] {
        refused(
            json!({ "sandbox": sandbox, "mode": "auto_mode", "cluster_name": "demo" }),
            "mode",
            "max_user_namespaces = 0",
        );
    }
}

#[test]
fn karpenter_rules_are_checked_at_plan_at_the_attribute() {
    // Karpenter replaces settings.kubernetes.node-taints.
    refused(
        json!({ "sandbox": "nsjail", "mode": "karpenter", "cluster_name": "demo",
                "bootstrap_extra_settings": "[settings.kubernetes.node-taints]\nteam = [\"a:NoSchedule\"]\n" }),
        "bootstrap_extra_settings",
        "NodePool",
    );
    // Karpenter before 1.9.0 drops ids-per-pod.
    refused(
        json!({ "sandbox": "podman", "mode": "karpenter", "cluster_name": "demo",
                "ids_per_pod": 131072, "karpenter_version": "1.8.3" }),
        "karpenter_version",
        "1.9.0",
    );
    // An AL2023 release before v20250801 ships 6.1 on 1.33: below landjail's 6.7.
    refused(
        json!({ "sandbox": "landjail", "mode": "karpenter", "cluster_name": "demo",
                "ami_family": "al2023", "ami_version": "v20250715" }),
        "ami_version",
        "6.7",
    );
}

#[test]
fn the_examples_plan_and_show_their_answers() {
    for tf in terraforms().unwrap() {
        let ws = Workspace::from_example(&tf, &repo_root().join("examples/karpenter-coder-nsjail"))
            .unwrap();
        ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
        let o = ws.outputs().unwrap();
        let csc = &o["container_security_context"]["value"];
        assert!(
            csc["capabilities"]["add"]
                .as_array()
                .unwrap()
                .contains(&json!("NET_ADMIN"))
        );
        let ws = Workspace::from_example(&tf, &repo_root().join("examples/auto-mode-sandboxes"))
            .unwrap();
        ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
        let o = ws.outputs().unwrap();
        assert_eq!(
            o["nsjail_runtime_args"]["value"],
            json!(["--no-user-namespace"])
        );
        assert_eq!(o["landjail_pod_security_level"]["value"], "restricted");
        assert!(
            o["bubblewrap_sysctl_daemonset_manifest"]["value"]
                .as_str()
                .unwrap()
                .contains("kind: \"DaemonSet\"")
        );
    }
}

/// The node lab ran each sandbox in the container containerd would build
/// on an Auto Mode node profile (`user.max_user_namespaces = 0`, the
/// provider's pod settings) and recorded the outputs it proved
/// (`schemas/lab-results.json`): the Auto Mode pool hands out exactly
/// those, so nsjail's `--no-user-namespace` path is the lab-proven one.
#[test]
fn auto_mode_pod_settings_are_the_ones_the_node_lab_proved() {
    let lab: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("schemas/lab-results.json")).unwrap(),
    )
    .unwrap();
    let runs: Vec<&Value> = lab["runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["platform"] == "eks_auto_mode" && r["decision"] == "runs")
        .collect();
    assert!(
        runs.iter()
            .any(|r| r["sandbox"] == "nsjail" && r["proven"] == true),
        "the lab has no proven Auto Mode nsjail run"
    );
    let tf = terraforms().unwrap().into_iter().next().unwrap();
    let mut config = HEADER.to_string();
    for (i, r) in runs.iter().enumerate() {
        let inputs = json!({
            "sandbox": r["sandbox"], "mode": "auto_mode", "cluster_name": "demo",
            "run_as_root": r["agent"] == "root",
        });
        config.push_str(
            &data_block(&format!("r{i}"), &inputs)
                .replace("\"1.33\"", &r["node"]["kubernetes"].to_string()),
        );
        config.push_str(&format!(
            "output \"r{i}\" {{\n  value = {{\n    pod_spec = jsondecode(data.nested_karpenter_pool.r{i}.pod_spec)\n    container_security_context = jsondecode(data.nested_karpenter_pool.r{i}.container_security_context)\n    sysctls = data.nested_karpenter_pool.r{i}.sysctls\n    runtime_args = data.nested_karpenter_pool.r{i}.runtime_args\n  }}\n}}\n"
        ));
    }
    let ws = Workspace::new(&tf, &config).unwrap();
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let out = ws.outputs().unwrap();
    for (i, r) in runs.iter().enumerate() {
        let got = &out[format!("r{i}")]["value"];
        for key in [
            "pod_spec",
            "container_security_context",
            "sysctls",
            "runtime_args",
        ] {
            assert_eq!(
                got[key], r["outputs"][key],
                "{} ({}) {key}: the pool's differs from the lab-proven",
                r["sandbox"], r["agent"]
            );
        }
    }
}
