//! The AWS edge: SDK clients built once per provider process, and narrow
//! operations in the find…/status…/wait…/expand…/flatten… vocabulary.
//! Errors are typed so callers can tell not-found from everything else;
//! credentials never reach a log line or a diagnostic.

pub mod ec2;
pub mod eks;
pub mod ssm;
pub mod wait;

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_smithy_runtime::client::retries::{RetryPartition, TokenBucket};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tokio::sync::OnceCell;

/// Provider settings the AWS clients are built from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub region: Option<String>,
    pub profile: Option<String>,
    /// Service name (`eks`, `ec2`, `ssm`, `sts`) → endpoint URL.
    pub endpoints: BTreeMap<String, String>,
    /// Retries after the first attempt; `None` = [`DEFAULT_MAX_RETRIES`].
    pub max_retries: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// The object does not exist (any service's not-found error).
    #[error("{what} not found")]
    NotFound { what: String },
    /// An API call failed.
    #[error("{operation}: {message}")]
    Api {
        operation: &'static str,
        code: Option<String>,
        message: String,
    },
    /// A wait ran out of time.
    #[error("{what} did not become {target} within {waited:?} (last status: {last})")]
    Timeout {
        what: String,
        target: &'static str,
        waited: Duration,
        last: String,
    },
    /// AWS reports the operation failed; `detail` carries AWS's reasons.
    #[error("{what} failed: {detail}")]
    Failed { what: String, detail: String },
    /// Terraform asked the provider to stop (Ctrl-C).
    #[error("stopped by Terraform while waiting for {what}")]
    Stopped { what: String },
    /// No region could be determined.
    #[error("no AWS region is configured")]
    NoRegion,
}

impl AwsError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, AwsError::NotFound { .. })
    }

    pub fn code(&self) -> Option<&str> {
        match self {
            AwsError::Api { code, .. } => code.as_deref(),
            _ => None,
        }
    }
}

const NOT_FOUND_CODES: [&str; 5] = [
    "ResourceNotFoundException",
    "InvalidLaunchTemplateId.NotFound",
    "InvalidLaunchTemplateName.NotFoundException",
    "InvalidLaunchTemplateId.VersionNotFound",
    "ParameterNotFound",
];

/// Convert an SDK error, recognising not-found codes.
pub(crate) fn api_error<E>(
    operation: &'static str,
    what: impl Into<String>,
    e: aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = e
        .as_service_error()
        .and_then(|s| s.code())
        .map(String::from);
    if code
        .as_deref()
        .is_some_and(|c| NOT_FOUND_CODES.contains(&c))
    {
        return AwsError::NotFound { what: what.into() };
    }
    let message = match (&e, e.as_service_error().and_then(|s| s.message())) {
        (_, Some(message)) => message.to_string(),
        // An answer the SDK could not read as an AWS error (a proxy, a load
        // balancer): name the HTTP status rather than dumping the response.
        (SdkError::ServiceError(service), None) => format!(
            "the endpoint answered HTTP {} without an AWS error code",
            service.raw().status().as_u16()
        ),
        (_, None) => DisplayErrorContext(&e).to_string(),
    };
    AwsError::Api {
        operation,
        code,
        message,
    }
}

/// Retries after the first attempt when the provider sets none (as
/// hashicorp/aws: 25), so 30% failed calls still converge.
pub const DEFAULT_MAX_RETRIES: u32 = 25;
/// Longest pause between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Deadline of one call, retries included: a plan is never stuck longer.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(300);
/// Deadline of one attempt (an endpoint that accepts and never answers).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The SDK's standard retry mode spends tokens from a bucket on every retry
/// and fails calls once it is empty ("retry quota exceeded"): a burst of
/// throttling across many node groups then fails creates that more retries
/// would carry. hashicorp/aws turns the bucket off (`ratelimit.None`); so do
/// we, per service.
fn retry_partition(service: &'static str) -> RetryPartition {
    RetryPartition::custom(service)
        .token_bucket(TokenBucket::unlimited())
        .build()
}

/// The SDK clients, built on first use and shared by every resource.
pub struct AwsClients {
    pub eks: aws_sdk_eks::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub sts: aws_sdk_sts::Client,
    pub region: String,
    account_id: OnceCell<String>,
    release_versions: ssm::ReleaseVersionCache,
    /// DescribeCluster answers, one per cluster per provider process: every
    /// node group of a plan asks for its cluster's version.
    clusters: tokio::sync::Mutex<std::collections::HashMap<String, eks::Cluster>>,
}

impl AwsClients {
    pub async fn new(settings: &Settings) -> Result<Self, AwsError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(r) = &settings.region {
            loader = loader.region(aws_config::Region::new(r.clone()));
        }
        if let Some(p) = &settings.profile {
            loader = loader.profile_name(p);
        }
        let retries = settings.max_retries.unwrap_or(DEFAULT_MAX_RETRIES);
        let retry = RetryConfig::standard()
            .with_max_attempts(retries.saturating_add(1))
            .with_max_backoff(MAX_BACKOFF);
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
            .operation_timeout(OPERATION_TIMEOUT)
            .build();
        let shared = loader
            .retry_config(retry)
            .timeout_config(timeouts)
            .load()
            .await;
        let region = shared
            .region()
            .map(ToString::to_string)
            .ok_or(AwsError::NoRegion)?;
        let endpoint = |service: &str| settings.endpoints.get(service).cloned();
        let eks = {
            let mut b = aws_sdk_eks::config::Builder::from(&shared)
                .retry_partition(retry_partition("nested-eks"));
            if let Some(url) = endpoint("eks") {
                b = b.endpoint_url(url);
            }
            aws_sdk_eks::Client::from_conf(b.build())
        };
        let ec2 = {
            let mut b = aws_sdk_ec2::config::Builder::from(&shared)
                .retry_partition(retry_partition("nested-ec2"));
            if let Some(url) = endpoint("ec2") {
                b = b.endpoint_url(url);
            }
            aws_sdk_ec2::Client::from_conf(b.build())
        };
        let ssm = {
            let mut b = aws_sdk_ssm::config::Builder::from(&shared)
                .retry_partition(retry_partition("nested-ssm"));
            if let Some(url) = endpoint("ssm") {
                b = b.endpoint_url(url);
            }
            aws_sdk_ssm::Client::from_conf(b.build())
        };
        let sts = {
            let mut b = aws_sdk_sts::config::Builder::from(&shared)
                .retry_partition(retry_partition("nested-sts"));
            if let Some(url) = endpoint("sts") {
                b = b.endpoint_url(url);
            }
            aws_sdk_sts::Client::from_conf(b.build())
        };
        tracing::debug!(region = %region, endpoint_overrides = settings.endpoints.len(), "AWS clients ready");
        Ok(Self {
            eks,
            ec2,
            ssm,
            sts,
            region,
            account_id: OnceCell::new(),
            release_versions: ssm::ReleaseVersionCache::default(),
            clusters: tokio::sync::Mutex::default(),
        })
    }

    /// The account in an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:…`).
    pub fn account_from_arn(arn: &str) -> Option<&str> {
        arn.split(':')
            .nth(4)
            .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
    }

    /// The caller's account (STS GetCallerIdentity), asked once per process.
    pub async fn account_id(&self) -> Result<String, AwsError> {
        self.account_id
            .get_or_try_init(|| async {
                let out = self
                    .sts
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| api_error("GetCallerIdentity", "caller identity", e))?;
                out.account()
                    .map(String::from)
                    .ok_or_else(|| AwsError::Api {
                        operation: "GetCallerIdentity",
                        code: None,
                        message: "no account in the answer".into(),
                    })
            })
            .await
            .cloned()
    }
}
