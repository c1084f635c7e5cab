//! The tfplugin6 `Provider` service: the tonic adapter in front of the
//! framework server.
//!
//! Each RPC turns its protobuf request into the framework server's request
//! (`messages`), runs the server's operation inside the RPC's span
//! (`span`: `tf_rpc`, `tf_req_id`, the type name), and turns the answer
//! back into protobuf. Handlers never return a gRPC error: unknown types,
//! undecodable values, unsupported features and panics come back as error
//! diagnostics (the framework server sees to all but the unsupported RPCs,
//! which [`provider_rpc!`] answers in one place).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures::{Stream, StreamExt};
use tokio::sync::watch;
use tonic::{Request, Response, Status, Streaming};
use tracing::{Instrument, Span};

use super::convert::{WireCodec, capabilities_to_proto, function_to_proto, schema_to_proto};
use super::proto::tfplugin6 as pb;
use super::proto::tfplugin6::provider_server::Provider as ProviderRpc;
use super::span::{Subject, rpc_span};
use crate::framework::diag::Diagnostics;
use crate::framework::provider::{Halt, Provider};
use crate::framework::server::{Server, not_supported};

/// The gRPC service Terraform talks to.
#[derive(Clone)]
pub struct ProviderService {
    server: Arc<Server>,
    /// Built once: Terraform asks for the schema many times per run.
    schema_response: Arc<pb::get_provider_schema::Response>,
}

impl ProviderService {
    /// Serve `provider`; `stop_tx` carries StopProvider (and the loss of
    /// Terraform) to the operations in flight.
    pub fn new(provider: Arc<dyn Provider>, stop_tx: watch::Sender<Halt>) -> Self {
        let server = Server::new(provider, Arc::new(WireCodec), stop_tx);
        let schema_response = Arc::new(schema_response(&server));
        Self {
            server: Arc::new(server),
            schema_response,
        }
    }

    /// The framework server the RPCs are answered by.
    pub fn server(&self) -> &Server {
        &self.server
    }

    fn server_arc(&self) -> Arc<Server> {
        Arc::clone(&self.server)
    }
}

/// GetProviderSchema's answer: every schema the server declares.
fn schema_response(server: &Server) -> pb::get_provider_schema::Response {
    pb::get_provider_schema::Response {
        provider: Some(schema_to_proto(server.provider_schema())),
        resource_schemas: server
            .resource_schemas()
            .map(|(k, s)| (k.to_string(), schema_to_proto(s)))
            .collect(),
        data_source_schemas: server
            .data_source_schemas()
            .map(|(k, s)| (k.to_string(), schema_to_proto(s)))
            .collect(),
        functions: server
            .function_definitions()
            .map(|(k, f)| (k.to_string(), function_to_proto(f)))
            .collect(),
        list_resource_schemas: server
            .list_resource_schemas()
            .map(|(k, s)| (k.to_string(), schema_to_proto(s)))
            .collect(),
        server_capabilities: Some(capabilities_to_proto(server.capabilities())),
        ..Default::default()
    }
}

/// Run one request's work inside its span.
async fn in_span<T>(span: Span, work: impl Future<Output = T>) -> T {
    async {
        tracing::trace!("request");
        work.await
    }
    .instrument(span)
    .await
}

/// The answer of an RPC this provider does not implement.
async fn unsupported<R: From<Diagnostics>>(rpc: &'static str, what: &str) -> R {
    in_span(rpc_span(rpc, Subject::Provider), async {
        R::from(Diagnostics::from(not_supported(what)))
    })
    .await
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// Implements the tfplugin6 `Provider` trait from one table. Each entry
/// names the trait method and the `pb` module of its messages. A supported
/// RPC is answered by the function of the same name in [`handlers`] (a
/// supported stream by the stream that function returns); every
/// unsupported one (unary, server-streaming or client-streaming) by the
/// "not supported" diagnostic, in its span like any other RPC.
macro_rules! provider_rpc {
    (
        supported { $($method:ident,)* }
        supported_streams { $($ss_method:ident -> $ss_stream:ident of $ss_item:ident;)* }
        unsupported { $($u_method:ident($u_msg:ident) = $u_rpc:literal, $u_what:literal;)* }
        unsupported_streams {
            $($s_method:ident($s_msg:ident) -> $s_stream:ident of $s_item:ident
                = $s_rpc:literal, $s_what:literal;)*
        }
        unsupported_uploads { $($w_method:ident($w_msg:ident) = $w_rpc:literal, $w_what:literal;)* }
    ) => {
        #[tonic::async_trait]
        impl ProviderRpc for ProviderService {
            $(
                async fn $method(
                    &self,
                    request: Request<pb::$method::Request>,
                ) -> Result<Response<pb::$method::Response>, Status> {
                    Ok(Response::new(handlers::$method(self, request.into_inner()).await))
                }
            )*
            $(
                type $ss_stream = BoxStream<pb::$ss_method::$ss_item>;

                async fn $ss_method(
                    &self,
                    request: Request<pb::$ss_method::Request>,
                ) -> Result<Response<Self::$ss_stream>, Status> {
                    let events = handlers::$ss_method(self, request.into_inner());
                    Ok(Response::new(Box::pin(events.map(Ok))))
                }
            )*
            $(
                async fn $u_method(
                    &self,
                    _request: Request<pb::$u_msg::Request>,
                ) -> Result<Response<pb::$u_msg::Response>, Status> {
                    Ok(Response::new(unsupported($u_rpc, $u_what).await))
                }
            )*
            $(
                type $s_stream = BoxStream<pb::$s_msg::$s_item>;

                async fn $s_method(
                    &self,
                    _request: Request<pb::$s_msg::Request>,
                ) -> Result<Response<Self::$s_stream>, Status> {
                    let item: pb::$s_msg::$s_item = unsupported($s_rpc, $s_what).await;
                    Ok(Response::new(Box::pin(futures::stream::iter([Ok(item)]))))
                }
            )*
            $(
                async fn $w_method(
                    &self,
                    request: Request<Streaming<pb::$w_msg::RequestChunk>>,
                ) -> Result<Response<pb::$w_msg::Response>, Status> {
                    // Take the whole upload before answering.
                    let mut chunks = request.into_inner();
                    while let Some(Ok(_)) = chunks.next().await {}
                    Ok(Response::new(unsupported($w_rpc, $w_what).await))
                }
            )*
        }
    };
}

provider_rpc! {
    supported {
        get_metadata,
        get_provider_schema,
        validate_provider_config,
        validate_resource_config,
        validate_data_resource_config,
        upgrade_resource_state,
        get_resource_identity_schemas,
        upgrade_resource_identity,
        configure_provider,
        read_resource,
        plan_resource_change,
        apply_resource_change,
        import_resource_state,
        move_resource_state,
        read_data_source,
        validate_list_resource_config,
        get_functions,
        call_function,
        stop_provider,
    }
    supported_streams {
        list_resource -> ListResourceStream of Event;
    }
    unsupported {
        generate_resource_config(generate_resource_config)
            = "GenerateResourceConfig", "configuration generation";
        validate_ephemeral_resource_config(validate_ephemeral_resource_config)
            = "ValidateEphemeralResourceConfig", "ephemeral resources";
        open_ephemeral_resource(open_ephemeral_resource)
            = "OpenEphemeralResource", "ephemeral resources";
        renew_ephemeral_resource(renew_ephemeral_resource)
            = "RenewEphemeralResource", "ephemeral resources";
        close_ephemeral_resource(close_ephemeral_resource)
            = "CloseEphemeralResource", "ephemeral resources";
        validate_state_store_config(validate_state_store)
            = "ValidateStateStoreConfig", "state stores";
        configure_state_store(configure_state_store) = "ConfigureStateStore", "state stores";
        lock_state(lock_state) = "LockState", "state stores";
        unlock_state(unlock_state) = "UnlockState", "state stores";
        get_states(get_states) = "GetStates", "state stores";
        delete_state(delete_state) = "DeleteState", "state stores";
        plan_action(plan_action) = "PlanAction", "actions";
        validate_action_config(validate_action_config) = "ValidateActionConfig", "actions";
    }
    unsupported_streams {
        read_state_bytes(read_state_bytes) -> ReadStateBytesStream of Response
            = "ReadStateBytes", "state stores";
        invoke_action(invoke_action) -> InvokeActionStream of Event = "InvokeAction", "actions";
    }
    unsupported_uploads {
        write_state_bytes(write_state_bytes) = "WriteStateBytes", "state stores";
    }
}

/// The supported RPCs, one function each, named after the trait method:
/// open the span, convert, call the framework server, convert back.
mod handlers {
    use futures::{Stream, StreamExt};

    use super::{ProviderService, Subject, in_span, pb, rpc_span};
    use crate::framework::server::{
        APPLY_RESOURCE_CHANGE, CALL_FUNCTION, CONFIGURE_PROVIDER, IMPORT_RESOURCE_STATE,
        LIST_RESOURCE, MOVE_RESOURCE_STATE, PLAN_RESOURCE_CHANGE, READ_DATA_SOURCE, READ_RESOURCE,
        UPGRADE_RESOURCE_IDENTITY, UPGRADE_RESOURCE_STATE, VALIDATE_DATA_RESOURCE_CONFIG,
        VALIDATE_LIST_RESOURCE_CONFIG, VALIDATE_PROVIDER_CONFIG, VALIDATE_RESOURCE_CONFIG,
    };
    use crate::plugin::convert::identity_schema_to_proto;

    pub async fn get_metadata(
        s: &ProviderService,
        _req: pb::get_metadata::Request,
    ) -> pb::get_metadata::Response {
        in_span(rpc_span("GetMetadata", Subject::Provider), async {
            s.server.metadata().into()
        })
        .await
    }

    pub async fn get_provider_schema(
        s: &ProviderService,
        _req: pb::get_provider_schema::Request,
    ) -> pb::get_provider_schema::Response {
        in_span(rpc_span("GetProviderSchema", Subject::Provider), async {
            (*s.schema_response).clone()
        })
        .await
    }

    pub async fn get_resource_identity_schemas(
        s: &ProviderService,
        _req: pb::get_resource_identity_schemas::Request,
    ) -> pb::get_resource_identity_schemas::Response {
        let span = rpc_span("GetResourceIdentitySchemas", Subject::Provider);
        in_span(span, async {
            pb::get_resource_identity_schemas::Response {
                identity_schemas: s
                    .server
                    .resource_identity_schemas()
                    .map(|(k, schema)| (k.to_string(), identity_schema_to_proto(schema)))
                    .collect(),
                diagnostics: vec![],
            }
        })
        .await
    }

    pub async fn get_functions(
        s: &ProviderService,
        _req: pb::get_functions::Request,
    ) -> pb::get_functions::Response {
        in_span(rpc_span("GetFunctions", Subject::Provider), async {
            pb::get_functions::Response {
                functions: s.schema_response.functions.clone(),
                diagnostics: vec![],
            }
        })
        .await
    }

    pub async fn validate_provider_config(
        s: &ProviderService,
        req: pb::validate_provider_config::Request,
    ) -> pb::validate_provider_config::Response {
        let span = rpc_span(VALIDATE_PROVIDER_CONFIG, Subject::Provider);
        let config = req.config.map(Into::into);
        in_span(span, s.server.validate_provider_config(config))
            .await
            .into()
    }

    pub async fn validate_resource_config(
        s: &ProviderService,
        req: pb::validate_resource_config::Request,
    ) -> pb::validate_resource_config::Response {
        let span = rpc_span(VALIDATE_RESOURCE_CONFIG, Subject::Resource(&req.type_name));
        let config = req.config.map(Into::into);
        in_span(
            span,
            s.server.validate_resource_config(&req.type_name, config),
        )
        .await
        .into()
    }

    pub async fn validate_data_resource_config(
        s: &ProviderService,
        req: pb::validate_data_resource_config::Request,
    ) -> pb::validate_data_resource_config::Response {
        let span = rpc_span(
            VALIDATE_DATA_RESOURCE_CONFIG,
            Subject::DataSource(&req.type_name),
        );
        let config = req.config.map(Into::into);
        let work = s
            .server
            .validate_data_resource_config(&req.type_name, config);
        in_span(span, work).await.into()
    }

    pub async fn configure_provider(
        s: &ProviderService,
        req: pb::configure_provider::Request,
    ) -> pb::configure_provider::Response {
        let span = rpc_span(CONFIGURE_PROVIDER, Subject::Provider);
        in_span(span, s.server.configure_provider(req.into()))
            .await
            .into()
    }

    pub async fn upgrade_resource_state(
        s: &ProviderService,
        req: pb::upgrade_resource_state::Request,
    ) -> pb::upgrade_resource_state::Response {
        let span = rpc_span(UPGRADE_RESOURCE_STATE, Subject::Resource(&req.type_name));
        in_span(span, s.server.upgrade_resource_state(req.into()))
            .await
            .into()
    }

    pub async fn upgrade_resource_identity(
        s: &ProviderService,
        req: pb::upgrade_resource_identity::Request,
    ) -> pb::upgrade_resource_identity::Response {
        let span = rpc_span(UPGRADE_RESOURCE_IDENTITY, Subject::Resource(&req.type_name));
        in_span(span, s.server.upgrade_resource_identity(req.into()))
            .await
            .into()
    }

    pub async fn read_resource(
        s: &ProviderService,
        req: pb::read_resource::Request,
    ) -> pb::read_resource::Response {
        let span = rpc_span(READ_RESOURCE, Subject::Resource(&req.type_name));
        in_span(span, s.server.read_resource(req.into()))
            .await
            .into()
    }

    pub async fn plan_resource_change(
        s: &ProviderService,
        req: pb::plan_resource_change::Request,
    ) -> pb::plan_resource_change::Response {
        let span = rpc_span(PLAN_RESOURCE_CHANGE, Subject::Resource(&req.type_name));
        in_span(span, s.server.plan_resource_change(req.into()))
            .await
            .into()
    }

    pub async fn apply_resource_change(
        s: &ProviderService,
        req: pb::apply_resource_change::Request,
    ) -> pb::apply_resource_change::Response {
        let span = rpc_span(APPLY_RESOURCE_CHANGE, Subject::Resource(&req.type_name));
        in_span(span, s.server.apply_resource_change(req.into()))
            .await
            .into()
    }

    pub async fn import_resource_state(
        s: &ProviderService,
        req: pb::import_resource_state::Request,
    ) -> pb::import_resource_state::Response {
        let span = rpc_span(IMPORT_RESOURCE_STATE, Subject::Resource(&req.type_name));
        in_span(span, s.server.import_resource_state(req.into()))
            .await
            .into()
    }

    pub async fn move_resource_state(
        s: &ProviderService,
        req: pb::move_resource_state::Request,
    ) -> pb::move_resource_state::Response {
        let span = rpc_span(
            MOVE_RESOURCE_STATE,
            Subject::Resource(&req.target_type_name),
        );
        in_span(span, s.server.move_resource_state(req.into()))
            .await
            .into()
    }

    pub async fn read_data_source(
        s: &ProviderService,
        req: pb::read_data_source::Request,
    ) -> pb::read_data_source::Response {
        let span = rpc_span(READ_DATA_SOURCE, Subject::DataSource(&req.type_name));
        in_span(span, s.server.read_data_source(req.into()))
            .await
            .into()
    }

    pub async fn validate_list_resource_config(
        s: &ProviderService,
        req: pb::validate_list_resource_config::Request,
    ) -> pb::validate_list_resource_config::Response {
        let span = rpc_span(
            VALIDATE_LIST_RESOURCE_CONFIG,
            Subject::Resource(&req.type_name),
        );
        let config = req.config.map(Into::into);
        let work = s
            .server
            .validate_list_resource_config(&req.type_name, config);
        in_span(span, work).await.into()
    }

    /// The events as the framework server finds them, each converted; the
    /// span covers the whole stream.
    pub fn list_resource(
        s: &ProviderService,
        req: pb::list_resource::Request,
    ) -> impl Stream<Item = pb::list_resource::Event> + Send + 'static {
        let span = rpc_span(LIST_RESOURCE, Subject::Resource(&req.type_name));
        let _entered = span.enter();
        tracing::trace!(
            limit = req.limit,
            include = req.include_resource_object,
            "request"
        );
        // The server's listing task runs in this span.
        let events = s.server_arc().list_resource(req.into());
        events.map(pb::list_resource::Event::from)
    }

    pub async fn call_function(
        s: &ProviderService,
        req: pb::call_function::Request,
    ) -> pb::call_function::Response {
        let span = rpc_span(CALL_FUNCTION, Subject::Function(&req.name));
        in_span(span, s.server.call_function(req.into()))
            .await
            .into()
    }

    pub async fn stop_provider(
        s: &ProviderService,
        _req: pb::stop_provider::Request,
    ) -> pb::stop_provider::Response {
        in_span(rpc_span("StopProvider", Subject::Provider), async {
            tracing::info!("StopProvider: cancelling in-flight operations");
            s.server.stop();
            pb::stop_provider::Response {
                error: String::new(),
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests;
