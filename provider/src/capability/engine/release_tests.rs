//! Decisions for the exact node image: a pinned release, a variant, and
//! the newest known release assumed when none is pinned. Every boundary
//! here is a row of `schemas/capabilities.toml` with its source.

use super::*;

fn data() -> &'static CapabilityData {
    CapabilityData::embedded().unwrap()
}

fn image(
    sandbox: &str,
    family: &str,
    k8s: &str,
    variant: Option<&str>,
    release: Option<&str>,
) -> Decision {
    let mut i = Input::new(sandbox, "eks");
    i.today = Date {
        year: 2026,
        month: 12,
        day: 1,
    };
    i.ami_family = Some(family.into());
    i.kubernetes_version = Some(k8s.parse().unwrap());
    i.ami_variant = variant.map(String::from);
    i.ami_release = release.map(String::from);
    decide(data(), &i).unwrap()
}

fn error_at(d: &Decision, field: Field) -> &Finding {
    d.findings
        .iter()
        .find(|f| f.error && f.field == field)
        .unwrap_or_else(|| panic!("no error at {field:?}: {:#?}", d.findings))
}

fn warning_at(d: &Decision, field: Field) -> Option<&Finding> {
    d.findings.iter().find(|f| !f.error && f.field == field)
}

#[test]
fn al2023_before_the_containerd_2_switch_refuses_host_users_and_names_the_release() {
    // 1.33 AMIs ran containerd 1.7 until v20251016.
    let old = image("bubblewrap", "al2023", "1.33", None, Some("v20251007"));
    let e = error_at(&old, Field::AmiRelease);
    assert_eq!(e.summary, "containerd too old for pod user namespaces");
    assert!(
        e.detail.contains("al2023 v20251007 runs containerd 1.7"),
        "{}",
        e.detail
    );
    assert!(e.detail.contains("pin v20251016 or later"), "{}", e.detail);
    // The EKS releaseVersion spelling is the same release.
    let same = image(
        "bubblewrap",
        "al2023",
        "1.33",
        None,
        Some("1.33.5-20251007"),
    );
    assert_eq!(error_at(&same, Field::AmiRelease).detail, e.detail);
    // From the switch on, and for the current release, it runs.
    for r in [Some("v20251016"), Some("latest"), None] {
        let d = image("bubblewrap", "al2023", "1.33", None, r);
        assert!(!d.has_errors(), "{r:?}: {:#?}", d.findings);
        assert_eq!(d.pod_spec["hostUsers"], json!(false));
    }
    // Each Kubernetes version switched on its own release.
    for (k8s, last_17, first_2) in [
        ("1.32", "v20251016", "v20251023"),
        ("1.31", "v20251029", "v20251108"),
        ("1.30", "v20251120", "v20251209"),
    ] {
        let d = image("podman", "al2023", k8s, None, Some(last_17));
        let e = error_at(&d, Field::AmiRelease);
        assert!(
            e.detail.contains(&format!("pin {first_2} or later")),
            "{k8s}: {}",
            e.detail
        );
        // Kernel 6.1 still refuses hostUsers: false there (its own error,
        // at kubernetes_version), but containerd no longer does.
        let later = image("podman", "al2023", k8s, None, Some(first_2));
        assert!(
            !later
                .findings
                .iter()
                .any(|f| f.summary.starts_with("containerd")),
            "{k8s}: {:#?}",
            later.findings
        );
        assert!(
            later
                .findings
                .iter()
                .any(|f| f.summary == "Kernel too old for pod user namespaces")
        );
    }
}

#[test]
fn without_a_pin_the_newest_release_is_assumed_and_older_ones_are_named() {
    let d = image("bubblewrap", "al2023", "1.33", None, None);
    let w = warning_at(&d, Field::AmiRelease).expect("a warning about older releases");
    assert_eq!(w.summary, "Older node image releases answer differently");
    assert!(
        w.detail.contains("al2023 v20251016 or later"),
        "{}",
        w.detail
    );
    assert!(w.detail.contains("containerd 1.7"), "{}", w.detail);
    assert!(
        d.reasons.iter().any(|r| r.contains("no release pinned")),
        "{:#?}",
        d.reasons
    );
    assert_eq!(d.image.as_ref().unwrap().pinned, None);
    // nsjail needs nothing the releases differ in: no warning.
    let n = image("nsjail", "al2023", "1.33", None, None);
    assert!(
        warning_at(&n, Field::AmiRelease).is_none(),
        "{:#?}",
        n.findings
    );
    // Where the answer is the creation of a node group (the newest release
    // is what it gets), the caller turns the warning off.
    let mut i = Input::new("bubblewrap", "eks");
    i.ami_family = Some("al2023".into());
    i.kubernetes_version = Some("1.33".parse().unwrap());
    i.release_warnings = false;
    let quiet = decide(data(), &i).unwrap();
    assert!(warning_at(&quiet, Field::AmiRelease).is_none());
}

#[test]
fn landlock_arrives_with_a_release_on_al2023_and_bottlerocket() {
    let al = image("landjail", "al2023", "1.33", None, Some("v20250807"));
    let e = error_at(&al, Field::AmiRelease);
    assert_eq!(e.summary, "Landlock ABI too old");
    assert!(
        e.detail
            .contains("al2023 v20250807 does not enable Landlock"),
        "{}",
        e.detail
    );
    assert!(e.detail.contains("pin v20250813 or later"), "{}", e.detail);
    assert!(!image("landjail", "al2023", "1.33", None, Some("v20250813")).has_errors());

    let br = image("landjail", "bottlerocket", "1.33", None, Some("v1.43.0"));
    assert!(
        error_at(&br, Field::AmiRelease)
            .detail
            .contains("pin v1.44.0 or later")
    );
    // A patch release inside the range falls in its row.
    assert!(
        !image(
            "landjail",
            "bottlerocket",
            "1.33",
            None,
            Some("1.44.2-6d3e2a53")
        )
        .has_errors()
    );
}

#[test]
fn bottlerocket_fips_runs_an_older_kernel() {
    // aws-k8s-1.33-fips: kernel 6.1, Landlock ABI 2 at most.
    let d = image("landjail", "bottlerocket", "1.33", Some("fips"), None);
    let e = d.findings.iter().find(|f| f.error).unwrap();
    assert_eq!(e.summary, "Landlock ABI too old");
    assert!(
        e.detail
            .contains("bottlerocket fips on Kubernetes 1.33 has Linux 6.1"),
        "{}",
        e.detail
    );
    assert!(!image("landjail", "bottlerocket", "1.33", None, None).has_errors());
    assert!(!image("landjail", "bottlerocket", "1.34", Some("fips"), None).has_errors());
    // 1.36 FIPS runs 6.12, the rest 6.18; 1.37 FIPS runs 6.18.
    assert_eq!(
        image("nsjail", "bottlerocket", "1.36", Some("fips"), None).kernel_version,
        Some("6.12".parse().unwrap())
    );
    assert_eq!(
        image("nsjail", "bottlerocket", "1.37", Some("fips"), None).kernel_version,
        Some("6.18".parse().unwrap())
    );
    assert_eq!(
        image("nsjail", "bottlerocket", "1.33", Some("fips"), None)
            .ami_type
            .as_deref(),
        Some("BOTTLEROCKET_x86_64_FIPS")
    );
}

#[test]
fn al2023_arm64_nvidia_runs_kernel_6_12_on_older_kubernetes() {
    let mut i = Input::new("landjail", "eks");
    i.ami_family = Some("al2023".into());
    i.kubernetes_version = Some("1.32".parse().unwrap());
    i.ami_variant = Some("nvidia".into());
    i.architecture = Architecture::Arm64;
    let d = decide(data(), &i).unwrap();
    assert!(!d.has_errors(), "{:#?}", d.findings);
    assert_eq!(d.ami_type.as_deref(), Some("AL2023_ARM_64_NVIDIA"));
    i.architecture = Architecture::X86_64;
    assert!(
        decide(data(), &i).unwrap().has_errors(),
        "x86_64 NVIDIA 1.30 runs 6.1"
    );
}

#[test]
fn releases_outside_the_data_and_bad_spellings() {
    let older = image("nsjail", "al2023", "1.33", None, Some("v20250101"));
    let e = error_at(&older, Field::AmiRelease);
    assert_eq!(e.summary, "Release older than the provider knows");
    assert!(e.detail.contains("from v20250519"), "{}", e.detail);

    let newer = image("nsjail", "bottlerocket", "1.35", None, Some("v1.99.0"));
    assert!(!newer.has_errors());
    let w = warning_at(&newer, Field::AmiRelease).unwrap();
    assert_eq!(w.summary, "Release newer than the provider's data");

    for (release, summary) in [
        ("v1.52.0", "Invalid node image release"),
        ("bottlerocket@v20251016", "Release of another AMI family"),
        ("1.32.9-20251016", "Release for another Kubernetes version"),
    ] {
        let d = image("nsjail", "al2023", "1.33", None, Some(release));
        assert_eq!(
            error_at(&d, Field::AmiRelease).summary,
            summary,
            "{release}"
        );
    }
    let d = image("nsjail", "bottlerocket", "1.33", Some("neuron"), None);
    assert_eq!(
        error_at(&d, Field::AmiVariant).summary,
        "No such image variant"
    );
    let d = image("nsjail", "bottlerocket", "1.33", Some("gpu"), None);
    assert_eq!(
        error_at(&d, Field::AmiVariant).summary,
        "Unknown image variant"
    );
}

#[test]
fn ids_per_pod_needs_a_bottlerocket_release_with_the_setting() {
    let mut i = Input::new("podman", "eks");
    i.ami_family = Some("bottlerocket".into());
    i.kubernetes_version = Some("1.33".parse().unwrap());
    i.ids_per_pod = Some(131_072);
    i.ami_release = Some("v1.50.0".into());
    let d = decide(data(), &i).unwrap();
    let e = error_at(&d, Field::AmiRelease);
    assert_eq!(e.summary, "No idsPerPod setting in this image");
    assert!(e.detail.contains("pin v1.51.0 or later"), "{}", e.detail);
    i.ami_release = Some("v1.51.0".into());
    assert!(!decide(data(), &i).unwrap().has_errors());
}

#[test]
fn soci_breakage_is_a_warning_where_hostusers_is_needed() {
    let d = image("bubblewrap", "bottlerocket", "1.35", None, Some("v1.61.0"));
    assert!(!d.has_errors());
    assert!(
        d.findings.iter().any(|f| !f.error
            && f.summary == "Known issue of these releases"
            && f.detail.contains("bottlerocket#4854")),
        "{:#?}",
        d.findings
    );
    let n = image("nsjail", "bottlerocket", "1.35", None, Some("v1.61.0"));
    assert!(
        !n.findings
            .iter()
            .any(|f| f.summary == "Known issue of these releases")
    );
}

#[test]
fn auto_mode_images_are_reported_and_take_no_release() {
    let mut i = Input::new("landjail", "eks_auto_mode");
    i.kubernetes_version = Some("1.35".parse().unwrap());
    let d = decide(data(), &i).unwrap();
    assert_eq!(d.image.as_ref().unwrap().evidence, Evidence::Reported);
    assert!(
        d.reasons
            .iter()
            .any(|r| r.contains("reported, not documented")),
        "{:#?}",
        d.reasons
    );
    i.ami_release = Some("v1.61.0".into());
    let d = decide(data(), &i).unwrap();
    assert_eq!(
        error_at(&d, Field::AmiRelease).summary,
        "ami_release is not settable on EKS Auto Mode"
    );
}

#[test]
fn bottlerocket_selinux_is_said_for_bubblewrap_wherever_it_runs() {
    let d = image("bubblewrap", "bottlerocket", "1.35", None, None);
    assert!(
        d.findings.iter().any(|f| !f.error
            && f.summary == "SELinux mount policy"
            && f.field == Field::AmiFamily),
        "{:#?}",
        d.findings
    );
    let al = image("bubblewrap", "al2023", "1.35", None, None);
    assert!(
        !al.findings
            .iter()
            .any(|f| f.summary == "SELinux mount policy")
    );
}

#[test]
fn own_nodes_need_runc_1_2_or_crun_1_9_for_pod_user_namespaces() {
    let run = |oci: &str| {
        let mut i = Input::new("bubblewrap", "kubernetes");
        i.kubernetes_version = Some("1.33".parse().unwrap());
        i.kernel_version = Some("6.12".parse().unwrap());
        i.container_runtime = Some(Runtime::parse("containerd 2.1").unwrap());
        i.oci_runtime = Some(parse_oci_runtime(oci).unwrap());
        decide(data(), &i).unwrap()
    };
    for old in ["runc 1.1.15", "crun 1.8.1"] {
        let d = run(old);
        let e = error_at(&d, Field::OciRuntime);
        assert_eq!(
            e.summary, "OCI runtime too old for pod user namespaces",
            "{old}"
        );
        assert!(
            e.detail.contains("runc ≥ 1.2 or crun ≥ 1.9"),
            "{}",
            e.detail
        );
    }
    for ok in ["runc 1.2.0", "crun 1.9", "runc v1.3.6"] {
        assert!(!run(ok).has_errors(), "{ok}");
    }
    assert!(parse_oci_runtime("youki 0.5").is_err());
    // Only own nodes are described this way.
    let mut i = Input::new("bubblewrap", "eks");
    i.ami_family = Some("bottlerocket".into());
    i.kubernetes_version = Some("1.35".parse().unwrap());
    i.oci_runtime = Some(parse_oci_runtime("runc 1.2").unwrap());
    assert!(
        decide(data(), &i)
            .unwrap()
            .findings
            .iter()
            .any(|f| f.error && f.field == Field::OciRuntime)
    );
}

#[test]
fn landlock_abi_8_and_9_are_linux_7_0_and_7_1() {
    assert_eq!(data().landlock_kernel(8).unwrap().kernel.to_string(), "7.0");
    assert_eq!(data().landlock_kernel(9).unwrap().kernel.to_string(), "7.1");
}

#[test]
fn a_reported_end_of_support_warns_and_never_refuses() {
    let mut i = Input::new("nsjail", "eks");
    i.ami_family = Some("al2023".into());
    i.kubernetes_version = Some("1.35".parse().unwrap());
    i.today = Date {
        year: 2028,
        month: 6,
        day: 1,
    };
    let d = decide(data(), &i).unwrap();
    assert!(
        !d.findings
            .iter()
            .any(|f| f.error && f.field == Field::KubernetesVersion),
        "{:#?}",
        d.findings
    );
    assert!(
        d.findings
            .iter()
            .any(|f| f.summary == "Kubernetes version past its reported end of support")
    );
}
