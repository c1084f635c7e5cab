//! Plan-time validation of a `nested_nodegroup` configuration: every value
//! that EKS, EC2, IAM, the Kubernetes API server or the kernel would refuse
//! is an error at its attribute, with the rule and the fix. A rule of one
//! attribute's value is declared on the attribute in the schema
//! (`crate::validate::declared`); the rules here span several values (how
//! many, which together, duplicates) and run on the typed model, at paths
//! named by its fields. Unknown values are skipped (checked again once
//! known).

use std::collections::{BTreeMap, BTreeSet};

use super::model::{NodegroupModel, TaintModel};
use crate::framework::{Diagnostics, KnownElements, Model, Value};
use crate::validate::{Limits, aws, instance_type};

/// Provider bookkeeping tags on every node group (sandbox, managed-by,
/// instance): they count against EKS's tag limit too.
pub const BOOKKEEPING_TAGS: usize = 3;

/// Everything that can be checked from the configuration alone, beyond
/// the rules its attributes declare. A configuration the model cannot
/// hold (a number beyond i64, a fraction) is left to those rules, which
/// refuse it at its attribute.
pub fn config(config: &Value, diags: &mut Diagnostics) {
    let Ok(m) = NodegroupModel::from_value(config) else {
        return;
    };
    let l = match Limits::embedded() {
        Ok(l) => l,
        Err(e) => {
            diags.push(crate::framework::Diagnostic::error(
                "Provider limit data is invalid",
                e.to_string(),
            ));
            return;
        }
    };
    subnets(&m, l, diags);
    rollout::update_config(&m, diags);
    template::block_device(&m, diags);
    template::security_group_ids(&m, diags);
    template::tag_specifications(&m, l, diags);
    taints(&m, l, diags);
    instance_types(&m, l, diags);
}

fn subnets(m: &NodegroupModel, l: &Limits, diags: &mut Diagnostics) {
    let Some(ids) = m.subnet_ids.known().and_then(KnownElements::known_elements) else {
        return;
    };
    if (ids.len() as u64) < l.eks.subnets.min.max(1) {
        diags.error_at(
            NodegroupModel::subnet_ids(),
            "No subnets",
            "A node group needs at least one subnet: set subnet_ids to the subnets the nodes run in, e.g. [aws_subnet.private_a.id].",
        );
    }
}

fn taints(m: &NodegroupModel, l: &Limits, diags: &mut Diagnostics) {
    let Some(items) = m.taints.known() else {
        return;
    };
    let max = l.eks.taints_per_nodegroup.max;
    if items.len() as u64 > max {
        diags.error_at(
            NodegroupModel::taints(),
            "Too many taints",
            format!(
                "{} taints given; EKS allows at most {max} per node group.",
                items.len()
            ),
        );
    }
    let mut seen: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (i, t) in items.iter().enumerate() {
        let Some(TaintModel { key, effect, .. }) = t.known() else {
            continue;
        };
        let (Some(k), Some(e)) = (key.as_deref(), effect.as_deref()) else {
            continue;
        };
        if let Some(first) = seen.insert((k, e), i) {
            diags.error_at(
                NodegroupModel::taints().then_index(i64::try_from(i).unwrap_or(i64::MAX)),
                "Duplicate taint",
                format!(
                    "taints[{first}] and taints[{i}] both have key {} and effect {e}; Kubernetes allows one taint per key and effect. Remove one of them.",
                    crate::validate::quoted(k)
                ),
            );
        }
    }
}

/// The tag count, once the provider's `default_tags` are known (plan).
pub fn tag_total(config: &Value, default_tags: &BTreeMap<String, String>, diags: &mut Diagnostics) {
    let Ok(l) = Limits::embedded() else { return };
    let Ok(m) = NodegroupModel::from_value(config) else {
        return;
    };
    let Some(own) = m.tags.known().and_then(KnownElements::known_elements) else {
        return;
    };
    if let Err(e) = aws::tag_count(&own, default_tags, BOOKKEEPING_TAGS, l) {
        diags.error_at(
            NodegroupModel::tags(),
            "Too many tags",
            format!("{e}. Remove some tags or default_tags."),
        );
    }
}

/// How many instance types, none twice, each of the architecture (whether
/// each is an instance type at all is the attribute's declared rule).
fn instance_types(m: &NodegroupModel, l: &Limits, diags: &mut Diagnostics) {
    let Some(items) = m.instance_types.known() else {
        return;
    };
    if items.is_empty() {
        diags.error_at(
            NodegroupModel::instance_types(),
            "No instance types",
            "instance_types = [] names no instance type: EKS would pick one, read back after create, and the next plan would replace the node group to get back to []. Remove the attribute to let EKS choose, or name at least one, e.g. [\"m6i.large\"].",
        );
        return;
    }
    let max = l.eks.instance_types.max;
    if items.len() as u64 > max {
        diags.error_at(
            NodegroupModel::instance_types(),
            "Too many instance types",
            format!(
                "{} instance types given; EKS accepts at most {max}.",
                items.len()
            ),
        );
    }
    // Unset is the default, x86_64; an architecture the schema refuses is
    // reported there, not here.
    let arch = if m.architecture.is_unknown() {
        None
    } else {
        let a = m.architecture.as_deref().unwrap_or("x86_64");
        crate::capability::Architecture::parse(a).map(|_| a)
    };
    let mut seen = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        let Some(name) = item.as_deref() else {
            continue;
        };
        let Ok(t) = instance_type::parse(name, l) else {
            continue;
        };
        let path =
            NodegroupModel::instance_types().then_index(i64::try_from(i).unwrap_or(i64::MAX));
        let its = if t.is_arm64(l) { "arm64" } else { "x86_64" };
        if let Some(arch) = arch
            && its != arch
        {
            diags.error_at(
                path.clone(),
                "Instance type does not match the architecture",
                format!(
                    "{name} is an {its} instance type (AWS Graviton types carry a \"g\" after the generation, e.g. m7g), but architecture is {arch:?}. Use an {arch} type or set architecture = \"{its}\"."
                ),
            );
        }
        if !seen.insert(name) {
            diags.error_at(
                path,
                "Duplicate instance type",
                format!("{name} is listed twice."),
            );
        }
    }
}

mod rollout;
mod template;

pub use rollout::{MAX_UNAVAILABLE, MAX_UNAVAILABLE_PERCENTAGE, RELEASE_VERSION};

/// Every diagnostic validation gives a configuration: the rules the schema
/// declares, then the model's checks (as `plan` runs them).
#[cfg(test)]
fn diagnostics_for(cfg: &Value) -> Diagnostics {
    let mut d = Diagnostics::new();
    crate::framework::schema::validate_declared(&super::schema::schema().block, cfg, &mut d);
    config(cfg, &mut d);
    d
}

#[cfg(test)]
mod tests;
