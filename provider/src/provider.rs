//! `provider "nested"`: schema, configure, and the resources, data sources
//! and functions it serves.

use std::sync::Arc;

use async_trait::async_trait;

use crate::aws::DEFAULT_MAX_RETRIES;
use crate::config::{ENDPOINT_SERVICES, MAX_RETRIES_LIMIT, ProviderRuntime, parse_config};
use crate::data_sources::capability::CapabilityDataSource;
use crate::data_sources::karpenter_pool::KarpenterPoolDataSource;
use crate::data_sources::openshift_profile::OpenShiftProfileDataSource;
use crate::framework::{
    Attribute, ConfigureRequest, ConfigureResponse, DataSource, Diagnostics, Function,
    ListResource, Nesting, Provider, Resource, Schema, Value,
};
use crate::functions::bottlerocket::{BottlerocketSettingsFunction, MergeBottlerocketTomlFunction};
use crate::functions::kernel_floor::KernelFloorFunction;
use crate::list_resources::nodegroup::NodegroupListResource;
use crate::resources::nodegroup::NodegroupResource;

#[derive(Debug, Default)]
pub struct NestedProvider;

impl NestedProvider {
    pub fn new() -> Self {
        Self
    }
}

pub(crate) fn provider_schema() -> Schema {
    Schema::new(
        "Plans and builds Kubernetes node pools that can run nested sandboxes \
         (Coder Agent Firewall nsjail/landjail, bubblewrap, rootless podman) inside pods.",
    )
    .attribute(Attribute::string("region").optional().description(
        "AWS region for EKS, EC2 and SSM calls, e.g. `us-east-1`. Defaults to the standard \
         AWS chain (`AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's region).",
    ))
    .attribute(Attribute::string("profile").optional().validate(crate::validate::declared::PROFILE).description(
        "Named profile from the shared AWS config/credentials files. Defaults to the standard \
         AWS chain (`AWS_PROFILE`, then `default`). Credentials are never logged.",
    ))
    .attribute(
        Attribute::nested(
            "endpoints",
            Nesting::Single,
            ENDPOINT_SERVICES
                .iter()
                .map(|s| {
                    Attribute::string(s).optional().validate(crate::validate::declared::ENDPOINT_URL).description(&format!(
                        "Endpoint URL for {} calls, e.g. `http://127.0.0.1:5000` for a local \
                         test server.",
                        s.to_ascii_uppercase()
                    ))
                })
                .collect(),
        )
        .optional()
        .description("Override AWS service endpoints (for testing or private endpoints)."),
    )
    .attribute(Attribute::bool("offline").optional().description(
        "When `true`, the provider never calls AWS: data sources and plans are computed from \
         the embedded capability data, and applying a resource that needs AWS fails with a \
         clear error. Defaults to `false`.",
    ))
    .attribute(
        Attribute::string_map("default_tags")
            .optional()
            .validate(crate::validate::declared::TAG_KEYS)
            .validate(crate::validate::declared::TAG_VALUES)
            .description(
        "Tags added to every AWS object the provider creates. A resource's own `tags` win on \
         conflict. Keys may not start with `aws:`; keys and values are AWS tags (letters, \
         digits, spaces and `+ - = . _ : / @`).",
        ),
    )
    .attribute(Attribute::number("max_retries").optional().description(&format!(
        "How many times an AWS call that is throttled or fails with a 5xx error is retried \
         (0–{MAX_RETRIES_LIMIT}), with exponential backoff of at most {backoff} s between \
         attempts. Defaults to {DEFAULT_MAX_RETRIES}, as hashicorp/aws. Every call also has a \
         deadline of {deadline} s (retries included; {attempt} s per attempt), so a plan never \
         hangs on an endpoint that stops answering.",
        backoff = crate::aws::MAX_BACKOFF.as_secs(),
        deadline = crate::aws::OPERATION_TIMEOUT.as_secs(),
        attempt = crate::aws::ATTEMPT_TIMEOUT.as_secs(),
    )))
}

#[async_trait]
impl Provider for NestedProvider {
    fn type_name(&self) -> &'static str {
        "nested"
    }

    fn schema(&self) -> Schema {
        provider_schema()
    }

    fn validate_config(&self, config: &Value) -> Diagnostics {
        parse_config(config).1
    }

    async fn configure(&self, req: ConfigureRequest) -> ConfigureResponse {
        let (config, diagnostics) = parse_config(&req.config);
        tracing::debug!(
            terraform_version = %req.terraform_version,
            region = config.region.as_deref().unwrap_or("(default chain)"),
            offline = config.offline,
            endpoint_overrides = config.endpoints.len(),
            "provider configured"
        );
        ConfigureResponse {
            diagnostics,
            data: Some(Arc::new(ProviderRuntime::new(config))),
        }
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![Arc::new(NodegroupResource)]
    }

    fn list_resources(&self) -> Vec<Arc<dyn ListResource>> {
        vec![Arc::new(NodegroupListResource)]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![
            Arc::new(CapabilityDataSource),
            Arc::new(OpenShiftProfileDataSource),
            Arc::new(KarpenterPoolDataSource),
        ]
    }

    fn functions(&self) -> Vec<Arc<dyn Function>> {
        vec![
            Arc::new(KernelFloorFunction),
            Arc::new(BottlerocketSettingsFunction),
            Arc::new(MergeBottlerocketTomlFunction),
        ]
    }
}
