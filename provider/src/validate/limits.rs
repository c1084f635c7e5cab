//! The API limits the provider checks at plan (`schemas/limits.toml`),
//! parsed once per process. Every limit cites its source; a test rejects a
//! limit without one.

use std::sync::OnceLock;

use serde::Deserialize;

const LIMITS_TOML: &str = include_str!("../../../schemas/limits.toml");

/// One limit: an upper bound (and, where it matters, a lower one).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    #[serde(default)]
    pub min: u64,
    pub max: u64,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EksLimits {
    pub cluster_name: Limit,
    pub nodegroup_name: Limit,
    pub tags_per_resource: Limit,
    pub tag_key: Limit,
    pub tag_value: Limit,
    pub label_key: Limit,
    pub label_value: Limit,
    pub taints_per_nodegroup: Limit,
    pub taint_key: Limit,
    pub taint_value: Limit,
    pub max_size: Limit,
    pub instance_types: Limit,
    pub subnets: Limit,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ec2Limits {
    pub user_data_bytes: Limit,
    pub launch_template_name: Limit,
    pub client_token: Limit,
    /// Instance type naming: the attribute letter meaning AWS Graviton
    /// (arm64), and the sizes that exist.
    pub graviton_attribute: String,
    pub graviton_families: Vec<String>,
    pub sizes: Vec<String>,
    pub instance_type_source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubernetesLimits {
    pub label_name: Limit,
    pub label_prefix: Limit,
    pub label_value: Limit,
    pub dns_label: Limit,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KmsLimits {
    pub key_id: Limit,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IamLimits {
    pub role_name: Limit,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinuxLimits {
    pub max_user_namespaces: Limit,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub eks: EksLimits,
    pub ec2: Ec2Limits,
    pub kubernetes: KubernetesLimits,
    pub kms: KmsLimits,
    pub iam: IamLimits,
    pub linux: LinuxLimits,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("schemas/limits.toml: {0}")]
pub struct LimitsError(String);

impl Limits {
    pub fn parse(text: &str) -> Result<Limits, LimitsError> {
        let limits: Limits = toml::from_str(text).map_err(|e| LimitsError(e.to_string()))?;
        if let Some(name) = limits.unsourced().first() {
            return Err(LimitsError(format!("{name} has no source")));
        }
        Ok(limits)
    }

    /// The embedded limits, parsed on first use.
    pub fn embedded() -> Result<&'static Limits, LimitsError> {
        static PARSED: OnceLock<Result<Limits, LimitsError>> = OnceLock::new();
        PARSED
            .get_or_init(|| Limits::parse(LIMITS_TOML))
            .as_ref()
            .map_err(Clone::clone)
    }

    fn all(&self) -> Vec<(&'static str, &Limit)> {
        let e = &self.eks;
        vec![
            ("eks.cluster_name", &e.cluster_name),
            ("eks.nodegroup_name", &e.nodegroup_name),
            ("eks.tags_per_resource", &e.tags_per_resource),
            ("eks.tag_key", &e.tag_key),
            ("eks.tag_value", &e.tag_value),
            ("eks.label_key", &e.label_key),
            ("eks.label_value", &e.label_value),
            ("eks.taints_per_nodegroup", &e.taints_per_nodegroup),
            ("eks.taint_key", &e.taint_key),
            ("eks.taint_value", &e.taint_value),
            ("eks.max_size", &e.max_size),
            ("eks.instance_types", &e.instance_types),
            ("eks.subnets", &e.subnets),
            ("ec2.user_data_bytes", &self.ec2.user_data_bytes),
            ("ec2.launch_template_name", &self.ec2.launch_template_name),
            ("ec2.client_token", &self.ec2.client_token),
            ("kubernetes.label_name", &self.kubernetes.label_name),
            ("kubernetes.label_prefix", &self.kubernetes.label_prefix),
            ("kubernetes.label_value", &self.kubernetes.label_value),
            ("kubernetes.dns_label", &self.kubernetes.dns_label),
            ("kms.key_id", &self.kms.key_id),
            ("iam.role_name", &self.iam.role_name),
            ("linux.max_user_namespaces", &self.linux.max_user_namespaces),
        ]
    }

    fn unsourced(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = self
            .all()
            .into_iter()
            .filter(|(_, l)| l.source.trim().is_empty())
            .map(|(n, _)| n)
            .collect();
        if self.ec2.instance_type_source.trim().is_empty() {
            out.push("ec2.instance_type_source");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_limits_parse_and_every_limit_has_a_source() {
        let l = Limits::embedded().unwrap();
        assert!(l.unsourced().is_empty());
        assert!(l.all().iter().all(|(_, x)| x.min <= x.max));
        assert_eq!(l.linux.max_user_namespaces.max, 2_147_483_647);
    }

    #[test]
    fn a_limit_without_a_source_fails_here() {
        let broken = LIMITS_TOML.replacen("source = \"", "source = \" \" # \"", 1);
        assert!(Limits::parse(&broken).is_err());
        assert!(Limits::parse("[eks]\n").is_err());
    }
}
