//! Checks of GKE and AKS node pools: the node image the pool runs on this
//! Kubernetes version (its row and sources), what the platform admits in a
//! pod (GKE Autopilot's capability allowlist), and where a finding about
//! the node's kernel or runtime should point: another node image, or a
//! newer Kubernetes version.

use super::{Contribution, Facts, Field};
use crate::capability::Version;
use crate::capability::data::Evidence;
use crate::capability::node_image::NodeImageRow;

/// The node image's row for the Kubernetes version, said as a reason with
/// its sources; an error when the data has none.
pub(super) fn check_node_image(f: &Facts<'_>) -> Contribution {
    let mut c = Contribution::default();
    let (Some(image), Some(k8s)) = (f.node_image, f.input.kubernetes_version) else {
        return c;
    };
    if !f.platform.node_images.contains(&image) {
        c.error(
            f.node_image_field(),
            "Node image not available on this platform",
            format!(
                "{} runs {}; {} {:?} is not one of them.",
                f.platform.title,
                names(&f.platform.node_images),
                f.node_image_field().attribute(),
                image.as_str()
            ),
        );
        return c;
    }
    let Some(row) = f.node_image_row else {
        let detail = match f.data.node_image_range(f.platform.name, image) {
            Some((lo, hi)) => format!(
                "The provider knows {image} on {} for Kubernetes {lo} to {hi}; {k8s} is outside that range. Set kubernetes_version to one of them.",
                f.platform.title
            ),
            None => format!(
                "The provider has no data for {image} on {}.",
                f.platform.title
            ),
        };
        c.error(
            Field::KubernetesVersion,
            "No node image data for this Kubernetes version",
            detail,
        );
        return c;
    };
    let containerd = row.containerd.map_or_else(
        || "containerd not confirmed".to_string(),
        |v| format!("containerd {v}"),
    );
    let userns = row.max_user_namespaces.map_or_else(
        || "user namespaces at the kernel default".to_string(),
        |n| format!("user.max_user_namespaces = {n}"),
    );
    let seccomp = if row.seccomp_default {
        "pods without a seccomp profile run under RuntimeDefault"
    } else {
        "pods without a seccomp profile run Unconfined"
    };
    let landlock = match row.landlock_enabled {
        Some(true) => "Landlock enabled",
        Some(false) => "no Landlock",
        None => "Landlock not stated",
    };
    let said = match row.evidence {
        Evidence::Documented => "",
        Evidence::Reported => " (reported, not documented)",
    };
    c.reason(
        &format!(
            "{} node image {} ({}) on Kubernetes {}–{}: kernel {}, {containerd}, {userns}, {landlock}, {seccomp}{said}",
            f.platform.title,
            image,
            row.title,
            row.kubernetes[0],
            row.kubernetes[1],
            row.kernel
        ),
        &row.sources,
    );
    if f.sandbox.needs_host_users_false && row.host_users == Some(false) {
        let (field, fix) =
            node_image_fix(f, "pod user namespaces", |r| r.host_users != Some(false))
                .unwrap_or((f.node_image_field(), String::new()));
        c.error(
            field,
            "No pod user namespaces on this node image",
            format!(
                "{} needs hostUsers: false, which {} does not admit on {} {k8s} (see its source). {fix}",
                f.sandbox.name, image, f.platform.title
            ),
        );
    }
    c
}

/// Another node image of the platform on the same Kubernetes version that
/// meets `meets`, or the lowest Kubernetes version at which this one does,
/// as the field at fault and the fix; `None` off GKE/AKS.
pub(super) fn node_image_fix(
    f: &Facts<'_>,
    what: &str,
    meets: impl Fn(&NodeImageRow) -> bool,
) -> Option<(Field, String)> {
    let image = f.node_image?;
    let k8s = f.input.kubernetes_version?;
    let other = f.platform.node_images.iter().find_map(|n| {
        (*n != image)
            .then(|| f.data.node_image(f.platform.name, *n, k8s))
            .flatten()
            .filter(|r| meets(r))
    });
    if let Some(r) = other {
        return Some((
            f.node_image_field(),
            format!(
                "{} {k8s} has {what} on {} \"{}\" ({}): use it.",
                f.platform.title,
                f.node_image_field().attribute(),
                r.name,
                r.title
            ),
        ));
    }
    let later: Option<Version> = f
        .data
        .node_image
        .iter()
        .filter(|r| {
            r.is(image)
                && r.platforms.contains(&f.platform.name)
                && r.kubernetes[1] > k8s
                && meets(r)
        })
        .map(|r| r.kubernetes[0].max(k8s))
        .min();
    Some(match later {
        Some(v) => (
            Field::KubernetesVersion,
            format!(
                "{image} on {} has {what} from Kubernetes {v}: set kubernetes_version to \"{v}\" or later.",
                f.platform.title
            ),
        ),
        None => (
            f.node_image_field(),
            format!(
                "No node image of {} this provider knows has {what} ({}).",
                f.platform.title,
                names(&f.platform.node_images)
            ),
        ),
    })
}

fn names(images: &[crate::capability::NodeImage]) -> String {
    images
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Capabilities the platform lets pods add: only an allowlist (GKE
/// Autopilot), some only after the cluster opts in.
pub(super) fn check_capability_allowlist(f: &Facts<'_>) -> Contribution {
    let mut c = Contribution::default();
    let caps = f
        .mode
        .map(|m| m.capabilities.as_slice())
        .unwrap_or_default();
    let Some(allowed) = &f.platform.allowed_capabilities else {
        return c;
    };
    let refused: Vec<&str> = caps
        .iter()
        .filter(|cap| !allowed.contains(cap) && !f.platform.capability_opt_ins.contains_key(*cap))
        .map(String::as_str)
        .collect();
    if !refused.is_empty() {
        c.error(
            Field::Platform,
            &format!("{} cannot run on {}", f.sandbox.name, f.platform.title),
            format!(
                "{} admits only pods whose added capabilities are among {}; {} needs {}. Use a platform with node pools you configure (e.g. \"gke\").",
                f.platform.title,
                allowed.join(", "),
                f.sandbox.name,
                refused.join(", ")
            ),
        );
        return c;
    }
    for cap in caps {
        if let Some(how) = f.platform.capability_opt_ins.get(cap) {
            c.warn(
                Field::Platform,
                &format!("{cap} needs the cluster's opt-in"),
                format!(
                    "{} needs {cap}, which {} admits only {how}",
                    f.sandbox.name, f.platform.title
                ),
            );
        }
    }
    c
}

/// AppArmor on the node: containerd's default profile denies mount, so a
/// sandbox that mounts needs `appArmorProfile: Unconfined`; on Ubuntu ≥
/// 23.10 an unconfined process without CAP_SYS_ADMIN then cannot create a
/// user namespace until the node sets the restriction's sysctl to 0, which
/// no GKE or AKS node pool setting can: the node-prep DaemonSet does.
pub(super) fn check_apparmor(f: &Facts<'_>) -> Contribution {
    let mut c = Contribution::default();
    let Some(row) = f.node_image_row else {
        return c;
    };
    if !f.sandbox.mounts {
        return c;
    }
    let aa = &f.data.apparmor;
    let Some(enforced) = row.apparmor else {
        c.warn(
            f.node_image_field(),
            "AppArmor on the node not known",
            format!(
                "No source this provider knows says whether {} nodes apply containerd's default AppArmor profile, which denies {} that {} needs. If they do, the container also needs securityContext.appArmorProfile {{type: Unconfined}}; run probe_manifest on such a node to see.",
                f.image_name(), aa.default_profile_denies, f.sandbox.name
            ),
        );
        return c;
    };
    if !enforced {
        return c;
    }
    c.apparmor_unconfined = true;
    c.reason(
        &format!(
            "{} nodes apply containerd's default AppArmor profile to containers that name none, and it denies {}, which {} needs: the container names appArmorProfile Unconfined",
            f.image_name(), aa.default_profile_denies, f.sandbox.name
        ),
        &aa.sources,
    );
    if f.kubernetes.is_some_and(|k| k < aa.field_kubernetes) {
        c.warn(
            Field::KubernetesVersion,
            "appArmorProfile field not available",
            format!(
                "securityContext.appArmorProfile exists from Kubernetes {}; before it, annotate the pod container.apparmor.security.beta.kubernetes.io/<container>: unconfined instead.",
                aa.field_kubernetes
            ),
        );
    }
    let creates_userns = f.sandbox.needs_user_namespaces && f.creates_user_namespace;
    let has_sys_admin = f
        .mode
        .is_some_and(|m| m.capabilities.iter().any(|cap| cap == "SYS_ADMIN"));
    if !(row.apparmor_restricts_userns && creates_userns && !has_sys_admin) {
        return c;
    }
    let sysctl = aa.restrict_sysctl.clone();
    if f.platform.sysctls_settable {
        c.sysctls.insert(sysctl.clone(), "0".into());
    } else if f.platform.privileged_allowed {
        c.sysctls.insert(sysctl.clone(), "0".into());
        c.warn(
            f.node_image_field(),
            "A privileged DaemonSet prepares the nodes",
            format!(
                "{} sets {sysctl} = 1, so an AppArmor-unconfined {} cannot create its user namespace, and no {} node pool setting can change it. node_prep_manifest is a privileged DaemonSet (its namespace needs Pod Security privileged) that sets it to 0 on the pool's nodes and then removes the startup taint the pool must carry (node_pool's taints), so sandbox pods land only on prepared nodes. It runs with full access to each node; {}",
                row.title,
                f.sandbox.name,
                f.platform.title,
                other_image_hint(f, |r| !r.apparmor_restricts_userns)
            ),
        );
    } else {
        c.error(
            f.node_image_field(),
            &format!("{} cannot create its user namespace here", f.sandbox.name),
            format!(
                "{} sets {sysctl} = 1, so an AppArmor-unconfined {} cannot create its user namespace; {} admits no privileged DaemonSet to change it.",
                row.title, f.sandbox.name, f.platform.title
            ),
        );
    }
    c.reason(
        &format!(
            "{} sets {sysctl} = 1: an AppArmor-unconfined process without CAP_SYS_ADMIN cannot create a user namespace, so the node needs {sysctl} = 0",
            row.title
        ),
        &row.sources,
    );
    c
}

/// "an image without it: os_sku \"AzureLinux\"", or advice to accept it.
fn other_image_hint(f: &Facts<'_>, meets: impl Fn(&NodeImageRow) -> bool) -> String {
    let k8s = f.input.kubernetes_version;
    let other = f.platform.node_images.iter().find_map(|n| {
        (Some(*n) != f.node_image)
            .then(|| k8s.and_then(|k| f.data.node_image(f.platform.name, *n, k)))
            .flatten()
            .filter(|r| meets(r))
    });
    match other {
        Some(r) => format!(
            "{} \"{}\" ({}) needs no such DaemonSet.",
            f.node_image_field().attribute(),
            r.name,
            r.title
        ),
        None => "accept it only where that is acceptable.".to_string(),
    }
}
