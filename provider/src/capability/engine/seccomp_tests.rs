//! `seccomp_profile = "localhost"`: the Localhost profile instead of
//! Unconfined, and the warning that says the trade-off when Unconfined stays.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;

use super::*;

fn data() -> &'static CapabilityData {
    CapabilityData::embedded().unwrap()
}

fn al2023(sandbox: &str, root: bool, localhost: bool) -> Decision {
    let mut i = Input::new(sandbox, "eks");
    i.kubernetes_version = Some("1.35".parse().unwrap());
    i.ami_family = Some("al2023".into());
    i.run_as_root = root;
    i.seccomp_localhost = localhost;
    // As nested_capability with seccomp_profile unset.
    i.seccomp_tradeoff_warning = !localhost;
    decide(data(), &i).unwrap()
}

#[test]
fn bubblewrap_names_the_localhost_profile_and_needs_only_baseline() {
    let d = al2023("bubblewrap", false, true);
    assert!(!d.has_errors(), "{:?}", d.findings);
    assert_eq!(
        d.container_security_context["seccompProfile"],
        json!({"type": "Localhost", "localhostProfile": "operator/nested-bubblewrap.json"})
    );
    let l = d.seccomp_localhost.as_ref().unwrap();
    assert_eq!(l.name, "nested-bubblewrap");
    assert_eq!(
        l.adds,
        ["clone", "unshare", "mount", "umount2", "pivot_root"]
    );
    // The profile ends with the adds as one unconditional rule.
    let rules = l.profile["syscalls"].as_array().unwrap();
    assert_eq!(
        rules.last().unwrap(),
        &json!({"names": ["clone", "unshare", "mount", "umount2", "pivot_root"], "action": "SCMP_ACT_ALLOW"})
    );
    // Pod Security baseline allows Localhost (only Unconfined is
    // privileged) and, from policy v1.33, procMount Unmasked with
    // hostUsers: false (kubernetes/pod-security-admission policy checks).
    assert_eq!(d.pod_security_level, "baseline", "{:?}", d.reasons);
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    // Unconfined (the default) says the trade-off at seccomp_profile.
    let d = al2023("bubblewrap", false, false);
    assert!(d.seccomp_localhost.is_none());
    assert!(d.container_security_context.get("seccompProfile").is_none());
    let w: Vec<_> = d
        .findings
        .iter()
        .filter(|f| f.field == Field::SeccompProfile)
        .collect();
    assert_eq!(w.len(), 1, "{:?}", d.findings);
    assert!(!w[0].error);
    assert!(w[0].detail.contains("seccomp_profile = \"localhost\""));
    // Chosen explicitly (`seccomp_profile = "unconfined"`), or asked through
    // nested_nodegroup / nested_karpenter_pool: no warning.
    let mut i = Input::new("bubblewrap", "eks");
    i.kubernetes_version = Some("1.35".parse().unwrap());
    i.ami_family = Some("al2023".into());
    let d = decide(data(), &i).unwrap();
    assert!(d.findings.is_empty(), "{:?}", d.findings);
}

#[test]
fn each_mode_that_runtime_default_stops_has_its_own_profile() {
    let d = al2023("bubblewrap", true, true);
    let l = d.seccomp_localhost.as_ref().unwrap();
    assert_eq!(l.localhost_profile, "operator/nested-bubblewrap-root.json");
    assert_eq!(l.adds, ["clone", "mount", "umount2", "pivot_root"]);
    let d = al2023("podman", false, true);
    let l = d.seccomp_localhost.as_ref().unwrap();
    assert_eq!(l.localhost_profile, "operator/nested-podman.json");
    assert_eq!(l.adds.len(), 11);
    // Modes RuntimeDefault lets through keep RuntimeDefault.
    for (sandbox, root) in [("nsjail", false), ("landjail", true), ("landjail", false)] {
        let d = al2023(sandbox, root, true);
        assert!(d.seccomp_localhost.is_none(), "{sandbox}");
        assert_eq!(
            d.container_security_context["seccompProfile"]["type"],
            "RuntimeDefault"
        );
    }
    // A root nsjail: the lab re-enacts Boundary (unshare(1)), which cannot
    // show the syscalls the real Go binary makes: no profile is offered.
    let d = al2023("nsjail", true, true);
    let e: Vec<_> = d.findings.iter().filter(|f| f.error).collect();
    assert_eq!(e[0].field, Field::SeccompProfile, "{:?}", d.findings);
}

#[test]
fn cri_o_nodes_get_no_localhost_profile() {
    let mut i = Input::new("bubblewrap", "kubernetes");
    i.kubernetes_version = Some("1.33".parse().unwrap());
    i.kernel_version = Some("6.8".parse().unwrap());
    i.container_runtime = Some(Runtime::parse("cri-o 1.33").unwrap());
    i.seccomp_localhost = true;
    let d = decide(data(), &i).unwrap();
    let e: Vec<_> = d
        .findings
        .iter()
        .filter(|f| f.error && f.field == Field::SeccompProfile)
        .collect();
    assert_eq!(e.len(), 1, "{:?}", d.findings);
    assert!(e[0].detail.contains("CRI-O"), "{}", e[0].detail);
    assert!(e[0].detail.contains("seccomp_profile = \"unconfined\""));
}

#[test]
fn arm64_nodes_get_containerds_arm64_rules() {
    let mut i = Input::new("bubblewrap", "eks");
    i.kubernetes_version = Some("1.35".parse().unwrap());
    i.ami_family = Some("bottlerocket".into());
    i.architecture = Architecture::Arm64;
    i.seccomp_localhost = true;
    let d = decide(data(), &i).unwrap();
    let p = &d.seccomp_localhost.as_ref().unwrap().profile;
    assert_eq!(
        p["architectures"],
        json!(["SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64"])
    );
    let names: Vec<&str> = p["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            r["names"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|n| n.as_str())
        })
        .collect();
    assert!(names.contains(&"set_tls") && !names.contains(&"arch_prctl"));
}
