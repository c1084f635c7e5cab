//! Every manifest the data sources render, through real Terraform, checked
//! against rules no one in this project wrote
//! (`acceptance/tools/check_manifests.py`): Kubernetes' OpenAPI of each
//! release (strict, PyPI kubernetes-validate), the rules of Karpenter's CRDs
//! v1.0.0/v1.9.2/v1.14.1 and of openshift/api's SCC and FeatureGate CRDs per
//! release (before and after the FeatureGate rolls out on 4.18/4.19) as
//! transcribed with citations in `acceptance/fixtures/upstream-rules.toml`
//! (strict field sets, patterns, enums, CEL rules run by PyPI
//! cel-expr-python), OpenShift SCC admission of the pods, and Pod Security
//! admission's checks for the claimed level.
//!
//! The cases are every sandbox × run_as_root × platform (EKS: each AMI
//! family) × Kubernetes or OpenShift version, and Karpenter pools in both
//! modes, that the data sources accept: a first plan names the inputs the
//! provider refuses (at plan, with their diagnostics), those are dropped,
//! and all others are applied and checked. Inputs whose manifest the API
//! would refuse (`REFUSED_AT_PLAN`) must be among the refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use acceptance::{Workspace, repo_root, terraforms, venv};
use serde_json::{Value, json};

const HEADER: &str = concat!("\n", acceptance::required_providers!(), r##""##);

const SANDBOXES: [&str; 4] = ["nsjail", "landjail", "bubblewrap", "podman"];
const KUBERNETES: [&str; 6] = ["1.30", "1.31", "1.32", "1.33", "1.34", "1.35"];
const OPENSHIFT: [&str; 8] = [
    "4.16", "4.17", "4.18", "4.19", "4.20", "4.21", "4.22", "4.23",
];
/// Support windows are judged on this date, so the accepted set does not
/// change with the calendar.
const TODAY: &str = "2026-06-01";

struct Case {
    name: String,
    source: &'static str,
    inputs: Value,
}

fn case(source: &'static str, name: String, inputs: Value) -> Case {
    Case {
        name: name.replace('.', "_"),
        source,
        inputs,
    }
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for sandbox in SANDBOXES {
        for root in [false, true] {
            let who = if root { "root" } else { "user" };
            for k in KUBERNETES {
                for family in ["al2023", "bottlerocket", "al2"] {
                    out.push(case(
                        "nested_capability",
                        format!("cap_eks_{family}_{sandbox}_{who}_{k}"),
                        json!({ "sandbox": sandbox, "platform": "eks", "ami_family": family,
                                "kubernetes_version": k, "run_as_root": root }),
                    ));
                }
                for platform in ["eks_auto_mode", "eks_fargate"] {
                    out.push(case(
                        "nested_capability",
                        format!("cap_{platform}_{sandbox}_{who}_{k}"),
                        json!({ "sandbox": sandbox, "platform": platform,
                                "kubernetes_version": k, "run_as_root": root }),
                    ));
                }
                for (runtime, seccomp) in [("containerd 2.1", true), ("cri-o 1.33", false)] {
                    out.push(case(
                        "nested_capability",
                        format!(
                            "cap_kubernetes_{}_{sandbox}_{who}_{k}",
                            runtime.split(' ').next().unwrap().replace('-', "")
                        ),
                        json!({ "sandbox": sandbox, "platform": "kubernetes",
                                "kubernetes_version": k, "kernel_version": "6.12",
                                "container_runtime": runtime, "seccomp_default": seccomp,
                                "run_as_root": root }),
                    ));
                }
                for mode in ["karpenter_bottlerocket", "karpenter_al2023", "auto_mode"] {
                    let mut c = json!({ "sandbox": sandbox, "cluster_name": "demo",
                                        "kubernetes_version": k, "run_as_root": root });
                    if let Some(family) = mode.strip_prefix("karpenter_") {
                        c["mode"] = json!("karpenter");
                        c["ami_family"] = json!(family);
                    } else {
                        c["mode"] = json!("auto_mode");
                        if matches!(sandbox, "bubblewrap" | "podman") {
                            c["allow_privileged_sysctl_daemonset"] = json!(true);
                        }
                    }
                    out.push(case(
                        "nested_karpenter_pool",
                        format!("pool_{mode}_{sandbox}_{who}_{k}"),
                        c,
                    ));
                }
            }
            for v in OPENSHIFT {
                out.push(case(
                    "nested_capability",
                    format!("cap_openshift_{sandbox}_{who}_{v}"),
                    json!({ "sandbox": sandbox, "platform": "openshift",
                            "openshift_version": v, "run_as_root": root }),
                ));
                out.push(case(
                    "nested_openshift_profile",
                    format!("profile_{sandbox}_{who}_{v}"),
                    json!({ "sandbox": sandbox, "openshift_version": v, "run_as_root": root }),
                ));
                if sandbox == "podman" && !root {
                    out.push(case(
                        "nested_openshift_profile",
                        format!("profile_devspaces_{sandbox}_{v}"),
                        json!({ "sandbox": sandbox, "openshift_version": v, "dev_spaces": true }),
                    ));
                }
            }
        }
    }
    // Taints as users write them: one without a value, one with.
    for (mode, family) in [("karpenter", Some("bottlerocket")), ("auto_mode", None)] {
        let mut c = json!({ "sandbox": "bubblewrap", "mode": mode, "cluster_name": "demo",
                            "kubernetes_version": "1.33",
                            "taints": [{ "key": "dedicated", "effect": "NoSchedule" },
                                       { "key": "team", "value": "agents", "effect": "NoExecute" }] });
        if let Some(f) = family {
            c["ami_family"] = json!(f);
        } else {
            c["allow_privileged_sysctl_daemonset"] = json!(true);
        }
        out.push(case(
            "nested_karpenter_pool",
            format!("pool_taints_{mode}"),
            c,
        ));
    }
    // Inputs whose manifest the API would refuse, which the provider must
    // refuse at plan (see REFUSED_AT_PLAN).
    out.push(case(
        "nested_karpenter_pool",
        "pool_empty_subnet_tag_value".into(),
        json!({ "sandbox": "nsjail", "mode": "karpenter", "ami_family": "bottlerocket",
                "cluster_name": "demo", "kubernetes_version": "1.33",
                "subnet_selector_tags": { "k": "" } }),
    ));
    out
}

/// Cases whose manifest breaks an upstream rule, and the error the plan
/// must give for them instead of rendering it.
const REFUSED_AT_PLAN: [(&str, &str); 1] = [
    // EC2NodeClass subnetSelectorTerms[].tags: "empty tag keys or values
    // aren't supported" (upstream-rules.toml).
    ("pool_empty_subnet_tag_value", "Empty selector tag value"),
];

fn hcl(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let body: Vec<String> = m.iter().map(|(k, v)| format!("{k} = {}", hcl(v))).collect();
            format!("{{ {} }}", body.join(", "))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(hcl).collect::<Vec<_>>().join(", ")),
        other => other.to_string(),
    }
}

fn block(c: &Case) -> String {
    let mut body: String = c
        .inputs
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| format!("  {k} = {}\n", hcl(v)))
        .collect();
    if c.source == "nested_karpenter_pool" {
        for (attr, value) in [
            ("role", "\"KarpenterNodeRole-demo\""),
            (
                "subnet_selector_tags",
                "{ \"karpenter.sh/discovery\" = \"demo\" }",
            ),
            (
                "security_group_selector_tags",
                "{ \"karpenter.sh/discovery\" = \"demo\" }",
            ),
        ] {
            if c.inputs.get(attr).is_none() {
                body.push_str(&format!("  {attr} = {value}\n"));
            }
        }
    }
    format!("data \"{}\" \"{}\" {{\n{body}}}\n", c.source, c.name)
}

/// The attributes the checker reads, per data source.
fn fields(source: &str) -> &'static [&'static str] {
    match source {
        "nested_capability" => &["probe_manifest", "pod_security_level", "warnings"],
        "nested_openshift_profile" => &[
            "feature_gate_manifest",
            "scc_manifest",
            "scc_name",
            "pod_spec",
            "container_security_context",
            "pod_annotations",
            "warnings",
        ],
        _ => &[
            "node_class_manifest",
            "node_pool_manifest",
            "sysctl_daemonset_manifest",
            "probe_manifest",
            "pod_security_level",
        ],
    }
}

fn config(cases: &[&Case]) -> String {
    let mut text = HEADER.to_string();
    let mut outputs = Vec::new();
    for c in cases {
        text.push_str(&block(c));
        let attrs: Vec<String> = fields(c.source)
            .iter()
            .map(|f| format!("{f} = data.{}.{}.{f}", c.source, c.name))
            .collect();
        outputs.push(format!("    {} = {{ {} }}", c.name, attrs.join(", ")));
    }
    text.push_str(&format!(
        "output \"all\" {{\n  value = {{\n{}\n  }}\n}}\n",
        outputs.join("\n")
    ));
    text
}

/// The data sources a failed plan names in its errors.
fn refused(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut in_error = false;
    for line in text.lines() {
        if line.contains("Error: ") {
            in_error = true;
        } else if line.contains("Warning: ") {
            in_error = false;
        }
        if in_error
            && let Some(rest) = line
                .trim_start_matches(['│', ' '])
                .strip_prefix("with data.")
            && let Some(addr) = rest.split([',', ' ']).next()
            && let Some((_, name)) = addr.split_once('.')
        {
            out.insert(name.to_string());
        }
    }
    out
}

#[test]
fn every_rendered_manifest_passes_the_upstream_schemas_and_admission() {
    let python = venv().unwrap().join("bin/python");
    let tf = terraforms().unwrap().into_iter().next().unwrap();
    let all = cases();
    let mut ws = Workspace::new(&tf, &config(&all.iter().collect::<Vec<_>>())).unwrap();
    ws.env("NESTED_PROVIDER_TODAY", TODAY);
    // Refusals at validate stop the plan before any data source is read,
    // so the refusals at read show in a later round.
    let mut dropped = BTreeSet::new();
    let mut kept: Vec<&Case> = all.iter().collect();
    let mut refusals = String::new();
    for _round in 0..4 {
        let plan = ws.run(&["plan", "-no-color"]).unwrap();
        if plan.ok() {
            break;
        }
        let names = refused(&plan.text());
        assert!(
            !names.is_empty(),
            "the plan failed without naming a data source: {}",
            plan.text()
        );
        refusals.push_str(&plan.stderr);
        dropped.extend(names);
        kept = all.iter().filter(|c| !dropped.contains(&c.name)).collect();
        ws.write("main.tf", &config(&kept)).unwrap();
    }
    let first = &refusals;
    // The provider must accept the common inputs: a refusal of all would
    // check nothing.
    for must in [
        "cap_eks_al2023_nsjail_user_1_33",
        "cap_openshift_bubblewrap_root_4_20",
        "cap_openshift_nsjail_root_4_18",
        "profile_bubblewrap_root_4_19",
        "profile_landjail_root_4_20",
        "pool_karpenter_bottlerocket_bubblewrap_user_1_33",
        "pool_auto_mode_podman_user_1_33",
        "pool_taints_karpenter",
    ] {
        assert!(
            kept.iter().any(|c| c.name == must),
            "{must} was refused: {first}"
        );
    }
    for (name, error) in REFUSED_AT_PLAN {
        assert!(
            dropped.contains(name),
            "{name} was not refused at plan: {first}"
        );
        assert!(
            first.contains(&format!("Error: {error}"))
                && first.contains(&format!("data.nested_karpenter_pool.{name}")),
            "{name}: no {error:?} error: {first}"
        );
    }
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let out = ws.outputs().unwrap();
    let mut doc = serde_json::Map::new();
    for c in &kept {
        let o = out["all"]["value"][&c.name].clone();
        assert!(o.is_object(), "{}: {o}", c.name);
        doc.insert(
            c.name.clone(),
            json!({ "source": c.source, "case": c.inputs, "out": o }),
        );
    }
    let file = ws.path().join("cases.json");
    std::fs::write(&file, serde_json::to_string(&doc).unwrap()).unwrap();
    let run = std::process::Command::new(&python)
        .arg(repo_root().join("acceptance/tools/check_manifests.py"))
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&run.stdout);
    let mut why = std::collections::BTreeMap::<&str, usize>::new();
    for line in refusals.lines() {
        if let Some(summary) = line.trim_start_matches(['│', ' ']).strip_prefix("Error: ") {
            *why.entry(summary).or_default() += 1;
        }
    }
    println!(
        "{} cases, {} refused by the provider at plan ({why:?}), {} rendered: {text}",
        all.len(),
        dropped.len(),
        kept.len()
    );
    assert!(
        run.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let checked: usize = text
        .split("checked ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(checked >= 400, "{text}");
}

/// The checker is not a rubber stamp: manifests that break an upstream
/// rule are refused, naming the manifest and the rule.
#[test]
fn the_checker_refuses_manifests_that_break_upstream_rules() {
    let python = venv().unwrap().join("bin/python");
    let taint_empty = "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata:\n  name: p\nspec:\n  template:\n    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: p}\n      requirements: []\n      taints:\n        - {key: dedicated, value: \"\", effect: NoSchedule}\n  disruption:\n    consolidateAfter: 0s\n";
    let unknown = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: c\n          image: x\n          notAField: 1\n";
    let scc_uns = "apiVersion: security.openshift.io/v1\nkind: SecurityContextConstraints\nmetadata:\n  name: s\nallowHostDirVolumePlugin: false\nallowHostIPC: false\nallowHostNetwork: false\nallowHostPID: false\nallowHostPorts: false\nallowPrivilegedContainer: false\nallowedCapabilities: []\ndefaultAddCapabilities: null\npriority: null\nreadOnlyRootFilesystem: false\nrequiredDropCapabilities: null\nvolumes: []\nuserNamespaceLevel: RequirePodLevel\n";
    let bad_alias = "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata:\n  name: p\nspec:\n  role: r\n  amiSelectorTerms:\n    - alias: ubuntu@latest\n  subnetSelectorTerms:\n    - tags: {a: b}\n  securityGroupSelectorTerms:\n    - tags: {a: b}\n";
    let empty_tag = bad_alias
        .replace("ubuntu@latest", "bottlerocket@latest")
        .replacen("{a: b}", "{k: ''}", 1);
    let kubelet =
        bad_alias.replace("ubuntu@latest", "bottlerocket@latest") + "  kubelet: {maxPods: 10}\n";
    let scc_no_priority = scc_uns.replace("priority: null\n", "");
    let script = format!(
        r#"
import sys
sys.path.insert(0, {tools:?})
import yaml, check_manifests as m
def refused(fn):
    try:
        fn()
    except m.Broken as e:
        print("REFUSED", e)
        return
    print("ACCEPTED")
refused(lambda: m.check_custom_resource(yaml.safe_load({taint_empty:?}), "NodePool", "v1.9.2", "1.33", "np"))
refused(lambda: m.check_kubernetes(yaml.safe_load({unknown:?}), "1.33", "job"))
refused(lambda: m.check_custom_resource(yaml.safe_load({scc_uns:?}), "SecurityContextConstraints", "4.19-Default", "1.32", "scc"))
refused(lambda: m.check_custom_resource(yaml.safe_load({scc_uns:?}), "SecurityContextConstraints", "4.19-CustomNoUpgrade", "1.32", "scc"))
refused(lambda: m.check_custom_resource(yaml.safe_load({bad_alias:?}), "EC2NodeClass", "v1.14.1", "1.33", "nc"))
refused(lambda: m.pod_security("pod", {{"containers": [{{"name": "c", "securityContext": {{"capabilities": {{"add": ["NET_ADMIN"]}}}}}}]}}, "baseline", "1.33"))
refused(lambda: m.check_custom_resource(yaml.safe_load({empty_tag:?}), "EC2NodeClass", "v1.0.0", "1.33", "nc"))
refused(lambda: m.check_custom_resource(yaml.safe_load({kubelet:?}), "EC2NodeClass", "v1.14.1", "1.33", "nc"))
refused(lambda: m.check_custom_resource(yaml.safe_load({scc_no_priority:?}), "SecurityContextConstraints", "4.20", "1.33", "scc"))
def admits(problems):
    if problems:
        raise m.Broken("; ".join(problems))
refused(lambda: admits(m.scc_admits(yaml.safe_load({scc_uns:?}), {{"hostUsers": False, "containers": [{{"name": "c", "securityContext": {{"runAsUser": 0, "capabilities": {{"add": ["SETFCAP"]}}}}}}]}}, "scc")))
"#,
        tools = repo_root().join("acceptance/tools").display().to_string(),
    );
    let run = std::process::Command::new(&python)
        .args(["-c", &script])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 10, "{text}");
    assert!(
        lines[0].starts_with("REFUSED") && lines[0].contains("taints.0.value"),
        "{text}"
    );
    assert!(
        lines[1].starts_with("REFUSED") && lines[1].contains("notAField"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("REFUSED") && lines[2].contains("userNamespaceLevel"),
        "{text}"
    );
    assert_eq!(lines[3], "ACCEPTED", "{text}");
    assert!(
        lines[4].starts_with("REFUSED") && lines[4].contains("CEL rule"),
        "{text}"
    );
    assert!(
        lines[5].starts_with("REFUSED") && lines[5].contains("NET_ADMIN"),
        "{text}"
    );
    assert!(
        lines[6].starts_with("REFUSED")
            && lines[6].contains("empty tag keys or values aren't supported")
            && lines[6].contains("karpenter.k8s.aws_ec2nodeclasses.yaml@v1.0.0:542-543"),
        "{text}"
    );
    assert!(
        lines[7].starts_with("REFUSED") && lines[7].contains("rules are not transcribed"),
        "{text}"
    );
    assert!(
        lines[8].starts_with("REFUSED") && lines[8].contains("required field 'priority'"),
        "{text}"
    );
    assert!(
        lines[9].starts_with("REFUSED") && lines[9].contains("SETFCAP"),
        "{text}"
    );
}
