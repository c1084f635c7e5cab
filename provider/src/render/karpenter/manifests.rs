//! The manifests of a sandbox pool: EC2NodeClass `karpenter.k8s.aws/v1`
//! (or NodeClass `eks.amazonaws.com/v1` on EKS Auto Mode), NodePool
//! `karpenter.sh/v1`, and, on Auto Mode only when asked for, the sysctl
//! DaemonSet. YAML `kubectl apply -f` takes as is.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json, json};

use crate::render::Taint;
use crate::render::yaml::to_yaml;

/// Where the nodes run and how Karpenter manages them.
#[derive(Debug, Clone, Default)]
pub struct Pool {
    pub name: String,
    pub sandbox: String,
    pub auto_mode: bool,
    /// `bottlerocket@v1.52.0` (Karpenter only).
    pub ami_alias: Option<String>,
    pub role: String,
    pub subnet_tags: BTreeMap<String, String>,
    pub security_group_tags: BTreeMap<String, String>,
    pub imds_hop_limit: u8,
    pub user_data: Option<String>,
    pub instance_families: Vec<String>,
    pub capacity_types: Vec<String>,
    pub architectures: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    pub startup_taints: Vec<Taint>,
    pub expire_after: String,
    pub consolidation_policy: String,
    pub consolidate_after: String,
    pub budget_nodes: String,
}

const MANAGED_BY: &str = "terraform-provider-nested";

fn metadata(p: &Pool) -> Json {
    json!({
        "name": p.name,
        "labels": {
            "app.kubernetes.io/managed-by": MANAGED_BY,
            "nested.dev/sandbox": p.sandbox,
        },
    })
}

fn selector(tags: &BTreeMap<String, String>) -> Json {
    json!([{ "tags": tags }])
}

/// Taints as the NodePool takes them. A taint without a value leaves
/// `value` out: Karpenter's CRD gives `value` a pattern that the empty
/// string does not match (`kubectl apply` refuses `value: ""`), while a
/// missing `value` is the Kubernetes spelling of "no value".
fn taints(ts: &[Taint]) -> Json {
    Json::Array(
        ts.iter()
            .map(|t| {
                let mut m = Map::new();
                m.insert("key".into(), json!(t.key));
                if !t.value.is_empty() {
                    m.insert("value".into(), json!(t.value));
                }
                m.insert("effect".into(), json!(t.effect));
                Json::Object(m)
            })
            .collect(),
    )
}

/// The EC2NodeClass (Karpenter) or NodeClass (Auto Mode).
pub fn node_class(p: &Pool) -> String {
    let mut spec = Map::new();
    if !p.auto_mode {
        let alias = p.ami_alias.clone().unwrap_or_default();
        spec.insert("amiSelectorTerms".into(), json!([{ "alias": alias }]));
    }
    spec.insert("role".into(), json!(p.role));
    spec.insert("subnetSelectorTerms".into(), selector(&p.subnet_tags));
    spec.insert(
        "securityGroupSelectorTerms".into(),
        selector(&p.security_group_tags),
    );
    if !p.auto_mode {
        spec.insert(
            "metadataOptions".into(),
            json!({
                "httpEndpoint": "enabled",
                "httpProtocolIPv6": "disabled",
                "httpPutResponseHopLimit": p.imds_hop_limit,
                "httpTokens": "required",
            }),
        );
        if let Some(u) = &p.user_data {
            spec.insert("userData".into(), json!(u));
        }
    }
    let (api, kind) = if p.auto_mode {
        ("eks.amazonaws.com/v1", "NodeClass")
    } else {
        ("karpenter.k8s.aws/v1", "EC2NodeClass")
    };
    to_yaml(&json!({
        "apiVersion": api,
        "kind": kind,
        "metadata": metadata(p),
        "spec": spec,
    }))
}

fn requirement(key: &str, values: &[String]) -> Option<Json> {
    (!values.is_empty()).then(|| json!({ "key": key, "operator": "In", "values": values }))
}

/// The NodePool.
pub fn node_pool(p: &Pool) -> String {
    let (group, kind, family_key) = if p.auto_mode {
        (
            "eks.amazonaws.com",
            "NodeClass",
            "eks.amazonaws.com/instance-family",
        )
    } else {
        (
            "karpenter.k8s.aws",
            "EC2NodeClass",
            "karpenter.k8s.aws/instance-family",
        )
    };
    let requirements: Vec<Json> = [
        requirement("kubernetes.io/arch", &p.architectures),
        requirement("karpenter.sh/capacity-type", &p.capacity_types),
        requirement(family_key, &p.instance_families),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut template_spec = Map::new();
    template_spec.insert(
        "nodeClassRef".into(),
        json!({ "group": group, "kind": kind, "name": p.name }),
    );
    template_spec.insert("requirements".into(), Json::Array(requirements));
    if !p.taints.is_empty() {
        template_spec.insert("taints".into(), taints(&p.taints));
    }
    if !p.startup_taints.is_empty() {
        template_spec.insert("startupTaints".into(), taints(&p.startup_taints));
    }
    template_spec.insert("expireAfter".into(), json!(p.expire_after));
    to_yaml(&json!({
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodePool",
        "metadata": metadata(p),
        "spec": {
            "template": {
                "metadata": { "labels": p.labels },
                "spec": template_spec,
            },
            "disruption": {
                "consolidationPolicy": p.consolidation_policy,
                "consolidateAfter": p.consolidate_after,
                "budgets": [{ "nodes": p.budget_nodes }],
            },
        },
    }))
}

/// The Auto Mode work-around: a privileged DaemonSet on the pool's nodes
/// that sets the sysctls, then removes the startup taint (with the
/// ServiceAccount and RBAC it needs for that).
pub fn sysctl_daemonset(
    p: &Pool,
    sysctls: &BTreeMap<String, String>,
    image: &str,
    namespace: &str,
) -> String {
    crate::render::node_prep::daemonset(&crate::render::node_prep::NodePrep {
        name: &format!("{}-sysctl", p.name),
        node_selector: &BTreeMap::from([("karpenter.sh/nodepool".to_string(), p.name.clone())]),
        taints: &p.taints,
        startup_taints: &p.startup_taints,
        sysctls,
        image,
        namespace,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taint(key: &str, value: &str) -> Taint {
        Taint {
            key: key.into(),
            value: value.into(),
            effect: "NoSchedule".into(),
        }
    }

    #[test]
    fn a_taint_without_a_value_has_no_value_key() {
        let p = Pool {
            name: "agents".into(),
            taints: vec![taint("dedicated", ""), taint("team", "a")],
            startup_taints: vec![taint("nested.dev/pending", "")],
            ..Pool::default()
        };
        let yaml = node_pool(&p);
        assert!(!yaml.contains("value: \"\""), "{yaml}");
        assert!(
            yaml.contains("- key: \"dedicated\"\n          effect: \"NoSchedule\"\n"),
            "{yaml}"
        );
        assert!(
            yaml.contains("- key: \"team\"\n          value: \"a\"\n"),
            "{yaml}"
        );
        assert!(
            yaml.contains("- key: \"nested.dev/pending\"\n          effect: \"NoSchedule\"\n"),
            "{yaml}"
        );
    }
}
