//! The engine's decisions, one behaviour per test. The day is fixed
//! (2026-12-01) so support windows do not move under the tests.

use super::*;

fn data() -> &'static CapabilityData {
    CapabilityData::embedded().unwrap()
}

fn v(s: &str) -> Version {
    s.parse().unwrap()
}

const TODAY: Date = Date {
    year: 2026,
    month: 12,
    day: 1,
};

fn input(sandbox: &str, platform: &str) -> Input {
    let mut i = Input::new(sandbox, platform);
    i.today = TODAY;
    i
}

fn eks_as(sandbox: &str, family: Option<&str>, k8s: &str, root: bool) -> Decision {
    let mut i = input(sandbox, "eks");
    i.ami_family = family.map(String::from);
    i.kubernetes_version = Some(v(k8s));
    i.run_as_root = root;
    decide(data(), &i).unwrap()
}

fn eks(sandbox: &str, family: Option<&str>, k8s: &str) -> Decision {
    eks_as(sandbox, family, k8s, false)
}

fn caps(d: &Decision) -> Vec<String> {
    d.container_security_context["capabilities"]["add"]
        .as_array()
        .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn seccomp(d: &Decision) -> Option<&str> {
    d.container_security_context["seccompProfile"]["type"].as_str()
}

fn errors(d: &Decision) -> Vec<&Finding> {
    d.findings.iter().filter(|f| f.error).collect()
}

#[test]
fn nsjail_as_non_root_needs_the_sudo_setpriv_reexec_set() {
    let d = eks("nsjail", Some("al2023"), "1.33");
    assert!(!d.has_errors(), "{:?}", d.findings);
    // setpriv raises net_admin and sys_admin; sudo needs SETUID/SETGID.
    assert_eq!(caps(&d), ["NET_ADMIN", "SETGID", "SETUID", "SYS_ADMIN"]);
    assert_eq!(
        d.container_security_context["capabilities"]["drop"],
        json!(["ALL"])
    );
    assert_eq!(
        d.container_security_context["allowPrivilegeEscalation"],
        json!(true)
    );
    assert_eq!(d.container_security_context["runAsNonRoot"], json!(true));
    assert!(d.image_needs.iter().any(|n| n.contains("sudo")));
    assert!(d.image_needs.iter().any(|n| n.contains("setpriv")));
    assert!(d.sysctls.is_empty());
    // SYS_ADMIN lets containerd's RuntimeDefault allow its clone flags; unset would
    // mean Unconfined on AL2023, so the answer names RuntimeDefault (issue 21's lab).
    assert_eq!(seccomp(&d), Some("RuntimeDefault"));
    assert_eq!(d.ami_type.as_deref(), Some("AL2023_x86_64_STANDARD"));
    assert_eq!(d.container_security_context["privileged"], json!(false));
    assert_eq!(d.pod_security_level, "privileged");
}

#[test]
fn nsjail_as_root_maps_uid_0_with_setfcap_and_no_escalation() {
    let d = eks_as("nsjail", Some("al2023"), "1.33", true);
    assert!(!d.has_errors(), "{:?}", d.findings);
    assert_eq!(caps(&d), ["NET_ADMIN", "SETFCAP"]);
    assert_eq!(
        d.container_security_context["allowPrivilegeEscalation"],
        json!(false)
    );
    assert_eq!(d.container_security_context["runAsUser"], json!(0));
    assert_eq!(seccomp(&d), None, "AL2023 runs unprofiled pods Unconfined");
}

#[test]
fn bottlerocket_1_33_applies_runtime_default_so_what_it_stops_is_unconfined() {
    // Root nsjail (no SYS_ADMIN): RuntimeDefault stops its clone.
    let d = eks_as("nsjail", Some("bottlerocket"), "1.33", true);
    assert!(!d.has_errors(), "{:?}", d.findings);
    assert_eq!(d.sysctls["user.max_user_namespaces"], "65536");
    assert_eq!(seccomp(&d), Some("Unconfined"));
    assert!(
        d.reasons.iter().any(|r| r.contains("under RuntimeDefault")),
        "{:?}",
        d.reasons
    );
    // Before 1.33 Bottlerocket runs unprofiled pods Unconfined.
    let d = eks_as("nsjail", Some("bottlerocket"), "1.32", true);
    assert_eq!(seccomp(&d), None);
    // A non-root agent holds SYS_ADMIN: RuntimeDefault lets it through, said explicitly.
    let d = eks("nsjail", Some("bottlerocket"), "1.33");
    assert_eq!(seccomp(&d), Some("RuntimeDefault"));
    assert_eq!(d.sysctls["user.max_user_namespaces"], "65536");
    assert_eq!(d.ami_type.as_deref(), Some("BOTTLEROCKET_x86_64"));
}

#[test]
fn nsjail_on_auto_mode_runs_without_user_namespaces() {
    let mut i = input("nsjail", "eks_auto_mode");
    i.kubernetes_version = Some(v("1.34"));
    let d = decide(data(), &i).unwrap();
    assert!(!d.has_errors(), "{:?}", d.findings);
    assert_eq!(d.runtime_args, ["--no-user-namespace"]);
    assert_eq!(caps(&d), ["NET_ADMIN", "SETGID", "SETUID", "SYS_ADMIN"]);
    assert!(d.sysctls.is_empty());
    assert!(d.warnings.iter().any(|w| w.contains("--no-user-namespace")));
    i.run_as_root = true;
    let d = decide(data(), &i).unwrap();
    assert_eq!(caps(&d), ["NET_ADMIN", "SYS_ADMIN"]);
}

#[test]
fn nsjail_on_fargate_is_an_error_recommending_landjail_and_saying_what_is_unknown() {
    let d = decide(data(), &input("nsjail", "eks_fargate")).unwrap();
    let e = errors(&d);
    assert_eq!(e.len(), 1, "{:?}", d.findings);
    assert_eq!(e[0].field, Field::Platform);
    assert!(
        e[0].detail.contains("sandbox = \"landjail\""),
        "{}",
        e[0].detail
    );
    assert!(e[0].detail.contains("kernel ≥ 6.7"), "{}", e[0].detail);
    assert!(e[0].detail.contains("Landlock enabled"), "{}", e[0].detail);
    assert!(
        e[0].detail
            .contains("Fargate does not publish its kernel version"),
        "{}",
        e[0].detail
    );
}

#[test]
fn landjail_needs_kubernetes_1_33_on_eks_and_meets_restricted() {
    for family in ["bottlerocket", "al2023"] {
        let d = eks("landjail", Some(family), "1.33");
        assert!(!d.has_errors(), "{family}: {:?}", d.findings);
        assert!(caps(&d).is_empty());
        assert_eq!(d.kernel_floor, Some(v("6.7")));
        assert_eq!(seccomp(&d), Some("RuntimeDefault"));
        assert_eq!(d.container_security_context["runAsNonRoot"], json!(true));
        assert_eq!(d.pod_security_level, "restricted", "{:?}", d.reasons);
        let d = eks("landjail", Some(family), "1.32");
        let e = errors(&d);
        assert_eq!(e.len(), 1, "{:?}", d.findings);
        assert_eq!(e[0].field, Field::KubernetesVersion);
        assert!(
            e[0].detail.contains("set kubernetes_version to \"1.33\""),
            "{}",
            e[0].detail
        );
        assert!(e[0].detail.contains("Linux 6.1"), "{}", e[0].detail);
    }
    // As root it cannot be restricted.
    assert_eq!(
        eks_as("landjail", Some("al2023"), "1.33", true).pod_security_level,
        "baseline"
    );
}

#[test]
fn landjail_on_al2_names_the_family() {
    let d = eks("landjail", Some("al2"), "1.32");
    let e = errors(&d);
    assert_eq!(e[0].field, Field::AmiFamily, "{:?}", d.findings);
    assert!(e[0].detail.contains("kernel floor 6.7"), "{}", e[0].detail);
}

#[test]
fn bubblewrap_needs_unmasked_proc_a_pod_userns_and_setfcap_only_as_root() {
    let d = eks("bubblewrap", Some("al2023"), "1.33");
    assert!(!d.has_errors(), "{:?}", d.findings);
    assert!(caps(&d).is_empty(), "a non-root bwrap needs no capability");
    assert_eq!(d.pod_spec["hostUsers"], json!(false));
    assert_eq!(d.container_security_context["procMount"], "Unmasked");
    assert_eq!(seccomp(&d), None);
    let d = eks_as("bubblewrap", Some("al2023"), "1.33", true);
    assert_eq!(caps(&d), ["SETFCAP"]);
    // Bottlerocket 1.33: the sysctl, and Unconfined (RuntimeDefault stops
    // bwrap's namespaces and pivot_root).
    let d = eks("bubblewrap", Some("bottlerocket"), "1.33");
    assert_eq!(d.sysctls["user.max_user_namespaces"], "65536");
    assert_eq!(seccomp(&d), Some("Unconfined"));
    let d = eks("bubblewrap", Some("bottlerocket"), "1.32");
    let e = errors(&d);
    assert_eq!(e[0].field, Field::KubernetesVersion);
    // Names the floor, the family, the version and the fix.
    assert!(e[0].detail.contains("Linux ≥ 6.3"), "{}", e[0].detail);
    assert!(
        e[0].detail
            .contains("bottlerocket on Kubernetes 1.32 has Linux 6.1"),
        "{}",
        e[0].detail
    );
    assert!(
        e[0].detail.contains("set kubernetes_version to \"1.33\""),
        "{}",
        e[0].detail
    );
}

#[test]
fn podman_gets_setuid_setgid_escalation_and_ids_per_pod_only_when_asked() {
    let d = eks("podman", Some("al2023"), "1.34");
    assert!(!d.has_errors(), "{:?}", d.findings);
    assert_eq!(caps(&d), ["SETGID", "SETUID"]);
    assert_eq!(
        d.container_security_context["allowPrivilegeEscalation"],
        json!(true)
    );
    assert_eq!(d.pod_spec["hostUsers"], json!(false));
    assert!(
        d.kubelet_settings.is_empty(),
        "65536 ids are enough by default"
    );
    assert!(
        d.image_needs
            .iter()
            .any(|n| n.contains("file capabilities"))
    );
    assert!(d.image_needs.iter().any(|n| n.contains("user:1001:64535")));
    assert!(d.reasons.iter().any(|r| r.contains("/dev/net/tun")));
    let mut i = input("podman", "eks");
    i.kubernetes_version = Some(v("1.34"));
    i.ami_family = Some("al2023".into());
    i.ids_per_pod = Some(131_072);
    let d = decide(data(), &i).unwrap();
    assert_eq!(d.kubelet_settings["userNamespaces.idsPerPod"], "131072");
    i.ids_per_pod = Some(100_000);
    let d = decide(data(), &i).unwrap();
    assert_eq!(errors(&d)[0].field, Field::IdsPerPod);
    // Rootless podman is podman run by a non-root user.
    let d = eks_as("podman", Some("al2023"), "1.34", true);
    assert_eq!(errors(&d)[0].field, Field::RunAsRoot);
}

fn byo(sandbox: &str, kernel: &str, runtime: &str, k8s: &str) -> Decision {
    let mut i = input(sandbox, "kubernetes");
    i.kubernetes_version = Some(v(k8s));
    i.kernel_version = Some(v(kernel));
    i.container_runtime = Some(Runtime::parse(runtime).unwrap());
    decide(data(), &i).unwrap()
}

#[test]
fn host_users_needs_containerd_2_from_kubernetes_1_27() {
    let d = byo("bubblewrap", "6.8", "containerd 1.6.20", "1.33");
    let e = errors(&d);
    assert_eq!(e[0].field, Field::ContainerRuntime);
    assert!(e[0].detail.contains("silently ignores"));
    let d = byo("bubblewrap", "6.8", "containerd 1.7.2", "1.33");
    let e = errors(&d);
    assert_eq!(e[0].field, Field::ContainerRuntime, "{:?}", d.findings);
    assert!(e[0].detail.contains("containerd ≥ 2.0"), "{}", e[0].detail);
    // Kubernetes 1.25/1.26 used the older design containerd 1.7 supports.
    let d = byo("bubblewrap", "6.8", "containerd 1.7.2", "1.26");
    assert!(
        d.warnings
            .iter()
            .any(|w| w.contains("duplicates image storage")),
        "{:?}",
        d.findings
    );
    let d = byo("bubblewrap", "6.8", "containerd 2.1", "1.33");
    assert!(d.findings.is_empty(), "{:?}", d.findings);
    let d = byo("bubblewrap", "6.8", "cri-o 1.24", "1.33");
    assert_eq!(errors(&d)[0].field, Field::ContainerRuntime);
    // CRI-O hosts usually run SELinux: bubblewrap needs a mount policy.
    let d = byo("bubblewrap", "6.8", "cri-o 1.30", "1.33");
    assert!(
        d.warnings.iter().any(|w| w.contains("container_t")),
        "{:?}",
        d.warnings
    );
}

#[test]
fn al2023_on_containerd_1_7_cannot_run_pod_user_namespaces() {
    // AL2023 for 1.28/1.29 ships containerd 1.7 (and kernel 6.1).
    let d = eks("podman", Some("al2023"), "1.29");
    let e: Vec<&str> = errors(&d).iter().map(|f| f.summary.as_str()).collect();
    assert!(
        e.contains(&"containerd too old for pod user namespaces"),
        "{e:?}"
    );
}

#[test]
fn a_node_that_applies_runtime_default_makes_the_blocked_sandboxes_unconfined() {
    let mut i = input("bubblewrap", "kubernetes");
    i.kubernetes_version = Some(v("1.33"));
    i.kernel_version = Some(v("6.12"));
    i.seccomp_default = Some(true);
    let d = decide(data(), &i).unwrap();
    assert_eq!(seccomp(&d), Some("Unconfined"));
    i.seccomp_default = Some(false);
    assert_eq!(seccomp(&decide(data(), &i).unwrap()), None);
}

#[test]
fn old_kernels_need_slow_chown() {
    let d = byo("podman", "5.15", "containerd 2.0", "1.33");
    assert!(d.has_errors()); // below 6.3
    assert!(d.warnings.iter().any(|w| w.contains("slow_chown")));
}

#[test]
fn user_namespaces_false_explains_the_alternative() {
    let mut i = input("nsjail", "eks");
    i.kubernetes_version = Some(v("1.33"));
    i.user_namespaces = false;
    let d = decide(data(), &i).unwrap();
    let e = errors(&d);
    assert_eq!(e[0].field, Field::UserNamespaces);
    assert!(e[0].detail.contains("--no-user-namespace"));
    // landjail needs none: the node pins the sysctl to 0.
    let mut i = input("landjail", "eks");
    i.kubernetes_version = Some(v("1.33"));
    i.ami_family = Some("al2023".into());
    i.user_namespaces = false;
    let d = decide(data(), &i).unwrap();
    assert!(!d.has_errors());
    assert_eq!(d.sysctls["user.max_user_namespaces"], "0");
}

#[test]
fn al2_past_1_32_has_no_images_and_the_fix_names_another_family() {
    let d = eks("nsjail", Some("al2"), "1.33");
    let e = errors(&d);
    assert_eq!(e[0].field, Field::AmiFamily);
    assert!(e[0].detail.contains("1.32 is the last version"));
    assert!(
        e[0].detail.contains("\"al2023\"") && e[0].detail.contains("\"bottlerocket\""),
        "{}",
        e[0].detail
    );
    let d = eks("nsjail", Some("bottlerocket"), "1.38");
    assert!(
        !errors(&d)[0].detail.contains("\"bottlerocket\""),
        "never the family that just failed: {}",
        errors(&d)[0].detail
    );
}

#[test]
fn omitted_family_picks_a_current_family_never_al2() {
    let d = eks("nsjail", None, "1.33");
    assert_eq!(d.ami_family, Some(AmiFamily::Al2023));
    let mut i = input("podman", "eks");
    i.kubernetes_version = Some(v("1.33"));
    i.architecture = Architecture::Arm64;
    let d = decide(data(), &i).unwrap();
    assert_eq!(d.ami_type.as_deref(), Some("AL2023_ARM_64_STANDARD"));
    // 1.27 has only AL2 images: no silent fallback to a retired family.
    let d = eks("nsjail", None, "1.27");
    assert!(d.has_errors(), "{:?}", d.reasons);
    // Asked for, AL2 still works, with the retirement warning.
    let d = eks("nsjail", Some("al2"), "1.32");
    assert!(!d.has_errors(), "{:?}", d.findings);
    assert!(d.warnings.iter().any(|w| w.contains("2025-11-26")));
}

#[test]
fn support_windows_follow_the_eks_calendar() {
    // 1.31 left extended support on 2026-11-26.
    let d = eks("landjail", Some("al2023"), "1.33");
    assert!(!d.has_errors());
    let d = eks("nsjail", Some("al2023"), "1.31");
    let e = errors(&d);
    assert_eq!(e[0].field, Field::KubernetesVersion);
    assert!(e[0].detail.contains("2026-11-26"), "{}", e[0].detail);
    assert!(e[0].detail.contains("\"1.32\""), "{}", e[0].detail);
    // 1.32 and 1.33 are in extended support: a warning with the dates.
    let d = eks("nsjail", Some("al2023"), "1.33");
    assert!(
        d.warnings.iter().any(|w| w.contains("2027-07-29")),
        "{:?}",
        d.warnings
    );
    // 1.34 leaves standard support on 2026-12-02.
    assert!(
        eks("nsjail", Some("al2023"), "1.34")
            .warnings
            .iter()
            .all(|w| !w.contains("extended support"))
    );
    let mut i = input("nsjail", "eks");
    i.kubernetes_version = Some(v("1.34"));
    i.today = Date {
        year: 2026,
        month: 12,
        day: 3,
    };
    assert!(
        decide(data(), &i)
            .unwrap()
            .warnings
            .iter()
            .any(|w| w.contains("extended support"))
    );
}

#[test]
fn pod_security_levels_follow_from_what_the_pod_gets() {
    // Unmasked /proc is baseline for hostUsers: false pods from 1.35.
    let d = eks("bubblewrap", Some("al2023"), "1.35");
    assert_eq!(d.pod_security_level, "baseline", "{:?}", d.reasons);
    let d = eks("bubblewrap", Some("al2023"), "1.33");
    assert_eq!(d.pod_security_level, "privileged");
    // Unconfined is never baseline.
    let d = eks("bubblewrap", Some("bottlerocket"), "1.35");
    assert_eq!(d.pod_security_level, "privileged");
    assert!(d.reasons.iter().any(|r| r.contains("Unconfined")));
    // SETUID/SETGID are baseline capabilities.
    let d = eks("podman", Some("al2023"), "1.35");
    assert_eq!(d.pod_security_level, "baseline");
}

#[test]
fn openshift_versions() {
    let os = |ver: &str| {
        let mut i = input("podman", "openshift");
        i.openshift_version = Some(v(ver));
        decide(data(), &i).unwrap()
    };
    assert!(errors(&os("4.16"))[0].detail.contains("4.17"));
    let d = os("4.19");
    assert!(!d.has_errors());
    assert!(d.warnings.iter().any(|w| w.contains("blocks upgrades")));
    let d = os("4.20");
    assert!(d.findings.is_empty(), "{:?}", d.findings);
    assert!(os("4.23").findings.is_empty());
    assert!(os("4.24").has_errors());
}

#[test]
fn fields_of_other_platforms_are_errors() {
    let mut i = input("nsjail", "eks");
    i.kubernetes_version = Some(v("1.33"));
    i.openshift_version = Some(v("4.20"));
    i.kernel_version = Some(v("6.1"));
    let d = decide(data(), &i).unwrap();
    let fields: Vec<Field> = errors(&d).iter().map(|f| f.field).collect();
    assert!(fields.contains(&Field::OpenshiftVersion));
    assert!(fields.contains(&Field::KernelVersion));
}

#[test]
fn the_date_can_be_fixed_for_reproducible_plans() {
    // .cargo/config.toml fixes NESTED_PROVIDER_TODAY for every test run.
    assert_eq!(std::env::var(TODAY_ENV).as_deref(), Ok("2026-12-01"));
    assert_eq!(today(), TODAY);
    assert_eq!("2026-12-01".parse::<Date>(), Ok(TODAY));
    for bad in ["2026-13-01", "26-12-01", "2026-12", "tomorrow"] {
        assert!(bad.parse::<Date>().is_err(), "{bad}");
    }
}

#[test]
fn decisions_are_deterministic() {
    let a = eks("podman", Some("bottlerocket"), "1.36");
    let b = eks("podman", Some("bottlerocket"), "1.36");
    assert_eq!(a, b);
    assert_eq!(
        a.container_security_context.to_string(),
        b.container_security_context.to_string()
    );
}

#[test]
fn a_wrongly_cased_family_names_the_right_spelling_with_an_article() {
    let mut i = Input::new("nsjail", "eks");
    i.kubernetes_version = Some(v("1.33"));
    i.ami_family = Some("Bottlerocket".into());
    let d = decide(data(), &i).unwrap();
    let e = errors(&d);
    assert_eq!(
        e[0].detail,
        "\"Bottlerocket\" is not an AMI family this provider knows: names are lower case; write \"bottlerocket\"."
    );
    i.ami_family = Some("ubuntu".into());
    let d = decide(data(), &i).unwrap();
    assert!(
        errors(&d)[0]
            .detail
            .starts_with("\"ubuntu\" is not an AMI family this provider knows. Use one of:"),
        "{:?}",
        errors(&d)
    );
}

#[test]
fn a_version_without_images_and_no_family_suggests_a_version_not_the_failed_family() {
    let mut i = Input::new("nsjail", "eks");
    i.kubernetes_version = Some(v("1.38"));
    let d = decide(data(), &i).unwrap();
    let e = errors(&d);
    assert_eq!(e[0].field, Field::KubernetesVersion);
    assert!(
        e[0].detail
            .starts_with("No AMI family this provider knows has node images for Kubernetes 1.38 ("),
        "{}",
        e[0].detail
    );
    assert!(
        e[0].detail.ends_with("set kubernetes_version to \"1.37\"."),
        "{}",
        e[0].detail
    );
    assert!(
        !e[0].detail.contains("There are no al2023"),
        "{}",
        e[0].detail
    );
}

#[test]
fn a_version_no_family_has_images_for_is_the_versions_fault_even_with_a_family() {
    let d = eks("nsjail", Some("bottlerocket"), "1.99");
    let e = errors(&d);
    assert_eq!(e[0].field, Field::KubernetesVersion, "{e:?}");
    assert!(
        e[0].detail
            .ends_with("No AMI family this provider knows has node images for Kubernetes 1.99."),
        "{}",
        e[0].detail
    );
    // Where another family has images, the family is at fault.
    let d = eks("nsjail", Some("al2"), "1.33");
    let e = errors(&d);
    assert_eq!(e[0].field, Field::AmiFamily, "{e:?}");
}

#[test]
fn an_ami_family_on_a_platform_that_picks_its_image_is_refused() {
    let mut i = input("nsjail", "eks_auto_mode");
    i.kubernetes_version = Some(v("1.34"));
    i.ami_family = Some("bottlerocket".into());
    let d = decide(data(), &i).unwrap();
    let e = errors(&d);
    assert_eq!(e[0].field, Field::AmiFamily, "{e:?}");
    assert_eq!(e[0].summary, "EKS Auto Mode picks the node image");
    i.ami_family = None;
    assert!(!decide(data(), &i).unwrap().has_errors());
}

#[test]
fn own_nodes_need_their_runtime_for_a_pod_user_namespace() {
    for sandbox in ["podman", "bubblewrap"] {
        let mut i = input(sandbox, "kubernetes");
        i.kubernetes_version = Some(v("1.33"));
        i.kernel_version = Some(v("6.12"));
        let d = decide(data(), &i).unwrap();
        let e = errors(&d);
        assert_eq!(e[0].field, Field::ContainerRuntime, "{e:?}");
        assert_eq!(e[0].summary, "container_runtime is required");
        // containerd_ignored_below, from the data's host_users row.
        assert!(
            e[0].detail
                .contains("containerd below 1.7 silently ignores it"),
            "{}",
            e[0].detail
        );
        i.container_runtime = Some(Runtime::parse("containerd 2.1").unwrap());
        assert!(!decide(data(), &i).unwrap().has_errors());
    }
    // landjail runs in no pod user namespace: nothing to know.
    let mut i = input("landjail", "kubernetes");
    i.kubernetes_version = Some(v("1.33"));
    i.kernel_version = Some(v("6.12"));
    assert!(
        errors(&decide(data(), &i).unwrap()).is_empty(),
        "landjail needs no runtime"
    );
}
