//! The inputs of `nested_karpenter_pool` as the plan reads them: the
//! attribute for an engine field, AMI releases, taints, durations, and the
//! inputs EKS Auto Mode refuses, selector tags the EC2NodeClass refuses.

use std::collections::BTreeMap;

use crate::capability::{AmiFamily, Field, Version};
use crate::framework::{AttributePath, Diagnostics};
use crate::render::Taint;
use crate::render::karpenter::data::SelectorTags;

use super::model::PoolModel;
use super::plan::SANDBOX_TAINT_KEY;

pub(super) fn at(name: &str) -> AttributePath {
    AttributePath::attr(name)
}

/// The attribute of this schema for an input the engine names.
pub(super) fn field_attr(f: Field) -> AttributePath {
    at(match f {
        Field::Platform | Field::UserNamespaces => "mode",
        Field::KubernetesVersion => "kubernetes_version",
        Field::AmiFamily => "ami_family",
        Field::Architecture => "requirements",
        Field::RunAsRoot => "run_as_root",
        Field::IdsPerPod => "ids_per_pod",
        _ => "sandbox",
    })
}

pub(super) fn sourced(text: &str, sources: &[String]) -> String {
    format!("{text} [{}]", sources.join("; "))
}

/// `v1.52.0` (Bottlerocket) or `v20251120` (AL2023), checked.
pub(super) fn ami_release(family: AmiFamily, text: &str) -> Result<Option<String>, String> {
    if text == "latest" {
        return Ok(None);
    }
    let body = text.strip_prefix('v').unwrap_or("");
    let ok = match family {
        AmiFamily::Bottlerocket => body.parse::<Version>().is_ok() && body.split('.').count() == 3,
        _ => body.len() == 8 && body.bytes().all(|b| b.is_ascii_digit()),
    };
    if ok {
        Ok(Some(body.to_string()))
    } else {
        let example = if family == AmiFamily::Bottlerocket {
            "v1.52.0"
        } else {
            "v20251120"
        };
        Err(format!(
            "{text:?} is not a {family} AMI release; use \"latest\" or a release such as {example:?}."
        ))
    }
}

pub(super) fn taints_of(m: &PoolModel, sandbox: &str) -> Vec<Taint> {
    match m.taints.known() {
        None => vec![Taint {
            key: SANDBOX_TAINT_KEY.into(),
            value: sandbox.into(),
            effect: "NoSchedule".into(),
        }],
        Some(list) => list
            .iter()
            .filter_map(|t| t.known())
            .map(|t| Taint {
                key: t.key.as_deref().unwrap_or_default().into(),
                value: t.value.as_deref().unwrap_or_default().into(),
                effect: t.effect.as_deref().unwrap_or_default().into(),
            })
            .collect(),
    }
}

/// Auto Mode refuses what its nodes cannot take.
pub(super) fn auto_mode_inputs(m: &PoolModel, diags: &mut Diagnostics) {
    let why = "EKS Auto Mode's NodeClass has no user data, no AMI choice and no kubelet block";
    for (name, set) in [
        ("ami_family", m.ami_family.known().is_some()),
        ("ami_version", m.ami_version.known().is_some()),
        ("karpenter_version", m.karpenter_version.known().is_some()),
        (
            "bootstrap_extra_settings",
            m.bootstrap_extra_settings.known().is_some(),
        ),
        ("ids_per_pod", m.ids_per_pod.known().is_some()),
    ] {
        if set {
            diags.error_at(
                at(name),
                "Not settable on EKS Auto Mode",
                format!("{why}, so {name} has nothing to set. Remove {name}, or use mode = \"karpenter\"."),
            );
        }
    }
}

/// A selector tag with an empty key or value, which the EC2NodeClass CRD
/// refuses, is an error at that tag.
pub(super) fn empty_selector_tags(
    attr: &str,
    tags: &BTreeMap<String, String>,
    rule: &SelectorTags,
    diags: &mut Diagnostics,
) {
    for (key, value) in tags {
        let fix = if key.is_empty() {
            "Name the tag's key.".to_string()
        } else {
            format!(
                "Give the tag's value, or {:?} to select by the key alone ({}).",
                rule.any_value, rule.any_value_note
            )
        };
        if key.is_empty() || value.is_empty() {
            diags.error_at(
                at(attr).then_key(key),
                if key.is_empty() {
                    "Empty selector tag key"
                } else {
                    "Empty selector tag value"
                },
                sourced(&format!("{} {fix}", rule.empty_refused), &rule.sources),
            );
        }
    }
}
