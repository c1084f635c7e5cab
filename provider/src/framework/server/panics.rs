//! Panics turned into diagnostics: a bug in one operation answers that
//! operation with an error and leaves the provider serving.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;

use crate::framework::diag::{Diagnostic, Diagnostics};

/// Run the operation `rpc`; a panic inside it becomes an error diagnostic.
pub(super) async fn guard<T>(
    rpc: &'static str,
    f: impl Future<Output = T>,
) -> Result<T, Diagnostic> {
    match AssertUnwindSafe(f).catch_unwind().await {
        Ok(t) => Ok(t),
        Err(payload) => {
            let message = panic_message(payload.as_ref());
            tracing::error!(rpc, panic = %message, "handler panicked");
            Err(Diagnostic::error(
                "Provider internal error",
                format!(
                    "terraform-provider-nested failed while handling {rpc}: {message}. Nothing \
                     more was done for this operation. This is a bug in the provider; please \
                     report it with the log from TF_LOG_PROVIDER=DEBUG."
                ),
            ))
        }
    }
}

/// Run the operation `rpc` and answer with its response, or with
/// diagnostics alone when it failed early or panicked.
pub(super) async fn answer<R: From<Diagnostics>>(
    rpc: &'static str,
    f: impl Future<Output = Result<R, Diagnostics>>,
) -> R {
    match guard(rpc, f).await {
        Ok(Ok(r)) => r,
        Ok(Err(diagnostics)) => R::from(diagnostics),
        Err(d) => R::from(Diagnostics::from(d)),
    }
}

/// Text of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_becomes_an_error_naming_the_operation() {
        let d = guard("ReadResource", async {
            let v: Vec<u8> = Vec::new();
            v[usize::from(v.is_empty())]
        })
        .await
        .unwrap_err();
        assert_eq!(d.summary, "Provider internal error");
        assert!(
            d.detail
                .contains("while handling ReadResource: index out of bounds")
        );
        let ok: Diagnostics = answer("ReadResource", async { Ok(Diagnostics::new()) }).await;
        assert!(ok.is_empty());
    }

    #[test]
    fn panic_payloads_become_text() {
        assert_eq!(panic_message(&"static"), "static");
        assert_eq!(panic_message(&String::from("owned")), "owned");
        assert_eq!(panic_message(&42_u8), "unknown panic");
    }
}
