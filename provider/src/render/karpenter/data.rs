//! The Karpenter and EKS Auto Mode rows (`schemas/karpenter.toml`), parsed
//! and checked once: every row has a source, every version parses.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::capability::Version;

const EMBEDDED: &str = include_str!("../../../../schemas/karpenter.toml");

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KarpenterDataError {
    #[error("schemas/karpenter.toml does not parse: {0}")]
    Parse(String),
    #[error("schemas/karpenter.toml {row}: {problem}")]
    Row { row: String, problem: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypedKeys {
    pub since: String,
    pub keys: Vec<String>,
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeRow {
    pub keys: Vec<String>,
    pub effect: String,
    #[serde(default)]
    pub when: Option<String>,
    pub instead: String,
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnregisteredTaint {
    pub key: String,
    pub effect: String,
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Al2023Rule {
    pub rule: String,
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AliasRow {
    pub families: BTreeMap<String, String>,
    pub version_pattern: BTreeMap<String, String>,
    pub latest_warning: String,
    pub upgrade_warning: String,
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    pub imds_hop_limit: u8,
    pub imds_hop_limit_note: String,
    pub bottlerocket_block_devices: BTreeMap<String, String>,
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoMode {
    /// The image family of Auto Mode's nodes.
    pub family: String,
    pub max_expire_after_hours: u32,
    pub selinux: String,
    pub user_data: bool,
    pub ami_choice: bool,
    pub kubelet_block: bool,
    pub sysctls: bool,
    pub max_user_namespaces: u64,
    pub workaround_sandboxes: Vec<String>,
    pub refusal: String,
    pub workaround: String,
    pub workaround_warning: String,
    pub selinux_warning: String,
    pub sources: Vec<String>,
}

/// Every row of `schemas/karpenter.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KarpenterData {
    pub typed_kubernetes_keys: Vec<TypedKeys>,
    pub bottlerocket_merge: Vec<MergeRow>,
    pub unregistered_taint: UnregisteredTaint,
    pub al2023_merge: Vec<Al2023Rule>,
    pub alias: AliasRow,
    pub defaults: Defaults,
    pub auto_mode: AutoMode,
    /// Label keys and requirement values a NodePool can carry.
    pub node_pool: crate::validate::karpenter::NodePoolRules,
}

fn version(row: &str, text: &str) -> Result<Version, KarpenterDataError> {
    text.parse().map_err(|_| KarpenterDataError::Row {
        row: row.into(),
        problem: format!("{text:?} is not a version"),
    })
}

impl KarpenterData {
    pub fn parse(text: &str) -> Result<Self, KarpenterDataError> {
        let data: Self =
            toml::from_str(text).map_err(|e| KarpenterDataError::Parse(e.to_string()))?;
        data.check()?;
        Ok(data)
    }

    /// The embedded rows, parsed once.
    pub fn embedded() -> Result<&'static Self, KarpenterDataError> {
        static DATA: OnceLock<Result<KarpenterData, KarpenterDataError>> = OnceLock::new();
        DATA.get_or_init(|| Self::parse(EMBEDDED))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Every row's sources, labelled (for the source check and `reasons`).
    pub fn rows(&self) -> Vec<(String, &[String])> {
        let mut rows: Vec<(String, &[String])> = Vec::new();
        for r in &self.typed_kubernetes_keys {
            rows.push((
                format!("typed_kubernetes_keys since {}", r.since),
                &r.sources,
            ));
        }
        for r in &self.bottlerocket_merge {
            rows.push((
                format!("bottlerocket_merge {}", r.keys.join(",")),
                &r.sources,
            ));
        }
        rows.push((
            "unregistered_taint".into(),
            &self.unregistered_taint.sources,
        ));
        for r in &self.al2023_merge {
            rows.push(("al2023_merge".into(), &r.sources));
        }
        rows.push(("alias".into(), &self.alias.sources));
        rows.push(("defaults".into(), &self.defaults.sources));
        rows.push(("auto_mode".into(), &self.auto_mode.sources));
        rows.push(("node_pool.labels".into(), &self.node_pool.labels.sources));
        for r in &self.node_pool.requirement {
            rows.push((format!("node_pool.requirement {}", r.attribute), &r.sources));
        }
        rows.push((
            "node_pool.selector_tags".into(),
            &self.node_pool.selector_tags.sources,
        ));
        rows.push(("node_pool.api".into(), &self.node_pool.api.sources));
        rows
    }

    fn check(&self) -> Result<(), KarpenterDataError> {
        for (row, sources) in self.rows() {
            if sources.is_empty() || sources.iter().any(|s| s.trim().is_empty()) {
                return Err(KarpenterDataError::Row {
                    row,
                    problem: "has no source".into(),
                });
            }
        }
        for r in &self.typed_kubernetes_keys {
            version("typed_kubernetes_keys", &r.since)?;
        }
        version("node_pool.api", &self.node_pool.api.first_version)?;
        if crate::capability::AmiFamily::parse(&self.auto_mode.family).is_none() {
            return Err(KarpenterDataError::Row {
                row: "auto_mode".into(),
                problem: format!("family {:?} is not an AMI family", self.auto_mode.family),
            });
        }
        for r in &self.bottlerocket_merge {
            if !["overridden", "merged", "replaced", "kept", "dropped"].contains(&r.effect.as_str())
            {
                return Err(KarpenterDataError::Row {
                    row: "bottlerocket_merge".into(),
                    problem: format!("unknown effect {:?}", r.effect),
                });
            }
        }
        Ok(())
    }

    /// Whether Karpenter `karpenter` keeps `settings.kubernetes.<key>`.
    pub fn typed_key(&self, key: &str, karpenter: Version) -> bool {
        self.typed_kubernetes_keys.iter().any(|r| {
            r.keys.iter().any(|k| k == key)
                && r.since.parse::<Version>().is_ok_and(|s| s <= karpenter)
        })
    }

    /// The first Karpenter release that keeps `settings.kubernetes.<key>`.
    pub fn typed_since(&self, key: &str) -> Option<&str> {
        self.typed_kubernetes_keys
            .iter()
            .find(|r| r.keys.iter().any(|k| k == key))
            .map(|r| r.since.as_str())
    }

    /// The merge row for a settings path (`settings.kubernetes.node-taints`),
    /// given whether Karpenter's struct has the key.
    pub fn merge_rule(&self, path: &str, typed: bool) -> Option<&MergeRow> {
        let exact = self
            .bottlerocket_merge
            .iter()
            .find(|r| r.keys.iter().any(|k| k == path));
        if exact.is_some() {
            return exact;
        }
        let wildcard = if path.starts_with("settings.kubernetes.") {
            if typed {
                return None;
            }
            "settings.kubernetes.*"
        } else {
            "settings.*"
        };
        self.bottlerocket_merge
            .iter()
            .find(|r| r.keys.iter().any(|k| k == wildcard))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_rows_parse_and_each_has_a_source() {
        let d = KarpenterData::embedded().unwrap();
        assert!(d.rows().len() >= 15);
        let v = |s: &str| s.parse::<Version>().unwrap();
        assert!(d.typed_key("ids-per-pod", v("1.9.0")));
        assert!(!d.typed_key("ids-per-pod", v("1.8.3")));
        assert!(d.typed_key("seccomp-default", v("1.0.0")));
        assert!(!d.typed_key("no-such-key", v("9.0")));
        assert_eq!(
            d.merge_rule("settings.kubernetes.node-taints", true)
                .map(|r| r.effect.as_str()),
            Some("replaced")
        );
        assert_eq!(
            d.merge_rule("settings.kernel.sysctl", false)
                .map(|r| r.effect.as_str()),
            Some("kept")
        );
        assert_eq!(
            d.merge_rule("settings.kubernetes.unknown", false)
                .map(|r| r.effect.as_str()),
            Some("dropped")
        );
    }

    #[test]
    fn a_row_without_a_source_or_with_a_bad_version_is_refused() {
        let no_source = EMBEDDED.replacen(
            "sources = [\"aws/karpenter-provider-aws:pkg/providers/amifamily/bootstrap/bottlerocketsettings.go@v1.2.2\"]",
            "sources = []",
            1,
        );
        assert_ne!(no_source, EMBEDDED);
        assert!(matches!(
            KarpenterData::parse(&no_source),
            Err(KarpenterDataError::Row { .. })
        ));
        let bad = EMBEDDED.replacen("since = \"1.5.0\"", "since = \"five\"", 1);
        assert!(matches!(
            KarpenterData::parse(&bad),
            Err(KarpenterDataError::Row { .. })
        ));
    }
}
