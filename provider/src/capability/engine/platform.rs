//! Checks of the platform and the node image: inputs that fit the
//! platform, the AMI family and its image row, the EKS support window,
//! platform variants of the sandbox, and whether the platform lets pods add
//! capabilities.

use super::{Ctx, Field, unknown_name};

pub(super) fn check_inputs_fit_the_platform(c: &mut Ctx<'_>) {
    let p = c.platform.name.as_str();
    let is_eks = !c.platform.families.is_empty();
    if c.input.openshift_version.is_some() && p != "openshift" {
        c.error(
            Field::OpenshiftVersion,
            "openshift_version needs platform \"openshift\"",
            format!("openshift_version only applies to platform \"openshift\"; remove it for platform {p:?}."),
        );
    }
    if p == "openshift" && c.input.openshift_version.is_none() {
        c.error(
            Field::OpenshiftVersion,
            "openshift_version is required",
            "Set openshift_version (e.g. \"4.20\") for platform \"openshift\".".into(),
        );
    }
    if p != "kubernetes" {
        for (set, field) in [
            (c.input.kernel_version.is_some(), Field::KernelVersion),
            (c.input.container_runtime.is_some(), Field::ContainerRuntime),
            (c.input.seccomp_default.is_some(), Field::SeccompDefault),
        ] {
            if set {
                c.error(
                    field,
                    "Node facts need platform \"kubernetes\"",
                    format!(
                        "{} describes your own nodes and only applies to platform \"kubernetes\"; platform {p:?} determines it.",
                        field.attribute()
                    ),
                );
            }
        }
    }
    if p == "kubernetes" && c.input.kernel_version.is_none() {
        c.error(
            Field::KernelVersion,
            "kernel_version is required",
            "Set kernel_version (e.g. \"6.12\") to the kernel of your nodes for platform \"kubernetes\".".into(),
        );
    }
    if c.input.ami_family.is_some() && !is_eks {
        c.error(
            Field::AmiFamily,
            "ami_family needs an EKS platform",
            format!("ami_family applies to platforms \"eks\" and \"eks_auto_mode\", not {p:?}; remove it."),
        );
    }
    if (is_eks || p == "kubernetes") && c.input.kubernetes_version.is_none() {
        c.error(
            Field::KubernetesVersion,
            "kubernetes_version is required",
            format!("Set kubernetes_version (e.g. \"1.33\") for platform {p:?}."),
        );
    }
}

pub(super) fn check_family_and_image(c: &mut Ctx<'_>) {
    let Some(family) = c.family else { return };
    if !c
        .platform
        .families
        .iter()
        .chain(&c.platform.also_accepts)
        .any(|f| f == family)
    {
        let known: Vec<&str> = c.data.family.iter().map(|f| f.name.as_str()).collect();
        if c.data.family(family).is_none() {
            c.out
                .findings
                .push(unknown_name(Field::AmiFamily, "AMI family", family, &known));
        } else {
            c.error(
                Field::AmiFamily,
                "AMI family not available on this platform",
                format!(
                    "{} runs only {}; ami_family {family:?} is not one of them.",
                    c.platform.title,
                    c.platform.families.join(", ")
                ),
            );
        }
        return;
    }
    if !c.platform.families.is_empty() && family == "al2" {
        c.warn(
            Field::AmiFamily,
            "Amazon Linux 2 is retired on EKS",
            "EKS publishes no Amazon Linux 2 AMIs after 2025-11-26 and none for Kubernetes after 1.32; use ami_family \"al2023\" or \"bottlerocket\".".into(),
        );
    }
    c.out.ami_family = Some(family.to_string());
    c.out.ami_type = c
        .data
        .family(family)
        .and_then(|f| f.ami_type.get(c.input.architecture.as_str()).cloned());
    if c.platform.name == "eks_auto_mode" {
        // Auto Mode manages the AMI; there is no node group AMI type.
        c.out.ami_type = None;
    }
    let Some(k8s) = c.input.kubernetes_version else {
        return;
    };
    match c.data.image(family, k8s) {
        Some(img) => {
            c.image = Some(img);
            c.out.kernel_version = Some(img.kernel);
            let title = c.data.family(family).map_or(family, |f| f.title.as_str());
            let containerd = img.containerd.map_or_else(
                || "containerd not confirmed".to_string(),
                |v| format!("containerd {v}"),
            );
            let userns = img.max_user_namespaces.map_or_else(
                || "user namespaces at the kernel default".to_string(),
                |n| format!("user.max_user_namespaces = {n}"),
            );
            let seccomp = if img.seccomp_default {
                "pods without a seccomp profile run under RuntimeDefault"
            } else {
                "pods without a seccomp profile run Unconfined"
            };
            c.reason(
                &format!(
                    "{title} on Kubernetes {k8s}: kernel {}, {containerd}, {userns}, {seccomp}",
                    img.kernel
                ),
                &img.sources,
            );
        }
        None => {
            let (lo, hi) = c.data.family_range(family).unwrap_or((k8s, k8s));
            let field = if c.input.ami_family.is_some() {
                Field::AmiFamily
            } else {
                Field::KubernetesVersion
            };
            let detail = if k8s > hi {
                format!(
                    "There are no {family} node images for Kubernetes {k8s}: {hi} is the last version with them. {}",
                    other_families(c, family, k8s)
                )
            } else {
                format!(
                    "The provider knows {family} node images for Kubernetes {lo} to {hi}; {k8s} is outside that range. {}",
                    other_families(c, family, k8s)
                )
            };
            c.error(field, "No node image for this Kubernetes version", detail);
        }
    }
}

/// Where else `k8s` has images: "Use ami_family \"bottlerocket\"", or
/// "No family this provider knows has node images for it." (never the
/// family that just failed).
fn other_families(c: &Ctx<'_>, family: &str, k8s: crate::capability::Version) -> String {
    let others: Vec<String> = c
        .platform
        .families
        .iter()
        .filter(|f| f.as_str() != family && c.data.image(f, k8s).is_some())
        .map(|f| format!("\"{f}\""))
        .collect();
    if others.is_empty() {
        format!("No AMI family this provider knows has node images for Kubernetes {k8s}.")
    } else {
        format!("Use ami_family {} instead.", others.join(" or "))
    }
}

/// EKS only creates node groups of supported Kubernetes versions: past the
/// end of extended support it is an error, in extended support a warning.
pub(super) fn check_support_window(c: &mut Ctx<'_>) {
    if c.platform.families.is_empty() {
        return;
    }
    let Some(k8s) = c.input.kubernetes_version else {
        return;
    };
    let Some(row) = c.data.eks_support(k8s) else {
        return;
    };
    let today = c.input.today;
    let sources = row.sources.clone();
    if today > row.end_of_extended {
        let next = c
            .data
            .eks_support
            .iter()
            .filter(|e| e.end_of_extended >= today)
            .map(|e| e.kubernetes)
            .min()
            .map_or_else(String::new, |v| {
                format!(" Use kubernetes_version \"{v}\" or later.")
            });
        c.error(
            Field::KubernetesVersion,
            "Kubernetes version no longer supported by EKS",
            format!(
                "Extended support for Kubernetes {k8s} on EKS ended on {}: EKS upgrades such clusters and creates no node groups of that version.{next}",
                row.end_of_extended
            ),
        );
    } else if today > row.end_of_standard {
        c.warn(
            Field::KubernetesVersion,
            "Kubernetes version in extended support",
            format!(
                "Standard support for Kubernetes {k8s} on EKS ended on {}; extended support (at extra cost) ends on {}.",
                row.end_of_standard, row.end_of_extended
            ),
        );
    }
    c.reason(
        &format!(
            "EKS supports Kubernetes {k8s} until {} (standard) and {} (extended)",
            row.end_of_standard, row.end_of_extended
        ),
        &sources,
    );
}

pub(super) fn check_variant(c: &mut Ctx<'_>) {
    let variant = c.data.variant.iter().find(|v| {
        v.sandbox == c.sandbox.name
            && v.platforms.contains(&c.platform.name)
            && (v.families.is_empty()
                || c.family.is_some_and(|f| v.families.iter().any(|x| x == f)))
    });
    c.variant = variant;
    let Some(v) = variant else { return };
    if let Some(err) = &v.error {
        let mut detail = err.clone();
        if let Some(rec) = v.recommend.as_deref().and_then(|r| c.data.sandbox(r)) {
            let floor = c
                .data
                .kernel_floor(rec)
                .map_or_else(String::new, |f| format!(" kernel ≥ {f}"));
            detail.push_str(&format!(
                " Use sandbox = \"{}\" instead; it needs no capability, only{floor} with Landlock enabled in the kernel's LSM list.",
                rec.name
            ));
        }
        if let Some(unknown) = &c.platform.unknown_kernel {
            detail.push_str(&format!(
                " What is not known: {unknown} Check from a pod there (uname -r, /sys/kernel/security/lsm) before relying on landjail."
            ));
        }
        c.error(
            Field::Platform,
            &format!("{} cannot run on {}", c.sandbox.name, c.platform.title),
            detail,
        );
    }
    c.reason(&v.reason, &v.sources);
    if let Some(w) = &v.warning {
        c.warn(Field::Platform, "Reduced isolation", w.clone());
    }
    c.out.runtime_args.extend(v.runtime_args.iter().cloned());
}

pub(super) fn check_capabilities_allowed(c: &mut Ctx<'_>) {
    let s = c.sandbox;
    let errored = c
        .out
        .findings
        .iter()
        .any(|f| f.error && f.field == Field::Platform);
    if !c.platform.capabilities_allowed && !c.needs.capabilities.is_empty() && !errored {
        let caps: Vec<&str> = c.needs.capabilities.iter().map(String::as_str).collect();
        c.error(
            Field::Platform,
            &format!("{} cannot run on {}", s.name, c.platform.title),
            format!(
                "{} rejects pods that add Linux capabilities, and {} needs {}.",
                c.platform.title,
                s.name,
                caps.join(", ")
            ),
        );
    }
}
