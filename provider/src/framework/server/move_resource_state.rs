//! MoveResourceState: `moved` blocks from another resource type (perhaps
//! another provider's) into one of ours. The source state arrives as JSON
//! in a schema that is not ours; the target resource reshapes it.

use super::codec::{DynamicValue, RawState};
use super::panics::answer;
use super::{OrReport, Server};
use crate::framework::diag::Diagnostics;
use crate::framework::provider::MoveRequest;

/// The name of the operation.
pub const MOVE_RESOURCE_STATE: &str = "MoveResourceState";

/// Where the state comes from, and the state itself.
#[derive(Debug, Clone, Default)]
pub struct MoveResourceStateRequest {
    pub source_provider_address: String,
    pub source_type_name: String,
    pub source_schema_version: i64,
    pub source_state: Option<RawState>,
    pub target_type_name: String,
}

/// The state of the target resource.
#[derive(Debug, Clone, Default)]
pub struct MoveResourceStateResponse {
    pub target_state: Option<DynamicValue>,
    pub diagnostics: Diagnostics,
}

impl Server {
    /// Move a state into the resource type `req.target_type_name`. A source
    /// state that is not JSON reaches the resource as absent.
    pub async fn move_resource_state(
        &self,
        req: MoveResourceStateRequest,
    ) -> MoveResourceStateResponse {
        answer(MOVE_RESOURCE_STATE, async {
            let entry = self.registry.resource(&req.target_type_name)?;
            let source_state_json = req
                .source_state
                .as_ref()
                .and_then(|r| serde_json::from_slice(&r.json).ok());
            let resp = entry
                .imp
                .move_state(MoveRequest {
                    source_provider_address: req.source_provider_address,
                    source_type_name: req.source_type_name,
                    source_schema_version: req.source_schema_version,
                    source_state_json,
                })
                .await;
            let mut diagnostics = resp.diagnostics;
            let target_state = if diagnostics.has_errors() {
                None
            } else {
                self.encode("moved state", &resp.target_state, &entry.state.ty)
                    .or_report(&mut diagnostics)
            };
            Ok(MoveResourceStateResponse {
                target_state,
                diagnostics,
            })
        })
        .await
    }
}
