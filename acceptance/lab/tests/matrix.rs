//! The provider's decisions, run. For every node profile this kernel can
//! emulate × sandbox × agent user, the engine decides; then, in a container
//! built the way containerd builds it:
//!
//! (a) the real sandbox runs with exactly the provider's outputs;
//! (b) minimality: removing any one thing the provider grants (a
//!     capability, privilege escalation, Unconfined, the unmasked /proc,
//!     the node sysctl) makes it fail, or the provider grants too much;
//! (c) a refusal the lab can reproduce (user namespaces that stay 0)
//!     fails with the kernel's own message;
//! and nested-probe, in the same container, agrees with the sandbox.
//!
//! The results are `schemas/lab-results.json` (the "proven" marks of the
//! "Choosing a sandbox" guide); the test fails when that file is stale:
//! `UPDATE_LAB_RESULTS=1 cargo nextest run -p node-lab --test matrix`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use nested_provider::capability::{
    AmiFamily, Architecture, CapabilityData, Decision, ImageVariant, Input, decide,
};
use node_lab::record::check_recorded;
use node_lab::{Lab, Node, Outcome, Pod, RuntimeDefaults, Seccomp, Workload};
use serde_json::{Value as Json, json};

use common::probe_binary;

/// A node this kernel can stand in for: an EKS image row's runtime,
/// seccomp default and user-namespace sysctl (its kernel is this one).
struct Profile {
    platform: &'static str,
    family: &'static str,
    kubernetes: &'static str,
}

const PROFILES: [Profile; 4] = [
    Profile {
        platform: "eks",
        family: "al2023",
        kubernetes: "1.35",
    },
    Profile {
        platform: "eks",
        family: "bottlerocket",
        kubernetes: "1.32",
    },
    Profile {
        platform: "eks",
        family: "bottlerocket",
        kubernetes: "1.35",
    },
    Profile {
        platform: "eks_auto_mode",
        family: "bottlerocket",
        kubernetes: "1.35",
    },
];

fn data() -> &'static CapabilityData {
    CapabilityData::embedded().unwrap()
}

fn workload(sandbox: &str, d: &Decision) -> Workload {
    match sandbox {
        "nsjail" => Workload::Nsjail {
            no_user_namespace: d.runtime_args.iter().any(|a| a == "--no-user-namespace"),
        },
        "landjail" => Workload::Landjail,
        "bubblewrap" => Workload::Bubblewrap,
        "podman" => Workload::Podman,
        other => panic!("no workload for {other}"),
    }
}

/// One thing the provider grants, and the pod (and node) without it.
struct Removal {
    what: String,
    pod: Pod,
    node: Node,
}

fn removals(pod: &Pod, node: &Node, d: &Decision, image_userns: Option<u64>) -> Vec<Removal> {
    let mut out = Vec::new();
    for cap in &pod.capabilities_add {
        let mut p = pod.clone();
        p.capabilities_add.retain(|c| c != cap);
        out.push(Removal {
            what: format!("capability {cap}"),
            pod: p,
            node: node.clone(),
        });
    }
    if pod.allow_privilege_escalation == Some(true) {
        let mut p = pod.clone();
        p.allow_privilege_escalation = Some(false);
        out.push(Removal {
            what: "allowPrivilegeEscalation".into(),
            pod: p,
            node: node.clone(),
        });
    }
    if pod.seccomp == Seccomp::Unconfined {
        let mut p = pod.clone();
        p.seccomp = Seccomp::Unset;
        out.push(Removal {
            what: "seccompProfile Unconfined".into(),
            pod: p,
            node: node.clone(),
        });
    }
    if pod.proc_mount_unmasked {
        let mut p = pod.clone();
        p.proc_mount_unmasked = false;
        out.push(Removal {
            what: "procMount Unmasked".into(),
            pod: p,
            node: node.clone(),
        });
    }
    if d.sysctls.contains_key("user.max_user_namespaces") && image_userns == Some(0) {
        let mut n = node.clone();
        n.max_user_namespaces = Some(0);
        out.push(Removal {
            what: "sysctl user.max_user_namespaces".into(),
            pod: pod.clone(),
            node: n,
        });
    }
    out
}

fn run(lab: &Lab, pod: &Pod, node: &Node, w: &Workload) -> Outcome {
    lab.run(pod, node, w)
        .unwrap_or_else(|e| panic!("lab error for {w:?}: {e}"))
}

/// The line of output that says why it failed: the kernel's or the tool's
/// own words first, with run-specific numbers (pids, veth ids) blanked so
/// the results file is the same on every run.
fn why(o: &Outcome) -> String {
    const SPECIFIC: [&str; 6] = [
        "operation not permitted",
        "no space left",
        "permission denied",
        "no new privileges",
        "not permitted",
        "read-only file system",
    ];
    const GENERAL: [&str; 5] = ["failed", "cannot", "error", "unable", "fail"];
    // Noise of passing runs too: sudo without AUDIT_WRITE, podman on a
    // private mount.
    const NOISE: [&str; 2] = ["unable to send audit message", "is not a shared mount"];
    let lines: Vec<&str> = o
        .output
        .lines()
        .filter(|l| !NOISE.iter().any(|n| l.contains(n)))
        // podman's `msg="running `helper args…`: the helper's words"`.
        .map(|l| l.rsplit_once("`: ").map_or(l, |(_, tail)| tail))
        .map(|l| l.trim_end_matches('"').trim_end_matches("\\n"))
        .collect();
    let pick = |keys: &[&str]| {
        lines
            .iter()
            .find(|l| keys.iter().any(|k| l.to_ascii_lowercase().contains(k)))
            .copied()
    };
    let line = pick(&SPECIFIC)
        .or_else(|| pick(&GENERAL))
        .or_else(|| lines.last().copied())
        .unwrap_or("")
        .trim();
    common::blank_numbers(line, false)
}

#[test]
fn every_decision_runs_and_grants_nothing_extra() {
    let lab = Lab::new()
        .unwrap_or_else(|e| panic!("{e}"))
        .with_probe(probe_binary());
    let versions = lab.versions();
    // The runtime's defaults come from the data row the engine also reads.
    let containerd = RuntimeDefaults::containerd().unwrap();
    let mut runs = Vec::new();
    let mut failures = Vec::new();
    let (mut agree, mut disagree) = (0usize, Vec::new());
    // The probe runs in the mode the pod starts the sandbox in (the provider's
    // probe Job sets the same environment).
    let mut probe_check =
        |label: &str, pod: &Pod, node: &Node, sandbox: &str, d: &Decision, workload_ok: bool| {
            let env = if d.runtime_args.iter().any(|a| a == "--no-user-namespace") {
                vec!["BOUNDARY_NO_USER_NAMESPACE=true".to_string()]
            } else {
                Vec::new()
            };
            let w = Workload::ProbeWith {
                sandbox: sandbox.into(),
                setuid_helpers: false,
                env,
            };
            let o = run(&lab, pod, node, &w);
            if o.ok == workload_ok {
                agree += 1;
            } else {
                disagree.push(format!(
                    "{label}: workload {workload_ok}, probe {} ({})",
                    o.ok,
                    why(&o)
                ));
            }
        };
    for prof in &PROFILES {
        let k8s = prof.kubernetes.parse().unwrap();
        // The newest release of the image (what an unpinned decision is
        // judged on); the record names its release range.
        let image = *data()
            .image_releases(
                AmiFamily::parse(prof.family).unwrap(),
                ImageVariant::Standard,
                Architecture::X86_64,
                k8s,
            )
            .last()
            .unwrap();
        for sandbox in data().sandbox_names() {
            for root in [false, true] {
                let agent = if root { "root" } else { "non_root" };
                let label = format!(
                    "{sandbox} ({agent}) on {} {} {}",
                    prof.platform, prof.family, prof.kubernetes
                );
                let mut input = Input::new(sandbox, prof.platform);
                input.kubernetes_version = Some(k8s);
                if prof.platform == "eks" {
                    input.ami_family = Some(prof.family.into());
                }
                input.run_as_root = root;
                let d = decide(data(), &input).unwrap();
                let uid = if root { 0 } else { 1000 };
                let mut node = Node::new(containerd.clone());
                node.seccomp_default = image.seccomp_default;
                node.max_user_namespaces = match (
                    image.max_user_namespaces,
                    d.sysctls.get("user.max_user_namespaces"),
                ) {
                    (Some(0), Some(v)) => Some(v.parse().unwrap()),
                    (Some(0), None) => Some(0),
                    _ => None,
                };
                let mut record = json!({
                    "sandbox": sandbox,
                    "agent": agent,
                    // Debian's bubblewrap and podman run for real; Coder's
                    // Boundary and landjail (Go) are re-enacted from source.
                    "workload": if matches!(sandbox, "nsjail" | "landjail") { "re-enacted" } else { "real binary" },
                    "platform": prof.platform,
                    "node": {
                        "ami_family": prof.family,
                        "kubernetes": prof.kubernetes,
                        "runtime": "containerd",
                        "releases": image.releases_text(),
                        "seccomp_default": node.seccomp_default,
                        "max_user_namespaces": node.max_user_namespaces,
                    },
                    "kernel": versions.kernel_series(),
                    "crun": versions.crun,
                });
                if d.has_errors() {
                    let errors: Vec<&str> = d
                        .findings
                        .iter()
                        .filter(|f| f.error)
                        .map(|f| f.summary.as_str())
                        .collect();
                    record["decision"] = json!("refused");
                    record["errors"] = json!(errors);
                    record["proven"] = json!(false);
                    // A refusal the lab can show: the sandbox's user
                    // namespace on a node that keeps them at 0.
                    if errors.iter().any(|e| e.contains("needs user namespaces"))
                        && node.max_user_namespaces == Some(0)
                    {
                        let mut elsewhere = input.clone();
                        elsewhere.platform = "eks".into();
                        elsewhere.ami_family = Some("bottlerocket".into());
                        let e = decide(data(), &elsewhere).unwrap();
                        let pod = Pod::from_provider_outputs(
                            &e.pod_spec.to_string(),
                            &e.pod_security_context.to_string(),
                            &e.container_security_context.to_string(),
                            uid,
                        )
                        .unwrap();
                        let o = run(&lab, &pod, &node, &workload(sandbox, &e));
                        if o.ok {
                            failures.push(format!("{label}: refused, but the sandbox runs with user.max_user_namespaces = 0"));
                        }
                        record["reproduced"] = json!({ "ok": o.ok, "message": why(&o) });
                        record["proven"] = json!(!o.ok);
                    }
                    runs.push(record);
                    continue;
                }
                let mut pod = Pod::from_provider_outputs(
                    &d.pod_spec.to_string(),
                    &d.pod_security_context.to_string(),
                    &d.container_security_context.to_string(),
                    uid,
                )
                .unwrap();
                // The devices output (podman's /dev/net/tun, which the probe
                // checks); its removal is proven on containerd (tests/cri.rs).
                pod.devices = d.devices.clone();
                let w = workload(sandbox, &d);
                let o = run(&lab, &pod, &node, &w);
                if !o.ok {
                    failures.push(format!(
                        "{label}: the provider's outputs do not run it: {}\n{}",
                        why(&o),
                        o.output
                    ));
                }
                probe_check(&label, &pod, &node, sandbox, &d, o.ok);
                let mut minimal = BTreeMap::new();
                for r in removals(&pod, &node, &d, image.max_user_namespaces) {
                    let without = run(&lab, &r.pod, &r.node, &w);
                    if without.ok {
                        failures.push(format!(
                            "{label}: still runs without {} — the provider grants too much",
                            r.what
                        ));
                    }
                    probe_check(
                        &format!("{label} without {}", r.what),
                        &r.pod,
                        &r.node,
                        sandbox,
                        &d,
                        without.ok,
                    );
                    minimal.insert(
                        r.what,
                        json!({ "fails": !without.ok, "message": why(&without) }),
                    );
                }
                record["decision"] = json!("runs");
                record["outputs"] = json!({
                    "pod_spec": d.pod_spec,
                    "container_security_context": d.container_security_context,
                    "sysctls": d.sysctls,
                    "runtime_args": d.runtime_args,
                });
                record["works"] = json!(o.ok);
                record["without"] = Json::Object(minimal.into_iter().collect());
                record["proven"] = json!(
                    o.ok && record["without"]
                        .as_object()
                        .unwrap()
                        .values()
                        .all(|m| m["fails"] == true)
                );
                // What only the API server enforces: the kernel runs it anyway.
                if d.pod_spec["hostUsers"] == json!(false) {
                    record["api_only"] = json!([
                        "hostUsers: false (the API server allows procMount: Unmasked only with it)"
                    ]);
                }
                runs.push(record);
            }
        }
    }
    let results = json!({
        "kernel": versions.kernel_series(),
        "kernel_release": versions.kernel,
        "crun": versions.crun,
        "landlock_abi": versions.landlock_abi,
        "probe_agreement": { "agree": agree, "disagree": disagree.len() },
        "runs": runs,
    });
    for r in results["runs"].as_array().unwrap() {
        eprintln!(
            "{:<10} {:<8} {:<13} {:<12} {:<5} {:<7} proven={}",
            r["sandbox"].as_str().unwrap(),
            r["agent"].as_str().unwrap(),
            r["platform"].as_str().unwrap(),
            r["node"]["ami_family"].as_str().unwrap(),
            r["node"]["kubernetes"].as_str().unwrap(),
            r["decision"].as_str().unwrap(),
            r["proven"]
        );
    }
    eprintln!(
        "probe agrees with the sandbox in {agree} of {} runs",
        agree + disagree.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        disagree.is_empty(),
        "nested-probe disagrees:\n{}",
        disagree.join("\n")
    );
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schemas/lab-results.json"
    ));
    if let Err(e) = check_recorded(
        &path,
        &results,
        "UPDATE_LAB_RESULTS=1 cargo nextest run -p node-lab --test matrix, then make docs",
    ) {
        panic!("{e}");
    }
}
