//! Which failed attempts are worth another: the SDK's standard retry mode
//! retries every I/O error as transient, which is right for a reset or a
//! lost reply, but a connection *refused* by an endpoint the provider was
//! told to use (`endpoints`) means nothing listens there: 25 retries only
//! turn a one-line error into two minutes of waiting. Throttling, 5xx
//! answers, resets and timeouts are retried as before.

use std::error::Error as StdError;

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};

/// Whether an error chain ends in an OS "connection refused".
pub fn is_connection_refused(e: &(dyn StdError + 'static)) -> bool {
    let mut at = Some(e);
    while let Some(err) = at {
        if err
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
        {
            return true;
        }
        at = err.source();
    }
    false
}

/// Forbids retrying an attempt whose connection was refused. Attached only
/// to clients with a configured endpoint (`endpoints.<service>`): AWS's own
/// endpoints sit behind load balancers, where a refusal can be transient.
#[derive(Debug, Default, Clone, Copy)]
pub struct RefusedConnectionIsFinal;

impl ClassifyRetry for RefusedConnectionIsFinal {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(Err(err)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        match err.as_connector_error() {
            Some(c) if is_connection_refused(c) => {
                tracing::debug!(
                    "connection refused by a configured endpoint: nothing listens there, not retried"
                );
                RetryAction::RetryForbidden
            }
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "connection refused by a configured endpoint"
    }

    /// After the SDK's transient-error classifier, whose verdict it
    /// overrides for refused connections only.
    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use aws_config::retry::RetryConfig;
    use aws_sdk_eks::config::interceptors::BeforeTransmitInterceptorContextRef;
    use aws_sdk_eks::config::{
        BehaviorVersion, ConfigBag, Credentials, Intercept, Region, RuntimeComponents,
    };
    use aws_smithy_runtime_api::box_error::BoxError;

    use super::*;

    /// Counts the attempts the SDK makes.
    #[derive(Debug, Clone, Default)]
    struct Attempts(Arc<AtomicUsize>);

    impl Intercept for Attempts {
        fn name(&self) -> &'static str {
            "count attempts"
        }
        fn read_before_attempt(
            &self,
            _: &BeforeTransmitInterceptorContextRef<'_>,
            _: &RuntimeComponents,
            _: &mut ConfigBag,
        ) -> Result<(), BoxError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    /// A DescribeCluster against `endpoint` with 4 retries (tiny backoff);
    /// the number of attempts made.
    async fn attempts(endpoint: &str, classifier: bool) -> usize {
        let counter = Attempts::default();
        let mut b = aws_sdk_eks::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("a", "b", None, None, "test"))
            .endpoint_url(endpoint)
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(5)
                    .with_initial_backoff(Duration::from_millis(1))
                    .with_max_backoff(Duration::from_millis(2)),
            )
            .interceptor(counter.clone());
        if classifier {
            b = b.retry_classifier(RefusedConnectionIsFinal);
        }
        let client = aws_sdk_eks::Client::from_conf(b.build());
        let r = client.describe_cluster().name("prod").send().await;
        assert!(r.is_err());
        counter.0.load(Ordering::SeqCst)
    }

    /// A port nothing listens on.
    fn closed_port() -> u16 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }

    #[tokio::test]
    async fn a_refused_connection_is_tried_once_and_a_reset_one_is_retried() {
        let refused = format!("http://127.0.0.1:{}", closed_port());
        // The SDK alone retries it…
        assert_eq!(attempts(&refused, false).await, 5);
        // …with the classifier, once.
        assert_eq!(attempts(&refused, true).await, 1);

        // A server that accepts and closes every connection at once: the
        // classifier leaves it to the SDK, which retries it.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let seen = accepted.clone();
        let server = tokio::spawn(async move {
            loop {
                if let Ok((s, _)) = listener.accept().await {
                    seen.fetch_add(1, Ordering::SeqCst);
                    drop(s);
                }
            }
        });
        let n = attempts(&format!("http://{addr}"), true).await;
        server.abort();
        assert_eq!(n, 5, "a dropped connection is retried");
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            5,
            "the server saw every attempt"
        );
    }
}
