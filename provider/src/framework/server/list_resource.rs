//! ListResource and ValidateListResourceConfig (`terraform query`, protocol
//! 6.10): a list resource finds objects of the resource type of the same
//! name and streams each with its identity, a display name and (when
//! Terraform asks) its state, encoded at the resource's identity and state
//! types. At most `limit` results are sent; every failure is a diagnostic
//! in the stream, never a transport error.
//!
//! Paths: a list resource's paths are relative to the `config` block, but
//! Terraform resolves them against the `list` block. It puts `config` in
//! front of the paths of ListResource events itself since 1.16
//! (hashicorp/terraform commit f079a2158b, "Allow annotating relative
//! diagnostic paths": `ProtoToDiagnosticsWithPrefix` in
//! internal/plugin6/grpc_provider.go), never of ValidateListResourceConfig's;
//! the server prefixes the rest, so every path shows the attribute's line.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tracing::Instrument;

use super::codec::{DynamicValue, ResourceIdentityData};
use super::panics::{answer, guard};
use super::registry::ResourceEntry;
use super::{OrReport, Server};
use crate::framework::diag::{Diagnostic, Diagnostics, PathStep};
use crate::framework::provider::{ListEvent, ListRequest, ListResult, ListSink};
use crate::framework::schema::apply_defaults;

/// The name of the operation.
pub const LIST_RESOURCE: &str = "ListResource";
/// The name of the configuration check.
pub const VALIDATE_LIST_RESOURCE_CONFIG: &str = "ValidateListResourceConfig";

/// The name of the block Terraform nests a list resource's configuration in.
const CONFIG_BLOCK: &str = "config";

/// A `list` block's `config`, still encoded.
#[derive(Debug, Clone, Default)]
pub struct ListResourceRequest {
    pub type_name: String,
    pub config: Option<DynamicValue>,
    pub include_resource_object: bool,
    /// At most this many results; 0 or less: none.
    pub limit: i64,
}

/// One streamed event: a result, or diagnostics alone.
#[derive(Debug, Clone, Default)]
pub struct ListResourceEvent {
    pub identity: Option<ResourceIdentityData>,
    pub display_name: String,
    pub resource_object: Option<DynamicValue>,
    pub diagnostics: Diagnostics,
}

impl From<Diagnostics> for ListResourceEvent {
    fn from(diagnostics: Diagnostics) -> Self {
        Self {
            diagnostics,
            ..Default::default()
        }
    }
}

/// Results in flight between the list resource and the encoder.
const BUFFER: usize = 4;

impl Server {
    /// Check a `list` block's `config` of type `type_name`.
    pub async fn validate_list_resource_config(
        &self,
        type_name: &str,
        config: Option<DynamicValue>,
    ) -> Diagnostics {
        let diags: Diagnostics = answer(VALIDATE_LIST_RESOURCE_CONFIG, async {
            let entry = self.registry.list_resource(type_name)?;
            self.validate_config(
                "list resource configuration",
                &entry.config,
                config.as_ref(),
                |c| entry.imp.validate(c),
            )
        })
        .await;
        in_config_block_all(diags)
    }

    /// List the objects of type `req.type_name`: the events as they come.
    pub fn list_resource(
        self: Arc<Self>,
        req: ListResourceRequest,
    ) -> ReceiverStream<ListResourceEvent> {
        let (out, rx) = mpsc::channel(BUFFER);
        let task = async move {
            let reply = out.clone();
            if let Err(d) = guard(LIST_RESOURCE, self.run_list(req, out)).await {
                let _ = reply.send(Diagnostics::from(d).into()).await;
            }
        };
        // In the caller's span (the RPC's), as every other operation runs.
        tokio::spawn(task.instrument(tracing::Span::current()));
        ReceiverStream::new(rx)
    }

    async fn run_list(&self, req: ListResourceRequest, out: mpsc::Sender<ListResourceEvent>) {
        let (entry, resource) = match self.list_entries(&req.type_name) {
            Ok(x) => x,
            Err(d) => {
                let _ = out.send(Diagnostics::from(d).into()).await;
                return;
            }
        };
        let mut config = match self.decode(
            "list resource configuration",
            req.config.as_ref(),
            &entry.config.ty,
        ) {
            Ok(c) => c,
            Err(d) => {
                let _ = out.send(Diagnostics::from(d).into()).await;
                return;
            }
        };
        apply_defaults(&entry.config.schema.block.attributes, &mut config);
        let limit = usize::try_from(req.limit).unwrap_or(0);
        if limit == 0 {
            return;
        }
        let include_resource = req.include_resource_object;
        let prefix_events = self
            .terraform_version
            .read()
            .is_ok_and(|v| terraform_before_1_16(&v));
        let (tx, mut rx) = mpsc::channel(BUFFER);
        let mut sink = ListSink::new(tx, limit);
        let imp = entry.imp.clone();
        let list_req = ListRequest {
            config,
            include_resource,
            limit,
            provider: self.provider_data(),
            stop: self.stop_token(),
        };
        let produce = async move {
            imp.list(list_req, &mut sink).await;
            // The sink goes here: the encoder sees the end of the listing.
            drop(sink);
        };
        let forward = async {
            while let Some(event) = rx.recv().await {
                let mut event = match event {
                    ListEvent::Result(r) => self.encode_result(resource, *r, include_resource),
                    ListEvent::Diagnostics(d) => d.into(),
                };
                if prefix_events {
                    event.diagnostics = in_config_block_all(event.diagnostics);
                }
                let stop = event.diagnostics.has_errors();
                if out.send(event).await.is_err() || stop {
                    // Terraform stopped reading, or the listing failed.
                    break;
                }
            }
            // Dropping the receiver tells the list resource to stop.
            drop(rx);
        };
        futures::join!(produce, forward);
    }

    /// The list resource and the resource whose identity and state its
    /// results have.
    fn list_entries(
        &self,
        type_name: &str,
    ) -> Result<(&super::registry::ListEntry, &ResourceEntry), Diagnostic> {
        let entry = self.registry.list_resource(type_name)?;
        let resource = self.registry.resource(type_name)?;
        if resource.identity.is_none() {
            return Err(Diagnostic::error(
                "List resource without identity",
                format!(
                    "The resource type {type_name} has no identity schema, so its list results \
                     cannot be imported. This is a bug in the provider; please report it."
                ),
            ));
        }
        Ok((entry, resource))
    }

    /// One result, encoded; an encoding failure is a provider bug, reported
    /// as the event's error.
    fn encode_result(
        &self,
        resource: &ResourceEntry,
        r: ListResult,
        include_resource: bool,
    ) -> ListResourceEvent {
        let mut diagnostics = r.diagnostics;
        if r.identity.is_none() && diagnostics.is_empty() {
            diagnostics.push(Diagnostic::error(
                "List result without identity",
                format!(
                    "The provider listed {:?} without its identity; this is a bug in the \
                     provider, please report it.",
                    r.display_name
                ),
            ));
        }
        let identity = self
            .identity_out(resource, r.identity.as_ref())
            .or_report(&mut diagnostics)
            .flatten();
        let resource_object = match (&r.state, include_resource) {
            (Some(state), true) => self
                .encode("list result state", state, &resource.state.ty)
                .or_report(&mut diagnostics),
            _ => None,
        };
        ListResourceEvent {
            identity,
            display_name: r.display_name,
            resource_object,
            diagnostics,
        }
    }
}

fn in_config_block_all(d: Diagnostics) -> Diagnostics {
    Diagnostics(d.0.into_iter().map(in_config_block).collect())
}

/// Terraform `version` (`1.15.5`) does not prefix event paths itself (and
/// an unknown version is taken for one of those: the ones that list).
fn terraform_before_1_16(version: &str) -> bool {
    let mut parts = version.split(['.', '-']).map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor) < (1, 16),
        _ => true,
    }
}

/// A diagnostic at its place inside the `config` block.
fn in_config_block(mut d: Diagnostic) -> Diagnostic {
    if let Some(path) = d.path.as_mut()
        && !path.is_root()
    {
        path.steps
            .insert(0, PathStep::Attribute(CONFIG_BLOCK.to_string()));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::diag::AttributePath;

    #[test]
    fn validation_paths_point_into_the_config_block() {
        let d = in_config_block(
            Diagnostic::error("Invalid", "x").at(AttributePath::attr("cluster_name")),
        );
        assert_eq!(d.path.unwrap().to_string(), "config.cluster_name");
        let whole = in_config_block(Diagnostic::error("Invalid", "x"));
        assert_eq!(whole.path, None);
    }

    #[test]
    fn terraform_from_1_16_prefixes_event_paths_itself() {
        assert!(terraform_before_1_16("1.15.5"));
        assert!(terraform_before_1_16("1.14.0"));
        assert!(terraform_before_1_16(""));
        assert!(!terraform_before_1_16("1.16.0-alpha20260624"));
        assert!(!terraform_before_1_16("1.16.2"));
        assert!(!terraform_before_1_16("2.0.0"));
    }
}
