//! Localhost seccomp profiles on the real runtime: the provider's
//! `seccomp_profile = "localhost"` answers run on a private containerd 2.x
//! driven as the kubelet drives it (`node_lab::cri`).
//!
//! - `the_profiles_base_is_what_containerd_generates`: the RuntimeDefault
//!   rules the profiles start from (`schemas/seccomp-containerd-runtime-default.json`)
//!   are exactly the profile containerd 2.x wrote into the OCI spec of a
//!   container without the capabilities that widen it — never our own data;
//! - `each_sandbox_runs_under_its_localhost_profile_and_needs_each_added_syscall`:
//!   for every mode the provider offers a profile for, the provider's own
//!   outputs (pod, container security context with `localhostProfile`, the
//!   `seccomp_profile_json` file put where the kubelet looks) run the real
//!   sandbox; the same profile without each added syscall makes it fail
//!   (else the profile grants too much); and the `seccomp_profile_manifest`
//!   carries exactly that profile for the Security Profiles Operator.
//!
//! Results: `schemas/lab-results-cri-seccomp.json`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use nested_provider::capability::seccomp::RuntimeDefaultProfile;
use nested_provider::capability::{Architecture, Decision, Input, decide};
use nested_provider::render::seccomp_profile::{profile_file, spo_manifest};
use node_lab::cri::CriLab;
use node_lab::{Pod, Seccomp};
use serde_json::{Value as Json, json};

use common::on_cri::{data, evidence, pod_of, probe, recorded, start, why, workload};

/// The EKS nodes the profiles are for. The sandboxes that need one run in
/// a pod user namespace, so only on containerd 2.x (on 1.7 the kubelet
/// refuses their pods: `cri.rs` shows it).
const NODES: [(&str, &str); 2] = [("al2023", "1.35"), ("bottlerocket", "1.35")];

fn decision(sandbox: &str, root: bool, family: &str, kubernetes: &str) -> Decision {
    let mut input = Input::new(sandbox, "eks");
    input.kubernetes_version = Some(kubernetes.parse().unwrap());
    input.ami_family = Some(family.into());
    input.run_as_root = root;
    input.seccomp_localhost = true;
    decide(data(), &input).unwrap()
}

/// containerd's generated profile for a container that holds none of the
/// capabilities `DefaultProfile` widens it for (root, `drop: [ALL]`).
#[test]
fn the_profiles_base_is_what_containerd_generates() {
    let lab = common::lab();
    let mut cri = start(&lab, "2");
    let pod = Pod {
        capabilities_drop: vec!["ALL".into()],
        seccomp: Seccomp::RuntimeDefault,
        ..Pod::default()
    };
    let o = cri.run(&pod, false, &node_lab::Workload::Landjail).unwrap();
    let generated = o.oci_spec.expect("containerd's OCI spec")["linux"]["seccomp"].clone();
    let ours = RuntimeDefaultProfile::embedded()
        .unwrap()
        .for_architecture(Architecture::X86_64)
        .unwrap();
    // `args: []` and no `args` mean the same rule.
    let rules = |p: &Json| -> Vec<String> {
        let mut v: Vec<String> = without_empty_args(p)["syscalls"]
            .as_array()
            .unwrap()
            .iter()
            .map(Json::to_string)
            .collect();
        v.sort();
        v
    };
    assert_eq!(generated["defaultAction"], ours["defaultAction"]);
    assert_eq!(generated["architectures"], ours["architectures"]);
    let (g, m) = (rules(&generated), rules(&ours));
    let missing: Vec<_> = g.iter().filter(|r| !m.contains(r)).collect();
    let extra: Vec<_> = m.iter().filter(|r| !g.contains(r)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "schemas/seccomp-containerd-runtime-default.json differs from containerd {}'s RuntimeDefault:\n  containerd has, the data lacks: {missing:?}\n  the data has, containerd lacks: {extra:?}",
        cri.version.runtime_version
    );
}

#[test]
fn each_sandbox_runs_under_its_localhost_profile_and_needs_each_added_syscall() {
    let lab = common::lab();
    let mut labs: BTreeMap<&str, CriLab> = BTreeMap::new();
    let mut runs = Vec::new();
    let mut failures = Vec::new();
    let mut offered = 0;
    for (family, kubernetes) in NODES {
        for sandbox in data().sandbox_names() {
            for root in [false, true] {
                let d = decision(sandbox, root, family, kubernetes);
                let Some(profile) = d.seccomp_localhost.clone() else {
                    continue;
                };
                assert!(!d.has_errors(), "{sandbox}: {:?}", d.findings);
                offered += 1;
                let series = match d.image.as_ref().and_then(|i| i.containerd) {
                    Some(v) if v.major < 2 => "1.7",
                    _ => "2",
                };
                let label = format!(
                    "{sandbox} ({}) on {family} {kubernetes} (containerd {series})",
                    if root { "root" } else { "non_root" },
                );
                let cri = labs.entry(series).or_insert_with(|| start(&lab, series));
                let pod = pod_of(&d, if root { 0 } else { 1000 });
                assert_eq!(pod.seccomp, Seccomp::Localhost, "{label}");
                let path = pod.localhost_profile.clone().unwrap();
                assert_eq!(path, profile.localhost_profile, "{label}");
                // What the Security Profiles Operator would write is the
                // manifest's spec: it must be the profile file, rule for rule.
                let manifest = spo_manifest(&profile.name, &profile.profile);
                let spec = acceptance_yaml_spec(&manifest);
                assert_eq!(
                    spec,
                    without_empty_args(&profile.profile),
                    "{label}: SPO spec"
                );
                let w = workload(sandbox, &d);
                // (a) the provider's outputs, exactly.
                cri.install_seccomp_profile(&path, &profile_file(&profile.profile))
                    .unwrap();
                // The node's kubelet default (Bottlerocket ≥ 1.33: RuntimeDefault)
                // does not apply: the pod names its profile.
                let seccomp_default = d.image.as_ref().is_some_and(|i| i.seccomp_default);
                let outs = cri
                    .run_all(&pod, seccomp_default, &[w.clone(), probe(sandbox, &d)])
                    .unwrap();
                let (o, p) = (&outs[0], &outs[1]);
                if !o.ok {
                    failures.push(format!(
                        "{label}: fails under its Localhost profile: {}",
                        why(o)
                    ));
                }
                // nested-probe in the same container agrees with the sandbox.
                if p.ok != o.ok {
                    failures.push(format!(
                        "{label}: the sandbox {} but nested-probe {} ({})",
                        if o.ok { "runs" } else { "fails" },
                        if p.ok { "passes" } else { "fails" },
                        why(p)
                    ));
                }
                // (b) each added syscall is needed.
                let mut removals = Vec::new();
                for add in &profile.adds {
                    let fewer: Vec<String> =
                        profile.adds.iter().filter(|a| *a != add).cloned().collect();
                    let p = RuntimeDefaultProfile::embedded()
                        .unwrap()
                        .with_adds(Architecture::X86_64, &fewer)
                        .unwrap();
                    cri.install_seccomp_profile(&path, &profile_file(&p))
                        .unwrap();
                    let outs = cri
                        .run_all(&pod, seccomp_default, &[w.clone(), probe(sandbox, &d)])
                        .unwrap();
                    let (r, p) = (&outs[0], &outs[1]);
                    if p.ok != r.ok {
                        failures.push(format!(
                            "{label} without {add}: the sandbox {} but nested-probe {}",
                            if r.ok { "runs" } else { "fails" },
                            if p.ok { "passes" } else { "fails" },
                        ));
                    }
                    if r.ok {
                        failures.push(format!(
                            "{label}: runs without {add}: the profile grants too much"
                        ));
                    }
                    removals.push(json!({ "without": add, "fails": !r.ok, "message": why(r) }));
                }
                runs.push(json!({
                    "case": label,
                    "containerd": series,
                    "workload": evidence(sandbox),
                    "localhost_profile": path,
                    "adds": profile.adds,
                    "runs": o.ok,
                    "probe_agrees": p.ok == o.ok,
                    "removals": removals,
                }));
            }
        }
    }
    assert!(
        offered >= 6,
        "only {offered} Localhost answers: the data lost some"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let versions: BTreeMap<&str, String> = labs
        .iter()
        .map(|(s, l)| (*s, l.version.runtime_version.clone()))
        .collect();
    recorded(
        "lab-results-cri-seccomp.json",
        &json!({ "runs": runs, "environment": { "containerd": versions } }),
    );
}

/// The `spec` of a rendered `SeccompProfile`, read back by a YAML parser
/// this crate did not write (Python's PyYAML from the project's venv).
fn acceptance_yaml_spec(manifest: &str) -> Json {
    let doc = acceptance::yaml_to_json(manifest).unwrap();
    doc["spec"].clone()
}

fn without_empty_args(profile: &Json) -> Json {
    let mut p = profile.clone();
    for r in p["syscalls"].as_array_mut().unwrap() {
        if r["args"].as_array().is_some_and(Vec::is_empty) {
            r.as_object_mut().unwrap().remove("args");
        }
    }
    p
}
