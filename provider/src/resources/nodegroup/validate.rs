//! Plan-time validation of a `nested_nodegroup` configuration: every value
//! that EKS, EC2, IAM, the Kubernetes API server or the kernel would refuse
//! is an error at its attribute, with the rule and the fix. Unknown values
//! are skipped (checked again once known).

use std::collections::{BTreeMap, BTreeSet};

use crate::framework::{AttributePath, Diagnostics, Value};
use crate::validate::{self, Limits, aws, duration, instance_type, kubernetes, number};

/// Provider bookkeeping tags on every node group (sandbox, managed-by,
/// instance): they count against EKS's tag limit too.
pub const BOOKKEEPING_TAGS: usize = 3;

fn known_str<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.attr(k)
        .filter(|x| x.is_wholly_known())
        .and_then(Value::as_str)
}

fn err(diags: &mut Diagnostics, path: AttributePath, summary: &str, detail: String) {
    diags.error_at(path, summary, detail);
}

/// Everything that can be checked from the configuration alone.
pub fn config(config: &Value, diags: &mut Diagnostics) {
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
    let at = AttributePath::attr;
    if let Some(n) = known_str(config, "name")
        && let Err(e) = aws::nodegroup_name(n, l)
    {
        err(
            diags,
            at("name"),
            "Invalid node group name",
            format!("{e}."),
        );
    }
    if let Some(c) = known_str(config, "cluster_name")
        && let Err(e) = aws::cluster_name(c, l)
    {
        err(
            diags,
            at("cluster_name"),
            "Invalid cluster name",
            format!("{e}."),
        );
    }
    if let Some(arn) = known_str(config, "node_role_arn")
        && let Err(e) = aws::iam_role_arn(arn)
    {
        err(
            diags,
            at("node_role_arn"),
            "Invalid node role ARN",
            format!("{e}."),
        );
    }
    subnets(config, l, diags);
    if let Some(v) = known_str(config, "kubernetes_version")
        && let Err(e) = validate::version::kubernetes_minor(v)
    {
        err(
            diags,
            at("kubernetes_version"),
            "Invalid kubernetes_version",
            format!("{e}."),
        );
    }
    scaling(config, l, diags);
    rollout::release_version(config, diags);
    rollout::update_config(config, diags);
    template::metadata_options(config, diags);
    template::security_group_ids(config, diags);
    template::block_device(config, diags);
    template::tag_specifications(config, l, diags);
    if let Some(Value::Number(n)) = config.attr("max_user_namespaces") {
        let m = &l.linux.max_user_namespaces;
        let lo = 1;
        let hi = i64::try_from(m.max).unwrap_or(i64::MAX);
        if let Err(e) = number::whole_in_range(n, lo, hi) {
            err(
                diags,
                at("max_user_namespaces"),
                "Invalid max_user_namespaces",
                format!(
                    "{e}: user.max_user_namespaces is a whole number from {lo} to {hi} (the kernel's INT_MAX), e.g. 65536."
                ),
            );
        }
    }
    if let Some(Value::Number(n)) = config.attr("ids_per_pod")
        && let Err(e) = number::whole_in_range(n, 65536, i64::from(u32::MAX))
    {
        err(
            diags,
            at("ids_per_pod"),
            "Invalid ids_per_pod",
            format!("{e}: ids_per_pod is a multiple of 65536, e.g. 131072."),
        );
    }
    labels(config, l, diags);
    taints(config, l, diags);
    tags(config, l, diags);
    instance_types(config, l, diags);
    timeouts(config, diags);
}

fn subnets(config: &Value, l: &Limits, diags: &mut Diagnostics) {
    let Some(v) = config
        .attr("subnet_ids")
        .filter(|v| v.is_wholly_known() && !v.is_null())
    else {
        return;
    };
    let items = v.as_elements().unwrap_or_default();
    let path = AttributePath::attr("subnet_ids");
    if (items.len() as u64) < l.eks.subnets.min.max(1) {
        err(
            diags,
            path,
            "No subnets",
            "A node group needs at least one subnet: set subnet_ids to the subnets the nodes run in, e.g. [aws_subnet.private_a.id].".into(),
        );
        return;
    }
    for item in items {
        if let Some(id) = item.as_str()
            && let Err(e) = aws::subnet_id(id)
        {
            err(diags, path.clone(), "Invalid subnet ID", format!("{e}."));
        }
    }
}

fn scaling(config: &Value, l: &Limits, diags: &mut Diagnostics) {
    let Some(sc) = config
        .attr("scaling")
        .filter(|v| !v.is_null() && !v.is_unknown())
    else {
        return;
    };
    let max_size = &l.eks.max_size;
    for (k, lo) in [
        ("min_size", 0),
        ("max_size", i64::try_from(max_size.min).unwrap_or(1)),
        ("desired_size", 0),
    ] {
        if let Some(Value::Number(n)) = sc.attr(k) {
            let hi = i64::try_from(max_size.max).unwrap_or(i64::MAX);
            if let Err(e) = number::whole_in_range(n, lo, hi) {
                err(
                    diags,
                    AttributePath::attr("scaling").then_attr(k),
                    &format!("Invalid {k}"),
                    format!("{e}: {k} is a whole number of nodes from {lo} to {hi}."),
                );
            }
        }
    }
}

fn labels(config: &Value, l: &Limits, diags: &mut Diagnostics) {
    let Some(entries) = config
        .attr("labels")
        .filter(|v| !v.is_unknown())
        .and_then(Value::as_entries)
    else {
        return;
    };
    for (k, v) in entries {
        let path = AttributePath::attr("labels").then_key(k);
        let key_check = kubernetes::qualified_name(k, l)
            .and_then(|()| eks_length(k, "label keys", l.eks.label_key.max));
        if let Err(e) = key_check {
            err(diags, path.clone(), "Invalid label key", format!("{e}."));
        }
        if let Some(value) = v.as_str() {
            let value_check = kubernetes::label_value(value, l)
                .and_then(|()| eks_length(value, "label values", l.eks.label_value.max))
                .and_then(|()| {
                    if value.is_empty() && l.eks.label_value.min > 0 {
                        Err("EKS does not accept empty label values; give the label a value".into())
                    } else {
                        Ok(())
                    }
                });
            if let Err(e) = value_check {
                err(diags, path, "Invalid label value", format!("{e}."));
            }
        }
    }
}

/// EKS's own length limits, which are tighter than Kubernetes' for keys
/// with a prefix.
fn eks_length(s: &str, what: &str, max: u64) -> Result<(), String> {
    let n = s.chars().count() as u64;
    if n > max {
        Err(format!(
            "{} is {n} characters long; EKS accepts {what} of at most {max} characters",
            validate::quoted(s)
        ))
    } else {
        Ok(())
    }
}

fn taints(config: &Value, l: &Limits, diags: &mut Diagnostics) {
    let Some(items) = config
        .attr("taints")
        .filter(|v| !v.is_unknown())
        .and_then(Value::as_elements)
    else {
        return;
    };
    let max = l.eks.taints_per_nodegroup.max;
    if items.len() as u64 > max {
        err(
            diags,
            AttributePath::attr("taints"),
            "Too many taints",
            format!(
                "{} taints given; EKS allows at most {max} per node group.",
                items.len()
            ),
        );
    }
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (i, t) in items.iter().enumerate() {
        let path = AttributePath::attr("taints").then_index(i64::try_from(i).unwrap_or(i64::MAX));
        let key = known_str(t, "key");
        let effect = known_str(t, "effect");
        if let Some(k) = key {
            let check = kubernetes::qualified_name(k, l)
                .and_then(|()| eks_length(k, "taint keys", l.eks.taint_key.max));
            if let Err(e) = check {
                err(
                    diags,
                    path.clone().then_attr("key"),
                    "Invalid taint key",
                    format!("{e}."),
                );
            }
        }
        if let Some(v) = known_str(t, "value") {
            let check = kubernetes::label_value(v, l)
                .and_then(|()| eks_length(v, "taint values", l.eks.taint_value.max));
            if let Err(e) = check {
                err(
                    diags,
                    path.clone().then_attr("value"),
                    "Invalid taint value",
                    format!("{e}."),
                );
            }
        }
        if let (Some(k), Some(e)) = (key, effect)
            && let Some(first) = seen.insert((k.to_string(), e.to_string()), i)
        {
            err(
                diags,
                path,
                "Duplicate taint",
                format!(
                    "taints[{first}] and taints[{i}] both have key {} and effect {e}; Kubernetes allows one taint per key and effect. Remove one of them.",
                    validate::quoted(k)
                ),
            );
        }
    }
}

fn tags(config: &Value, l: &Limits, diags: &mut Diagnostics) {
    let Some(entries) = config
        .attr("tags")
        .filter(|v| !v.is_unknown())
        .and_then(Value::as_entries)
    else {
        return;
    };
    for (k, v) in entries {
        let path = AttributePath::attr("tags").then_key(k);
        if let Err(e) = aws::tag_key(k, l) {
            err(diags, path.clone(), "Invalid tag key", format!("{e}."));
        }
        if k.starts_with("nested.dev/") {
            err(
                diags,
                path.clone(),
                "Reserved tag key",
                format!(
                    "{} starts with \"nested.dev/\", which the provider uses to track what it owns; choose another key.",
                    validate::quoted(k)
                ),
            );
        }
        if let Some(value) = v.as_str()
            && let Err(e) = aws::tag_value(value, l)
        {
            err(diags, path, "Invalid tag value", format!("{e}."));
        }
    }
}

/// The tag count, once the provider's `default_tags` are known (plan).
pub fn tag_total(config: &Value, default_tags: &BTreeMap<String, String>, diags: &mut Diagnostics) {
    let Ok(l) = Limits::embedded() else { return };
    let Some(v) = config.attr("tags").filter(|v| v.is_wholly_known()) else {
        return;
    };
    let own: BTreeMap<String, String> = v
        .as_entries()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    if let Err(e) = aws::tag_count(&own, default_tags, BOOKKEEPING_TAGS, l) {
        err(
            diags,
            AttributePath::attr("tags"),
            "Too many tags",
            format!("{e}. Remove some tags or default_tags."),
        );
    }
}

fn instance_types(config: &Value, l: &Limits, diags: &mut Diagnostics) {
    let Some(items) = config
        .attr("instance_types")
        .filter(|v| !v.is_unknown())
        .and_then(Value::as_elements)
    else {
        return;
    };
    if items.is_empty() {
        err(
            diags,
            AttributePath::attr("instance_types"),
            "No instance types",
            "instance_types = [] names no instance type: EKS would pick one, read back after create, and the next plan would replace the node group to get back to []. Remove the attribute to let EKS choose, or name at least one, e.g. [\"m6i.large\"].".into(),
        );
        return;
    }
    let max = l.eks.instance_types.max;
    if items.len() as u64 > max {
        err(
            diags,
            AttributePath::attr("instance_types"),
            "Too many instance types",
            format!(
                "{} instance types given; EKS accepts at most {max}.",
                items.len()
            ),
        );
    }
    let arch = known_str(config, "architecture").unwrap_or("x86_64");
    // An architecture the schema refuses is reported there, not here.
    let arch_known = config
        .attr("architecture")
        .is_none_or(Value::is_wholly_known)
        && crate::capability::Architecture::parse(arch).is_some();
    let mut seen = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        let Some(name) = item.as_str() else { continue };
        let path =
            AttributePath::attr("instance_types").then_index(i64::try_from(i).unwrap_or(i64::MAX));
        match instance_type::parse(name, l) {
            Err(e) => err(diags, path, "Invalid instance type", format!("{e}.")),
            Ok(t) => {
                let its = if t.is_arm64(l) { "arm64" } else { "x86_64" };
                if arch_known && its != arch {
                    err(
                        diags,
                        path.clone(),
                        "Instance type does not match the architecture",
                        format!(
                            "{name} is an {its} instance type (AWS Graviton types carry a \"g\" after the generation, e.g. m7g), but architecture is {arch:?}. Use an {arch} type or set architecture = \"{its}\"."
                        ),
                    );
                }
                if !seen.insert(name) {
                    err(
                        diags,
                        path,
                        "Duplicate instance type",
                        format!("{name} is listed twice."),
                    );
                }
            }
        }
    }
}

fn timeouts(config: &Value, diags: &mut Diagnostics) {
    let Some(t) = config
        .attr("timeouts")
        .filter(|v| !v.is_null() && !v.is_unknown())
    else {
        return;
    };
    for op in ["create", "update", "delete"] {
        if let Some(text) = known_str(t, op)
            && let Err(e) = duration::parse(text)
        {
            err(
                diags,
                AttributePath::attr("timeouts").then_attr(op),
                "Invalid timeout",
                format!("{e}."),
            );
        }
    }
}

mod rollout;
mod template;

#[cfg(test)]
mod tests;
