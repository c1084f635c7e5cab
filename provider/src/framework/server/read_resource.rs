//! ReadResource: the resource refreshes its state from the real object.
//! When the read fails the current state stays, so nothing is lost.

use super::codec::{DynamicValue, ResourceIdentityData};
use super::panics::answer;
use super::{OrReport, Server};
use crate::framework::diag::Diagnostics;
use crate::framework::provider::ReadRequest;

/// The name of the operation.
pub const READ_RESOURCE: &str = "ReadResource";

/// The state to refresh, still encoded.
#[derive(Debug, Clone, Default)]
pub struct ReadResourceRequest {
    pub type_name: String,
    pub current_state: Option<DynamicValue>,
    pub private: Vec<u8>,
    pub current_identity: Option<ResourceIdentityData>,
}

/// The refreshed state (null: the object is gone).
#[derive(Debug, Clone, Default)]
pub struct ReadResourceResponse {
    pub new_state: Option<DynamicValue>,
    pub private: Vec<u8>,
    pub new_identity: Option<ResourceIdentityData>,
    pub diagnostics: Diagnostics,
}

impl Server {
    /// Refresh a resource of type `req.type_name`.
    pub async fn read_resource(&self, req: ReadResourceRequest) -> ReadResourceResponse {
        answer(READ_RESOURCE, async {
            let entry = self.registry.resource(&req.type_name)?;
            let ty = &entry.state.ty;
            let current_state = self.decode("state", req.current_state.as_ref(), ty)?;
            let current_identity = self.identity_in(entry, req.current_identity.as_ref())?;
            let resp = entry
                .imp
                .read(ReadRequest {
                    current_state: current_state.clone(),
                    private: req.private.clone(),
                    current_identity,
                    provider: self.provider_data(),
                    stop: self.stop_token(),
                })
                .await;
            let mut diagnostics = resp.diagnostics;
            // On error the prior state stays, so nothing is lost.
            let (state, private) = if diagnostics.has_errors() {
                (&current_state, req.private)
            } else {
                (&resp.new_state, resp.private)
            };
            let new_state = self
                .encode("resource state", state, ty)
                .or_report(&mut diagnostics)
                .or(req.current_state);
            let new_identity = self
                .identity_out(entry, resp.new_identity.as_ref())
                .or_report(&mut diagnostics)
                .flatten();
            Ok(ReadResourceResponse {
                new_state,
                private,
                new_identity,
                diagnostics,
            })
        })
        .await
    }
}
