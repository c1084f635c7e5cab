//! What Karpenter makes of a Bottlerocket EC2NodeClass `userData`: the
//! rows of `schemas/karpenter.toml` applied to a document, so the plan can
//! say which keys survive, which are dropped and which Karpenter writes.

use std::collections::BTreeMap;

use crate::capability::Version;
use crate::render::Taint;

use super::data::KarpenterData;

/// Karpenter's view of one document.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// The TOML the node gets (cluster endpoint and CA as placeholders).
    pub toml: String,
    /// `settings.kubernetes.<key>` paths Karpenter drops.
    pub dropped: Vec<String>,
    /// Paths Karpenter writes over (or replaces) with its own values.
    pub overridden: Vec<String>,
}

/// What Karpenter fills in from the NodePool and its own settings.
pub struct KarpenterSide<'a> {
    pub version: Version,
    pub cluster_name: &'a str,
    pub labels: &'a BTreeMap<String, String>,
    /// The NodePool's taints and startup taints.
    pub taints: &'a [Taint],
}

/// Placeholder for the values Karpenter discovers itself.
pub const ENDPOINT_PLACEHOLDER: &str = "(the cluster endpoint, set by Karpenter)";
pub const CA_PLACEHOLDER: &str = "(the cluster CA, set by Karpenter)";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the Bottlerocket user data is not TOML Karpenter can read: {0}")]
pub struct MergeError(String);

/// Apply Karpenter's merge to `user_data`.
pub fn karpenter_merge(
    data: &KarpenterData,
    user_data: &str,
    side: &KarpenterSide<'_>,
) -> Result<Merged, MergeError> {
    let mut doc: toml::Table = toml::from_str(user_data).map_err(|e| MergeError(e.to_string()))?;
    let mut dropped = Vec::new();
    let mut overridden = Vec::new();
    let settings = doc
        .entry("settings")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let toml::Value::Table(settings) = settings else {
        return Err(MergeError("settings is not a table".into()));
    };
    let kubernetes = settings
        .entry("kubernetes")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let toml::Value::Table(k) = kubernetes else {
        return Err(MergeError("settings.kubernetes is not a table".into()));
    };
    let keys: Vec<String> = k.keys().cloned().collect();
    for key in keys {
        if !data.typed_key(&key, side.version) {
            k.remove(&key);
            dropped.push(format!("settings.kubernetes.{key}"));
        }
    }
    // What Karpenter writes whatever the user said: the cluster keys get
    // its values (placeholders for what it discovers), other keys (max-pods:
    // the instance type's pod capacity) are per node, so the view has none.
    for row in data
        .bottlerocket_merge
        .iter()
        .filter(|r| r.effect == "overridden" && r.when.is_none())
    {
        for path in &row.keys {
            let Some(key) = path.strip_prefix("settings.kubernetes.") else {
                continue;
            };
            let before = match key {
                "cluster-name" => k.insert(key.into(), side.cluster_name.into()),
                "api-server" => k.insert(key.into(), ENDPOINT_PLACEHOLDER.into()),
                "cluster-certificate" => k.insert(key.into(), CA_PLACEHOLDER.into()),
                _ => k.remove(key),
            };
            if before.is_some() {
                overridden.push(path.clone());
            }
        }
    }
    if !side.labels.is_empty() {
        let labels = k
            .entry("node-labels")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(labels) = labels {
            for (key, v) in side.labels {
                let before = labels.insert(key.clone(), toml::Value::String(v.clone()));
                if before.is_some_and(|b| b.as_str() != Some(v)) {
                    overridden.push(format!("settings.kubernetes.node-labels.{key}"));
                }
            }
        }
    }
    if k.contains_key("node-taints") {
        overridden.push("settings.kubernetes.node-taints".into());
    }
    let mut taints = toml::Table::new();
    let unregistered = Taint {
        key: data.unregistered_taint.key.clone(),
        value: String::new(),
        effect: data.unregistered_taint.effect.clone(),
    };
    for t in side.taints.iter().chain(std::iter::once(&unregistered)) {
        let entry = taints
            .entry(t.key.clone())
            .or_insert_with(|| toml::Value::Array(Vec::new()));
        if let toml::Value::Array(list) = entry {
            list.push(toml::Value::String(format!("{}:{}", t.value, t.effect)));
        }
    }
    k.insert("node-taints".into(), toml::Value::Table(taints));
    let toml = toml::to_string(&doc).map_err(|e| MergeError(e.to_string()))?;
    Ok(Merged {
        toml,
        dropped,
        overridden,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side<'a>(
        labels: &'a BTreeMap<String, String>,
        taints: &'a [Taint],
        v: &str,
    ) -> KarpenterSide<'a> {
        KarpenterSide {
            version: v.parse().unwrap(),
            cluster_name: "demo",
            labels,
            taints,
        }
    }

    #[test]
    fn unknown_kubernetes_keys_are_dropped_and_other_tables_pass_through() {
        let data = KarpenterData::embedded().unwrap();
        let labels = BTreeMap::from([("nested.dev/sandbox".to_string(), "podman".to_string())]);
        let taints = vec![Taint {
            key: "nested.dev/sandbox".into(),
            value: "podman".into(),
            effect: "NoSchedule".into(),
        }];
        let doc = "[settings.kubernetes]\nids-per-pod = 131072\nnot-a-key = 1\n[settings.kubernetes.node-taints]\nold = [\"x:NoSchedule\"]\n[settings.kernel.sysctl]\n\"user.max_user_namespaces\" = \"65536\"\n";
        let old = karpenter_merge(data, doc, &side(&labels, &taints, "1.8.0")).unwrap();
        assert!(
            old.dropped
                .contains(&"settings.kubernetes.ids-per-pod".to_string())
        );
        assert!(
            old.dropped
                .contains(&"settings.kubernetes.not-a-key".to_string())
        );
        let new = karpenter_merge(data, doc, &side(&labels, &taints, "1.9.0")).unwrap();
        assert_eq!(
            new.dropped,
            vec!["settings.kubernetes.not-a-key".to_string()]
        );
        assert!(
            new.overridden
                .contains(&"settings.kubernetes.node-taints".to_string())
        );
        let t: toml::Table = toml::from_str(&new.toml).unwrap();
        assert_eq!(
            t["settings"]["kubernetes"]["ids-per-pod"].as_integer(),
            Some(131072)
        );
        assert_eq!(
            t["settings"]["kernel"]["sysctl"]["user.max_user_namespaces"].as_str(),
            Some("65536")
        );
        assert_eq!(
            t["settings"]["kubernetes"]["node-taints"]["nested.dev/sandbox"][0].as_str(),
            Some("podman:NoSchedule")
        );
        assert!(
            t["settings"]["kubernetes"]["node-taints"]
                .get("old")
                .is_none()
        );
    }
}
