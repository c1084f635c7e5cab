//! The tfplugin6 `Provider` service.
//!
//! Each RPC converts the request into the framework's structs, calls the
//! provider, and converts back. Handlers never return a gRPC error: unknown
//! types, undecodable values, unsupported features and even panics inside a
//! handler come back as error diagnostics.

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use futures::{FutureExt, Stream, StreamExt};
use tokio::sync::watch;
use tonic::{Request, Response, Status, Streaming};

use super::convert::{
    codec_diagnostic, decode, diagnostic_to_proto, diagnostics_to_proto, encode, function_to_proto,
    identity_schema_to_proto, path_to_proto, schema_to_proto,
};
use super::logging::panic_message;
use super::proto::tfplugin6 as pb;
use super::proto::tfplugin6::provider_server::Provider as ProviderRpc;
use crate::framework::diag::{Diagnostic, Diagnostics};
use crate::framework::provider::{
    ApplyRequest, ClientCapabilities, ConfigureRequest, DataSource, Function, FunctionDefinition,
    FunctionError, Halt, ImportRequest, MoveRequest, PlanRequest, Provider, ProviderData,
    ReadDataRequest, ReadRequest, Resource, StopToken,
};
use crate::framework::schema::{Schema, apply_defaults, validate_declared};
use crate::framework::types::Type;
use crate::framework::value::Value;

struct Entry<T: ?Sized> {
    imp: Arc<T>,
    schema: Schema,
    ty: Type,
}

struct ResourceEntry {
    base: Entry<dyn Resource>,
    identity: Option<(Schema, Type)>,
}

struct Inner {
    provider: Arc<dyn Provider>,
    provider_schema: Schema,
    provider_type: Type,
    resources: BTreeMap<String, ResourceEntry>,
    data_sources: BTreeMap<String, Entry<dyn DataSource>>,
    functions: BTreeMap<String, (Arc<dyn Function>, FunctionDefinition)>,
    /// Built once: Terraform asks for the schema many times per run.
    schema_response: pb::get_provider_schema::Response,
    provider_data: RwLock<Option<ProviderData>>,
    stop_tx: watch::Sender<Halt>,
}

/// The gRPC service Terraform talks to.
#[derive(Clone)]
pub struct ProviderService {
    inner: Arc<Inner>,
}

/// Response messages that can carry only diagnostics (used when a handler
/// fails before it can build a real answer).
trait DiagnosticsOnly: Default {
    fn with_diagnostics(diagnostics: Vec<pb::Diagnostic>) -> Self;
}

macro_rules! diagnostics_only {
    ($($t:ty),* $(,)?) => {$(
        impl DiagnosticsOnly for $t {
            #[allow(clippy::needless_update)]
            fn with_diagnostics(diagnostics: Vec<pb::Diagnostic>) -> Self {
                Self { diagnostics, ..Default::default() }
            }
        }
    )*};
}

diagnostics_only!(
    pb::get_metadata::Response,
    pb::get_provider_schema::Response,
    pb::validate_provider_config::Response,
    pb::validate_resource_config::Response,
    pb::validate_data_resource_config::Response,
    pb::upgrade_resource_state::Response,
    pb::get_resource_identity_schemas::Response,
    pb::upgrade_resource_identity::Response,
    pb::configure_provider::Response,
    pb::read_resource::Response,
    pb::plan_resource_change::Response,
    pb::apply_resource_change::Response,
    pb::import_resource_state::Response,
    pb::move_resource_state::Response,
    pb::read_data_source::Response,
    pb::generate_resource_config::Response,
    pb::validate_ephemeral_resource_config::Response,
    pb::open_ephemeral_resource::Response,
    pb::renew_ephemeral_resource::Response,
    pb::close_ephemeral_resource::Response,
    pb::validate_list_resource_config::Response,
    pb::get_functions::Response,
    pb::validate_state_store::Response,
    pb::configure_state_store::Response,
    pb::write_state_bytes::Response,
    pb::lock_state::Response,
    pb::unlock_state::Response,
    pb::get_states::Response,
    pb::delete_state::Response,
    pb::plan_action::Response,
    pb::validate_action_config::Response,
);

/// Run a handler; a panic inside it becomes an error diagnostic.
async fn guard<T>(rpc: &'static str, f: impl Future<Output = T>) -> Result<T, Diagnostic> {
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

async fn answer<R: DiagnosticsOnly>(
    rpc: &'static str,
    f: impl Future<Output = R>,
) -> Result<Response<R>, Status> {
    tracing::trace!(rpc, "request");
    let r = match guard(rpc, f).await {
        Ok(r) => r,
        Err(d) => R::with_diagnostics(vec![diagnostic_to_proto(&d)]),
    };
    Ok(Response::new(r))
}

fn not_supported(what: &str) -> Vec<pb::Diagnostic> {
    vec![diagnostic_to_proto(&Diagnostic::error(
        format!("{what} not supported"),
        format!("terraform-provider-nested does not implement {what}."),
    ))]
}

fn unknown_type(kind: &str, name: &str, known: Vec<&String>) -> Vec<pb::Diagnostic> {
    let known = if known.is_empty() {
        "none".to_string()
    } else {
        known
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    vec![diagnostic_to_proto(&Diagnostic::error(
        format!("Unknown {kind} type"),
        format!("This provider has no {kind} type {name:?}. It has: {known}."),
    ))]
}

fn client_capabilities(c: Option<&pb::ClientCapabilities>) -> ClientCapabilities {
    c.map(|c| ClientCapabilities {
        deferral_allowed: c.deferral_allowed,
        write_only_attributes_allowed: c.write_only_attributes_allowed,
    })
    .unwrap_or_default()
}

impl ProviderService {
    pub fn new(provider: Arc<dyn Provider>, stop_tx: watch::Sender<Halt>) -> Self {
        let provider_schema = provider.schema();
        let provider_type = provider_schema.value_type();
        let resources: BTreeMap<_, _> = provider
            .resources()
            .into_iter()
            .map(|r| {
                let schema = r.schema();
                let identity = r.identity_schema().map(|s| {
                    let t = s.value_type();
                    (s, t)
                });
                (
                    r.type_name().to_string(),
                    ResourceEntry {
                        base: Entry {
                            ty: schema.value_type(),
                            schema,
                            imp: r,
                        },
                        identity,
                    },
                )
            })
            .collect();
        let data_sources: BTreeMap<_, _> = provider
            .data_sources()
            .into_iter()
            .map(|d| {
                let schema = d.schema();
                (
                    d.type_name().to_string(),
                    Entry {
                        ty: schema.value_type(),
                        schema,
                        imp: d,
                    },
                )
            })
            .collect();
        let functions: BTreeMap<_, _> = provider
            .functions()
            .into_iter()
            .map(|f| {
                let def = f.definition();
                (def.name.clone(), (f, def))
            })
            .collect();
        let schema_response = pb::get_provider_schema::Response {
            provider: Some(schema_to_proto(&provider_schema)),
            resource_schemas: resources
                .iter()
                .map(|(k, r)| (k.clone(), schema_to_proto(&r.base.schema)))
                .collect(),
            data_source_schemas: data_sources
                .iter()
                .map(|(k, d)| (k.clone(), schema_to_proto(&d.schema)))
                .collect(),
            functions: functions
                .iter()
                .map(|(k, (_, def))| (k.clone(), function_to_proto(def)))
                .collect(),
            server_capabilities: Some(server_capabilities(&resources)),
            ..Default::default()
        };
        Self {
            inner: Arc::new(Inner {
                provider,
                provider_schema,
                provider_type,
                resources,
                data_sources,
                functions,
                schema_response,
                provider_data: RwLock::new(None),
                stop_tx,
            }),
        }
    }
}

fn server_capabilities(resources: &BTreeMap<String, ResourceEntry>) -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: true,
        get_provider_schema_optional: false,
        move_resource_state: resources.values().any(|r| r.base.imp.supports_move()),
        generate_resource_config: false,
    }
}

impl Inner {
    fn provider_data(&self) -> Option<ProviderData> {
        self.provider_data.read().ok().and_then(|g| g.clone())
    }

    fn stop_token(&self) -> StopToken {
        StopToken::new(self.stop_tx.subscribe())
    }

    fn resource(&self, name: &str) -> Result<&ResourceEntry, Vec<pb::Diagnostic>> {
        self.resources
            .get(name)
            .ok_or_else(|| unknown_type("resource", name, self.resources.keys().collect()))
    }

    fn data_source(&self, name: &str) -> Result<&Entry<dyn DataSource>, Vec<pb::Diagnostic>> {
        self.data_sources
            .get(name)
            .ok_or_else(|| unknown_type("data source", name, self.data_sources.keys().collect()))
    }

    fn identity_in(
        &self,
        entry: &ResourceEntry,
        data: Option<&pb::ResourceIdentityData>,
    ) -> Result<Option<Value>, Diagnostic> {
        match (&entry.identity, data.and_then(|d| d.identity_data.as_ref())) {
            (Some((_, ty)), Some(dv)) => decode(Some(dv), ty)
                .map(|v| (!v.is_null()).then_some(v))
                .map_err(|e| codec_diagnostic("resource identity", &e)),
            _ => Ok(None),
        }
    }

    fn identity_out(
        entry: &ResourceEntry,
        identity: Option<&Value>,
    ) -> Result<Option<pb::ResourceIdentityData>, Diagnostic> {
        match (&entry.identity, identity) {
            (Some((_, ty)), Some(v)) => encode(v, ty)
                .map(|dv| {
                    Some(pb::ResourceIdentityData {
                        identity_data: Some(dv),
                    })
                })
                .map_err(|e| codec_diagnostic("resource identity", &e)),
            _ => Ok(None),
        }
    }

    fn validate_provider_config(
        &self,
        req: pb::validate_provider_config::Request,
    ) -> pb::validate_provider_config::Response {
        let mut diags = Diagnostics::new();
        match decode(req.config.as_ref(), &self.provider_type) {
            Ok(config) => {
                validate_declared(&self.provider_schema.block, &config, &mut diags);
                diags.extend(self.provider.validate_config(&config));
            }
            Err(e) => diags.push(codec_diagnostic("provider configuration", &e)),
        }
        pb::validate_provider_config::Response {
            diagnostics: diagnostics_to_proto(&diags),
        }
    }

    async fn configure_provider(
        &self,
        req: pb::configure_provider::Request,
    ) -> pb::configure_provider::Response {
        let config = match decode(req.config.as_ref(), &self.provider_type) {
            Ok(c) => c,
            Err(e) => {
                return pb::configure_provider::Response {
                    diagnostics: vec![diagnostic_to_proto(&codec_diagnostic(
                        "provider configuration",
                        &e,
                    ))],
                };
            }
        };
        let resp = self
            .provider
            .configure(ConfigureRequest {
                terraform_version: req.terraform_version,
                config,
                client: client_capabilities(req.client_capabilities.as_ref()),
            })
            .await;
        if let Ok(mut slot) = self.provider_data.write() {
            *slot = resp.data;
        }
        pb::configure_provider::Response {
            diagnostics: diagnostics_to_proto(&resp.diagnostics),
        }
    }

    fn validate_resource_config(
        &self,
        req: pb::validate_resource_config::Request,
    ) -> pb::validate_resource_config::Response {
        let entry = match self.resource(&req.type_name) {
            Ok(e) => e,
            Err(diagnostics) => return pb::validate_resource_config::Response { diagnostics },
        };
        let mut diags = Diagnostics::new();
        match decode(req.config.as_ref(), &entry.base.ty) {
            Ok(config) => {
                validate_declared(&entry.base.schema.block, &config, &mut diags);
                diags.extend(entry.base.imp.validate(&config));
            }
            Err(e) => diags.push(codec_diagnostic("resource configuration", &e)),
        }
        pb::validate_resource_config::Response {
            diagnostics: diagnostics_to_proto(&diags),
        }
    }

    fn validate_data_resource_config(
        &self,
        req: pb::validate_data_resource_config::Request,
    ) -> pb::validate_data_resource_config::Response {
        let entry = match self.data_source(&req.type_name) {
            Ok(e) => e,
            Err(diagnostics) => return pb::validate_data_resource_config::Response { diagnostics },
        };
        let mut diags = Diagnostics::new();
        match decode(req.config.as_ref(), &entry.ty) {
            Ok(config) => {
                validate_declared(&entry.schema.block, &config, &mut diags);
                diags.extend(entry.imp.validate(&config));
            }
            Err(e) => diags.push(codec_diagnostic("data source configuration", &e)),
        }
        pb::validate_data_resource_config::Response {
            diagnostics: diagnostics_to_proto(&diags),
        }
    }

    async fn read_data_source(
        &self,
        req: pb::read_data_source::Request,
    ) -> pb::read_data_source::Response {
        let entry = match self.data_source(&req.type_name) {
            Ok(e) => e,
            Err(diagnostics) => {
                return pb::read_data_source::Response {
                    diagnostics,
                    ..Default::default()
                };
            }
        };
        let mut config = match decode(req.config.as_ref(), &entry.ty) {
            Ok(c) => c,
            Err(e) => {
                return pb::read_data_source::Response::with_diagnostics(vec![
                    diagnostic_to_proto(&codec_diagnostic("data source configuration", &e)),
                ]);
            }
        };
        apply_defaults(&entry.schema.block.attributes, &mut config);
        let resp = entry
            .imp
            .read(ReadDataRequest {
                config,
                provider: self.provider_data(),
                stop: self.stop_token(),
            })
            .await;
        let mut diags = resp.diagnostics;
        let state = if diags.has_errors() {
            None
        } else {
            match encode(&resp.state, &entry.ty) {
                Ok(dv) => Some(dv),
                Err(e) => {
                    diags.push(codec_diagnostic("data source result", &e));
                    None
                }
            }
        };
        pb::read_data_source::Response {
            state,
            diagnostics: diagnostics_to_proto(&diags),
            deferred: None,
        }
    }

    fn upgrade_resource_state(
        &self,
        req: pb::upgrade_resource_state::Request,
    ) -> pb::upgrade_resource_state::Response {
        let entry = match self.resource(&req.type_name) {
            Ok(e) => e,
            Err(diagnostics) => {
                return pb::upgrade_resource_state::Response {
                    diagnostics,
                    ..Default::default()
                };
            }
        };
        let fail = |d: Diagnostic| {
            pb::upgrade_resource_state::Response::with_diagnostics(vec![diagnostic_to_proto(&d)])
        };
        let raw = req.raw_state.unwrap_or_default();
        if raw.json.is_empty() {
            if raw.flatmap.is_empty() {
                // Nothing stored: the upgraded state is null.
                return match encode(&Value::Null, &entry.base.ty) {
                    Ok(dv) => pb::upgrade_resource_state::Response {
                        upgraded_state: Some(dv),
                        diagnostics: vec![],
                    },
                    Err(e) => fail(codec_diagnostic("state", &e)),
                };
            }
            return fail(Diagnostic::error(
                "Unsupported state format",
                "This state was stored in the legacy flatmap format, which this provider never \
                 wrote. Remove the resource from state and import it again.",
            ));
        }
        let json: serde_json::Value = match serde_json::from_slice(&raw.json) {
            Ok(j) => j,
            Err(e) => {
                return fail(Diagnostic::error(
                    "Corrupt state",
                    format!("The stored state is not valid JSON: {e}."),
                ));
            }
        };
        let upgraded = match entry.base.imp.upgrade_state(req.version, json) {
            Ok(j) => j,
            Err(d) => return fail(d),
        };
        let value = match super::codec::from_json(
            &upgraded,
            &entry.base.ty,
            &crate::framework::AttributePath::root(),
        ) {
            Ok(v) => v,
            Err(e) => return fail(codec_diagnostic("stored state", &e)),
        };
        match encode(&value, &entry.base.ty) {
            Ok(dv) => pb::upgrade_resource_state::Response {
                upgraded_state: Some(dv),
                diagnostics: vec![],
            },
            Err(e) => fail(codec_diagnostic("stored state", &e)),
        }
    }

    fn upgrade_resource_identity(
        &self,
        req: pb::upgrade_resource_identity::Request,
    ) -> pb::upgrade_resource_identity::Response {
        let entry = match self.resource(&req.type_name) {
            Ok(e) => e,
            Err(diagnostics) => {
                return pb::upgrade_resource_identity::Response {
                    diagnostics,
                    ..Default::default()
                };
            }
        };
        let Some((schema, ty)) = &entry.identity else {
            return pb::upgrade_resource_identity::Response::with_diagnostics(not_supported(
                "resource identity for this resource type",
            ));
        };
        if req.version != schema.version {
            return pb::upgrade_resource_identity::Response::with_diagnostics(vec![
                diagnostic_to_proto(&Diagnostic::error(
                    "Unsupported identity version",
                    format!(
                        "The stored identity has version {}; this provider reads version {}.",
                        req.version, schema.version
                    ),
                )),
            ]);
        }
        let raw = req.raw_identity.unwrap_or_default();
        let result = super::codec::decode_json(&raw.json, ty).and_then(|v| encode(&v, ty));
        match result {
            Ok(dv) => pb::upgrade_resource_identity::Response {
                upgraded_identity: Some(pb::ResourceIdentityData {
                    identity_data: Some(dv),
                }),
                diagnostics: vec![],
            },
            Err(e) => pb::upgrade_resource_identity::Response::with_diagnostics(vec![
                diagnostic_to_proto(&codec_diagnostic("stored identity", &e)),
            ]),
        }
    }

    async fn read_resource(&self, req: pb::read_resource::Request) -> pb::read_resource::Response {
        let entry = match self.resource(&req.type_name) {
            Ok(e) => e,
            Err(diagnostics) => return pb::read_resource::Response::with_diagnostics(diagnostics),
        };
        let fail = |d: Diagnostic| {
            pb::read_resource::Response::with_diagnostics(vec![diagnostic_to_proto(&d)])
        };
        let current_state = match decode(req.current_state.as_ref(), &entry.base.ty) {
            Ok(v) => v,
            Err(e) => return fail(codec_diagnostic("state", &e)),
        };
        let current_identity = match self.identity_in(entry, req.current_identity.as_ref()) {
            Ok(v) => v,
            Err(d) => return fail(d),
        };
        let resp = entry
            .base
            .imp
            .read(ReadRequest {
                current_state: current_state.clone(),
                private: req.private.clone(),
                current_identity,
                provider: self.provider_data(),
                stop: self.stop_token(),
            })
            .await;
        let mut diags = resp.diagnostics;
        // On error the prior state stays, so nothing is lost.
        let (state, private) = if diags.has_errors() {
            (&current_state, req.private)
        } else {
            (&resp.new_state, resp.private)
        };
        let new_state = match encode(state, &entry.base.ty) {
            Ok(dv) => Some(dv),
            Err(e) => {
                diags.push(codec_diagnostic("resource state", &e));
                req.current_state
            }
        };
        let new_identity = match Self::identity_out(entry, resp.new_identity.as_ref()) {
            Ok(v) => v,
            Err(d) => {
                diags.push(d);
                None
            }
        };
        pb::read_resource::Response {
            new_state,
            diagnostics: diagnostics_to_proto(&diags),
            private,
            deferred: None,
            new_identity,
        }
    }

    async fn plan_resource_change(
        &self,
        req: pb::plan_resource_change::Request,
    ) -> pb::plan_resource_change::Response {
        let entry = match self.resource(&req.type_name) {
            Ok(e) => e,
            Err(diagnostics) => {
                return pb::plan_resource_change::Response::with_diagnostics(diagnostics);
            }
        };
        let fail = |d: Diagnostic| {
            pb::plan_resource_change::Response::with_diagnostics(vec![diagnostic_to_proto(&d)])
        };
        let ty = &entry.base.ty;
        let (prior_state, proposed_new_state, config) = match (
            decode(req.prior_state.as_ref(), ty),
            decode(req.proposed_new_state.as_ref(), ty),
            decode(req.config.as_ref(), ty),
        ) {
            (Ok(a), Ok(b), Ok(c)) => (a, b, c),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                return fail(codec_diagnostic("plan input", &e));
            }
        };
        let prior_identity = match self.identity_in(entry, req.prior_identity.as_ref()) {
            Ok(v) => v,
            Err(d) => return fail(d),
        };
        if proposed_new_state.is_null() {
            // Destroy: nothing to decide beyond "it goes".
            return pb::plan_resource_change::Response {
                planned_state: req.proposed_new_state,
                planned_private: req.prior_private,
                planned_identity: req.prior_identity,
                ..Default::default()
            };
        }
        let resp = entry
            .base
            .imp
            .plan(PlanRequest {
                prior_state,
                proposed_new_state,
                config,
                prior_private: req.prior_private,
                prior_identity,
                provider: self.provider_data(),
            })
            .await;
        let mut diags = resp.diagnostics;
        let planned_state = match encode(&resp.planned_state, ty) {
            Ok(dv) => Some(dv),
            Err(e) => {
                diags.push(codec_diagnostic("planned state", &e));
                None
            }
        };
        let planned_identity = match Self::identity_out(entry, resp.planned_identity.as_ref()) {
            Ok(v) => v,
            Err(d) => {
                diags.push(d);
                None
            }
        };
        pb::plan_resource_change::Response {
            planned_state,
            requires_replace: resp.requires_replace.iter().map(path_to_proto).collect(),
            planned_private: resp.planned_private,
            diagnostics: diagnostics_to_proto(&diags),
            legacy_type_system: false,
            deferred: None,
            planned_identity,
        }
    }

    async fn apply_resource_change(
        &self,
        req: pb::apply_resource_change::Request,
    ) -> pb::apply_resource_change::Response {
        let entry = match self.resource(&req.type_name) {
            Ok(e) => e,
            Err(diagnostics) => {
                return pb::apply_resource_change::Response::with_diagnostics(diagnostics);
            }
        };
        let ty = &entry.base.ty;
        let fail =
            |d: Diagnostic, prior: Option<pb::DynamicValue>| pb::apply_resource_change::Response {
                new_state: prior,
                diagnostics: vec![diagnostic_to_proto(&d)],
                ..Default::default()
            };
        let (prior_state, planned_state, config) = match (
            decode(req.prior_state.as_ref(), ty),
            decode(req.planned_state.as_ref(), ty),
            decode(req.config.as_ref(), ty),
        ) {
            (Ok(a), Ok(b), Ok(c)) => (a, b, c),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                return fail(codec_diagnostic("apply input", &e), req.prior_state);
            }
        };
        let planned_identity = match self.identity_in(entry, req.planned_identity.as_ref()) {
            Ok(v) => v,
            Err(d) => return fail(d, req.prior_state),
        };
        let resp = entry
            .base
            .imp
            .apply(ApplyRequest {
                prior_state,
                planned_state,
                config,
                planned_private: req.planned_private,
                planned_identity,
                provider: self.provider_data(),
                stop: self.stop_token(),
            })
            .await;
        let mut diags = resp.diagnostics;
        let new_state = match encode(&resp.new_state, ty) {
            Ok(dv) => Some(dv),
            Err(e) => {
                diags.push(codec_diagnostic("new state", &e));
                req.prior_state
            }
        };
        let new_identity = match Self::identity_out(entry, resp.new_identity.as_ref()) {
            Ok(v) => v,
            Err(d) => {
                diags.push(d);
                None
            }
        };
        pb::apply_resource_change::Response {
            new_state,
            private: resp.private,
            diagnostics: diagnostics_to_proto(&diags),
            legacy_type_system: false,
            new_identity,
        }
    }

    async fn import_resource_state(
        &self,
        req: pb::import_resource_state::Request,
    ) -> pb::import_resource_state::Response {
        let entry = match self.resource(&req.type_name) {
            Ok(e) => e,
            Err(diagnostics) => {
                return pb::import_resource_state::Response::with_diagnostics(diagnostics);
            }
        };
        let identity = match self.identity_in(entry, req.identity.as_ref()) {
            Ok(v) => v,
            Err(d) => {
                return pb::import_resource_state::Response::with_diagnostics(vec![
                    diagnostic_to_proto(&d),
                ]);
            }
        };
        let resp = entry
            .base
            .imp
            .import(ImportRequest {
                id: req.id,
                identity,
                provider: self.provider_data(),
            })
            .await;
        let mut diags = resp.diagnostics;
        let mut imported_resources = Vec::new();
        for r in resp.imported {
            let state = match encode(&r.state, &entry.base.ty) {
                Ok(dv) => dv,
                Err(e) => {
                    diags.push(codec_diagnostic("imported state", &e));
                    continue;
                }
            };
            let identity = match Self::identity_out(entry, r.identity.as_ref()) {
                Ok(v) => v,
                Err(d) => {
                    diags.push(d);
                    None
                }
            };
            imported_resources.push(pb::import_resource_state::ImportedResource {
                type_name: req.type_name.clone(),
                state: Some(state),
                private: r.private,
                identity,
            });
        }
        pb::import_resource_state::Response {
            imported_resources,
            diagnostics: diagnostics_to_proto(&diags),
            deferred: None,
        }
    }

    async fn move_resource_state(
        &self,
        req: pb::move_resource_state::Request,
    ) -> pb::move_resource_state::Response {
        let entry = match self.resource(&req.target_type_name) {
            Ok(e) => e,
            Err(diagnostics) => {
                return pb::move_resource_state::Response::with_diagnostics(diagnostics);
            }
        };
        let source_state_json = req
            .source_state
            .as_ref()
            .and_then(|r| serde_json::from_slice(&r.json).ok());
        let resp = entry
            .base
            .imp
            .move_state(MoveRequest {
                source_provider_address: req.source_provider_address,
                source_type_name: req.source_type_name,
                source_schema_version: req.source_schema_version,
                source_state_json,
            })
            .await;
        let mut diags = resp.diagnostics;
        let target_state = if diags.has_errors() {
            None
        } else {
            match encode(&resp.target_state, &entry.base.ty) {
                Ok(dv) => Some(dv),
                Err(e) => {
                    diags.push(codec_diagnostic("moved state", &e));
                    None
                }
            }
        };
        pb::move_resource_state::Response {
            target_state,
            diagnostics: diagnostics_to_proto(&diags),
            ..Default::default()
        }
    }

    fn call_function(&self, req: pb::call_function::Request) -> pb::call_function::Response {
        let error = |text: String, argument: Option<i64>| pb::call_function::Response {
            result: None,
            error: Some(pb::FunctionError {
                text,
                function_argument: argument,
            }),
        };
        let Some((function, def)) = self.functions.get(&req.name) else {
            return error(
                format!("This provider has no function {:?}.", req.name),
                None,
            );
        };
        let mut args = Vec::with_capacity(req.arguments.len());
        for (i, dv) in req.arguments.iter().enumerate() {
            let index = i64::try_from(i).unwrap_or(i64::MAX);
            let param = def.parameters.get(i).or(def.variadic.as_ref());
            let Some(param) = param else {
                return error(
                    format!(
                        "{} takes {} argument(s); got {}.",
                        def.name,
                        def.parameters.len(),
                        req.arguments.len()
                    ),
                    None,
                );
            };
            match decode(Some(dv), &param.ty) {
                Ok(v) => args.push(v),
                Err(e) => return error(format!("Invalid argument: {e}"), Some(index)),
            }
        }
        match function.call(&args) {
            Ok(v) => match encode(&v, &def.return_type) {
                Ok(dv) => pb::call_function::Response {
                    result: Some(dv),
                    error: None,
                },
                Err(e) => error(format!("Invalid result (provider bug): {e}"), None),
            },
            Err(FunctionError { text, argument }) => error(text, argument),
        }
    }
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl ProviderRpc for ProviderService {
    async fn get_metadata(
        &self,
        _request: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        let inner = &self.inner;
        answer("GetMetadata", async {
            pb::get_metadata::Response {
                server_capabilities: inner.schema_response.server_capabilities,
                data_sources: inner
                    .data_sources
                    .keys()
                    .map(|k| pb::get_metadata::DataSourceMetadata {
                        type_name: k.clone(),
                    })
                    .collect(),
                resources: inner
                    .resources
                    .keys()
                    .map(|k| pb::get_metadata::ResourceMetadata {
                        type_name: k.clone(),
                    })
                    .collect(),
                functions: inner
                    .functions
                    .keys()
                    .map(|k| pb::get_metadata::FunctionMetadata { name: k.clone() })
                    .collect(),
                ..Default::default()
            }
        })
        .await
    }

    async fn get_provider_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        let inner = &self.inner;
        answer("GetProviderSchema", async { inner.schema_response.clone() }).await
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        let inner = &self.inner;
        answer("ValidateProviderConfig", async {
            inner.validate_provider_config(request.into_inner())
        })
        .await
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let inner = &self.inner;
        answer("ValidateResourceConfig", async {
            inner.validate_resource_config(request.into_inner())
        })
        .await
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let inner = &self.inner;
        answer("ValidateDataResourceConfig", async {
            inner.validate_data_resource_config(request.into_inner())
        })
        .await
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let inner = &self.inner;
        answer("UpgradeResourceState", async {
            inner.upgrade_resource_state(request.into_inner())
        })
        .await
    }

    async fn get_resource_identity_schemas(
        &self,
        _request: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        let inner = &self.inner;
        answer("GetResourceIdentitySchemas", async {
            pb::get_resource_identity_schemas::Response {
                identity_schemas: inner
                    .resources
                    .iter()
                    .filter_map(|(k, r)| {
                        r.identity
                            .as_ref()
                            .map(|(s, _)| (k.clone(), identity_schema_to_proto(s)))
                    })
                    .collect(),
                diagnostics: vec![],
            }
        })
        .await
    }

    async fn upgrade_resource_identity(
        &self,
        request: Request<pb::upgrade_resource_identity::Request>,
    ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
        let inner = &self.inner;
        answer("UpgradeResourceIdentity", async {
            inner.upgrade_resource_identity(request.into_inner())
        })
        .await
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let inner = &self.inner;
        answer(
            "ConfigureProvider",
            inner.configure_provider(request.into_inner()),
        )
        .await
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let inner = &self.inner;
        answer("ReadResource", inner.read_resource(request.into_inner())).await
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let inner = &self.inner;
        answer(
            "PlanResourceChange",
            inner.plan_resource_change(request.into_inner()),
        )
        .await
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let inner = &self.inner;
        answer(
            "ApplyResourceChange",
            inner.apply_resource_change(request.into_inner()),
        )
        .await
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let inner = &self.inner;
        answer(
            "ImportResourceState",
            inner.import_resource_state(request.into_inner()),
        )
        .await
    }

    async fn move_resource_state(
        &self,
        request: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        let inner = &self.inner;
        answer(
            "MoveResourceState",
            inner.move_resource_state(request.into_inner()),
        )
        .await
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let inner = &self.inner;
        answer(
            "ReadDataSource",
            inner.read_data_source(request.into_inner()),
        )
        .await
    }

    async fn generate_resource_config(
        &self,
        _request: Request<pb::generate_resource_config::Request>,
    ) -> Result<Response<pb::generate_resource_config::Response>, Status> {
        answer("GenerateResourceConfig", async {
            pb::generate_resource_config::Response::with_diagnostics(not_supported(
                "configuration generation",
            ))
        })
        .await
    }

    async fn validate_ephemeral_resource_config(
        &self,
        _request: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<pb::validate_ephemeral_resource_config::Response>, Status> {
        answer("ValidateEphemeralResourceConfig", async {
            pb::validate_ephemeral_resource_config::Response::with_diagnostics(not_supported(
                "ephemeral resources",
            ))
        })
        .await
    }

    async fn open_ephemeral_resource(
        &self,
        _request: Request<pb::open_ephemeral_resource::Request>,
    ) -> Result<Response<pb::open_ephemeral_resource::Response>, Status> {
        answer("OpenEphemeralResource", async {
            pb::open_ephemeral_resource::Response::with_diagnostics(not_supported(
                "ephemeral resources",
            ))
        })
        .await
    }

    async fn renew_ephemeral_resource(
        &self,
        _request: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Result<Response<pb::renew_ephemeral_resource::Response>, Status> {
        answer("RenewEphemeralResource", async {
            pb::renew_ephemeral_resource::Response::with_diagnostics(not_supported(
                "ephemeral resources",
            ))
        })
        .await
    }

    async fn close_ephemeral_resource(
        &self,
        _request: Request<pb::close_ephemeral_resource::Request>,
    ) -> Result<Response<pb::close_ephemeral_resource::Response>, Status> {
        answer("CloseEphemeralResource", async {
            pb::close_ephemeral_resource::Response::with_diagnostics(not_supported(
                "ephemeral resources",
            ))
        })
        .await
    }

    type ListResourceStream = BoxStream<pb::list_resource::Event>;

    async fn list_resource(
        &self,
        _request: Request<pb::list_resource::Request>,
    ) -> Result<Response<Self::ListResourceStream>, Status> {
        let event = pb::list_resource::Event {
            diagnostic: not_supported("list resources"),
            ..Default::default()
        };
        Ok(Response::new(Box::pin(futures::stream::iter([Ok(event)]))))
    }

    async fn validate_list_resource_config(
        &self,
        _request: Request<pb::validate_list_resource_config::Request>,
    ) -> Result<Response<pb::validate_list_resource_config::Response>, Status> {
        answer("ValidateListResourceConfig", async {
            pb::validate_list_resource_config::Response::with_diagnostics(not_supported(
                "list resources",
            ))
        })
        .await
    }

    async fn get_functions(
        &self,
        _request: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        let inner = &self.inner;
        answer("GetFunctions", async {
            pb::get_functions::Response {
                functions: inner.schema_response.functions.clone(),
                diagnostics: vec![],
            }
        })
        .await
    }

    async fn call_function(
        &self,
        request: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        let inner = &self.inner;
        let r = match guard("CallFunction", async {
            inner.call_function(request.into_inner())
        })
        .await
        {
            Ok(r) => r,
            Err(d) => pb::call_function::Response {
                result: None,
                error: Some(pb::FunctionError {
                    text: d.detail,
                    function_argument: None,
                }),
            },
        };
        Ok(Response::new(r))
    }

    async fn validate_state_store_config(
        &self,
        _request: Request<pb::validate_state_store::Request>,
    ) -> Result<Response<pb::validate_state_store::Response>, Status> {
        answer("ValidateStateStoreConfig", async {
            pb::validate_state_store::Response::with_diagnostics(not_supported("state stores"))
        })
        .await
    }

    async fn configure_state_store(
        &self,
        _request: Request<pb::configure_state_store::Request>,
    ) -> Result<Response<pb::configure_state_store::Response>, Status> {
        answer("ConfigureStateStore", async {
            pb::configure_state_store::Response::with_diagnostics(not_supported("state stores"))
        })
        .await
    }

    type ReadStateBytesStream = BoxStream<pb::read_state_bytes::Response>;

    async fn read_state_bytes(
        &self,
        _request: Request<pb::read_state_bytes::Request>,
    ) -> Result<Response<Self::ReadStateBytesStream>, Status> {
        let chunk = pb::read_state_bytes::Response {
            diagnostics: not_supported("state stores"),
            ..Default::default()
        };
        Ok(Response::new(Box::pin(futures::stream::iter([Ok(chunk)]))))
    }

    async fn write_state_bytes(
        &self,
        request: Request<Streaming<pb::write_state_bytes::RequestChunk>>,
    ) -> Result<Response<pb::write_state_bytes::Response>, Status> {
        let mut chunks = request.into_inner();
        while let Some(Ok(_)) = chunks.next().await {}
        answer("WriteStateBytes", async {
            pb::write_state_bytes::Response::with_diagnostics(not_supported("state stores"))
        })
        .await
    }

    async fn lock_state(
        &self,
        _request: Request<pb::lock_state::Request>,
    ) -> Result<Response<pb::lock_state::Response>, Status> {
        answer("LockState", async {
            pb::lock_state::Response::with_diagnostics(not_supported("state stores"))
        })
        .await
    }

    async fn unlock_state(
        &self,
        _request: Request<pb::unlock_state::Request>,
    ) -> Result<Response<pb::unlock_state::Response>, Status> {
        answer("UnlockState", async {
            pb::unlock_state::Response::with_diagnostics(not_supported("state stores"))
        })
        .await
    }

    async fn get_states(
        &self,
        _request: Request<pb::get_states::Request>,
    ) -> Result<Response<pb::get_states::Response>, Status> {
        answer("GetStates", async {
            pb::get_states::Response::with_diagnostics(not_supported("state stores"))
        })
        .await
    }

    async fn delete_state(
        &self,
        _request: Request<pb::delete_state::Request>,
    ) -> Result<Response<pb::delete_state::Response>, Status> {
        answer("DeleteState", async {
            pb::delete_state::Response::with_diagnostics(not_supported("state stores"))
        })
        .await
    }

    async fn plan_action(
        &self,
        _request: Request<pb::plan_action::Request>,
    ) -> Result<Response<pb::plan_action::Response>, Status> {
        answer("PlanAction", async {
            pb::plan_action::Response::with_diagnostics(not_supported("actions"))
        })
        .await
    }

    type InvokeActionStream = BoxStream<pb::invoke_action::Event>;

    async fn invoke_action(
        &self,
        _request: Request<pb::invoke_action::Request>,
    ) -> Result<Response<Self::InvokeActionStream>, Status> {
        let event = pb::invoke_action::Event {
            r#type: Some(pb::invoke_action::event::Type::Completed(
                pb::invoke_action::event::Completed {
                    diagnostics: not_supported("actions"),
                },
            )),
        };
        Ok(Response::new(Box::pin(futures::stream::iter([Ok(event)]))))
    }

    async fn validate_action_config(
        &self,
        _request: Request<pb::validate_action_config::Request>,
    ) -> Result<Response<pb::validate_action_config::Response>, Status> {
        answer("ValidateActionConfig", async {
            pb::validate_action_config::Response::with_diagnostics(not_supported("actions"))
        })
        .await
    }

    async fn stop_provider(
        &self,
        _request: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        tracing::info!("StopProvider: cancelling in-flight operations");
        // A stop never downgrades "Terraform is gone".
        self.inner.stop_tx.send_if_modified(|h| {
            let changed = *h == Halt::Running;
            if changed {
                *h = Halt::Stop;
            }
            changed
        });
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::provider::{
        ApplyResponse, ConfigureResponse, Parameter, PlanResponse, ReadDataResponse, ReadResponse,
    };
    use crate::framework::schema::Attribute;
    use crate::plugin::codec::{decode_msgpack, encode_msgpack};
    use async_trait::async_trait;

    struct TestProvider;
    struct Panics;
    struct Thing;
    struct Upper;

    #[async_trait]
    impl Provider for TestProvider {
        fn type_name(&self) -> &'static str {
            "test"
        }
        fn schema(&self) -> Schema {
            Schema::new("test provider")
        }
        async fn configure(&self, _req: ConfigureRequest) -> ConfigureResponse {
            ConfigureResponse::default()
        }
        fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
            vec![Arc::new(Panics)]
        }
        fn resources(&self) -> Vec<Arc<dyn Resource>> {
            vec![Arc::new(Thing)]
        }
        fn functions(&self) -> Vec<Arc<dyn Function>> {
            vec![Arc::new(Upper)]
        }
    }

    #[async_trait]
    impl DataSource for Panics {
        fn type_name(&self) -> &'static str {
            "test_panics"
        }
        fn schema(&self) -> Schema {
            Schema::new("panics").attribute(Attribute::string("x").optional())
        }
        async fn read(&self, _req: ReadDataRequest) -> ReadDataResponse {
            let v: Vec<u8> = Vec::new();
            // An out-of-bounds index: a bug of the kind that must not crash the plugin.
            let _ = v[usize::from(v.is_empty())];
            ReadDataResponse::default()
        }
    }

    #[async_trait]
    impl Resource for Thing {
        fn type_name(&self) -> &'static str {
            "test_thing"
        }
        fn schema(&self) -> Schema {
            Schema::new("thing")
                .attribute(Attribute::string("name").required())
                .attribute(Attribute::string("id").computed())
        }
        fn identity_schema(&self) -> Option<Schema> {
            Some(Schema::new("identity").attribute(Attribute::string("name").required()))
        }
        async fn plan(&self, req: PlanRequest) -> PlanResponse {
            let mut planned = req.proposed_new_state;
            if req.prior_state.is_null() {
                planned.set_attr("id", Value::unknown());
            }
            PlanResponse {
                planned_state: planned,
                ..Default::default()
            }
        }
        async fn apply(&self, req: ApplyRequest) -> ApplyResponse {
            let mut state = req.planned_state;
            let name = state.attr("name").cloned().unwrap_or_default();
            state.set_attr("id", Value::string("thing-1"));
            ApplyResponse {
                new_state: state,
                new_identity: Some(Value::object([("name", name)])),
                ..Default::default()
            }
        }
        async fn read(&self, req: ReadRequest) -> ReadResponse {
            ReadResponse {
                new_state: req.current_state,
                ..Default::default()
            }
        }
    }

    impl Function for Upper {
        fn definition(&self) -> FunctionDefinition {
            FunctionDefinition {
                name: "upper".into(),
                summary: "upper-case".into(),
                description: String::new(),
                parameters: vec![Parameter::new("s", Type::String, "text")],
                variadic: None,
                return_type: Type::String,
                deprecation: None,
            }
        }
        fn call(&self, arguments: &[Value]) -> Result<Value, FunctionError> {
            match arguments[0].as_str() {
                Some("") => Err(FunctionError::at_argument(0, "empty")),
                Some(s) => Ok(Value::string(s.to_uppercase())),
                None => Err(FunctionError::at_argument(0, "null")),
            }
        }
    }

    fn service() -> ProviderService {
        let (tx, _) = watch::channel(Halt::Running);
        ProviderService::new(Arc::new(TestProvider), tx)
    }

    fn dv(v: &Value, ty: &Type) -> Option<pb::DynamicValue> {
        Some(pb::DynamicValue {
            msgpack: encode_msgpack(v, ty).unwrap(),
            json: vec![],
        })
    }

    #[tokio::test]
    async fn a_panic_in_a_handler_becomes_an_error_diagnostic() {
        let s = service();
        let ty = Schema::new("")
            .attribute(Attribute::string("x").optional())
            .value_type();
        let r = s
            .read_data_source(Request::new(pb::read_data_source::Request {
                type_name: "test_panics".into(),
                config: dv(&Value::object([("x", Value::Null)]), &ty),
                ..Default::default()
            }))
            .await
            .expect("no transport error")
            .into_inner();
        assert_eq!(r.diagnostics.len(), 1);
        let d = &r.diagnostics[0];
        assert_eq!(d.severity, pb::diagnostic::Severity::Error as i32);
        assert_eq!(d.summary, "Provider internal error");
        assert!(d.detail.contains("ReadDataSource"), "{}", d.detail);
        assert!(d.detail.contains("index out of bounds"), "{}", d.detail);
        // The service is still usable afterwards.
        let again = s
            .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
            .await
            .unwrap()
            .into_inner();
        assert!(again.resource_schemas.contains_key("test_thing"));
    }

    #[tokio::test]
    async fn functions_are_listed_and_called() {
        let s = service();
        let f = s
            .get_functions(Request::new(pb::get_functions::Request {}))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(f.functions["upper"].parameters[0].name, "s");
        let call = |arg: &str| {
            let s = s.clone();
            let arg = arg.to_string();
            async move {
                s.call_function(Request::new(pb::call_function::Request {
                    name: "upper".into(),
                    arguments: vec![dv(&Value::string(arg), &Type::String).unwrap()],
                }))
                .await
                .unwrap()
                .into_inner()
            }
        };
        let ok = call("abc").await;
        let out = decode_msgpack(&ok.result.unwrap().msgpack, &Type::String).unwrap();
        assert_eq!(out, Value::string("ABC"));
        let err = call("").await.error.unwrap();
        assert_eq!(err.function_argument, Some(0));
        assert_eq!(err.text, "empty");
    }

    #[tokio::test]
    async fn resource_lifecycle_with_identity_and_default_import() {
        let s = service();
        let ty = Thing.schema().value_type();
        let config = Value::object([("name", Value::string("a")), ("id", Value::Null)]);
        let plan = s
            .plan_resource_change(Request::new(pb::plan_resource_change::Request {
                type_name: "test_thing".into(),
                prior_state: dv(&Value::Null, &ty),
                proposed_new_state: dv(&config, &ty),
                config: dv(&config, &ty),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        assert!(plan.diagnostics.is_empty(), "{:?}", plan.diagnostics);
        let planned = decode_msgpack(&plan.planned_state.clone().unwrap().msgpack, &ty).unwrap();
        assert!(planned.attr("id").unwrap().is_unknown());

        let apply = s
            .apply_resource_change(Request::new(pb::apply_resource_change::Request {
                type_name: "test_thing".into(),
                prior_state: dv(&Value::Null, &ty),
                planned_state: plan.planned_state,
                config: dv(&config, &ty),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        let state = decode_msgpack(&apply.new_state.unwrap().msgpack, &ty).unwrap();
        assert_eq!(state.attr("id"), Some(&Value::string("thing-1")));
        let id_ty = Thing.identity_schema().unwrap().value_type();
        let identity = decode_msgpack(
            &apply.new_identity.unwrap().identity_data.unwrap().msgpack,
            &id_ty,
        )
        .unwrap();
        assert_eq!(identity.attr("name"), Some(&Value::string("a")));

        let schemas = s
            .get_resource_identity_schemas(Request::new(
                pb::get_resource_identity_schemas::Request {},
            ))
            .await
            .unwrap()
            .into_inner();
        let attr = &schemas.identity_schemas["test_thing"].identity_attributes[0];
        assert!(attr.required_for_import);

        let import = s
            .import_resource_state(Request::new(pb::import_resource_state::Request {
                type_name: "test_thing".into(),
                id: "a".into(),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(import.diagnostics[0].summary, "Import not supported");

        // Destroy plans to null without asking the resource.
        let destroy = s
            .plan_resource_change(Request::new(pb::plan_resource_change::Request {
                type_name: "test_thing".into(),
                prior_state: dv(&state, &ty),
                proposed_new_state: dv(&Value::Null, &ty),
                config: dv(&Value::Null, &ty),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        let planned = decode_msgpack(&destroy.planned_state.unwrap().msgpack, &ty).unwrap();
        assert!(planned.is_null());
    }

    #[tokio::test]
    async fn stored_state_is_upgraded_from_json_and_unknown_versions_are_refused() {
        let s = service();
        let ok = s
            .upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
                type_name: "test_thing".into(),
                version: 0,
                raw_state: Some(pb::RawState {
                    json: br#"{"name":"a","id":"thing-1"}"#.to_vec(),
                    flatmap: Default::default(),
                }),
            }))
            .await
            .unwrap()
            .into_inner();
        assert!(ok.diagnostics.is_empty());
        let v = decode_msgpack(
            &ok.upgraded_state.unwrap().msgpack,
            &Thing.schema().value_type(),
        )
        .unwrap();
        assert_eq!(v.attr("id"), Some(&Value::string("thing-1")));
        let bad = s
            .upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
                type_name: "test_thing".into(),
                version: 7,
                raw_state: Some(pb::RawState {
                    json: b"{}".to_vec(),
                    flatmap: Default::default(),
                }),
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(bad.diagnostics[0].summary, "Unsupported state version");
    }

    #[tokio::test]
    async fn stop_provider_fires_the_stop_token() {
        let (tx, _) = watch::channel(Halt::Running);
        let s = ProviderService::new(Arc::new(TestProvider), tx);
        let mut token = s.inner.stop_token();
        assert!(!token.is_stopped());
        s.stop_provider(Request::new(pb::stop_provider::Request {}))
            .await
            .unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(1), token.stopped())
            .await
            .expect("stop token fired");
    }
}
