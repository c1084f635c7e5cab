//! The provider configuration (`provider "nested"`): its validated form,
//! and the runtime every resource and data source receives.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::aws::{AwsClients, AwsError, Settings};
use crate::framework::{Attr, AttributePath, Diagnostics, Map, Model, Number, Value};

/// Services whose endpoint can be overridden.
pub const ENDPOINT_SERVICES: [&str; 4] = ["eks", "ec2", "ssm", "sts"];
/// Upper bound of `max_retries`. Every call also has a deadline
/// ([`crate::aws::OPERATION_TIMEOUT`]), so retries never keep a plan waiting
/// past it.
pub const MAX_RETRIES_LIMIT: i64 = 25;

/// The provider configuration after validation. Values Terraform did not
/// know yet at plan time are `None` and flagged in `unknown`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderConfig {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoints: BTreeMap<String, String>,
    pub offline: bool,
    pub default_tags: BTreeMap<String, String>,
    pub max_retries: Option<u32>,
    /// Some configuration value was unknown (plan before apply).
    pub unknown: bool,
}

/// What every resource and data source gets after ConfigureProvider: the
/// configuration, and AWS clients built on first use (so plans that never
/// touch AWS never load credentials).
pub struct ProviderRuntime {
    pub config: ProviderConfig,
    /// Unique per ConfigureProvider in this process: what one Terraform
    /// walk (plan, apply) planned is told apart from another's.
    pub generation: u64,
    clients: tokio::sync::OnceCell<Arc<AwsClients>>,
}

impl ProviderRuntime {
    pub fn new(config: ProviderConfig) -> Self {
        static GENERATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Self {
            config,
            generation: GENERATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            clients: tokio::sync::OnceCell::new(),
        }
    }

    /// The shared AWS clients.
    pub async fn aws(&self) -> Result<Arc<AwsClients>, AwsError> {
        self.clients
            .get_or_try_init(|| async {
                let settings = Settings {
                    region: self.config.region.clone(),
                    profile: self.config.profile.clone(),
                    endpoints: self.config.endpoints.clone(),
                    max_retries: self.config.max_retries,
                };
                AwsClients::new(&settings).await.map(Arc::new)
            })
            .await
            .cloned()
    }
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `ap-southeast-7`.
fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

crate::model! {
    /// The `provider "nested"` block.
    pub struct ProviderConfigModel {
        region: Attr<String>,
        profile: Attr<String>,
        endpoints: Attr<EndpointsModel>,
        offline: Attr<bool>,
        default_tags: Attr<Map<String>>,
        max_retries: Attr<Number>,
    }
}

crate::model! {
    /// `endpoints`: one URL per service ([`ENDPOINT_SERVICES`]).
    pub struct EndpointsModel {
        eks: Attr<String>,
        ec2: Attr<String>,
        ssm: Attr<String>,
        sts: Attr<String>,
    }
}

impl EndpointsModel {
    /// Each service's name, URL and path.
    fn services(&self) -> [(&'static str, &Attr<String>, AttributePath); 4] {
        [
            ("eks", &self.eks, Self::eks()),
            ("ec2", &self.ec2, Self::ec2()),
            ("ssm", &self.ssm, Self::ssm()),
            ("sts", &self.sts, Self::sts()),
        ]
    }
}

/// Check a provider configuration and turn it into a [`ProviderConfig`].
pub fn parse_config(config: &Value) -> (ProviderConfig, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut out = ProviderConfig::default();
    let m = if config.is_null() {
        ProviderConfigModel::default()
    } else {
        match ProviderConfigModel::from_value(config) {
            Ok(m) => m,
            Err(d) => return (out, d),
        }
    };
    type P = ProviderConfigModel;
    out.region = m.region.known().cloned();
    out.profile = m.profile.known().cloned();
    if let Some(r) = &out.region
        && !is_region(r)
    {
        diags.error_at(
            P::region(),
            "Invalid AWS region",
            format!(
                "{} is not an AWS region name. Use a region such as \"us-east-1\".",
                crate::validate::quoted(r)
            ),
        );
    }
    if let Some(p) = &out.profile
        && p.trim().is_empty()
    {
        diags.error_at(
            P::profile(),
            "Empty AWS profile name",
            "Set `profile` to a profile name from your AWS config, or remove it to use the \
             default credential chain.",
        );
    }

    if let Some(endpoints) = m.endpoints.known() {
        for (service, url, path) in endpoints.services() {
            let Some(url) = url.as_deref() else { continue };
            // The rule `endpoints.*` declares (checked here too, so a
            // configuration is never built from a URL it refuses).
            match crate::validate::url::endpoint(url) {
                Ok(()) => {
                    out.endpoints
                        .insert(service.to_string(), url.trim_end_matches('/').to_string());
                }
                Err(detail) => {
                    diags.error_at(P::endpoints().then(path), "Invalid endpoint URL", detail)
                }
            }
        }
    }

    out.offline = m.offline.known().copied().unwrap_or(false);

    if let Some(tags) = m.default_tags.known() {
        for (k, v) in tags {
            let path = P::default_tags().then_key(k);
            if k.is_empty() || k.chars().count() > 128 {
                diags.error_at(
                    path.clone(),
                    "Invalid tag key",
                    "Tag keys must be 1 to 128 characters long.",
                );
            } else if k.to_ascii_lowercase().starts_with("aws:") {
                diags.error_at(
                    path.clone(),
                    "Reserved tag key",
                    format!("{k:?} starts with \"aws:\", which AWS reserves. Choose another key."),
                );
            }
            if let Some(s) = v.known() {
                if s.chars().count() > 256 {
                    diags.error_at(
                        path,
                        "Tag value too long",
                        "Tag values may be at most 256 characters long.",
                    );
                } else {
                    out.default_tags.insert(k.clone(), s.clone());
                }
            }
        }
        let n = tags.len();
        if let Ok(l) = crate::validate::Limits::embedded()
            && n as u64 > l.eks.tags_per_resource.max
        {
            diags.error_at(
                P::default_tags(),
                "Too many default tags",
                format!(
                    "default_tags has {n} tags, but EKS allows at most {} on a node group (the provider's own tags count too), so no node group could carry them. Keep the tags every object needs here and move the rest to the resources' own tags.",
                    l.eks.tags_per_resource.max
                ),
            );
        }
    }

    if let Some(n) = m.max_retries.known() {
        match n.as_i64() {
            Some(i) if (0..=MAX_RETRIES_LIMIT).contains(&i) => {
                out.max_retries = u32::try_from(i).ok();
            }
            _ => diags.error_at(
                P::max_retries(),
                "Invalid max_retries",
                format!(
                    "max_retries must be a whole number from 0 to {MAX_RETRIES_LIMIT}; got {n}."
                ),
            ),
        }
    }
    // A value Terraform does not know yet (plan before apply).
    out.unknown = !crate::framework::model::Field::wholly_known(&m);
    (out, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(attrs: Vec<(&str, Value)>) -> Value {
        Value::object(attrs)
    }

    fn paths(d: &Diagnostics) -> Vec<String> {
        d.iter()
            .map(|x| x.path.clone().map(|p| p.to_string()).unwrap_or_default())
            .collect()
    }

    #[test]
    fn the_model_has_exactly_the_schemas_attributes() {
        let s = crate::provider::provider_schema();
        let mut want = crate::framework::model::attribute_names(&s.block.attributes);
        let mut have = ProviderConfigModel::attribute_names();
        want.sort();
        have.sort();
        assert_eq!(have, want);
        assert_eq!(EndpointsModel::ATTRIBUTES, ENDPOINT_SERVICES);
    }

    #[test]
    fn empty_configuration_is_valid() {
        let (c, d) = parse_config(&cfg(vec![]));
        assert!(d.is_empty());
        assert_eq!(c, ProviderConfig::default());
    }

    #[test]
    fn good_configuration_is_parsed() {
        let (c, d) = parse_config(&cfg(vec![
            ("region", Value::string("us-gov-west-1")),
            (
                "endpoints",
                Value::object([("eks", Value::string("http://127.0.0.1:5000/"))]),
            ),
            ("offline", Value::Bool(true)),
            ("max_retries", Value::int(5)),
            (
                "default_tags",
                Value::Map([("team".to_string(), Value::string("platform"))].into()),
            ),
        ]));
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(c.region.as_deref(), Some("us-gov-west-1"));
        assert_eq!(c.endpoints["eks"], "http://127.0.0.1:5000");
        assert!(c.offline);
        assert_eq!(c.max_retries, Some(5));
        assert_eq!(c.default_tags["team"], "platform");
    }

    #[test]
    fn bad_values_are_reported_at_their_attribute_with_the_fix() {
        let (_, d) = parse_config(&cfg(vec![
            ("region", Value::string("US East")),
            (
                "endpoints",
                Value::object([("ssm", Value::string("127.0.0.1:5000"))]),
            ),
            ("max_retries", Value::int(-1)),
            (
                "default_tags",
                Value::Map([("aws:owner".to_string(), Value::string("x"))].into()),
            ),
        ]));
        assert_eq!(
            paths(&d),
            [
                "region",
                "endpoints.ssm",
                "default_tags[\"aws:owner\"]",
                "max_retries"
            ]
        );
        assert!(d.0[0].detail.contains("us-east-1"));
        assert!(d.0[1].detail.contains("http://127.0.0.1:5000"));
    }

    #[test]
    fn unknown_values_are_deferred_not_errors() {
        let (c, d) = parse_config(&cfg(vec![
            ("region", Value::unknown()),
            ("max_retries", Value::unknown()),
        ]));
        assert!(d.is_empty());
        assert!(c.unknown);
        assert_eq!(c.region, None);
    }

    #[test]
    fn endpoint_ports_must_exist() {
        for (url, ok) in [
            ("http://127.0.0.1:5000", true),
            ("https://eks.us-east-1.amazonaws.com/", true),
            ("http://[::1]:8080/x", true),
            ("http://127.0.0.1:99999", false),
            ("http://127.0.0.1:0", false),
            ("http://host:port", false),
            ("http://", false),
            ("ftp://x", false),
        ] {
            let (_, d) = parse_config(&cfg(vec![(
                "endpoints",
                Value::object([("eks", Value::string(url))]),
            )]));
            assert_eq!(d.is_empty(), ok, "{url}: {d:?}");
        }
        let (_, d) = parse_config(&cfg(vec![(
            "endpoints",
            Value::object([("eks", Value::string("http://127.0.0.1:99999"))]),
        )]));
        assert!(d.0[0].detail.contains("1 to 65535"), "{}", d.0[0].detail);
    }

    #[test]
    fn fractional_retries_are_rejected() {
        let (_, d) = parse_config(&cfg(vec![(
            "max_retries",
            Value::Number(crate::framework::Number::Float(2.5)),
        )]));
        assert_eq!(paths(&d), ["max_retries"]);
    }
}
