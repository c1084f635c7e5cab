//! Why an AWS call failed, told in one sentence: what failed, the likely
//! cause and the fix. The SDK's own errors print as a chain of Rust debug
//! structures (`DispatchFailure(DispatchFailure { source: ConnectorError …`);
//! they are classified here and never shown as they are.

use std::error::Error as StdError;
use std::fmt;

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Codes with which AWS refuses a caller's permissions.
const ACCESS_DENIED: [&str; 4] = [
    "AccessDeniedException",
    "AccessDenied",
    "UnauthorizedOperation",
    "UnauthorizedException",
];

/// Codes with which AWS refuses the credentials themselves.
const CREDENTIALS_REJECTED: [&str; 10] = [
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "AuthFailure",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
];

/// Codes with which AWS throttles (the SDK retries them).
const THROTTLED: [&str; 7] = [
    "ThrottlingException",
    "Throttling",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
];

/// The likely cause of a failed call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// The credential chain found nothing (no environment variables,
    /// profile, SSO session or instance role).
    NoCredentials,
    /// A credential source exists but failed (a missing profile, an expired
    /// SSO session, a broken config file).
    CredentialsUnusable { reason: String },
    /// The endpoint could not be reached (refused, DNS, TLS, network).
    Unreachable { reason: String },
    /// The endpoint did not answer in time.
    TimedOut,
    /// AWS refused the caller's permissions.
    AccessDenied { code: String, message: String },
    /// AWS refused the credentials (unknown, expired, wrong signature).
    CredentialsRejected { code: String },
    /// AWS throttled every attempt.
    Throttled { code: String },
    /// The endpoint kept failing (HTTP 5xx without an AWS error).
    ServerError { status: u16 },
    /// An answer that is not an AWS response (a proxy, a captive portal).
    Unreadable { status: Option<u16> },
}

/// A failed call: its cause, the endpoint it went to and how often it was
/// retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub cause: Cause,
    /// The URL from the provider's `endpoints`, or `the EKS endpoint of
    /// us-east-1`.
    pub endpoint: String,
    /// Retries after the first attempt.
    pub retries: u32,
}

impl Failure {
    /// The AWS error code behind the failure, if AWS sent one.
    pub fn code(&self) -> Option<&str> {
        match &self.cause {
            Cause::AccessDenied { code, .. }
            | Cause::CredentialsRejected { code }
            | Cause::Throttled { code } => Some(code),
            _ => None,
        }
    }
}

const OFFLINE: &str = "or set offline = true in the provider block to plan without AWS";

impl fmt::Display for Failure {
    /// The rest of a sentence that starts with what failed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let endpoint = &self.endpoint;
        let attempts = u64::from(self.retries) + 1;
        match &self.cause {
            Cause::NoCredentials => write!(
                f,
                "was not sent: no AWS credentials were found; set AWS_PROFILE (or `profile` in the provider block), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, {OFFLINE}."
            ),
            Cause::CredentialsUnusable { reason } => write!(
                f,
                "was not sent: the AWS credentials could not be loaded ({reason}); check AWS_PROFILE or the provider's `profile` and your AWS config files (run `aws sso login` for an SSO profile), {OFFLINE}."
            ),
            Cause::Unreachable { reason } => write!(
                f,
                "could not reach {endpoint} ({reason}); check the provider's `region` and `endpoints`, your network and proxy settings, {OFFLINE}."
            ),
            Cause::TimedOut => write!(
                f,
                "got no answer in time from {endpoint}; check the network path to it (proxy, firewall, VPC endpoint), {OFFLINE}."
            ),
            Cause::AccessDenied { code, message } => write!(
                f,
                "was denied ({code}: {}); allow this action for the caller in IAM, or use credentials (AWS_PROFILE) that have it.",
                message.trim_end_matches('.')
            ),
            Cause::CredentialsRejected { code } => write!(
                f,
                "was refused because AWS does not accept the credentials ({code}: unknown, expired or mistyped keys); refresh them (`aws sso login`, a new session token) or point AWS_PROFILE at valid ones."
            ),
            Cause::Throttled { code } => write!(
                f,
                "was throttled by AWS ({code}) on all {attempts} attempts; try again later, or raise `max_retries` in the provider block (now {}).",
                self.retries
            ),
            Cause::ServerError { status } => write!(
                f,
                "failed with HTTP {status} from {endpoint} on all {attempts} attempts; the service (or a proxy in front of it) is failing, try again later."
            ),
            Cause::Unreadable { status } => {
                let status = status.map_or_else(String::new, |s| format!(" (HTTP {s})"));
                write!(
                    f,
                    "got an answer from {endpoint} that is not an AWS response{status}; check the provider's `endpoints` and any proxy in between, {OFFLINE}."
                )
            }
        }
    }
}

/// The innermost error of a chain, as one line: e.g. `Connection refused
/// (os error 111)`.
fn root_reason(e: &(dyn StdError + 'static)) -> String {
    let mut inner = e;
    while let Some(next) = inner.source() {
        inner = next;
    }
    inner
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// A credential failure anywhere in the chain.
fn credentials_cause(e: &(dyn StdError + 'static)) -> Option<Cause> {
    let mut at = Some(e);
    while let Some(err) = at {
        if let Some(c) = err.downcast_ref::<CredentialsError>() {
            return Some(match c {
                CredentialsError::CredentialsNotLoaded(_) => Cause::NoCredentials,
                other => Cause::CredentialsUnusable {
                    reason: root_reason(other),
                },
            });
        }
        at = err.source();
    }
    None
}

/// The cause of an SDK error, or `None` for a service error AWS explained
/// itself (its code and message are then the best sentence).
pub fn classify<E>(e: &SdkError<E, Response>) -> Option<Cause>
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    if let Some(c) = credentials_cause(e) {
        return Some(c);
    }
    match e {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let err = service.err();
            match err.code() {
                Some(code) if ACCESS_DENIED.contains(&code) => Some(Cause::AccessDenied {
                    code: code.into(),
                    message: err.message().unwrap_or("no reason given").into(),
                }),
                Some(code) if CREDENTIALS_REJECTED.contains(&code) => {
                    Some(Cause::CredentialsRejected { code: code.into() })
                }
                Some(code) if THROTTLED.contains(&code) => {
                    Some(Cause::Throttled { code: code.into() })
                }
                Some(_) => None,
                None if status == 429 => Some(Cause::Throttled {
                    code: "HTTP 429".into(),
                }),
                None if status >= 500 => Some(Cause::ServerError { status }),
                None => Some(Cause::Unreadable {
                    status: Some(status),
                }),
            }
        }
        SdkError::TimeoutError(_) => Some(Cause::TimedOut),
        SdkError::DispatchFailure(d) if d.is_timeout() => Some(Cause::TimedOut),
        SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) => {
            Some(Cause::Unreachable {
                reason: root_reason(e),
            })
        }
        SdkError::ResponseError(r) => Some(Cause::Unreadable {
            status: Some(r.raw().status().as_u16()),
        }),
        _ => Some(Cause::Unreadable { status: None }),
    }
}

#[cfg(test)]
#[path = "failure_tests.rs"]
mod tests;
