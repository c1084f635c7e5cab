//! Checks of the exact node image: the variant asked for, the release
//! pinned (or the newest assumed), and what the image's own row says
//! (known issues, facts only reported). Which row applies is resolved once
//! in [`Facts`]; here it is explained.

use super::{Contribution, Decision, Facts, Field, Finding, JudgedImage, run_checks};
use crate::capability::data::{Evidence, ImageRow};
use crate::capability::kinds::ImageVariant;

/// `ami_variant` and `ami_release`, where set: refused with `why` (the
/// summary and detail for the attribute's name).
fn refuse_image_inputs(
    f: &Facts<'_>,
    c: &mut Contribution,
    why: impl Fn(&str) -> (String, String),
) {
    for (set, field) in [
        (f.input.ami_variant.is_some(), Field::AmiVariant),
        (f.input.ami_release.is_some(), Field::AmiRelease),
    ] {
        if set {
            let (summary, detail) = why(field.attribute());
            c.error(field, &summary, detail);
        }
    }
}

pub(super) fn check_variant_and_release(f: &Facts<'_>) -> Contribution {
    let mut c = Contribution::default();
    let (Some(family), Some(family_row)) = (f.family, f.family_row) else {
        if !f.is_eks() {
            refuse_image_inputs(f, &mut c, |attr| {
                (
                    format!("{attr} needs an EKS platform"),
                    format!(
                        "{attr} names an EKS node image; platform {:?} runs no EKS node images. Remove it.",
                        f.platform.name.as_str()
                    ),
                )
            });
        }
        return c;
    };
    if !f.family_allowed {
        return c;
    }
    if f.platform.owns_bootstrap {
        refuse_image_inputs(f, &mut c, |attr| {
            (
                format!("{attr} is not settable on {}", f.platform.title),
                format!(
                    "{} chooses and updates its own node images; {attr} has nothing to select. Remove it.",
                    f.platform.title
                ),
            )
        });
    }
    let variant = f.image_variant;
    let arch = f.input.architecture;
    match family_row.ami_type.get(&variant) {
        None => {
            let offered: Vec<String> = family_row
                .ami_type
                .keys()
                .map(|v| format!("\"{v}\""))
                .collect();
            c.error(
                Field::AmiVariant,
                "No such image variant",
                format!(
                    "{} has no {variant} node images; its variants are {}.",
                    family_row.title,
                    offered.join(", ")
                ),
            );
            return c;
        }
        Some(by_arch) if !by_arch.contains_key(&arch) => {
            let archs: Vec<&str> = by_arch.keys().map(|a| a.as_str()).collect();
            c.error(
                Field::AmiVariant,
                "No such image variant for this architecture",
                format!(
                    "{} {variant} node images exist for {} only; the nodes are {arch}.",
                    family_row.title,
                    archs.join(", ")
                ),
            );
            return c;
        }
        Some(_) => {}
    }
    if let Some(e) = &f.pin_error {
        c.error(
            Field::AmiRelease,
            "Invalid node image release",
            format!(
                "{e}. {} numbers its releases like {:?}.",
                family_row.title,
                family_row.release_format.example()
            ),
        );
        return c;
    }
    if let Some(p) = &f.pin {
        if let Some(named) = &p.alias_family
            && named != family.as_str()
        {
            c.error(
                Field::AmiRelease,
                "Release of another AMI family",
                format!(
                    "{:?} names family {named:?}, but the nodes run {family}. Write \"{family}@{}\" or just \"{}\".",
                    f.input.ami_release.as_deref().unwrap_or_default(),
                    p.release,
                    p.release
                ),
            );
        }
        if let (Some(built_for), Some(k8s)) = (p.kubernetes, f.input.kubernetes_version)
            && built_for != k8s
        {
            c.error(
                Field::AmiRelease,
                "Release for another Kubernetes version",
                format!(
                    "{family} release {:?} is built for Kubernetes {built_for}, but the nodes run {k8s} (kubernetes_version). Pin a {k8s} release, or leave the release unset for the newest.",
                    f.input.ami_release.as_deref().unwrap_or_default()
                ),
            );
        }
    }
    let Some(k8s) = f.input.kubernetes_version else {
        return c;
    };
    let (Some(oldest), Some(newest)) = (f.image_rows.first(), f.image_rows.last()) else {
        if variant != ImageVariant::Standard && f.data.has_image(family, k8s) {
            c.error(
                Field::AmiVariant,
                "No such image variant for this Kubernetes version",
                format!(
                    "The provider knows no {} {variant} node images for Kubernetes {k8s} on {arch}.",
                    family_row.title
                ),
            );
        }
        return c;
    };
    let name = f.image_name();
    match (&f.pin, f.image) {
        (Some(p), None) => c.error(
            Field::AmiRelease,
            "Release older than the provider knows",
            format!(
                "The provider knows {} {variant} releases for Kubernetes {k8s} from {}; {} is older, and what it gives a pod is not known. Pin {} or later.",
                family_row.title,
                first_of(oldest),
                p.release,
                first_of(oldest)
            ),
        ),
        (Some(p), Some(img)) if std::ptr::eq(img, *newest) && f.input.release_warnings => {
            if let Some([_, last]) = img.release_range
                && p.release > last
            {
                c.warn(
                    Field::AmiRelease,
                    "Release newer than the provider's data",
                    format!(
                        "The provider's data for {} {variant} on Kubernetes {k8s} ends at {last}; {} is newer, so it is judged on the newest known facts ({}). A newer provider may know more.",
                        family_row.title,
                        p.release,
                        img.releases_text()
                    ),
                );
            }
        }
        _ => {}
    }
    if let Some(img) = f.image {
        let when = if f.pin.is_some() {
            format!("{name} falls in {}", img.releases_text())
        } else {
            format!(
                "no release pinned: judged on the newest {name} releases the provider knows for Kubernetes {k8s} ({})",
                img.releases_text()
            )
        };
        let evidence = match img.evidence {
            Evidence::Documented => "",
            Evidence::Reported => " (reported, not documented by the image's own sources)",
        };
        if f.platform.owns_bootstrap {
            // The platform picks its images: no release to speak of.
        } else {
            c.reason(&format!("{when}{evidence}"), &img.sources);
        }
        if let Some(note) = &f.platform.images_reported {
            c.reason(note, &f.platform.sources);
        }
        if f.sandbox.needs_host_users_false {
            for issue in &img.host_users_known_issues {
                c.warn(
                    Field::AmiRelease,
                    "Known issue of these releases",
                    issue.clone(),
                );
            }
        }
    }
    c
}

/// The first release of a row, for messages ("v20251016").
fn first_of(row: &ImageRow) -> String {
    row.first_release()
        .map_or_else(|| "its first release".to_string(), |r| r.to_string())
}

/// What a decision answers, for comparing releases: whether it runs, and
/// the settings the node and the pod need.
fn answer(d: &Decision) -> (bool, String) {
    (
        d.has_errors(),
        format!(
            "{}{}{:?}{:?}",
            d.pod_spec, d.container_security_context, d.sysctls, d.kubelet_settings
        ),
    )
}

/// Without a pinned release the newest known is assumed; when an older
/// release of the same image answers differently, say from which release
/// on the answer holds and what older ones answer.
pub(super) fn older_releases_differ(f: &Facts<'_>, d: &Decision) -> Option<Finding> {
    if f.pin.is_some()
        || f.pin_error.is_some()
        || !f.input.release_warnings
        || f.platform.owns_bootstrap
    {
        return None;
    }
    let newest = f.image?;
    let mine = answer(d);
    let mut boundary = newest;
    for row in f.image_rows.iter().rev().skip(1) {
        let other = run_checks(&f.with_image(row));
        if answer(&other) != mine {
            let what = match other.findings.iter().find(|x| x.error) {
                Some(e) => format!("{} cannot run there ({})", f.sandbox.name, e.summary),
                None if mine.0 => format!("{} can run there", f.sandbox.name),
                None => "the pod needs other settings there".to_string(),
            };
            return Some(Finding {
                error: false,
                field: Field::AmiRelease,
                summary: "Older node image releases answer differently".into(),
                detail: format!(
                    "Judged on {} {} or later, the newest the provider knows (ami_release is not set). Nodes on an older release ({}: kernel {}, containerd {}, Landlock {}) answer differently: {what}. Set ami_release to the release the nodes run to judge them.",
                    f.image_name(),
                    first_of(boundary),
                    row.releases_text(),
                    row.kernel,
                    row.containerd
                        .map_or_else(|| "not confirmed".to_string(), |v| v.to_string()),
                    if row.landlock_enabled { "on" } else { "off" },
                ),
            });
        }
        boundary = row;
    }
    None
}

/// The image the decision is judged on.
pub(super) fn judged(f: &Facts<'_>) -> Option<JudgedImage> {
    let img = f.image?;
    let reported = f.platform.images_reported.is_some();
    Some(JudgedImage {
        family: f.family?,
        variant: f.image_variant,
        pinned: f.pin.as_ref().map(|p| p.release),
        releases: if f.platform.owns_bootstrap {
            format!("{}'s own builds", f.platform.title)
        } else {
            img.releases_text()
        },
        kernel: img.kernel,
        containerd: img.containerd,
        landlock_enabled: img.landlock_enabled,
        seccomp_default: img.seccomp_default,
        max_user_namespaces: img.max_user_namespaces,
        evidence: if reported {
            Evidence::Reported
        } else {
            img.evidence
        },
    })
}
