//! `nested_capability`'s answer for GKE and AKS node pools, in the shape
//! their Terraform resources take: `google_container_node_pool`'s
//! `node_config` (`image_type`, `labels`, `taint`) and version, and
//! `azurerm_kubernetes_cluster_node_pool`'s `os_sku`, `node_labels`,
//! `node_taints` and `orchestrator_version`; and where a sysctl the sandbox
//! needs is on neither cloud's node pool allowlist, the node-prep DaemonSet
//! and the startup taint it removes.

use crate::capability::{CapabilityData, Decision, Input, NodeImage, PlatformKind, decide};
use crate::framework::model::{list_of, map_of};
use crate::framework::{Attr, Attribute, List, Map, Type};
use crate::render::Taint;
use crate::render::node_prep::{self, NodePrep};

crate::model! {
    /// The attributes of a `google_container_node_pool` the answer sets.
    pub struct GkeNodePoolModel {
        image_type: Attr<String>,
        min_kubernetes_version: Attr<String>,
        labels: Attr<Map<String>>,
        taints: Attr<List<GkeTaintModel>>,
    }
}

crate::model! {
    /// A `node_config.taint` block.
    pub struct GkeTaintModel {
        key: Attr<String>,
        value: Attr<String>,
        effect: Attr<String>,
    }
}

crate::model! {
    /// The attributes of an `azurerm_kubernetes_cluster_node_pool` the
    /// answer sets.
    pub struct AksNodePoolModel {
        os_sku: Attr<String>,
        min_orchestrator_version: Attr<String>,
        node_labels: Attr<Map<String>>,
        node_taints: Attr<List<String>>,
    }
}

/// The node pool outputs of one decision.
pub(super) struct NodePoolOutputs {
    pub gke: Attr<GkeNodePoolModel>,
    pub aks: Attr<AksNodePoolModel>,
    pub node_prep_manifest: Attr<String>,
}

/// What the pool needs besides its image: the node-prep DaemonSet and its
/// startup taint, where the decision has sysctls no node pool setting takes.
fn node_prep(d: &Decision, pool: &str, namespace: &str) -> (Option<String>, Vec<Taint>) {
    if d.sysctls.is_empty() {
        return (None, Vec::new());
    }
    let startup = vec![node_prep::startup_taint()];
    let manifest = node_prep::daemonset(&NodePrep {
        name: &format!("{pool}-node-prep"),
        node_selector: &d.node_labels,
        taints: &[],
        startup_taints: &startup,
        sysctls: &d.sysctls,
        image: node_prep::DEFAULT_IMAGE,
        namespace,
    });
    (Some(manifest), startup)
}

/// The lowest Kubernetes version of the judged node image on which the
/// same inputs get an answer without errors (the pool's version floor).
fn min_version(
    data: &CapabilityData,
    input: &Input,
    platform: PlatformKind,
    image: NodeImage,
) -> Option<String> {
    let (lo, hi) = data.node_image_range(platform, image)?;
    (lo.minor..=hi.minor).find_map(|minor| {
        let mut i = input.clone();
        let v = crate::capability::Version {
            major: lo.major,
            minor,
            patch: 0,
        };
        i.kubernetes_version = Some(v);
        i.node_image = Some(image.to_string());
        i.release_warnings = false;
        let ok = decide(data, &i).is_ok_and(|d| !d.has_errors());
        ok.then(|| format!("{}.{}", v.major, v.minor))
    })
}

/// The outputs for `d`, judged on `input` (null off GKE and AKS).
pub(super) fn node_pool_outputs(
    data: &CapabilityData,
    input: &Input,
    d: &Decision,
    namespace: &str,
) -> NodePoolOutputs {
    let none = NodePoolOutputs {
        gke: Attr::Null,
        aks: Attr::Null,
        node_prep_manifest: Attr::Null,
    };
    let (Some(platform), Some(image)) = (PlatformKind::parse(&input.platform), d.node_image) else {
        return none;
    };
    let pool = d
        .node_labels
        .keys()
        .next()
        .and_then(|k| k.rsplit('/').next())
        .unwrap_or("sandbox")
        .to_string();
    let (manifest, taints) = node_prep(d, &pool, namespace);
    let floor = min_version(data, input, platform, image);
    let labels = Attr::Known(map_of(
        d.node_labels.iter().map(|(k, v)| (k.clone(), v.clone())),
    ));
    let mut out = NodePoolOutputs {
        node_prep_manifest: manifest.into(),
        ..none
    };
    match data
        .platform(platform)
        .and_then(|p| p.node_image_setting.as_deref())
    {
        Some("os_sku") => {
            out.aks = Attr::Known(AksNodePoolModel {
                os_sku: Attr::Known(image.to_string()),
                min_orchestrator_version: floor.into(),
                node_labels: labels,
                node_taints: Attr::Known(list_of(
                    taints
                        .iter()
                        .map(|t| format!("{}={}:{}", t.key, t.value, t.effect)),
                )),
            });
        }
        _ => {
            out.gke = Attr::Known(GkeNodePoolModel {
                image_type: Attr::Known(image.to_string()),
                min_kubernetes_version: floor.into(),
                labels,
                taints: Attr::Known(list_of(taints.iter().map(|t| GkeTaintModel {
                    key: Attr::Known(t.key.clone()),
                    value: Attr::Known(t.value.clone()),
                    // GKE's API spells the effect NO_SCHEDULE.
                    effect: Attr::Known(gke_effect(&t.effect)),
                }))),
            });
        }
    }
    out
}

/// `NoSchedule` as GKE's `node_config.taint.effect` spells it.
fn gke_effect(effect: &str) -> String {
    let mut out = String::new();
    for (i, c) in effect.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// The schema of the three outputs.
pub(super) fn schema_attributes() -> Vec<Attribute> {
    let taint = Type::object([
        ("key", Type::String),
        ("value", Type::String),
        ("effect", Type::String),
    ]);
    vec![
        Attribute::of_type(
            "gke_node_pool",
            Type::object([
                ("image_type", Type::String),
                ("min_kubernetes_version", Type::String),
                ("labels", Type::map(Type::String)),
                ("taints", Type::list(taint)),
            ]),
        )
        .computed()
        .description(
            "On `gke` and `gke_autopilot`: what a `google_container_node_pool` needs for the \
             answer to hold. `image_type` (`node_config.image_type`), `min_kubernetes_version` \
             (the lowest GKE minor version the provider knows on which the same inputs get an \
             answer: the pool's `version` floor), `labels` (`node_config.labels`, which \
             `probe_manifest` selects) and `taints` (`node_config.taint` blocks: the startup \
             taint `node_prep_manifest` removes, when there is one; the effect as GKE spells \
             it, `NO_SCHEDULE`). GKE's sysctl allowlist (`linux_node_config.sysctls`) has no \
             `user.*` or `kernel.apparmor*` key, so the sysctls a sandbox needs are never \
             set there. Null elsewhere.",
        ),
        Attribute::of_type(
            "aks_node_pool",
            Type::object([
                ("os_sku", Type::String),
                ("min_orchestrator_version", Type::String),
                ("node_labels", Type::map(Type::String)),
                ("node_taints", Type::list(Type::String)),
            ]),
        )
        .computed()
        .description(
            "On `aks`: what an `azurerm_kubernetes_cluster_node_pool` needs for the answer to \
             hold. `os_sku`, `min_orchestrator_version` (the lowest AKS minor version the \
             provider knows on which the same inputs get an answer), `node_labels` and \
             `node_taints` (`key=value:Effect`: the startup taint `node_prep_manifest` removes, \
             when there is one). AKS's `linux_os_config.sysctl_config` has no `user.*` or \
             `kernel.apparmor*` key, so the sysctls a sandbox needs are never set there. Null \
             elsewhere.",
        ),
        Attribute::string("node_prep_manifest")
            .computed()
            .description(
                "On GKE and AKS, where the sandbox needs a sysctl (`sysctls`) that no node pool \
             setting takes, e.g. `kernel.apparmor_restrict_unprivileged_userns = 0` on Ubuntu \
             24.04: a ServiceAccount, its RBAC and a privileged DaemonSet on the nodes carrying \
             `node_labels` that writes the sysctls and then removes the pool's startup taint \
             (`nested.dev/user-namespaces-pending`, in the node pool output's taints), so that \
             sandbox pods land only on prepared nodes. Its namespace needs Pod Security \
             `privileged`; `warnings` says so. Null when nothing needs it.",
            ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gke_spells_taint_effects_in_upper_snake_case() {
        assert_eq!(gke_effect("NoSchedule"), "NO_SCHEDULE");
        assert_eq!(gke_effect("PreferNoSchedule"), "PREFER_NO_SCHEDULE");
        assert_eq!(gke_effect("NoExecute"), "NO_EXECUTE");
    }
}
