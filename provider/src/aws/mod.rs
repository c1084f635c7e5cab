//! The AWS edge: SDK clients built once per provider process, and narrow
//! operations in the find…/status…/wait…/expand…/flatten… vocabulary.
//! Errors are typed so callers can tell not-found from everything else;
//! credentials never reach a log line or a diagnostic.

pub mod ec2;
pub mod eks;
pub mod failure;
pub mod retry;
pub mod ssm;
pub mod wait;

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_smithy_runtime::client::retries::{RetryPartition, TokenBucket};
use aws_smithy_runtime_api::client::result::SdkError;
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

#[derive(Debug, Clone, thiserror::Error)]
pub enum AwsError {
    /// The object does not exist (any service's not-found error).
    #[error("{what} not found")]
    NotFound { what: String },
    /// A call failed for a reason [`failure::classify`] knows (credentials,
    /// network, permissions, throttling): one sentence with the fix.
    #[error("{operation} for {what} {failure}")]
    Call {
        operation: &'static str,
        what: String,
        failure: failure::Failure,
    },
    /// AWS refused a call and said why (its code and message).
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
    #[error(
        "no AWS region is configured: set `region` in the provider block or AWS_REGION, or set offline = true in the provider block to plan without AWS"
    )]
    NoRegion,
}

impl AwsError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, AwsError::NotFound { .. })
    }

    pub fn code(&self) -> Option<&str> {
        match self {
            AwsError::Api { code, .. } => code.as_deref(),
            AwsError::Call { failure, .. } => failure.code(),
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

/// Convert an SDK error of a call to `service` (`eks`, `ec2`, `ssm`, `sts`):
/// not-found codes become [`AwsError::NotFound`], the causes
/// [`failure::classify`] knows one sentence with the fix, and what AWS
/// explained itself its code and message. `retries` and `endpoint` go into
/// the sentence.
pub(crate) fn api_error<E>(
    call: Call,
    what: impl Into<String>,
    e: SdkError<E, aws_smithy_runtime_api::http::Response>,
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
    if let Some(cause) = failure::classify(&e) {
        return AwsError::Call {
            operation: call.operation,
            what: what.into(),
            failure: failure::Failure {
                cause,
                endpoint: call.endpoint,
                retries: call.retries,
            },
        };
    }
    AwsError::Api {
        operation: call.operation,
        code,
        message: e
            .as_service_error()
            .and_then(|s| s.message())
            .unwrap_or("no message")
            .to_string(),
    }
}

/// What an error sentence says about a call beyond its object.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub operation: &'static str,
    /// The endpoint in words: the configured URL or `the EKS endpoint of
    /// us-east-1`.
    pub endpoint: String,
    /// Retries after the first attempt.
    pub retries: u32,
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
    /// Launch template checks of refreshes, asked together.
    template_checks: std::sync::Arc<ec2::TemplateChecks>,
    /// The provider's `endpoints` and retries, for error sentences.
    endpoints: BTreeMap<String, String>,
    retries: u32,
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
                b = b
                    .endpoint_url(url)
                    .retry_classifier(retry::RefusedConnectionIsFinal);
            }
            aws_sdk_eks::Client::from_conf(b.build())
        };
        let ec2 = {
            let mut b = aws_sdk_ec2::config::Builder::from(&shared)
                .retry_partition(retry_partition("nested-ec2"));
            if let Some(url) = endpoint("ec2") {
                b = b
                    .endpoint_url(url)
                    .retry_classifier(retry::RefusedConnectionIsFinal);
            }
            aws_sdk_ec2::Client::from_conf(b.build())
        };
        let ssm = {
            let mut b = aws_sdk_ssm::config::Builder::from(&shared)
                .retry_partition(retry_partition("nested-ssm"));
            if let Some(url) = endpoint("ssm") {
                b = b
                    .endpoint_url(url)
                    .retry_classifier(retry::RefusedConnectionIsFinal);
            }
            aws_sdk_ssm::Client::from_conf(b.build())
        };
        let sts = {
            let mut b = aws_sdk_sts::config::Builder::from(&shared)
                .retry_partition(retry_partition("nested-sts"));
            if let Some(url) = endpoint("sts") {
                b = b
                    .endpoint_url(url)
                    .retry_classifier(retry::RefusedConnectionIsFinal);
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
            template_checks: std::sync::Arc::default(),
            endpoints: settings.endpoints.clone(),
            retries,
        })
    }

    /// `operation` of `service` (`eks`, `ec2`, `ssm`, `sts`), for
    /// [`api_error`].
    pub(crate) fn call(&self, service: &str, operation: &'static str) -> Call {
        let endpoint = self.endpoints.get(service).cloned().unwrap_or_else(|| {
            format!(
                "the {} endpoint of {}",
                service.to_ascii_uppercase(),
                self.region
            )
        });
        Call {
            operation,
            endpoint,
            retries: self.retries,
        }
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
                let out = self.sts.get_caller_identity().send().await.map_err(|e| {
                    api_error(self.call("sts", "GetCallerIdentity"), "caller identity", e)
                })?;
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
