//! Checks of the platform and the node image: inputs that fit the
//! platform, the AMI family and its image row, the EKS support window,
//! platform variants of the sandbox, and whether the platform lets pods add
//! capabilities.

use super::{Contribution, Facts, Field};
use crate::capability::Version;
use crate::capability::data::Evidence;
use crate::capability::kinds::AmiFamily;

/// "platform \"openshift\"" for the platforms with `flag`.
fn platforms_with(
    f: &Facts<'_>,
    flag: impl Fn(&crate::capability::data::PlatformRow) -> bool,
) -> String {
    let names: Vec<String> = f
        .data
        .platform
        .iter()
        .filter(|p| flag(p))
        .map(|p| format!("\"{}\"", p.name))
        .collect();
    format!("platform {}", names.join(" or "))
}

pub(super) fn check_inputs_fit_the_platform(f: &Facts<'_>) -> Contribution {
    let mut c = Contribution::default();
    let p = f.platform.name.as_str();
    let openshift = platforms_with(f, |p| p.needs_openshift_version);
    let own_nodes = platforms_with(f, |p| p.node_facts_from_inputs);
    if f.input.openshift_version.is_some() && !f.platform.needs_openshift_version {
        c.error(
            Field::OpenshiftVersion,
            &format!("openshift_version needs {openshift}"),
            format!("openshift_version only applies to {openshift}; remove it for platform {p:?}."),
        );
    }
    if f.platform.needs_openshift_version && f.input.openshift_version.is_none() {
        let example = f
            .data
            .openshift
            .iter()
            .find(|o| o.gates == crate::capability::data::GateState::Default)
            .map_or_else(|| "4.20".to_string(), |o| o.versions[0].to_string());
        c.error(
            Field::OpenshiftVersion,
            "openshift_version is required",
            format!("Set openshift_version (e.g. \"{example}\") for platform {p:?}."),
        );
    }
    if !f.platform.node_facts_from_inputs {
        for (set, field) in [
            (f.input.kernel_version.is_some(), Field::KernelVersion),
            (f.input.container_runtime.is_some(), Field::ContainerRuntime),
            (f.input.oci_runtime.is_some(), Field::OciRuntime),
            (f.input.seccomp_default.is_some(), Field::SeccompDefault),
        ] {
            if set {
                c.error(
                    field,
                    &format!("Node facts need {own_nodes}"),
                    format!(
                        "{} describes your own nodes and only applies to {own_nodes}; platform {p:?} determines it.",
                        field.attribute()
                    ),
                );
            }
        }
    }
    if f.platform.node_facts_from_inputs && f.input.kernel_version.is_none() {
        c.error(
            Field::KernelVersion,
            "kernel_version is required",
            format!(
                "Set kernel_version (e.g. \"6.12\") to the kernel of your nodes for platform {p:?}."
            ),
        );
    }
    if f.input.ami_family.is_some() && !f.is_eks() {
        c.error(
            Field::AmiFamily,
            "ami_family needs an EKS platform",
            format!(
                "ami_family applies to {}, not {p:?}; remove it.",
                platforms_with(f, |p| !p.families.is_empty())
            ),
        );
    }
    if f.input.ami_family.is_some() && f.platform.owns_bootstrap {
        c.error(
            Field::AmiFamily,
            &format!("{} picks the node image", f.platform.title),
            format!(
                "On platform {p:?} AWS chooses and updates the node image itself (its node class has no AMI choice), so ami_family has nothing to set; remove it. The nodes run {}.",
                f.platform
                    .families
                    .iter()
                    .filter_map(|x| f.data.family(*x).map(|r| r.title.clone()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    if f.input.node_image.is_some() && f.platform.node_images.is_empty() {
        c.error(
            f.node_image_field(),
            &format!(
                "{} needs a GKE or AKS platform",
                f.node_image_field().attribute()
            ),
            format!(
                "{} applies to {}, not {p:?}; remove it.",
                f.node_image_field().attribute(),
                platforms_with(f, |p| !p.node_images.is_empty())
            ),
        );
    }
    let has_images = f.is_eks() || !f.platform.node_images.is_empty();
    if (has_images || f.platform.node_facts_from_inputs) && f.input.kubernetes_version.is_none() {
        c.error(
            Field::KubernetesVersion,
            "kubernetes_version is required",
            format!("Set kubernetes_version (e.g. \"1.33\") for platform {p:?}."),
        );
    }
    c
}

pub(super) fn check_family_and_image(f: &Facts<'_>) -> Contribution {
    let mut c = Contribution::default();
    let Some(family) = f.family else { return c };
    if !f.family_allowed {
        let runs: Vec<&str> = f
            .platform
            .families
            .iter()
            .chain(&f.platform.also_accepts)
            .map(|x| x.as_str())
            .collect();
        c.error(
            Field::AmiFamily,
            "AMI family not available on this platform",
            format!(
                "{} runs only {}; ami_family {:?} is not one of them.",
                f.platform.title,
                runs.join(", "),
                family.as_str()
            ),
        );
        return c;
    }
    if let Some(why) = f.family_row.and_then(|r| r.retired.clone()) {
        let title = f.family_row.map_or(family.as_str(), |r| r.title.as_str());
        c.warn(Field::AmiFamily, &format!("{title} is retired on EKS"), why);
    }
    let Some(k8s) = f.input.kubernetes_version else {
        return c;
    };
    match f.image {
        Some(img) => {
            let title = f.family_row.map_or(family.as_str(), |r| r.title.as_str());
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
            let variant = match f.image_variant {
                crate::capability::ImageVariant::Standard => String::new(),
                v => format!(" ({v})"),
            };
            c.reason(
                &format!(
                    "{title}{variant} on Kubernetes {k8s}: kernel {}, {containerd}, {userns}, {seccomp}",
                    img.kernel
                ),
                &img.sources,
            );
        }
        // Images of the version exist, but not of this variant or release
        // (check_variant_and_release says which).
        None if f.data.has_image(family, k8s) => {}
        None => {
            let (lo, hi) = f.data.family_range(family).unwrap_or((k8s, k8s));
            // The family is at fault only where another has images for this
            // version; a version no family has images for is the version's
            // fault.
            let another_has_images = f
                .platform
                .families
                .iter()
                .any(|x| *x != family && f.data.has_image(*x, k8s));
            let field = if f.input.ami_family.is_some() && another_has_images {
                Field::AmiFamily
            } else {
                Field::KubernetesVersion
            };
            let detail = if f.input.ami_family.is_none() {
                // The provider chose the family: say what the versions are,
                // not what its first choice lacks.
                newest_with_images(f, k8s)
            } else if k8s > hi {
                format!(
                    "There are no {family} node images for Kubernetes {k8s}: {hi} is the last version with them. {}",
                    other_families(f, family, k8s)
                )
            } else {
                format!(
                    "The provider knows {family} node images for Kubernetes {lo} to {hi}; {k8s} is outside that range. {}",
                    other_families(f, family, k8s)
                )
            };
            c.error(field, "No node image for this Kubernetes version", detail);
        }
    }
    c
}

/// For a version without images when `ami_family` is left to the provider:
/// which families have images for it, or the newest version any has.
fn newest_with_images(f: &Facts<'_>, k8s: Version) -> String {
    let with: Vec<String> = f
        .platform
        .families
        .iter()
        .filter(|x| f.data.has_image(**x, k8s))
        .map(|x| format!("\"{x}\""))
        .collect();
    if !with.is_empty() {
        return format!(
            "The provider's default AMI family has no node images for Kubernetes {k8s}; set ami_family to {}.",
            with.join(" or ")
        );
    }
    let ranges: Vec<(AmiFamily, Version, Version)> = f
        .platform
        .families
        .iter()
        .filter_map(|x| f.data.family_range(*x).map(|(lo, hi)| (*x, lo, hi)))
        .collect();
    let listed = ranges
        .iter()
        .map(|(x, lo, hi)| format!("{x} {lo} to {hi}"))
        .collect::<Vec<_>>()
        .join(", ");
    let nearest = if ranges.iter().all(|(_, _, hi)| k8s > *hi) {
        ranges.iter().map(|(_, _, hi)| *hi).max()
    } else {
        ranges.iter().map(|(_, lo, _)| *lo).min()
    };
    match nearest {
        Some(v) => format!(
            "No AMI family this provider knows has node images for Kubernetes {k8s} ({listed}); set kubernetes_version to \"{v}\"."
        ),
        None => format!("No AMI family this provider knows has node images for Kubernetes {k8s}."),
    }
}

/// Where else `k8s` has images: "Use ami_family \"bottlerocket\"", or
/// "No family this provider knows has node images for it." (never the
/// family that just failed).
fn other_families(f: &Facts<'_>, family: AmiFamily, k8s: Version) -> String {
    let others: Vec<String> = f
        .platform
        .families
        .iter()
        .filter(|x| **x != family && f.data.has_image(**x, k8s))
        .map(|x| format!("\"{x}\""))
        .collect();
    if others.is_empty() {
        format!("No AMI family this provider knows has node images for Kubernetes {k8s}.")
    } else {
        format!("Use ami_family {} instead.", others.join(" or "))
    }
}

/// EKS only creates node groups of supported Kubernetes versions: past the
/// end of extended support it is an error, in extended support a warning.
pub(super) fn check_support_window(f: &Facts<'_>) -> Contribution {
    let mut c = Contribution::default();
    if !f.is_eks() {
        return c;
    }
    let Some(k8s) = f.input.kubernetes_version else {
        return c;
    };
    let Some(row) = f.data.eks_support(k8s) else {
        return c;
    };
    let today = f.input.today;
    // Dates only reported (not on AWS's own calendar) never refuse.
    let reported = row.evidence == Evidence::Reported;
    let said = if reported {
        " (reported; AWS's own calendar was not readable)"
    } else {
        ""
    };
    if today > row.end_of_extended && reported {
        c.warn(
            Field::KubernetesVersion,
            "Kubernetes version past its reported end of support",
            format!(
                "Extended support for Kubernetes {k8s} on EKS is reported to end on {}{said}; check AWS's calendar.",
                row.end_of_extended
            ),
        );
    } else if today > row.end_of_extended {
        let next = f
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
            "EKS supports Kubernetes {k8s} until {} (standard) and {} (extended){said}",
            row.end_of_standard, row.end_of_extended
        ),
        &row.sources,
    );
    c
}

pub(super) fn check_variant(f: &Facts<'_>) -> Contribution {
    let mut c = Contribution::default();
    let Some(v) = f.variant else { return c };
    if let Some(err) = &v.error {
        let mut detail = err.clone();
        if let Some(rec) = v.recommend.and_then(|r| f.data.sandbox(r)) {
            let floor = f
                .data
                .kernel_floor(rec)
                .map_or_else(String::new, |k| format!(" kernel ≥ {k}"));
            detail.push_str(&format!(
                " Use sandbox = \"{}\" instead; it needs no capability, only{floor} with Landlock enabled in the kernel's LSM list.",
                rec.name
            ));
        }
        if let Some(unknown) = &f.platform.unknown_kernel {
            detail.push_str(&format!(
                " What is not known: {unknown} Check from a pod there (uname -r, /sys/kernel/security/lsm) before relying on landjail."
            ));
        }
        c.error(
            Field::Platform,
            &format!("{} cannot run on {}", f.sandbox.name, f.platform.title),
            detail,
        );
    }
    c.reason(&v.reason, &v.sources);
    if let Some(w) = &v.warning {
        c.warn(Field::Platform, "Reduced isolation", w.clone());
    }
    c.runtime_args.extend(v.runtime_args.iter().cloned());
    c
}

pub(super) fn check_capabilities_allowed(f: &Facts<'_>) -> Contribution {
    let mut c = Contribution::default();
    let caps = f
        .mode
        .map(|m| m.capabilities.as_slice())
        .unwrap_or_default();
    if !f.platform.capabilities_allowed && !caps.is_empty() {
        c.error(
            Field::Platform,
            &format!("{} cannot run on {}", f.sandbox.name, f.platform.title),
            format!(
                "{} rejects pods that add Linux capabilities, and {} needs {}.",
                f.platform.title,
                f.sandbox.name,
                caps.join(", ")
            ),
        );
    }
    c
}
