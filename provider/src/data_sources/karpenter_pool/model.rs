//! The typed model of a `nested_karpenter_pool` configuration.

use crate::framework::{Attr, Diagnostics, List, Map, Model, Number, Value};
use crate::outputs::{DecisionDetails, DecisionOutputs};

use super::schema::schema;

crate::model! {
    /// A `nested_karpenter_pool` configuration and its answer.
    pub struct PoolModel {
        sandbox: Attr<String>,
        mode: Attr<String>,
        name: Attr<String>,
        cluster_name: Attr<String>,
        kubernetes_version: Attr<String>,
        ami_family: Attr<String>,
        ami_version: Attr<String>,
        karpenter_version: Attr<String>,
        role: Attr<String>,
        subnet_selector_tags: Attr<Map<String>>,
        security_group_selector_tags: Attr<Map<String>>,
        requirements: Attr<RequirementsModel>,
        labels: Attr<Map<String>>,
        taints: Attr<List<TaintModel>>,
        disruption: Attr<DisruptionModel>,
        expire_after: Attr<String>,
        run_as_root: Attr<bool>,
        ids_per_pod: Attr<Number>,
        imds_hop_limit: Attr<Number>,
        bootstrap_extra_settings: Attr<String>,
        allow_privileged_sysctl_daemonset: Attr<bool>,
        sysctl_daemonset_image: Attr<String>,
        probe_image: Attr<String>,
        probe_namespace: Attr<String>,
        node_class_manifest: Attr<String>,
        node_pool_manifest: Attr<String>,
        sysctl_daemonset_manifest: Attr<String>,
        ami_alias: Attr<String>,
        kernel_version: Attr<String>,
        user_data: Attr<String>,
        karpenter_merged_user_data: Attr<String>,
        probe_manifest: Attr<String>,
    }
    embeds {
        decision: DecisionOutputs,
        details: DecisionDetails,
    }
}

crate::model! {
    /// NodePool requirements.
    pub struct RequirementsModel {
        instance_families: Attr<List<String>>,
        capacity_types: Attr<List<String>>,
        architectures: Attr<List<String>>,
    }
}

crate::model! {
    /// One NodePool taint.
    pub struct TaintModel {
        key: Attr<String>,
        value: Attr<String>,
        effect: Attr<String>,
    }
}

crate::model! {
    /// The NodePool's disruption settings.
    pub struct DisruptionModel {
        consolidation_policy: Attr<String>,
        consolidate_after: Attr<String>,
        budget_nodes: Attr<String>,
    }
}

/// The model of a configuration with the schema's defaults filled in.
pub(super) fn model_of(config: &Value) -> Result<PoolModel, Diagnostics> {
    let mut v = config.clone();
    crate::framework::schema::apply_defaults(&schema().block.attributes, &mut v);
    PoolModel::from_value(&v)
}

/// The known strings of a list attribute.
pub(super) fn strings(a: &Attr<List<String>>) -> Vec<String> {
    a.known()
        .map(|l| l.iter().filter_map(|s| s.known().cloned()).collect())
        .unwrap_or_default()
}

/// The known entries of a map attribute.
pub(super) fn string_map(a: &Attr<Map<String>>) -> std::collections::BTreeMap<String, String> {
    a.known()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.known().map(|v| (k.clone(), v.clone())))
                .collect()
        })
        .unwrap_or_default()
}
