//! `data "nested_capability"`: what a sandbox needs from the node.
//!
//! This first cut answers from the sandbox rows alone (kernel floor, reason,
//! sources); the full decision over platform, AMI family and versions is the
//! capability engine's job and grows this data source.

use async_trait::async_trait;

use crate::capability::{CapabilityData, SANDBOXES};
use crate::framework::{
    Attribute, AttributePath, DataSource, Diagnostic, Diagnostics, ReadDataRequest,
    ReadDataResponse, Schema, Value,
};

pub struct CapabilityDataSource;

#[async_trait]
impl DataSource for CapabilityDataSource {
    fn type_name(&self) -> &'static str {
        "nested_capability"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "What a nested sandbox needs from a Kubernetes node. Pure: computed from the \
             provider's embedded capability data, never from AWS.",
        )
        .attribute(
            Attribute::string("sandbox")
                .required()
                .one_of(&SANDBOXES)
                .description(
                    "The sandbox to run inside pods: `nsjail` (Coder Agent Firewall), \
                     `landjail` (Coder Agent Firewall, Landlock), `bubblewrap` or `podman` \
                     (rootless).",
                ),
        )
        .attribute(Attribute::string("kernel_floor").computed().description(
            "Lowest Linux release on which the sandbox can work in a pod, e.g. `6.7`. Null when \
             every supported node image is new enough.",
        ))
        .attribute(
            Attribute::string_list("reasons")
                .computed()
                .description("Each fact behind the answer, with its source."),
        )
    }

    async fn read(&self, req: ReadDataRequest) -> ReadDataResponse {
        let mut diagnostics = Diagnostics::new();
        let data = match CapabilityData::embedded() {
            Ok(d) => d,
            Err(e) => {
                diagnostics.push(Diagnostic::error(
                    "Provider capability data is invalid",
                    e.to_string(),
                ));
                return ReadDataResponse {
                    state: Value::Null,
                    diagnostics,
                };
            }
        };
        let sandbox_name = req
            .config
            .attr("sandbox")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(sandbox) = data.sandbox(sandbox_name) else {
            diagnostics.error_at(
                AttributePath::attr("sandbox"),
                "Unknown sandbox",
                format!(
                    "{sandbox_name:?} is not a sandbox this provider knows. Use one of: {}.",
                    SANDBOXES.join(", ")
                ),
            );
            return ReadDataResponse {
                state: Value::Null,
                diagnostics,
            };
        };
        let reasons = vec![Value::string(format!(
            "{} ({})",
            sandbox.reason,
            sandbox.sources.join("; ")
        ))];
        let state = Value::object([
            ("sandbox", Value::string(&sandbox.name)),
            (
                "kernel_floor",
                sandbox.kernel_floor.map(|v| v.to_string()).into(),
            ),
            ("reasons", Value::List(reasons)),
        ]);
        ReadDataResponse { state, diagnostics }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::StopToken;

    async fn read(sandbox: &str) -> ReadDataResponse {
        CapabilityDataSource
            .read(ReadDataRequest {
                config: Value::object([("sandbox", Value::string(sandbox))]),
                provider: None,
                stop: StopToken::never(),
            })
            .await
    }

    #[tokio::test]
    async fn landjail_needs_kernel_6_7_and_says_why() {
        let r = read("landjail").await;
        assert!(r.diagnostics.is_empty());
        assert_eq!(r.state.attr("kernel_floor"), Some(&Value::string("6.7")));
        let reasons = r
            .state
            .attr("reasons")
            .and_then(Value::as_elements)
            .unwrap();
        assert!(reasons[0].as_str().unwrap().contains("Landlock ABI v4"));
        assert!(
            reasons[0]
                .as_str()
                .unwrap()
                .contains("coder/boundary:landjail/child.go")
        );
    }

    #[tokio::test]
    async fn nsjail_has_no_kernel_floor() {
        let r = read("nsjail").await;
        assert_eq!(r.state.attr("kernel_floor"), Some(&Value::Null));
    }

    #[tokio::test]
    async fn unknown_sandbox_is_an_error_at_the_attribute() {
        let r = read("docker").await;
        assert!(r.diagnostics.has_errors());
        assert_eq!(
            r.diagnostics.0[0].path,
            Some(AttributePath::attr("sandbox"))
        );
    }
}
