//! How changes reach the nodes: the node image release (pinned with
//! `release_version`, else the latest), `update_config`,
//! `node_repair_config`, `force_update_version`, and the plan's warning
//! when a change replaces every node. The update behaviour follows
//! hashicorp/aws `aws_eks_node_group` (`internal/service/eks/node_group.go`):
//! release, version and launch template changes go through
//! UpdateNodegroupVersion (with `force`), `update_config` and
//! `node_repair_config` through UpdateNodegroupConfig, all in place.

use super::model::{NodeRepairModel, NodegroupModel, UpdateConfigModel};
use crate::aws::eks::{MaxUnavailable, Nodegroup};
use crate::capability::{CapabilityData, Version};
use crate::framework::{Attr, AttributePath, Diagnostic, Diagnostics};

impl NodegroupModel {
    /// `update_config` as the EKS API takes it (validated at plan: one
    /// bound, 1 to 100).
    pub fn max_unavailable(&self) -> Option<MaxUnavailable> {
        let uc = self.update_config.known()?;
        let get = |a: &Attr<i64>| a.known().and_then(|n| i32::try_from(*n).ok());
        get(&uc.max_unavailable)
            .map(MaxUnavailable::Nodes)
            .or_else(|| get(&uc.max_unavailable_percentage).map(MaxUnavailable::Percent))
    }

    pub fn node_repair(&self) -> Option<bool> {
        self.node_repair_config
            .known()
            .and_then(|r| r.enabled.known().copied())
    }

    pub fn force_update(&self) -> bool {
        self.force_update_version.known().copied().unwrap_or(false)
    }

    /// What EKS reports for the rollout settings.
    pub fn fold_rollout(&mut self, ng: &Nodegroup) {
        self.update_config = match ng.max_unavailable {
            Some(m) => Attr::Known(update_config_model(m)),
            None => Attr::Null,
        };
        self.node_repair_config = match ng.node_repair {
            Some(enabled) => Attr::Known(NodeRepairModel {
                enabled: Attr::Known(enabled),
            }),
            None => Attr::Null,
        };
    }
}

fn update_config_model(m: MaxUnavailable) -> UpdateConfigModel {
    let (nodes, percent) = match m {
        MaxUnavailable::Nodes(n) => (Attr::Known(i64::from(n)), Attr::Null),
        MaxUnavailable::Percent(p) => (Attr::Null, Attr::Known(i64::from(p))),
    };
    UpdateConfigModel {
        max_unavailable: nodes,
        max_unavailable_percentage: percent,
    }
}

/// The release to send with UpdateNodegroupVersion: the planned one when it
/// is known and new (pinned), or when the version changes with a release
/// pinned; `None` when EKS (or the family's SSM parameter) picks.
pub fn release_to_send<'a>(
    prior: &NodegroupModel,
    planned: &'a NodegroupModel,
    version_changes: bool,
) -> Option<&'a str> {
    let wanted = planned.release_version.as_deref()?;
    (version_changes || prior.release_version.as_deref() != Some(wanted)).then_some(wanted)
}

/// Plan: the release is the configuration's when set; else unknown on
/// create and when the Kubernetes version changes, else the prior one.
pub fn plan_release(
    config: &NodegroupModel,
    prior: Option<&NodegroupModel>,
    planned: &mut NodegroupModel,
) {
    if !config.release_version.is_null() {
        return;
    }
    planned.release_version = match prior {
        Some(p) if p.kubernetes_version == planned.kubernetes_version => p.release_version.clone(),
        _ => Attr::Unknown,
    };
}

/// Plan: settings EKS fills in on create when left out.
pub fn plan_eks_defaults(config: &NodegroupModel, creating: bool, planned: &mut NodegroupModel) {
    if creating && config.update_config.is_null() {
        planned.update_config = Attr::Unknown;
    }
    if creating && config.node_repair_config.is_null() {
        planned.node_repair_config = Attr::Unknown;
    }
}

/// The Kubernetes version a release names (an Amazon Linux
/// `release_version` such as `1.33.0-20250704` is built for 1.33), read
/// with the family's release format; `None` where releases have their own
/// numbering (Bottlerocket) or the text is not a release.
pub fn release_kubernetes(m: &NodegroupModel, release: &str) -> Option<Version> {
    let data = CapabilityData::embedded().ok()?;
    let format = data.release_format(m.family()?)?;
    format.parse_pin(release).ok().flatten()?.kubernetes
}

/// An Amazon Linux release is built for one Kubernetes version: a pinned
/// release for another is refused at plan (EKS refuses it at apply).
pub fn check_release(planned: &NodegroupModel, diags: &mut Diagnostics) {
    let (Some(family), Some(release), Some(version)) = (
        planned.family(),
        planned.release_version.as_deref(),
        planned.kubernetes_version.as_deref(),
    ) else {
        return;
    };
    let (Some(built_for), Ok(wanted)) = (
        release_kubernetes(planned, release),
        crate::validate::version::kubernetes_minor(version),
    ) else {
        return;
    };
    if built_for != wanted {
        diags.error_at(
            NodegroupModel::release_version(),
            "release_version is for another Kubernetes version",
            format!(
                "{family} release {release} is built for Kubernetes {built_for}, but the nodes run {wanted} (kubernetes_version). Pin a {wanted} release (e.g. \"{wanted}.0-<date>\"), or leave release_version unset for the latest."
            ),
        );
    }
}

/// A warning when the planned update replaces every node: a new launch
/// template version (user data), Kubernetes version or release.
pub fn warn_when_nodes_roll(
    prior: &NodegroupModel,
    planned: &NodegroupModel,
    diags: &mut Diagnostics,
) {
    let mut causes: Vec<(&str, String)> = Vec::new();
    if prior.template_missing() {
        causes.push((
            "launch_template_id",
            "the launch template (deleted outside Terraform, made again)".to_string(),
        ));
    }
    for attr in planned.template_changes(prior) {
        let what = match attr {
            "user_data" => "the bootstrap settings (user_data)".to_string(),
            other => other.to_string(),
        };
        causes.push((attr, what));
    }
    if prior.kubernetes_version != planned.kubernetes_version {
        let to = planned
            .kubernetes_version
            .as_deref()
            .unwrap_or("a version known after apply");
        causes.push((
            "kubernetes_version",
            format!(
                "kubernetes_version ({} → {to})",
                prior.kubernetes_version.as_deref().unwrap_or("?")
            ),
        ));
    } else if prior.release_version != planned.release_version {
        causes.push((
            "release_version",
            format!(
                "release_version ({} → {})",
                prior.release_version.as_deref().unwrap_or("?"),
                planned
                    .release_version
                    .as_deref()
                    .unwrap_or("known after apply")
            ),
        ));
    }
    let Some((attr, _)) = causes.first() else {
        return;
    };
    let pace = match planned.max_unavailable().or(prior.max_unavailable()) {
        Some(MaxUnavailable::Nodes(1)) | None => "one node at a time".to_string(),
        Some(MaxUnavailable::Nodes(n)) => format!("up to {n} nodes at a time"),
        Some(MaxUnavailable::Percent(p)) => format!("up to {p}% of the nodes at a time"),
    };
    let budgets = if planned.force_update() {
        "evicting pods even where a PodDisruptionBudget forbids it (force_update_version)"
    } else {
        "honouring PodDisruptionBudgets (a budget that never allows an eviction fails the update; force_update_version = true overrides it)"
    };
    let what = causes
        .iter()
        .map(|(_, c)| c.as_str())
        .collect::<Vec<_>>()
        .join(" and ");
    diags.push(
        Diagnostic::warning(
            format!(
                "Every node of EKS Node Group ({}) will be replaced",
                planned.nodegroup_id()
            ),
            format!(
                "The change of {what} gives the nodes a new image or bootstrap, so EKS replaces every node of the pool, {pace}, {budgets}. Pods on these nodes are evicted and restarted elsewhere."
            ),
        )
        .at(AttributePath::attr(attr)),
    );
}
