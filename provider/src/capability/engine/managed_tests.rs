//! GKE and AKS decisions, each expected value taken from the source the
//! data row cites (COS and AKS release notes, GKE's and AKS's own
//! documents, containerd's AppArmor template).

use super::*;

fn data() -> &'static CapabilityData {
    CapabilityData::embedded().unwrap()
}

fn on(platform: &str, image: Option<&str>, k8s: &str, sandbox: &str, root: bool) -> Decision {
    let mut i = Input::new(sandbox, platform);
    i.kubernetes_version = Some(k8s.parse().unwrap());
    i.node_image = image.map(String::from);
    i.run_as_root = root;
    decide(data(), &i).unwrap()
}

fn errors(d: &Decision) -> Vec<(Field, &str, &str)> {
    d.findings
        .iter()
        .filter(|f| f.error)
        .map(|f| (f.field, f.summary.as_str(), f.detail.as_str()))
        .collect()
}

fn warning<'a>(d: &'a Decision, summary: &str) -> Option<&'a Finding> {
    d.findings.iter().find(|f| !f.error && f.summary == summary)
}

#[test]
fn landjail_on_gke_waits_for_cos_125_and_its_6_12_kernel() {
    // cos-121 (GKE 1.33) runs COS-6.6.113; Landlock ABI 4 needs 6.7.
    let d = on("gke", None, "1.33", "landjail", false);
    let e = errors(&d);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].0, Field::KubernetesVersion);
    assert!(e[0].2.contains("Linux 6.6"), "{}", e[0].2);
    assert!(e[0].2.contains("from Kubernetes 1.34"), "{}", e[0].2);
    // cos-125 (GKE 1.34) runs COS-6.12.55; whether its LSM list has
    // Landlock no source says.
    let d = on("gke", None, "1.34", "landjail", false);
    assert!(!d.has_errors(), "{:?}", errors(&d));
    assert_eq!(d.kernel_version, Some("6.12".parse().unwrap()));
    assert_eq!(d.node_image, Some(NodeImage::CosContainerd));
    assert!(warning(&d, "Landlock support unknown").is_some());
}

#[test]
fn pod_user_namespaces_on_gke_need_1_33_for_containerd_2() {
    // "Linux nodes that run GKE 1.32 or earlier use containerd 1.7".
    let d = on("gke", None, "1.32", "bubblewrap", false);
    let e = errors(&d);
    assert!(
        e.iter().any(|(f, s, detail)| *f == Field::KubernetesVersion
            && *s == "containerd too old for pod user namespaces"
            && detail.contains("COS_CONTAINERD runs containerd 1.7")
            && detail.contains("from Kubernetes 1.33")),
        "{e:?}"
    );
    let d = on("gke", None, "1.33", "bubblewrap", false);
    assert!(!d.has_errors(), "{:?}", errors(&d));
    assert_eq!(d.pod_spec["hostUsers"], json!(false));
    // GKE Standard applies no seccomp profile by default: the pod names none.
    assert_eq!(d.container_security_context.get("seccompProfile"), None);
}

#[test]
fn autopilot_refuses_what_its_allowlist_and_baseline_refuse() {
    // SYS_ADMIN is not among the capabilities Autopilot allows.
    let d = on("gke_autopilot", None, "1.34", "nsjail", false);
    let e = errors(&d);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].0, Field::Platform);
    assert!(e[0].2.contains("needs SYS_ADMIN"), "{}", e[0].2);
    // A root nsjail creates its user namespace, which RuntimeDefault stops,
    // and Autopilot admits no Unconfined seccomp; NET_ADMIN needs the opt-in.
    let d = on("gke_autopilot", None, "1.34", "nsjail", true);
    assert!(
        errors(&d)
            .iter()
            .any(|(_, _, detail)| detail.contains("does not admit seccompProfile Unconfined")),
        "{:?}",
        errors(&d)
    );
    let opt_in = warning(&d, "NET_ADMIN needs the cluster's opt-in").unwrap();
    assert!(opt_in.detail.contains("allow_net_admin = true"));
    // landjail needs no capability and runs under RuntimeDefault (containerd
    // allows the landlock_* syscalls), which Autopilot applies to every pod.
    let d = on("gke_autopilot", None, "1.34", "landjail", false);
    assert!(!d.has_errors(), "{:?}", errors(&d));
    assert_eq!(
        d.container_security_context["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    assert_eq!(d.pod_security_level, "restricted");
}

#[test]
fn landjail_on_aks_needs_ubuntu_24_04_not_azure_linux_6_6() {
    // Azure Linux 3's node image runs kernel 6.6.143.1-1.azl3.
    let d = on("aks", Some("AzureLinux"), "1.34", "landjail", false);
    let e = errors(&d);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].0, Field::OsSku);
    assert!(e[0].2.contains("Linux 6.6"), "{}", e[0].2);
    assert!(e[0].2.contains("os_sku \"Ubuntu2404\""), "{}", e[0].2);
    // Unset, the provider moves on to Ubuntu 24.04 (6.8.0-1059-azure) and
    // says why.
    let d = on("aks", None, "1.34", "landjail", false);
    assert!(!d.has_errors(), "{:?}", errors(&d));
    assert_eq!(d.node_image, Some(NodeImage::Ubuntu2404));
    assert!(
        d.reasons[0]
            .starts_with("os_sku Ubuntu2404 was chosen because AzureLinux cannot run landjail"),
        "{}",
        d.reasons[0]
    );
}

#[test]
fn bubblewrap_on_ubuntu_24_04_needs_apparmor_unconfined_and_the_node_prep_sysctl() {
    let d = on("aks", Some("Ubuntu2404"), "1.34", "bubblewrap", false);
    assert!(!d.has_errors(), "{:?}", errors(&d));
    // containerd's default profile: "deny mount,".
    assert_eq!(
        d.container_security_context["appArmorProfile"],
        json!({ "type": "Unconfined" })
    );
    // Ubuntu 24.04: kernel.apparmor_restrict_unprivileged_userns = 1 stops an
    // unconfined process without CAP_SYS_ADMIN ("setting up uid map:
    // Permission denied"); no AKS sysctl_config key sets it.
    assert_eq!(
        d.sysctls,
        BTreeMap::from([(
            "kernel.apparmor_restrict_unprivileged_userns".to_string(),
            "0".to_string()
        )])
    );
    let w = warning(&d, "A privileged DaemonSet prepares the nodes").unwrap();
    assert_eq!(w.field, Field::OsSku);
    assert!(w.detail.contains("os_sku \"AzureLinux\""), "{}", w.detail);
    assert_eq!(d.pod_security_level, "privileged");
    // Azure Linux: no such restriction, no DaemonSet.
    let d = on("aks", Some("AzureLinux"), "1.34", "bubblewrap", false);
    assert!(d.sysctls.is_empty(), "{:?}", d.sysctls);
}

#[test]
fn aks_pod_user_namespaces_need_1_33_and_containerd_2() {
    // Ubuntu 22.04 runs containerd 1.7 on every version.
    let d = on("aks", Some("Ubuntu2204"), "1.34", "podman", false);
    assert!(
        errors(&d).iter().any(|(f, s, detail)| *f == Field::OsSku
            && *s == "containerd too old for pod user namespaces"
            && detail.contains("os_sku \"AzureLinux\"")),
        "{:?}",
        errors(&d)
    );
    // AKS: "Minimum Kubernetes version 1.33" for user namespaces.
    let d = on("aks", Some("AzureLinux"), "1.32", "podman", false);
    assert!(
        errors(&d)
            .iter()
            .any(|(_, s, _)| *s == "No pod user namespaces on this node image"),
        "{:?}",
        errors(&d)
    );
    // The default SKU "Ubuntu" is 22.04 up to 1.34 and 24.04 from 1.35.
    assert_eq!(
        on("aks", Some("Ubuntu"), "1.34", "nsjail", false).kernel_version,
        Some("5.15".parse().unwrap())
    );
    assert_eq!(
        on("aks", Some("Ubuntu"), "1.35", "nsjail", false).kernel_version,
        Some("6.8".parse().unwrap())
    );
}

#[test]
fn node_image_inputs_and_versions_outside_the_data_are_refused_at_their_attribute() {
    let d = on("aks", Some("COS_CONTAINERD"), "1.34", "nsjail", false);
    let e = errors(&d);
    assert_eq!(e[0].0, Field::OsSku, "{e:?}");
    assert!(e[0].2.contains("AzureLinux"), "{}", e[0].2);
    let d = on("gke", Some("cos_containerd"), "1.34", "nsjail", false);
    assert_eq!(
        errors(&d)[0].2,
        "\"cos_containerd\" is not an image_type this provider knows: names are case-sensitive; write \"COS_CONTAINERD\"."
    );
    let d = on("gke", None, "1.31", "nsjail", false);
    let e = errors(&d);
    assert_eq!(e[0].0, Field::KubernetesVersion, "{e:?}");
    assert!(e[0].2.contains("1.32 to 1.35"), "{}", e[0].2);
    let mut i = Input::new("nsjail", "eks");
    i.kubernetes_version = Some("1.33".parse().unwrap());
    i.node_image = Some("AzureLinux".into());
    let d = decide(data(), &i).unwrap();
    assert!(
        errors(&d)
            .iter()
            .any(|(_, s, _)| s.contains("needs a GKE or AKS platform"))
    );
}
