//! Checks of a pool's configuration, on its typed model, against
//! Karpenter's rows (`schemas/karpenter.toml` `[node_pool]`): template label
//! keys the NodePool CRD refuses, requirement values that match no node,
//! selector tags the node class CRD refuses or no subnet can match, taints
//! Kubernetes refuses twice, and a Karpenter release older than the APIs
//! the manifests use. Each refusal is at the attribute (or element)
//! that brings it. Syntax rules (label and taint syntax, names, versions)
//! are declared on the attributes in the schema.

use std::collections::{BTreeMap, BTreeSet};

use crate::capability::Version;
use crate::framework::Diagnostics;
use crate::render::karpenter::KarpenterData;
use crate::validate::{Limits, aws, instance_type, kubernetes, quoted};

use super::inputs::sourced;
use super::model::{PoolModel, RequirementsModel, string_map, strings};

/// Every check of this module.
pub(super) fn check_pool(m: &PoolModel, kd: &KarpenterData, auto: bool, diags: &mut Diagnostics) {
    labels(m, kd, auto, diags);
    if let Some(r) = m.requirements.known() {
        requirements(r, kd, diags);
    }
    taints(m, diags);
    selector_tags(m, kd, diags);
    karpenter_version(m, kd, diags);
}

fn labels(m: &PoolModel, kd: &KarpenterData, auto: bool, diags: &mut Diagnostics) {
    let rules = &kd.node_pool.labels;
    let labels = string_map(&m.labels);
    for key in labels.keys() {
        if let Err(e) = rules.check_key(key, !auto) {
            diags.error_at(
                PoolModel::labels().then_key(key),
                "Restricted label key",
                format!("{e}. {}", sourced("", &rules.sources).trim()),
            );
        }
    }
    // The sandbox's own node label is added to the user's.
    let total = labels.len() + 1;
    if total > rules.max_labels {
        diags.error_at(
            PoolModel::labels(),
            "Too many labels",
            format!(
                "The NodePool's template would carry {total} labels ({} of yours and the sandbox's node label), but the NodePool CRD allows at most {}. Remove some labels.",
                labels.len(),
                rules.max_labels
            ),
        );
    }
}

fn requirements(r: &RequirementsModel, kd: &KarpenterData, diags: &mut Diagnostics) {
    for row in &kd.node_pool.requirement {
        let values = match row.attribute.as_str() {
            "architectures" => &r.architectures,
            "capacity_types" => &r.capacity_types,
            "instance_families" => &r.instance_families,
            _ => continue,
        };
        let path = PoolModel::requirements().then_attr(&row.attribute);
        let mut seen = BTreeSet::new();
        for (i, value) in strings(values).iter().enumerate() {
            let here = path
                .clone()
                .then_index(i64::try_from(i).unwrap_or(i64::MAX));
            // The NodePool CRD's pattern for requirement values is a label
            // value's.
            let syntax = || match Limits::embedded() {
                Ok(l) => kubernetes::label_value(value, l),
                Err(e) => Err(e.to_string()),
            };
            let check = row
                .check_value(value)
                .and_then(|()| syntax())
                .and_then(|()| {
                    if row.attribute == "instance_families" {
                        instance_family(value)
                    } else {
                        Ok(())
                    }
                });
            if check.is_ok() && !seen.insert(value.clone()) {
                diags.error_at(
                    here,
                    "Duplicate requirement value",
                    format!(
                        "{} is listed twice in requirements.{}; list each value once.",
                        quoted(value),
                        row.attribute
                    ),
                );
                continue;
            }
            if let Err(e) = check {
                diags.error_at(
                    here,
                    "Requirement that matches no node",
                    format!("{e}. {}", sourced("", &row.sources).trim()),
                );
            }
        }
    }
}

/// An instance family as the `instance-family` label carries it: the part
/// of an instance type before the `.` (`m7i` of `m7i.large`).
fn instance_family(family: &str) -> Result<(), String> {
    let shown = quoted(family);
    if let Some((f, _)) = family.split_once('.') {
        return Err(format!(
            "{shown} is an instance type, not a family; the family is the part before \".\": write {:?}",
            f
        ));
    }
    let Ok(l) = Limits::embedded() else {
        return Ok(());
    };
    if family.chars().any(|c| c.is_ascii_uppercase())
        && instance_type::parse(&format!("{}.large", family.to_ascii_lowercase()), l).is_ok()
    {
        return Err(format!(
            "{shown} matches no node: instance families are lower case; write {:?}",
            family.to_ascii_lowercase()
        ));
    }
    instance_type::parse(&format!("{family}.large"), l).map(|_| ()).map_err(|_| {
        format!(
            "{shown} is not an EC2 instance family: family letters, generation and attributes, e.g. \"m7i\", \"c7g\" or \"r6id\""
        )
    })
}

fn taints(m: &PoolModel, diags: &mut Diagnostics) {
    let Some(list) = m.taints.known() else { return };
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (i, t) in list.iter().enumerate() {
        let Some(t) = t.known() else { continue };
        let (Some(key), Some(effect)) = (t.key.known(), t.effect.known()) else {
            continue;
        };
        if let Some(first) = seen.insert((key.clone(), effect.clone()), i) {
            diags.error_at(
                PoolModel::taints().then_index(i64::try_from(i).unwrap_or(i64::MAX)),
                "Duplicate taint",
                format!(
                    "taints[{first}] and taints[{i}] both have key {} and effect {effect}; Kubernetes allows one taint per key and effect. Remove one of them.",
                    quoted(key)
                ),
            );
        }
    }
}

/// The subnet and security group selector tags: AWS tags (a value may be
/// the wildcard), no more than the node class CRD allows.
fn selector_tags(m: &PoolModel, kd: &KarpenterData, diags: &mut Diagnostics) {
    let rules = &kd.node_pool.selector_tags;
    let Ok(l) = Limits::embedded() else { return };
    for (attr, tags, path) in [
        (
            "subnet_selector_tags",
            &m.subnet_selector_tags,
            PoolModel::subnet_selector_tags(),
        ),
        (
            "security_group_selector_tags",
            &m.security_group_selector_tags,
            PoolModel::security_group_selector_tags(),
        ),
    ] {
        let tags = string_map(tags);
        if tags.len() > rules.max_tags {
            diags.error_at(
                path.clone(),
                "Too many selector tags",
                format!(
                    "{attr} has {} tags; the node class CRD allows at most {} in a selector term. {}",
                    tags.len(),
                    rules.max_tags,
                    sourced("", &rules.sources).trim()
                ),
            );
        }
        for (k, v) in &tags {
            let here = path.clone().then_key(k);
            if k.is_empty() || v.is_empty() {
                let (summary, fix) = if k.is_empty() {
                    ("Empty selector tag key", "Name the tag's key.".to_string())
                } else {
                    (
                        "Empty selector tag value",
                        format!(
                            "Give the tag's value, or {:?} to select by the key alone ({}).",
                            rules.wildcard, rules.wildcard_note
                        ),
                    )
                };
                diags.error_at(
                    here,
                    summary,
                    sourced(&format!("{} {fix}", rules.empty_refused), &rules.sources),
                );
                continue;
            }
            if let Err(e) = aws::tag_key(k, l) {
                diags.error_at(here.clone(), "Invalid selector tag key", format!("{e}."));
            }
            if *v != rules.wildcard
                && let Err(e) = aws::tag_value(v, l)
            {
                diags.error_at(here, "Invalid selector tag value", format!("{e}."));
            }
        }
    }
}

/// The user data a node gets after Karpenter's merge (the NodePool's taints
/// and labels are written into it) must fit EC2's limit, or no instance
/// launches. Blamed on `taints` when they are the user's, else on
/// `bootstrap_extra_settings`.
pub(super) fn user_data_fits(merged: &str, taints_given: bool, diags: &mut Diagnostics) {
    let Ok(l) = Limits::embedded() else { return };
    let max = l.ec2.user_data_bytes.max;
    let n = merged.len() as u64;
    if n > max {
        let at = if taints_given {
            PoolModel::taints()
        } else {
            PoolModel::bootstrap_extra_settings()
        };
        diags.error_at(
            at,
            "User data too large after Karpenter's merge",
            format!(
                "The node's user data after Karpenter writes the NodePool's taints and labels into it would be {n} bytes, but EC2 allows {max} (before base64), so no instance would launch. Use fewer or shorter taints, labels or bootstrap_extra_settings."
            ),
        );
    }
}

fn karpenter_version(m: &PoolModel, kd: &KarpenterData, diags: &mut Diagnostics) {
    let api = &kd.node_pool.api;
    let (Some(text), Ok(first)) = (
        m.karpenter_version.known(),
        api.first_version.parse::<Version>(),
    ) else {
        return;
    };
    let Ok(v) = text.strip_prefix('v').unwrap_or(text).parse::<Version>() else {
        // The syntax is the schema's rule.
        return;
    };
    if v < first {
        diags.error_at(
            PoolModel::karpenter_version(),
            "Karpenter too old for these manifests",
            format!(
                "The manifests are Karpenter's v1 APIs (karpenter.sh/v1 NodePool, karpenter.k8s.aws/v1 EC2NodeClass), which Karpenter serves from {first}; Karpenter {v} has only the v1beta1 APIs. Upgrade Karpenter to {first} or later and set karpenter_version to it. {}",
                sourced("", &api.sources).trim()
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_families_are_families() {
        assert!(instance_family("m7i").is_ok());
        assert!(instance_family("c7g").is_ok());
        assert!(instance_family("r6id").is_ok());
        assert!(
            instance_family("m7i.large")
                .unwrap_err()
                .contains("write \"m7i\"")
        );
        assert!(
            instance_family("M7I")
                .unwrap_err()
                .contains("write \"m7i\"")
        );
        assert!(instance_family("m").is_err());
        assert!(instance_family("7i").is_err());
    }
}
