//! The `amiSelectorTerms` alias of a Karpenter pool. Which release it pins
//! and what that release's nodes give a pod (kernel, Landlock, the
//! idsPerPod setting) is the engine's answer for `ami_version`
//! (`schemas/capabilities.toml` image rows per release); here the alias is
//! written and a moving alias is said.

use crate::capability::{AmiFamily, Decision, Version};
use crate::framework::Diagnostics;
use crate::render::karpenter::KarpenterData;

use super::inputs::sourced;
use super::model::PoolModel;

pub(super) struct AliasCheck<'a> {
    pub kd: &'a KarpenterData,
    pub decision: &'a Decision,
    pub family: AmiFamily,
    pub kubernetes: Option<Version>,
}

/// The alias (`bottlerocket@v1.52.0`, `al2023@latest`).
pub(super) fn check_alias(
    c: &AliasCheck<'_>,
    diags: &mut Diagnostics,
    warnings: &mut Vec<String>,
    reasons: &mut Vec<String>,
) -> String {
    let kd = c.kd;
    let fam = kd
        .alias
        .families
        .get(c.family.as_str())
        .cloned()
        .unwrap_or_default();
    let pinned = c.decision.image.as_ref().and_then(|i| i.pinned);
    let alias = format!(
        "{fam}@{}",
        pinned.map_or_else(|| "latest".to_string(), |r| r.to_string())
    );
    if c.kubernetes.is_some() {
        if pinned.is_none() {
            warnings.push(kd.alias.latest_warning.clone());
            diags.warning_at(
                PoolModel::ami_version(),
                "The AMI alias moves",
                kd.alias.latest_warning.clone(),
            );
        } else {
            warnings.push(kd.alias.upgrade_warning.clone());
        }
        reasons.push(sourced(
            &format!("amiSelectorTerms is the one alias {alias}."),
            &kd.alias.sources,
        ));
    }
    alias
}
