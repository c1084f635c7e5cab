//! What the generated documentation claims, checked against the provider.
//!
//! - The decision matrix of the "Choosing a sandbox" guide is the engine's
//!   (schemas/decision-matrix.json, rendered by scripts/docgen.py). Every
//!   cell (at both ends of its Kubernetes range, non-root and root) is asked
//!   of the provider through `data "nested_capability"` in real Terraform,
//!   and the verdicts must agree.
//! - The Pulumi example names only resources, functions and attributes
//!   the provider's schema has (no Pulumi engine runs here).
//!
//! That docs/ is what the generator writes is checked by `make docs-check`
//! (a prerequisite of `make test`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use acceptance::{Workspace, repo_root, terraforms, yaml_to_json};
use serde_json::Value;

const PROVIDERS: &str = acceptance::required_providers!();

/// The cells of the engine's decision matrix (the guide's tables), one per
/// row × sandbox × way the sandbox runs.
fn matrix() -> Vec<Value> {
    let path = repo_root().join("schemas/decision-matrix.json");
    let m: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut out = Vec::new();
    for row in m["rows"].as_array().unwrap() {
        for (sandbox, agents) in row["cells"].as_object().unwrap() {
            for (agent, cell) in agents.as_object().unwrap() {
                let mut c = serde_json::json!({
                    "sandbox": sandbox,
                    "platform": row["platform"],
                    "run_as_root": agent == "root",
                    "verdict": cell["verdict"],
                });
                for k in ["kubernetes_versions", "openshift_versions"] {
                    if let Some(v) = row.get(k) {
                        c[k] = v.clone();
                    }
                }
                if let Some(image) = row.get("node_image") {
                    // GKE and AKS: the node image in the setting its
                    // platform takes.
                    let setting = if row["platform"] == "aks" {
                        "os_sku"
                    } else {
                        "image_type"
                    };
                    c[setting] = image.clone();
                }
                if row["platform"] == "eks" {
                    // The image the row is judged on: its family, first
                    // variant, architecture and first release.
                    c["ami_family"] = row["ami_family"].clone();
                    c["ami_variant"] = row["variants"][0].clone();
                    c["architecture"] = row["architectures"][0].clone();
                    c["ami_release"] = row["judged_on_release"].clone();
                }
                out.push(c);
            }
        }
    }
    out
}

/// One data source per cell and version: (address, HCL, expected verdict, label).
fn cases(cells: &[Value]) -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    for (i, c) in cells.iter().enumerate() {
        let s = |k: &str| c[k].as_str().map(str::to_string);
        let versions = |k: &str| -> Vec<Option<String>> {
            c[k].as_array().map_or_else(
                || vec![None],
                |a| {
                    let mut v: Vec<Option<String>> =
                        a.iter().map(|v| v.as_str().map(str::to_string)).collect();
                    v.dedup();
                    v
                },
            )
        };
        let (key, list) = if c.get("openshift_versions").is_some() {
            ("openshift_version", versions("openshift_versions"))
        } else {
            ("kubernetes_version", versions("kubernetes_versions"))
        };
        let root = c["run_as_root"] == true;
        for (j, v) in list.into_iter().enumerate() {
            let name = format!("c{i}_{j}");
            // The guide's tables answer for the pod's profile as chosen
            // (`unconfined`: no word about the Localhost alternative).
            let mut body = format!(
                "  sandbox  = \"{}\"\n  platform = \"{}\"\n  run_as_root = {root}\n  seccomp_profile = \"unconfined\"\n",
                s("sandbox").unwrap(),
                s("platform").unwrap()
            );
            for attr in [
                "ami_family",
                "ami_variant",
                "architecture",
                "ami_release",
                "image_type",
                "os_sku",
            ] {
                if let Some(value) = s(attr) {
                    body.push_str(&format!("  {attr} = \"{value}\"\n"));
                }
            }
            if let Some(v) = &v {
                body.push_str(&format!("  {key} = \"{v}\"\n"));
            }
            let label = format!(
                "{} ({}) on {}{}{}",
                s("sandbox").unwrap(),
                if root { "root" } else { "non-root" },
                s("platform").unwrap(),
                [
                    "ami_family",
                    "ami_variant",
                    "architecture",
                    "ami_release",
                    "image_type",
                    "os_sku"
                ]
                .iter()
                .filter_map(|a| s(a))
                .map(|x| format!("/{x}"))
                .collect::<String>(),
                v.map_or_else(String::new, |v| format!(" {v}"))
            );
            out.push((
                format!("data.nested_capability.{name}"),
                format!("data \"nested_capability\" \"{name}\" {{\n{body}}}\n"),
                s("verdict").unwrap(),
                label,
            ));
        }
    }
    out
}

/// Diagnostics by severity for each address, from `terraform plan -json`.
fn diagnostics(ws: &Workspace) -> BTreeMap<String, (usize, usize)> {
    let r = ws.run(&["plan", "-json", "-no-color"]).unwrap();
    let mut by_address: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for line in r.stdout.lines() {
        let Ok(msg) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if msg["type"] != "diagnostic" {
            continue;
        }
        let d = &msg["diagnostic"];
        let Some(address) = d["address"].as_str() else {
            continue;
        };
        let entry = by_address.entry(address.to_string()).or_default();
        match d["severity"].as_str() {
            Some("error") => entry.0 += 1,
            Some("warning") => entry.1 += 1,
            _ => {}
        }
    }
    by_address
}

#[test]
fn decision_matrix_in_the_guide_matches_the_engine() {
    let cells = matrix();
    assert!(cells.len() >= 200, "only {} cells", cells.len());
    let cases = cases(&cells);
    let tf = &terraforms().unwrap()[0];

    // Errors come from validation, which Terraform runs for every data
    // source even when some fail; warnings only from reading, so those are
    // collected from a second plan of the cells without errors.
    let all: String = cases.iter().map(|c| c.1.as_str()).collect();
    let ws = Workspace::new(tf, &format!("{PROVIDERS}{all}")).unwrap();
    let first = diagnostics(&ws);
    let failing = |addr: &str| first.get(addr).is_some_and(|d| d.0 > 0);
    let rest: String = cases
        .iter()
        .filter(|c| !failing(&c.0))
        .map(|c| c.1.as_str())
        .collect();
    ws.write("main.tf", &format!("{PROVIDERS}{rest}")).unwrap();
    let second = diagnostics(&ws);

    let mut wrong = Vec::new();
    for (address, _, expected, label) in &cases {
        let observed = if failing(address) || second.get(address).is_some_and(|d| d.0 > 0) {
            "no"
        } else if second.get(address).is_some_and(|d| d.1 > 0) {
            "warn"
        } else {
            "yes"
        };
        if observed != expected {
            wrong.push(format!(
                "{label}: the guide says {expected}, the provider {observed}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "schemas/decision-matrix.json disagrees with the provider through Terraform; regenerate it (UPDATE_DECISION_MATRIX=1, see provider/tests/decision_matrix.rs) and run `make docs`:\n{}",
        wrong.join("\n")
    );
}

fn snake(camel: &str) -> String {
    let mut out = String::new();
    for ch in camel.chars() {
        if ch.is_ascii_uppercase() {
            out.push('_');
            out.push(ch.to_ascii_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

/// Every key of `props` names an attribute of `block`, recursively into
/// nested attributes; returns what does not.
fn unknown_properties(props: &Value, block: &Value, path: &str) -> Vec<String> {
    let mut bad = Vec::new();
    let Some(map) = props.as_object() else {
        return bad;
    };
    for (k, v) in map {
        let attr = &block["attributes"][snake(k)];
        let here = format!("{path}.{k}");
        if attr.is_null() {
            bad.push(here);
        } else if let Some(nested) = attr.get("nested_type") {
            bad.extend(unknown_properties(v, nested, &here));
        }
    }
    bad
}

#[test]
fn pulumi_example_names_exist_in_the_provider_schema() {
    let path = repo_root().join("examples/pulumi/Pulumi.yaml");
    let program = yaml_to_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("schemas/provider-schema.json")).unwrap(),
    )
    .unwrap();

    let package = &program["packages"]["nested"];
    assert_eq!(package["source"], "terraform-provider");
    assert_eq!(
        package["parameters"],
        serde_json::json!([
            "registry.terraform.io/nested-sandbox/nested",
            env!("CARGO_PKG_VERSION")
        ])
    );

    let mut bad = Vec::new();
    let mut blocks: BTreeMap<String, Value> = BTreeMap::new();
    for (name, res) in program["resources"].as_object().unwrap() {
        let ty = res["type"].as_str().unwrap();
        let block = if ty == "pulumi:providers:nested" {
            schema["provider"]["block"].clone()
        } else {
            let t = ty.strip_prefix("nested:").expect("a nested resource");
            let tf_type = format!("nested{}", snake(t));
            schema["resource_schemas"][&tf_type]["block"].clone()
        };
        assert!(block.is_object(), "{ty} is not in the provider's schema");
        bad.extend(unknown_properties(&res["properties"], &block, name));
        blocks.insert(name.clone(), block);
    }
    for (name, var) in program["variables"].as_object().unwrap() {
        let invoke = &var["fn::invoke"];
        let function = invoke["function"].as_str().unwrap();
        let t = function
            .strip_prefix("nested:get")
            .expect("a nested data source");
        let tf_type = format!("nested{}", snake(t));
        let block = schema["data_source_schemas"][&tf_type]["block"].clone();
        assert!(
            block.is_object(),
            "{function} ({tf_type}) is not in the provider's schema"
        );
        bad.extend(unknown_properties(&invoke["arguments"], &block, name));
        blocks.insert(name.clone(), block);
    }
    // Outputs: ${resource.attribute}
    for (out_name, expr) in program["outputs"].as_object().unwrap() {
        let e = expr.as_str().unwrap();
        let inner = e.trim_start_matches("${").trim_end_matches('}');
        let (object, attr) = inner.split_once('.').unwrap();
        let block = blocks.get(object).expect("output refers to a known name");
        if block["attributes"][snake(attr)].is_null() {
            bad.push(format!("outputs.{out_name}: {inner}"));
        }
    }
    assert!(
        bad.is_empty(),
        "names in examples/pulumi/Pulumi.yaml missing from the schema: {bad:?}"
    );
}
