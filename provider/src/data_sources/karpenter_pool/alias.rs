//! The `amiSelectorTerms` alias of a Karpenter pool and the kernel it
//! brings: a release whose kernel is below the sandbox's floor, or a
//! Bottlerocket release without a setting the sandbox needs, is an error at
//! `ami_version`.

use crate::capability::{AmiFamily, CapabilityData, Decision, Version};
use crate::framework::Diagnostics;
use crate::render::karpenter::KarpenterData;

use super::inputs::{at, sourced};

pub(super) struct AliasCheck<'a> {
    pub kd: &'a KarpenterData,
    pub cd: &'a CapabilityData,
    pub decision: &'a Decision,
    pub family: AmiFamily,
    /// The pinned release without its `v`; `None` for `latest`.
    pub release: Option<&'a str>,
    pub kubernetes: Option<Version>,
    pub sandbox: &'a str,
}

/// The alias and the kernel of its AMI.
pub(super) fn check_alias(
    c: &AliasCheck<'_>,
    diags: &mut Diagnostics,
    warnings: &mut Vec<String>,
    reasons: &mut Vec<String>,
) -> (String, Option<Version>) {
    let (kd, cd, decision, family, release, sandbox) =
        (c.kd, c.cd, c.decision, c.family, c.release, c.sandbox);
    let alias = {
        let fam = kd
            .alias
            .families
            .get(family.as_str())
            .cloned()
            .unwrap_or_default();
        format!(
            "{fam}@{}",
            release.map_or("latest".to_string(), |r| format!("v{r}"))
        )
    };
    let mut kernel = decision.kernel_version;
    if let Some(k8s) = c.kubernetes {
        let alias = &alias;
        if release.is_none() {
            warnings.push(kd.alias.latest_warning.clone());
            diags.warning_at(
                at("ami_version"),
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
        for row in &kd.alias_kernel {
            let in_range = row.kubernetes[0]
                .parse::<Version>()
                .is_ok_and(|lo| lo <= k8s)
                && row.kubernetes[1]
                    .parse::<Version>()
                    .is_ok_and(|hi| k8s <= hi);
            if row.family == family.as_str()
                && in_range
                && release.is_some_and(|r| r < row.before.as_str())
            {
                kernel = row.kernel.parse().ok();
                reasons.push(sourced(
                    &format!(
                        "{alias} ships kernel {} (releases before v{}).",
                        row.kernel, row.before
                    ),
                    &row.sources,
                ));
            }
        }
        if let (Some(k), Some(floor)) = (kernel, decision.kernel_floor)
            && k < floor
        {
            diags.error_at(
                at("ami_version"),
                "AMI release below the sandbox's kernel floor",
                format!("{alias} ships Linux {k}, below {floor}, the lowest on which {sandbox} works in a pod. Pin a newer release or use \"latest\"."),
            );
        }
        let ids_row = decision
            .kubelet_settings
            .keys()
            .find_map(|k| cd.kubelet_setting(k));
        if let (AmiFamily::Bottlerocket, Some(r), Some(row)) = (family, release, ids_row)
            && r.parse::<Version>()
                .is_ok_and(|v| v < row.bottlerocket_since)
        {
            diags.error_at(
                at("ami_version"),
                "AMI release without a setting the sandbox needs",
                format!(
                    "{} first ships in Bottlerocket v{}; {alias} would ignore it. {}",
                    row.bottlerocket,
                    row.bottlerocket_since,
                    sourced("", &row.sources).trim()
                ),
            );
        }
    }

    (alias, kernel)
}
