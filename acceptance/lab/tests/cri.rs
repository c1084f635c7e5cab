//! The provider's decisions on the real runtime: a private containerd (2.1
//! and 1.7, the series EKS nodes run; 1.6 for one claim) with its CRI
//! plugin, driven as the kubelet drives it (`node_lab::cri`).
//!
//! - `runtime_rows_are_what_containerd_generates`: the `[[runtime]]` row of
//!   containerd (default capabilities, masked and read-only paths, what
//!   RuntimeDefault allows) against the OCI spec containerd itself
//!   generated for a pod — never against our own data;
//! - `every_decision_runs_on_containerd_and_grants_nothing_extra`: for
//!   every node profile × sandbox × agent user, (a) the real sandbox runs
//!   with exactly the provider's outputs (pod spec, security contexts,
//!   devices, runtime args); (b) minimality: without each granted piece —
//!   a capability, escalation, Unconfined (or an unset profile that means
//!   Unconfined: RuntimeDefault is tried), the unmasked /proc,
//!   `hostUsers: false`, each device — it fails, or the provider grants too
//!   much; (c) a refusal about the runtime reproduces; and nested-probe in
//!   the same container agrees with the sandbox;
//! - `containerd_1_6_ignores_host_users_false`.
//!
//! Results: `schemas/lab-results-cri.json` (facts compared, environment
//! recorded); `UPDATE_LAB_RESULTS=1 cargo nextest run -p node-lab --test cri`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use nested_provider::capability::{Decision, Input, RuntimeKind, decide};
use node_lab::cri::{CriLab, CriOutcome};
use node_lab::{Pod, Seccomp, Workload};
use serde_json::{Value as Json, json};

use common::on_cri::{data, evidence, pod_of, probe, recorded, start, why, workload};

/// The containerd series a node image runs.
fn series_of(containerd_major: u32) -> &'static str {
    if containerd_major >= 2 { "2" } else { "1.7" }
}

/// A node profile: an EKS image (family, Kubernetes, optionally a pinned
/// release) whose runtime, seccomp default and containerd series the lab
/// stands in for.
struct Profile {
    platform: &'static str,
    family: &'static str,
    kubernetes: &'static str,
    release: Option<&'static str>,
}

const PROFILES: [Profile; 5] = [
    Profile {
        platform: "eks",
        family: "al2023",
        kubernetes: "1.35",
        release: None,
    },
    Profile {
        platform: "eks",
        family: "al2023",
        kubernetes: "1.33",
        release: Some("v20251007"),
    },
    Profile {
        platform: "eks",
        family: "bottlerocket",
        kubernetes: "1.32",
        release: None,
    },
    Profile {
        platform: "eks",
        family: "bottlerocket",
        kubernetes: "1.35",
        release: None,
    },
    Profile {
        platform: "eks_auto_mode",
        family: "bottlerocket",
        kubernetes: "1.35",
        release: None,
    },
];

fn input(p: &Profile, sandbox: &str, root: bool) -> Input {
    let mut input = Input::new(sandbox, p.platform);
    input.kubernetes_version = Some(p.kubernetes.parse().unwrap());
    if p.platform == "eks" {
        input.ami_family = Some(p.family.into());
        input.ami_release = p.release.map(str::to_string);
    }
    input.run_as_root = root;
    input
}

/// One granted piece and the pod without it.
fn removals(pod: &Pod, seccomp_default: bool) -> Vec<(String, Pod)> {
    let mut out = Vec::new();
    for cap in &pod.capabilities_add {
        let mut p = pod.clone();
        p.capabilities_add.retain(|c| c != cap);
        out.push((format!("capability {cap}"), p));
    }
    if pod.allow_privilege_escalation != Some(false) && pod.run_as_user != 0 {
        let mut p = pod.clone();
        p.allow_privilege_escalation = Some(false);
        out.push(("privilege escalation".into(), p));
    }
    let unconfined =
        pod.seccomp == Seccomp::Unconfined || (pod.seccomp == Seccomp::Unset && !seccomp_default);
    if unconfined {
        let mut p = pod.clone();
        p.seccomp = Seccomp::RuntimeDefault;
        let what = if pod.seccomp == Seccomp::Unset {
            "an unset seccompProfile (Unconfined on this node)"
        } else {
            "seccompProfile Unconfined"
        };
        out.push((what.into(), p));
    }
    if pod.proc_mount_unmasked {
        let mut p = pod.clone();
        p.proc_mount_unmasked = false;
        out.push(("procMount Unmasked".into(), p));
    }
    if !pod.host_users {
        let mut p = pod.clone();
        p.host_users = true;
        out.push(("hostUsers: false".into(), p));
    }
    for dev in &pod.devices {
        let mut p = pod.clone();
        p.devices.retain(|d| d != dev);
        out.push((format!("device {dev}"), p));
    }
    out
}

/// What the OCI spec's seccomp section does with `name`: `allow`,
/// `allow-if-args` (a rule with argument filters), `enosys`, or `deny`.
fn syscall_action(seccomp: &Json, name: &str) -> &'static str {
    let mut conditional = false;
    for rule in seccomp["syscalls"].as_array().into_iter().flatten() {
        let names = rule["names"].as_array().into_iter().flatten();
        if !names.filter_map(Json::as_str).any(|n| n == name) {
            continue;
        }
        match rule["action"].as_str() {
            Some("SCMP_ACT_ALLOW") => {
                if rule["args"].as_array().is_some_and(|a| !a.is_empty()) {
                    conditional = true;
                } else {
                    return "allow";
                }
            }
            Some("SCMP_ACT_ERRNO") if rule["errnoRet"].as_u64() == Some(38) => return "enosys",
            _ => {}
        }
    }
    if conditional { "allow-if-args" } else { "deny" }
}

fn names(v: &Json) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .map(|s| s.trim_start_matches("CAP_").to_string())
        .collect();
    out.sort();
    out
}

#[test]
fn runtime_rows_are_what_containerd_generates() {
    let lab = common::lab();
    let row = data().runtime(RuntimeKind::Containerd).unwrap();
    let claims = row
        .runtime_default_syscalls
        .as_ref()
        .expect("the containerd row says what RuntimeDefault does per syscall");
    let mut failures = Vec::new();
    let mut results = Vec::new();
    for series in ["2", "1.7"] {
        let mut cri = start(&lab, series);
        let noop = Workload::Shell("true".into());
        let root = Pod {
            seccomp: Seccomp::RuntimeDefault,
            ..Pod::default()
        };
        let plain = cri.run(&root, false, &noop).unwrap();
        let spec = plain
            .oci_spec
            .clone()
            .expect("containerd wrote config.json");
        let mut want_caps = row.default_capabilities.clone();
        want_caps.sort();
        let got_caps = names(&spec["process"]["capabilities"]["bounding"]);
        let label = |what: &str| format!("containerd {series}: [[runtime]] containerd {what}");
        if got_caps != want_caps {
            failures.push(format!(
                "{}: row {want_caps:?}, generated {got_caps:?}",
                label("default_capabilities")
            ));
        }
        let masked: Vec<String> = names(&spec["linux"]["maskedPaths"]);
        let mut want_masked = row.masked_paths.clone();
        want_masked.sort();
        if masked != want_masked {
            failures.push(format!(
                "{}: row {want_masked:?}, generated {masked:?}",
                label("masked_paths")
            ));
        }
        let readonly: Vec<String> = names(&spec["linux"]["readonlyPaths"]);
        let mut want_ro = row.readonly_paths.clone();
        want_ro.sort();
        if readonly != want_ro {
            failures.push(format!(
                "{}: row {want_ro:?}, generated {readonly:?}",
                label("readonly_paths")
            ));
        }
        // procMount: Unmasked → containerd masks nothing of its own.
        let unmasked = cri
            .run(
                &Pod {
                    proc_mount_unmasked: true,
                    ..root.clone()
                },
                false,
                &noop,
            )
            .unwrap();
        let u = unmasked.oci_spec.clone().unwrap();
        if !names(&u["linux"]["maskedPaths"]).is_empty()
            || !names(&u["linux"]["readonlyPaths"]).is_empty()
        {
            failures.push(format!(
                "{}: procMount Unmasked still gets masked {} / read-only {}",
                label("masked_paths"),
                u["linux"]["maskedPaths"],
                u["linux"]["readonlyPaths"]
            ));
        }
        let sys_admin = cri
            .run(
                &Pod {
                    capabilities_add: vec!["SYS_ADMIN".into()],
                    ..root.clone()
                },
                false,
                &noop,
            )
            .unwrap();
        let with = sys_admin.oci_spec.clone().unwrap();
        let plain_seccomp = &spec["linux"]["seccomp"];
        let admin_seccomp = &with["linux"]["seccomp"];
        let mut seen = BTreeMap::new();
        for name in claims
            .with_sys_admin
            .iter()
            .chain(&claims.never)
            .chain(&claims.enosys)
            .chain(&claims.allowed)
        {
            let (a, b) = (
                syscall_action(plain_seccomp, name),
                syscall_action(admin_seccomp, name),
            );
            seen.insert(name.clone(), json!({ "default": a, "sys_admin": b }));
            let ok = if claims.with_sys_admin.contains(name) {
                a != "allow" && b == "allow"
            } else if claims.never.contains(name) {
                a == "deny" && b == "deny"
            } else if claims.enosys.contains(name) {
                a == "enosys"
            } else {
                a == "allow" && b == "allow"
            };
            if !ok {
                failures.push(format!(
                    "{}: {name} is default caps: {a}, with SYS_ADMIN: {b}",
                    label("runtime_default_syscalls")
                ));
            }
        }
        results.push(json!({
            "containerd": series,
            "package_version": cri.version.runtime_version,
            "default_capabilities": got_caps,
            "masked_paths": masked,
            "readonly_paths": readonly,
            "runtime_default": {
                "default_action": plain_seccomp["defaultAction"],
                "syscalls": seen,
            },
        }));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    recorded(
        "lab-results-cri-runtime.json",
        &json!({ "runtimes": results }),
    );
}

#[test]
fn every_decision_runs_on_containerd_and_grants_nothing_extra() {
    let lab = common::lab();
    let mut labs: BTreeMap<&str, CriLab> = BTreeMap::new();
    let mut runs = Vec::new();
    let mut failures = Vec::new();
    let (mut agree, mut disagree) = (0usize, Vec::new());
    let mut pods = 0usize;
    let mut pod_time = Duration::ZERO;
    let started = std::time::Instant::now();
    let only = std::env::var("NODE_LAB_CRI_ONLY").ok();
    for prof in &PROFILES {
        for sandbox in data().sandbox_names() {
            for root in [false, true] {
                let agent = if root { "root" } else { "non_root" };
                let label = format!(
                    "{sandbox} ({agent}) on {} {} {}{}",
                    prof.platform,
                    prof.family,
                    prof.kubernetes,
                    prof.release.map(|r| format!(" {r}")).unwrap_or_default()
                );
                if only.as_ref().is_some_and(|o| !label.contains(o.as_str())) {
                    continue;
                }
                let d = decide(data(), &input(prof, sandbox, root)).unwrap();
                let image = d
                    .image
                    .clone()
                    .expect("an EKS decision is judged on an image");
                let series = series_of(
                    image
                        .containerd
                        .expect("the image row names containerd")
                        .major,
                );
                let seccomp_default = image.seccomp_default;
                let cri = labs.entry(series).or_insert_with(|| start(&lab, series));
                let uid = if root { 0 } else { 1000 };
                let mut record = json!({
                    "sandbox": sandbox,
                    "agent": agent,
                    "workload": evidence(sandbox),
                    "platform": prof.platform,
                    "node": {
                        "ami_family": prof.family,
                        "kubernetes": prof.kubernetes,
                        "releases": image.releases,
                        "containerd": series,
                        "seccomp_default": seccomp_default,
                    },
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
                    // A refusal about the runtime: the newest image's answer,
                    // run on this node's containerd, must fail.
                    if errors.iter().any(|e| e.contains("containerd")) {
                        let mut newest = input(prof, sandbox, root);
                        newest.ami_release = None;
                        let e = decide(data(), &newest).unwrap();
                        if !e.has_errors() {
                            let o = cri
                                .run(&pod_of(&e, uid), seccomp_default, &workload(sandbox, &e))
                                .unwrap();
                            pods += 1;
                            pod_time += o.start + o.exec + o.teardown;
                            if o.ok {
                                failures.push(format!(
                                    "{label}: refused, but the newest image's answer runs on containerd {series}"
                                ));
                            }
                            record["reproduced"] = json!({ "ok": o.ok, "message": why(&o) });
                            record["proven"] = json!(!o.ok);
                        }
                    }
                    runs.push(record);
                    continue;
                }
                let pod = pod_of(&d, uid);
                let w = workload(sandbox, &d);
                let p = probe(sandbox, &d);
                let outs = cri
                    .run_all(&pod, seccomp_default, &[w.clone(), p.clone()])
                    .unwrap();
                pods += 1;
                pod_time += outs[0].start + outs[0].exec + outs[0].teardown;
                let o = &outs[0];
                if !o.ok {
                    failures.push(format!(
                        "{label}: the provider's outputs do not run it on containerd {series}: {}\n{}",
                        why(o),
                        o.output
                    ));
                }
                let mut check_probe = |what: &str, outs: &[CriOutcome]| {
                    if let [w, p] = outs {
                        if w.ok == p.ok {
                            agree += 1;
                        } else {
                            disagree.push(format!(
                                "{what}: workload {}, probe {} ({})",
                                w.ok,
                                p.ok,
                                why(p)
                            ));
                        }
                    }
                };
                check_probe(&label, &outs);
                let mut without = BTreeMap::new();
                let mut api_only = Vec::new();
                for (what, less) in removals(&pod, seccomp_default) {
                    let r = cri
                        .run_all(&less, seccomp_default, &[w.clone(), p.clone()])
                        .unwrap();
                    pods += 1;
                    pod_time += r[0].start + r[0].exec + r[0].teardown;
                    check_probe(&format!("{label} without {what}"), &r);
                    if r[0].ok {
                        if what == "hostUsers: false" && pod.proc_mount_unmasked {
                            // The kernel and containerd run it; the API server
                            // admits procMount: Unmasked only with hostUsers: false.
                            api_only.push("hostUsers: false (the API server allows procMount: Unmasked only with it)");
                        } else {
                            failures.push(format!(
                                "{label}: still runs on containerd {series} without {what} — the provider grants too much"
                            ));
                        }
                    }
                    without.insert(what, json!({ "fails": !r[0].ok, "message": why(&r[0]) }));
                }
                record["decision"] = json!("runs");
                record["outputs"] = json!({
                    "pod_spec": d.pod_spec,
                    "pod_security_context": d.pod_security_context,
                    "container_security_context": d.container_security_context,
                    "devices": d.devices,
                    "runtime_args": d.runtime_args,
                });
                record["works"] = json!(o.ok);
                record["without"] = json!(without);
                if !api_only.is_empty() {
                    record["api_only"] = json!(api_only);
                }
                record["proven"] = json!(
                    o.ok && without.iter().all(|(k, v)| v["fails"] == true
                        || (k == "hostUsers: false" && !api_only.is_empty()))
                );
                runs.push(record);
            }
        }
    }
    let versions: BTreeMap<&str, String> = labs
        .iter()
        .map(|(s, l)| (*s, l.version.runtime_version.clone()))
        .collect();
    for (s, l) in &labs {
        eprintln!(
            "containerd {s} ({}): started in {:?}, images imported in {:?}",
            l.version.runtime_version,
            l.containerd().started_in,
            l.imported_in
        );
    }
    eprintln!(
        "{pods} pods in {:?} (mean {:?} per pod: start + workload + probe + teardown); whole test {:?}",
        pod_time,
        pod_time / u32::try_from(pods.max(1)).unwrap(),
        started.elapsed()
    );
    for r in &runs {
        eprintln!(
            "{:<10} {:<8} {:<13} {:<12} {:<5} {:<3} {:<8} proven={}",
            r["sandbox"].as_str().unwrap(),
            r["agent"].as_str().unwrap(),
            r["platform"].as_str().unwrap(),
            r["node"]["ami_family"].as_str().unwrap(),
            r["node"]["kubernetes"].as_str().unwrap(),
            r["node"]["containerd"].as_str().unwrap(),
            r["decision"].as_str().unwrap(),
            r["proven"]
        );
    }
    eprintln!(
        "probe agrees with the sandbox in {agree} of {} pods",
        agree + disagree.len()
    );
    for d in &disagree {
        eprintln!("probe disagrees: {d}");
    }
    // A run narrowed with NODE_LAB_CRI_ONLY (while working on one cell) is
    // not a result: it fails here instead of comparing a partial record.
    if let Some(only) = &only {
        panic!("NODE_LAB_CRI_ONLY={only}: a partial run, not compared with the record");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        disagree.is_empty(),
        "nested-probe disagrees:\n{}",
        disagree.join("\n")
    );
    let package_version: BTreeSet<String> = versions.values().cloned().collect();
    recorded(
        "lab-results-cri.json",
        &json!({
            "runtime": "containerd (CRI), runc",
            "package_version": package_version,
            "probe_agreement": { "agree": agree, "disagree": disagree.len() },
            "runs": runs,
        }),
    );
}

#[test]
fn containerd_below_2_0_and_host_users_false() {
    let lab = common::lab();
    let show = Workload::Shell("cat /proc/self/uid_map".into());
    let pod = Pod {
        host_users: false,
        ..Pod::default()
    };
    let mut seen = BTreeMap::new();
    for series in ["1.6", "1.7", "2"] {
        let mut cri = start(&lab, series);
        let mut by_kubelet = BTreeMap::new();
        for (kubelet, checks) in [("kubelet >= 1.30", true), ("kubelet < 1.30", false)] {
            cri.kubelet_checks_user_namespaces = checks;
            let o = cri.run(&pod, false, &show).unwrap();
            let result = if o.ok {
                json!({ "uid_map": o.output.split_whitespace().collect::<Vec<_>>() })
            } else {
                json!({ "refused": why(&o) })
            };
            eprintln!(
                "containerd {series} ({}), {kubelet}: {result}",
                cri.version.runtime_version
            );
            by_kubelet.insert(kubelet, result);
        }
        seen.insert(series, by_kubelet);
    }
    // Today's kubelet refuses the pod on 1.6 and 1.7 (neither reports
    // user-namespace support); sent anyway, 1.6 runs it in the node's
    // user namespace without a word: the whole host range.
    for series in ["1.6", "1.7"] {
        assert!(
            seen[series]["kubelet >= 1.30"]["refused"].is_string(),
            "{seen:?}"
        );
    }
    assert_eq!(
        seen["1.6"]["kubelet < 1.30"]["uid_map"],
        json!(["0", "0", "4294967295"]),
        "{seen:?}"
    );
    assert_eq!(
        seen["2"]["kubelet >= 1.30"]["uid_map"][0],
        json!("0"),
        "{seen:?}"
    );
    assert_ne!(
        seen["2"]["kubelet >= 1.30"]["uid_map"][1],
        json!("0"),
        "{seen:?}"
    );
    recorded(
        "lab-results-cri-userns.json",
        &json!({ "host_users_false": seen }),
    );
}

/// The decision for `sandbox` on AL2023 1.35 (containerd 2.x, no
/// seccompDefault), as the pod runs it.
fn al2023(sandbox: &str, root: bool) -> (Decision, Pod) {
    let d = decide(data(), &input(&PROFILES[0], sandbox, root)).unwrap();
    assert!(!d.has_errors(), "{:?}", d.findings);
    let pod = pod_of(&d, if root { 0 } else { 1000 });
    (d, pod)
}

#[test]
fn image_needs_are_what_the_sandboxes_need() {
    let lab = common::lab();
    let mut cri = start(&lab, "2");
    let mut seen = BTreeMap::new();
    let mut failures = Vec::new();

    // Boundary as root: iptables with the legacy backend fails in the pod,
    // the nft backend works — image_needs says which.
    let (d, pod) = al2023("nsjail", true);
    let nft = cri.run(&pod, false, &workload("nsjail", &d)).unwrap();
    let legacy = cri
        .run(
            &pod,
            false,
            &Workload::Shell(
                "PATH=/opt/iptables-legacy:$PATH exec /lab/scripts/nsjail.sh userns".into(),
            ),
        )
        .unwrap();
    seen.insert(
        "nsjail root: iptables-nft",
        json!({ "ok": nft.ok, "message": why(&nft) }),
    );
    seen.insert(
        "nsjail root: iptables-legacy",
        json!({ "ok": legacy.ok, "message": why(&legacy) }),
    );
    let says_nft = d
        .image_needs
        .iter()
        .any(|n| n.contains("iptables with the nft backend"));
    if nft.ok && !legacy.ok && !says_nft {
        failures.push(format!(
            "nsjail (root): only iptables-nft works ({}), but image_needs says {:?}",
            why(&legacy),
            d.image_needs
        ));
    }
    if !nft.ok {
        failures.push(format!("nsjail (root) with iptables-nft: {}", nft.output));
    }

    // Boundary before v0.8.2 stopped when `sysctl -w net.ipv4.ip_forward=1`
    // failed (coder/boundary#180 made it best-effort); in these pods it
    // fails (/proc/sys is read-only), so image_needs names the floor.
    for root in [false, true] {
        let (d, pod) = al2023("nsjail", root);
        let mode = if root { "root" } else { "non-root" };
        let old = cri
            .run(
                &pod,
                false,
                &Workload::Shell(
                    "NODE_LAB_BOUNDARY_BEFORE_0_8_2=1 exec /lab/scripts/nsjail.sh userns".into(),
                ),
            )
            .unwrap();
        seen.insert(
            if root {
                "nsjail root: Boundary before v0.8.2"
            } else {
                "nsjail non-root: Boundary before v0.8.2"
            },
            json!({ "ok": old.ok, "message": why(&old) }),
        );
        let says_floor = d.image_needs.iter().any(|n| n.contains("v0.8.2"));
        if !old.ok && !says_floor {
            failures.push(format!(
                "nsjail ({mode}): Boundary before v0.8.2 fails ({}), but image_needs says {:?}",
                why(&old),
                d.image_needs
            ));
        }
        if old.ok && says_floor {
            failures.push(format!(
                "nsjail ({mode}): a fatal ip_forward write works here: image_needs' v0.8.2 floor is not needed"
            ));
        }
    }

    // Rootless podman with Debian's setuid-root newuidmap/newgidmap instead
    // of file-capability ones: what they need beyond the provider's outputs.
    let (d, pod) = al2023("podman", false);
    let setuid = Workload::Shell(
        "NODE_LAB_FCAPS=/opt/setuid-helpers NODE_LAB_PODMAN_NETWORK=default exec sh /lab/scripts/podman.sh".into(),
    );
    let with = |add: &[&str], drop: &[&str]| {
        let mut p = pod.clone();
        p.capabilities_add.extend(add.iter().map(|c| c.to_string()));
        p.capabilities_drop
            .extend(drop.iter().map(|c| c.to_string()));
        p
    };
    let cases = [
        (
            "podman setuid helpers: the provider's outputs",
            with(&[], &[]),
        ),
        (
            "podman setuid helpers: + SYS_ADMIN",
            with(&["SYS_ADMIN"], &[]),
        ),
        (
            "podman setuid helpers: + SYS_ADMIN + DAC_OVERRIDE",
            with(&["SYS_ADMIN", "DAC_OVERRIDE"], &[]),
        ),
    ];
    let mut ok = BTreeMap::new();
    for (label, p) in cases {
        let o = cri.run(&p, false, &setuid).unwrap();
        ok.insert(label, o.ok);
        seen.insert(label, json!({ "ok": o.ok, "message": why(&o) }));
    }
    let needs = d.image_needs.join("; ");
    let says_sys_admin = needs.contains("setuid-root copies") && needs.contains("SYS_ADMIN");
    let says_dac = needs.contains("DAC_OVERRIDE");
    let outputs = ok["podman setuid helpers: the provider's outputs"];
    let sys_admin = ok["podman setuid helpers: + SYS_ADMIN"];
    let both = ok["podman setuid helpers: + SYS_ADMIN + DAC_OVERRIDE"];
    // The provider's outputs drop ALL: the file-capability helpers need no
    // more; the setuid-root ones fail, and image_needs must say what makes
    // them work.
    if outputs || !both {
        failures.push(format!("podman setuid helpers: {seen:?}"));
    }
    if !says_sys_admin || (!sys_admin && !says_dac) {
        failures.push(format!(
            "podman setuid helpers work with SYS_ADMIN and DAC_OVERRIDE ({}; SYS_ADMIN alone: {}), image_needs says {needs:?}",
            seen["podman setuid helpers: + SYS_ADMIN + DAC_OVERRIDE"],
            seen["podman setuid helpers: + SYS_ADMIN"]
        ));
    }
    for (k, v) in &seen {
        eprintln!("{k}: {v}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    recorded("lab-results-cri-image-needs.json", &json!({ "runs": seen }));
}
