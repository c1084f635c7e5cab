//! The tfplugin6 requests as the framework server's requests, and its
//! responses as tfplugin6 responses. Only fields are moved here; what the
//! values mean is the framework's business.

use super::convert::{
    capabilities_to_proto, client_capabilities, diagnostics_to_proto, path_to_proto,
};
use super::proto::tfplugin6 as pb;
use crate::framework::diag::Diagnostics;
use crate::framework::provider::FunctionError;
use crate::framework::server::{
    ApplyResourceChangeRequest, ApplyResourceChangeResponse, CallFunctionRequest,
    ConfigureProviderRequest, DynamicValue, ImportResourceStateRequest,
    ImportResourceStateResponse, ListResourceEvent, ListResourceRequest, Metadata,
    MoveResourceStateRequest, MoveResourceStateResponse, PlanResourceChangeRequest,
    PlanResourceChangeResponse, ReadDataSourceRequest, ReadDataSourceResponse, ReadResourceRequest,
    ReadResourceResponse, UpgradeResourceIdentityRequest, UpgradeResourceIdentityResponse,
    UpgradeResourceStateRequest, UpgradeResourceStateResponse,
};

// -------------------------------------------------------------------- requests

impl From<pb::configure_provider::Request> for ConfigureProviderRequest {
    fn from(r: pb::configure_provider::Request) -> Self {
        Self {
            client: client_capabilities(r.client_capabilities.as_ref()),
            terraform_version: r.terraform_version,
            config: r.config.map(Into::into),
        }
    }
}

impl From<pb::read_data_source::Request> for ReadDataSourceRequest {
    fn from(r: pb::read_data_source::Request) -> Self {
        Self {
            type_name: r.type_name,
            config: r.config.map(Into::into),
        }
    }
}

impl From<pb::plan_resource_change::Request> for PlanResourceChangeRequest {
    fn from(r: pb::plan_resource_change::Request) -> Self {
        Self {
            type_name: r.type_name,
            prior_state: r.prior_state.map(Into::into),
            proposed_new_state: r.proposed_new_state.map(Into::into),
            config: r.config.map(Into::into),
            prior_private: r.prior_private,
            prior_identity: r.prior_identity.map(Into::into),
        }
    }
}

impl From<pb::apply_resource_change::Request> for ApplyResourceChangeRequest {
    fn from(r: pb::apply_resource_change::Request) -> Self {
        Self {
            type_name: r.type_name,
            prior_state: r.prior_state.map(Into::into),
            planned_state: r.planned_state.map(Into::into),
            config: r.config.map(Into::into),
            planned_private: r.planned_private,
            planned_identity: r.planned_identity.map(Into::into),
        }
    }
}

impl From<pb::read_resource::Request> for ReadResourceRequest {
    fn from(r: pb::read_resource::Request) -> Self {
        Self {
            type_name: r.type_name,
            current_state: r.current_state.map(Into::into),
            private: r.private,
            current_identity: r.current_identity.map(Into::into),
        }
    }
}

impl From<pb::import_resource_state::Request> for ImportResourceStateRequest {
    fn from(r: pb::import_resource_state::Request) -> Self {
        Self {
            type_name: r.type_name,
            id: r.id,
            identity: r.identity.map(Into::into),
        }
    }
}

impl From<pb::upgrade_resource_state::Request> for UpgradeResourceStateRequest {
    fn from(r: pb::upgrade_resource_state::Request) -> Self {
        Self {
            type_name: r.type_name,
            version: r.version,
            raw_state: r.raw_state.map(Into::into),
        }
    }
}

impl From<pb::upgrade_resource_identity::Request> for UpgradeResourceIdentityRequest {
    fn from(r: pb::upgrade_resource_identity::Request) -> Self {
        Self {
            type_name: r.type_name,
            version: r.version,
            raw_identity: r.raw_identity.map(Into::into),
        }
    }
}

impl From<pb::move_resource_state::Request> for MoveResourceStateRequest {
    fn from(r: pb::move_resource_state::Request) -> Self {
        Self {
            source_provider_address: r.source_provider_address,
            source_type_name: r.source_type_name,
            source_schema_version: r.source_schema_version,
            source_state: r.source_state.map(Into::into),
            target_type_name: r.target_type_name,
        }
    }
}

impl From<pb::list_resource::Request> for ListResourceRequest {
    fn from(r: pb::list_resource::Request) -> Self {
        Self {
            type_name: r.type_name,
            config: r.config.map(Into::into),
            include_resource_object: r.include_resource_object,
            limit: r.limit,
        }
    }
}

impl From<pb::call_function::Request> for CallFunctionRequest {
    fn from(r: pb::call_function::Request) -> Self {
        Self {
            name: r.name,
            arguments: r.arguments.into_iter().map(Into::into).collect(),
        }
    }
}

// ------------------------------------------------------------------- responses

/// Responses made of diagnostics alone: the validations, configuration,
/// and every RPC this provider does not support.
macro_rules! from_diagnostics {
    ($($t:ty),* $(,)?) => {$(
        impl From<Diagnostics> for $t {
            #[allow(clippy::needless_update)]
            fn from(d: Diagnostics) -> Self {
                Self { diagnostics: diagnostics_to_proto(&d), ..Default::default() }
            }
        }
    )*};
}

from_diagnostics!(
    pb::validate_provider_config::Response,
    pb::validate_resource_config::Response,
    pb::validate_data_resource_config::Response,
    pb::configure_provider::Response,
    pb::generate_resource_config::Response,
    pb::validate_ephemeral_resource_config::Response,
    pb::open_ephemeral_resource::Response,
    pb::renew_ephemeral_resource::Response,
    pb::close_ephemeral_resource::Response,
    pb::validate_list_resource_config::Response,
    pb::validate_state_store::Response,
    pb::configure_state_store::Response,
    pb::read_state_bytes::Response,
    pb::write_state_bytes::Response,
    pb::lock_state::Response,
    pb::unlock_state::Response,
    pb::get_states::Response,
    pb::delete_state::Response,
    pb::plan_action::Response,
    pb::validate_action_config::Response,
);

impl From<ListResourceEvent> for pb::list_resource::Event {
    fn from(e: ListResourceEvent) -> Self {
        Self {
            identity: e.identity.map(Into::into),
            display_name: e.display_name,
            resource_object: e.resource_object.map(Into::into),
            diagnostic: diagnostics_to_proto(&e.diagnostics),
        }
    }
}

impl From<Diagnostics> for pb::invoke_action::Event {
    fn from(d: Diagnostics) -> Self {
        Self {
            r#type: Some(pb::invoke_action::event::Type::Completed(
                pb::invoke_action::event::Completed {
                    diagnostics: diagnostics_to_proto(&d),
                },
            )),
        }
    }
}

impl From<Metadata> for pb::get_metadata::Response {
    fn from(m: Metadata) -> Self {
        Self {
            server_capabilities: Some(capabilities_to_proto(m.capabilities)),
            data_sources: m
                .data_sources
                .into_iter()
                .map(|type_name| pb::get_metadata::DataSourceMetadata { type_name })
                .collect(),
            resources: m
                .resources
                .into_iter()
                .map(|type_name| pb::get_metadata::ResourceMetadata { type_name })
                .collect(),
            functions: m
                .functions
                .into_iter()
                .map(|name| pb::get_metadata::FunctionMetadata { name })
                .collect(),
            list_resources: m
                .list_resources
                .into_iter()
                .map(|type_name| pb::get_metadata::ListResourceMetadata { type_name })
                .collect(),
            ..Default::default()
        }
    }
}

impl From<ReadDataSourceResponse> for pb::read_data_source::Response {
    fn from(r: ReadDataSourceResponse) -> Self {
        Self {
            state: r.state.map(Into::into),
            diagnostics: diagnostics_to_proto(&r.diagnostics),
            deferred: None,
        }
    }
}

impl From<PlanResourceChangeResponse> for pb::plan_resource_change::Response {
    fn from(r: PlanResourceChangeResponse) -> Self {
        Self {
            planned_state: r.planned_state.map(Into::into),
            requires_replace: r.requires_replace.iter().map(path_to_proto).collect(),
            planned_private: r.planned_private,
            diagnostics: diagnostics_to_proto(&r.diagnostics),
            legacy_type_system: false,
            deferred: None,
            planned_identity: r.planned_identity.map(Into::into),
        }
    }
}

impl From<ApplyResourceChangeResponse> for pb::apply_resource_change::Response {
    fn from(r: ApplyResourceChangeResponse) -> Self {
        Self {
            new_state: r.new_state.map(Into::into),
            private: r.private,
            diagnostics: diagnostics_to_proto(&r.diagnostics),
            legacy_type_system: false,
            new_identity: r.new_identity.map(Into::into),
        }
    }
}

impl From<ReadResourceResponse> for pb::read_resource::Response {
    fn from(r: ReadResourceResponse) -> Self {
        Self {
            new_state: r.new_state.map(Into::into),
            diagnostics: diagnostics_to_proto(&r.diagnostics),
            private: r.private,
            deferred: None,
            new_identity: r.new_identity.map(Into::into),
        }
    }
}

impl From<ImportResourceStateResponse> for pb::import_resource_state::Response {
    fn from(r: ImportResourceStateResponse) -> Self {
        Self {
            imported_resources: r
                .imported
                .into_iter()
                .map(|i| pb::import_resource_state::ImportedResource {
                    type_name: i.type_name,
                    state: Some(i.state.into()),
                    private: i.private,
                    identity: i.identity.map(Into::into),
                })
                .collect(),
            diagnostics: diagnostics_to_proto(&r.diagnostics),
            deferred: None,
        }
    }
}

impl From<UpgradeResourceStateResponse> for pb::upgrade_resource_state::Response {
    fn from(r: UpgradeResourceStateResponse) -> Self {
        Self {
            upgraded_state: r.upgraded_state.map(Into::into),
            diagnostics: diagnostics_to_proto(&r.diagnostics),
        }
    }
}

impl From<UpgradeResourceIdentityResponse> for pb::upgrade_resource_identity::Response {
    fn from(r: UpgradeResourceIdentityResponse) -> Self {
        Self {
            upgraded_identity: r.upgraded_identity.map(Into::into),
            diagnostics: diagnostics_to_proto(&r.diagnostics),
        }
    }
}

impl From<MoveResourceStateResponse> for pb::move_resource_state::Response {
    fn from(r: MoveResourceStateResponse) -> Self {
        Self {
            target_state: r.target_state.map(Into::into),
            diagnostics: diagnostics_to_proto(&r.diagnostics),
            ..Default::default()
        }
    }
}

impl From<Result<DynamicValue, FunctionError>> for pb::call_function::Response {
    fn from(r: Result<DynamicValue, FunctionError>) -> Self {
        match r {
            Ok(result) => Self {
                result: Some(result.into()),
                error: None,
            },
            Err(FunctionError { text, argument }) => Self {
                result: None,
                error: Some(pb::FunctionError {
                    text: crate::framework::diag::bounded_text(&text),
                    function_argument: argument,
                }),
            },
        }
    }
}
