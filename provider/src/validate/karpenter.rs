//! Karpenter v1 field formats, as the NodePool CRD validates them
//! (kubernetes-sigs/karpenter:pkg/apis/v1/nodepool.go): `expireAfter` and
//! `consolidateAfter` match `^(([0-9]+(s|m|h))+|Never)$`, a budget's
//! `nodes` matches `^((100|[0-9]{1,2})%|[0-9]+)$`. The label keys a
//! NodePool may carry and the values its requirements can match are rows of
//! `schemas/karpenter.toml` ([`NodePoolRules`]).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::quoted;

/// The NodePool rows of `schemas/karpenter.toml`: which template label keys
/// the NodePool CRD and Karpenter refuse, and the values a requirement can
/// match.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodePoolRules {
    pub labels: LabelRules,
    pub requirement: Vec<RequirementRow>,
    pub selector_tags: SelectorTagRules,
    pub api: ApiRow,
}

/// The tags of a node class's subnet and security group selector terms.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectorTagRules {
    pub max_tags: usize,
    /// The value that selects every value of a key.
    pub wildcard: String,
    /// What the wildcard matches, for messages.
    pub wildcard_note: String,
    /// Why an empty key or value is refused.
    pub empty_refused: String,
    pub sources: Vec<String>,
}

/// `spec.template.metadata.labels`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelRules {
    pub max_labels: usize,
    /// Keys refused by name.
    pub restricted_keys: Vec<String>,
    /// Domains (and their subdomains) refused unless a key is allowed by
    /// name or its domain ends in an exception.
    pub restricted_domains: Vec<String>,
    /// Restricted only on self-managed Karpenter (its provider's domain).
    pub karpenter_restricted_domains: Vec<String>,
    pub domain_exceptions: Vec<String>,
    pub allowed_keys: Vec<String>,
    pub sources: Vec<String>,
}

/// The values one requirement of the pool (`requirements.<attribute>`) can
/// match; `values` empty: any value of the right form.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequirementRow {
    pub attribute: String,
    pub key: String,
    #[serde(default)]
    pub values: Vec<String>,
    /// Other spellings users bring (EC2's, EKS's) and the value they mean.
    #[serde(default)]
    pub spellings: BTreeMap<String, String>,
    pub sources: Vec<String>,
}

/// The Karpenter APIs the manifests are written for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiRow {
    /// The first Karpenter release that serves them.
    pub first_version: String,
    pub sources: Vec<String>,
}

/// The domain of a label key (`karpenter.sh` of `karpenter.sh/nodepool`),
/// empty without a prefix (Karpenter's `GetLabelDomain`).
fn domain(key: &str) -> &str {
    key.split_once('/').map_or("", |(d, _)| d)
}

impl LabelRules {
    /// Whether the NodePool CRD (and Karpenter) accept `key` as a template
    /// label; `self_managed`: Karpenter's AWS provider's domain counts too.
    pub fn check_key(&self, key: &str, self_managed: bool) -> Result<(), String> {
        let shown = quoted(key);
        if self.restricted_keys.iter().any(|k| k == key) {
            return Err(format!(
                "{shown} is restricted: Karpenter sets it on every node itself, and the NodePool CRD refuses it in the template's labels; use a label of your own domain, e.g. \"example.com/pool\""
            ));
        }
        if self.allowed_keys.iter().any(|k| k == key) {
            return Ok(());
        }
        let d = domain(key);
        if self
            .domain_exceptions
            .iter()
            .any(|e| d.ends_with(e.as_str()))
        {
            return Ok(());
        }
        let extra: &[String] = if self_managed {
            &self.karpenter_restricted_domains
        } else {
            &[]
        };
        if let Some(r) = self
            .restricted_domains
            .iter()
            .chain(extra)
            .find(|r| d.ends_with(r.as_str()))
        {
            return Err(format!(
                "{shown} is in the label domain {r:?}, which the NodePool CRD restricts (the kubelet or Karpenter own it); use a label of your own domain, e.g. \"example.com/{}\"",
                key.rsplit('/').next().unwrap_or(key)
            ));
        }
        Ok(())
    }
}

impl RequirementRow {
    /// Whether `value` is one this requirement can match; the error names
    /// the value meant where it is a known other spelling or a case slip.
    pub fn check_value(&self, value: &str) -> Result<(), String> {
        let shown = quoted(value);
        if value.is_empty() {
            return Err(format!(
                "an empty {} matches no node, so the NodePool would launch nothing; remove it or name one, e.g. {:?}",
                self.key,
                self.values.first().map_or("m7i", String::as_str)
            ));
        }
        if self.values.is_empty() || self.values.iter().any(|v| v == value) {
            return Ok(());
        }
        let meant = self.spellings.get(value).cloned().or_else(|| {
            let folded = value.to_ascii_lowercase().replace('_', "-");
            self.values.iter().find(|v| **v == folded).cloned()
        });
        let list = self
            .values
            .iter()
            .map(|v| format!("\"{v}\""))
            .collect::<Vec<_>>()
            .join(", ");
        Err(match meant {
            Some(m) => format!(
                "{shown} matches no node: Karpenter's {} is {m:?}; write {m:?}",
                self.key
            ),
            None => format!("{shown} matches no node: {} is one of {list}", self.key),
        })
    }
}

/// The seconds of a Karpenter duration (`720h`, `1h30m`), `None` for
/// `Never`; an error says what the CRD accepts.
pub fn duration_seconds(text: &str) -> Result<Option<u64>, String> {
    if text == "Never" {
        return Ok(None);
    }
    let bad = || {
        format!(
            "{} is not a Karpenter duration: whole numbers with s, m or h (e.g. \"720h\", \"1h30m\") or \"Never\"",
            super::quoted(text)
        )
    };
    if text.is_empty() {
        return Err(bad());
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return Err(bad()),
        };
        let n: u64 = digits.parse().map_err(|_| bad())?;
        total = total.saturating_add(n.saturating_mul(unit));
        digits.clear();
    }
    if digits.is_empty() {
        Ok(Some(total))
    } else {
        Err(bad())
    }
}

/// A disruption budget's `nodes`: a percentage up to 100% or a count.
pub fn budget_nodes(text: &str) -> Result<(), String> {
    let ok = match text.strip_suffix('%') {
        Some(p) => {
            (1..=3).contains(&p.len())
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() < 3 || p == "100")
        }
        None => !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not a budget: a percentage such as \"10%\" (at most 100%) or a node count such as \"1\"",
            super::quoted(text)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> LabelRules {
        LabelRules {
            max_labels: 100,
            restricted_keys: vec![
                "karpenter.sh/nodepool".into(),
                "kubernetes.io/hostname".into(),
            ],
            restricted_domains: vec![
                "kubernetes.io".into(),
                "k8s.io".into(),
                "karpenter.sh".into(),
            ],
            karpenter_restricted_domains: vec!["karpenter.k8s.aws".into()],
            domain_exceptions: vec!["node.kubernetes.io".into(), "kops.k8s.io".into()],
            allowed_keys: vec![
                "kubernetes.io/arch".into(),
                "karpenter.sh/capacity-type".into(),
            ],
            sources: vec!["test".into()],
        }
    }

    #[test]
    fn label_keys_follow_the_crd_rules() {
        let r = rules();
        for ok in [
            "team",
            "example.com/pool",
            "kubernetes.io/arch",
            "node.kubernetes.io/role",
            "x.kops.k8s.io/a",
            "karpenter.k8s.aws/x",
        ] {
            assert!(r.check_key(ok, false).is_ok(), "{ok}");
        }
        for bad in [
            "karpenter.sh/nodepool",
            "kubernetes.io/hostname",
            "kubernetes.io/zone",
            "foo.k8s.io/x",
            "karpenter.sh/other",
        ] {
            assert!(r.check_key(bad, true).is_err(), "{bad}");
        }
        assert!(r.check_key("karpenter.k8s.aws/x", true).is_err());
    }

    #[test]
    fn requirement_values_name_the_spelling_meant() {
        let arch = RequirementRow {
            attribute: "architectures".into(),
            key: "kubernetes.io/arch".into(),
            values: vec!["amd64".into(), "arm64".into()],
            spellings: BTreeMap::from([("x86_64".to_string(), "amd64".to_string())]),
            sources: vec!["test".into()],
        };
        assert!(arch.check_value("arm64").is_ok());
        assert!(
            arch.check_value("x86_64")
                .unwrap_err()
                .contains("write \"amd64\"")
        );
        assert!(
            arch.check_value("ARM64")
                .unwrap_err()
                .contains("write \"arm64\"")
        );
        assert!(
            arch.check_value("")
                .unwrap_err()
                .contains("matches no node")
        );
        assert!(
            arch.check_value("sparc")
                .unwrap_err()
                .contains("\"amd64\", \"arm64\"")
        );
    }

    #[test]
    fn durations_follow_the_crd_pattern() {
        assert_eq!(duration_seconds("720h"), Ok(Some(720 * 3600)));
        assert_eq!(duration_seconds("1h30m"), Ok(Some(5400)));
        assert_eq!(duration_seconds("0s"), Ok(Some(0)));
        assert_eq!(duration_seconds("Never"), Ok(None));
        for bad in ["", "1.5h", "10", "h", "5d", "-1h", "500ms", "never"] {
            assert!(duration_seconds(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn budgets_follow_the_crd_pattern() {
        for ok in ["10%", "100%", "0%", "1", "25"] {
            assert!(budget_nodes(ok).is_ok(), "{ok:?}");
        }
        for bad in ["101%", "1000%", "%", "", "ten", "1.5"] {
            assert!(budget_nodes(bad).is_err(), "{bad:?}");
        }
    }
}
