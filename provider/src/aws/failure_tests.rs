//! The sentences users see for SDK errors built the way the SDK builds
//! them.

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_eks::operation::describe_cluster::DescribeClusterError;
use aws_smithy_runtime_api::client::result::{ConnectorError, SdkError};
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::error::ErrorMetadata;

use crate::aws::{AwsError, Call, api_error};

type Err = SdkError<DescribeClusterError, Response>;

fn service(status: u16, code: Option<&str>, message: &str) -> Err {
    let mut meta = ErrorMetadata::builder().message(message);
    if let Some(c) = code {
        meta = meta.code(c);
    }
    let raw = Response::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
    SdkError::service_error(DescribeClusterError::generic(meta.build()), raw)
}

/// What a DescribeCluster with this error tells the user.
fn sentence(e: Err) -> String {
    let call = Call {
        operation: "DescribeCluster",
        endpoint: "http://127.0.0.1:1".into(),
        retries: 3,
    };
    api_error(call, "EKS Cluster (prod)", e).to_string()
}

fn one_sentence(s: &str) {
    assert!(!s.contains('{') && !s.contains("DispatchFailure"), "{s}");
    assert!(!s.contains('\n'), "{s}");
    assert!(s.ends_with('.'), "{s}");
}

#[test]
fn missing_credentials_name_aws_profile_and_offline() {
    // The SDK reports an empty credential chain as a dispatch failure whose
    // connector error wraps the credentials error.
    let e: Err = SdkError::dispatch_failure(ConnectorError::other(
        Box::new(CredentialsError::not_loaded(
            "no providers in chain provided credentials",
        )),
        None,
    ));
    let s = sentence(e);
    one_sentence(&s);
    assert!(
        s.starts_with(
            "DescribeCluster for EKS Cluster (prod) was not sent: no AWS credentials were found"
        ),
        "{s}"
    );
    assert!(
        s.contains("AWS_PROFILE") && s.contains("offline = true"),
        "{s}"
    );
}

#[test]
fn a_broken_credential_source_says_why() {
    let e: Err = SdkError::dispatch_failure(ConnectorError::other(
        Box::new(CredentialsError::invalid_configuration(
            "profile `dev` was not defined",
        )),
        None,
    ));
    let s = sentence(e);
    one_sentence(&s);
    assert!(
        s.contains("could not be loaded (profile `dev` was not defined)"),
        "{s}"
    );
}

#[test]
fn a_closed_port_is_an_unreachable_endpoint_with_the_os_reason() {
    let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    let e: Err = SdkError::dispatch_failure(ConnectorError::io(Box::new(refused)));
    let s = sentence(e);
    one_sentence(&s);
    assert!(
        s.starts_with("DescribeCluster for EKS Cluster (prod) could not reach http://127.0.0.1:1 (connection refused)"),
        "{s}"
    );
    assert!(
        s.contains("`endpoints`") && s.contains("offline = true"),
        "{s}"
    );
}

#[test]
fn timeouts_say_no_answer_in_time() {
    let e: Err = SdkError::timeout_error("operation timeout (all attempts including retries)");
    assert!(sentence(e).contains("got no answer in time from http://127.0.0.1:1"));
    let e: Err = SdkError::dispatch_failure(ConnectorError::timeout("read timed out".into()));
    let s = sentence(e);
    one_sentence(&s);
    assert!(s.contains("got no answer in time"), "{s}");
}

#[test]
fn access_denied_names_iam_and_keeps_the_aws_reason() {
    let s = sentence(service(
        403,
        Some("AccessDeniedException"),
        "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: eks:DescribeCluster.",
    ));
    one_sentence(&s);
    assert!(s.contains("was denied (AccessDeniedException: User: arn:aws:iam::123456789012:user/ci is not authorized to perform: eks:DescribeCluster)"), "{s}");
    assert!(s.contains("IAM"), "{s}");
}

#[test]
fn rejected_credentials_say_refresh_them() {
    for code in [
        "UnrecognizedClientException",
        "ExpiredTokenException",
        "InvalidClientTokenId",
    ] {
        let s = sentence(service(
            403,
            Some(code),
            "The security token included in the request is invalid.",
        ));
        one_sentence(&s);
        assert!(
            s.contains(&format!("does not accept the credentials ({code}")),
            "{s}"
        );
    }
}

#[test]
fn throttling_counts_the_attempts_and_names_max_retries() {
    let s = sentence(service(400, Some("ThrottlingException"), "Rate exceeded"));
    one_sentence(&s);
    assert!(
        s.contains("throttled by AWS (ThrottlingException) on all 4 attempts"),
        "{s}"
    );
    assert!(
        s.contains("`max_retries` in the provider block (now 3)"),
        "{s}"
    );
    let s = sentence(service(429, None, ""));
    assert!(s.contains("throttled by AWS (HTTP 429)"), "{s}");
}

#[test]
fn bare_http_errors_are_server_errors_or_not_aws() {
    let s = sentence(service(503, None, ""));
    one_sentence(&s);
    assert!(
        s.contains("failed with HTTP 503 from http://127.0.0.1:1 on all 4 attempts"),
        "{s}"
    );
    let s = sentence(service(404, None, ""));
    assert!(s.contains("not an AWS response (HTTP 404)"), "{s}");
}

#[test]
fn errors_aws_explains_keep_its_code_and_message() {
    let e = api_error(
        Call {
            operation: "CreateNodegroup",
            endpoint: String::new(),
            retries: 0,
        },
        "x",
        service(
            400,
            Some("InvalidParameterException"),
            "Subnet subnet-1 does not exist",
        ),
    );
    assert_eq!(
        e.to_string(),
        "CreateNodegroup: Subnet subnet-1 does not exist"
    );
    assert_eq!(e.code(), Some("InvalidParameterException"));
    let e = api_error(
        Call {
            operation: "DescribeCluster",
            endpoint: String::new(),
            retries: 0,
        },
        "EKS Cluster (prod)",
        service(404, Some("ResourceNotFoundException"), "No cluster found"),
    );
    assert!(matches!(e, AwsError::NotFound { .. }));
}
