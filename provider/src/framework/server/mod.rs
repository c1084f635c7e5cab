//! The framework server: what every Terraform operation does between the
//! protocol and the provider's resources, data sources and functions.
//!
//! The protocol layer hands each operation a request whose values are still
//! encoded ([`DynamicValue`]) and gets back a response with encoded values;
//! everything in between happens here: looking the resource, data source or
//! function up by its type name, decoding configuration, state and identity
//! at their schema's type (through the [`ValueCodec`] the protocol layer
//! supplies), applying schema defaults, validating declared rules, upgrading
//! and moving state, handing out the stop token, and turning a panic into an
//! error diagnostic. No operation fails with anything but diagnostics.
//!
//! One file per operation, named after it; `registry` holds the lookups.

mod apply_resource_change;
mod codec;
mod configure;
mod functions;
mod get_schema;
mod identity;
mod import_resource_state;
mod list_resource;
mod move_resource_state;
mod panics;
mod plan_resource_change;
mod read_data_source;
mod read_resource;
mod registry;
mod upgrade;
mod validate;

use std::sync::{Arc, RwLock};

use tokio::sync::watch;

pub use apply_resource_change::{
    APPLY_RESOURCE_CHANGE, ApplyResourceChangeRequest, ApplyResourceChangeResponse,
};
pub use codec::{CodecError, DynamicValue, RawState, ResourceIdentityData, ValueCodec};
pub use configure::{CONFIGURE_PROVIDER, ConfigureProviderRequest};
pub use functions::{CALL_FUNCTION, CallFunctionRequest};
pub use get_schema::{Metadata, ServerCapabilities};
pub use import_resource_state::{
    IMPORT_RESOURCE_STATE, ImportResourceStateRequest, ImportResourceStateResponse,
    ImportedResourceState,
};
pub use list_resource::{
    LIST_RESOURCE, ListResourceEvent, ListResourceRequest, VALIDATE_LIST_RESOURCE_CONFIG,
};
pub use move_resource_state::{
    MOVE_RESOURCE_STATE, MoveResourceStateRequest, MoveResourceStateResponse,
};
pub use panics::panic_message;
pub use plan_resource_change::{
    PLAN_RESOURCE_CHANGE, PlanResourceChangeRequest, PlanResourceChangeResponse,
};
pub use read_data_source::{READ_DATA_SOURCE, ReadDataSourceRequest, ReadDataSourceResponse};
pub use read_resource::{READ_RESOURCE, ReadResourceRequest, ReadResourceResponse};
pub use upgrade::{
    UPGRADE_RESOURCE_IDENTITY, UPGRADE_RESOURCE_STATE, UpgradeResourceIdentityRequest,
    UpgradeResourceIdentityResponse, UpgradeResourceStateRequest, UpgradeResourceStateResponse,
};
pub use validate::{
    VALIDATE_DATA_RESOURCE_CONFIG, VALIDATE_PROVIDER_CONFIG, VALIDATE_RESOURCE_CONFIG,
};

use super::diag::{Diagnostic, Diagnostics};
use super::provider::{Halt, Provider, ProviderData, StopToken};
use registry::Registry;

/// Serves one provider: its registry of resources, data sources and
/// functions, the data its `configure` built, and the stop signal.
pub struct Server {
    provider: Arc<dyn Provider>,
    codec: Arc<dyn ValueCodec>,
    registry: Registry,
    /// What the last ConfigureProvider built, handed to every later call.
    provider_data: RwLock<Option<ProviderData>>,
    /// The Terraform version ConfigureProvider named (empty before it).
    terraform_version: RwLock<String>,
    stop_tx: watch::Sender<Halt>,
}

impl Server {
    /// A server for `provider`, reading and writing values with `codec`;
    /// `stop_tx` is how StopProvider (and the loss of Terraform) reach the
    /// operations in flight.
    pub fn new(
        provider: Arc<dyn Provider>,
        codec: Arc<dyn ValueCodec>,
        stop_tx: watch::Sender<Halt>,
    ) -> Self {
        let registry = Registry::new(provider.as_ref());
        Self {
            provider,
            codec,
            registry,
            provider_data: RwLock::new(None),
            terraform_version: RwLock::new(String::new()),
            stop_tx,
        }
    }

    /// A token that fires once StopProvider arrives or Terraform is gone.
    pub fn stop_token(&self) -> StopToken {
        StopToken::new(self.stop_tx.subscribe())
    }

    /// StopProvider: in-flight operations should end promptly. A stop never
    /// downgrades "Terraform is gone".
    pub fn stop(&self) {
        self.stop_tx.send_if_modified(|h| {
            let changed = *h == Halt::Running;
            if changed {
                *h = Halt::Stop;
            }
            changed
        });
    }

    fn provider_data(&self) -> Option<ProviderData> {
        self.provider_data.read().ok().and_then(|g| g.clone())
    }
}

/// The diagnostic for a feature this provider does not implement: the one
/// answer every unsupported RPC and option gets.
pub fn not_supported(what: &str) -> Diagnostic {
    Diagnostic::error(
        format!("{what} not supported"),
        format!("terraform-provider-nested does not implement {what}."),
    )
}

/// A failure that is reported but does not end the operation: the
/// diagnostic joins `diags` and the value is `None`.
trait OrReport<T> {
    fn or_report(self, diags: &mut Diagnostics) -> Option<T>;
}

impl<T> OrReport<T> for Result<T, Diagnostic> {
    fn or_report(self, diags: &mut Diagnostics) -> Option<T> {
        self.map_err(|d| diags.push(d)).ok()
    }
}

/// Responses that can be made of diagnostics alone: what an operation
/// answers when it fails before it has anything else to say.
macro_rules! from_diagnostics {
    ($($t:ty),* $(,)?) => {$(
        impl From<Diagnostics> for $t {
            fn from(diagnostics: Diagnostics) -> Self {
                Self { diagnostics, ..Default::default() }
            }
        }
    )*};
}

from_diagnostics!(
    ReadDataSourceResponse,
    PlanResourceChangeResponse,
    ApplyResourceChangeResponse,
    ReadResourceResponse,
    ImportResourceStateResponse,
    UpgradeResourceStateResponse,
    UpgradeResourceIdentityResponse,
    MoveResourceStateResponse,
);
