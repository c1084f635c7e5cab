//! ApplyResourceChange: the resource carries out a planned change. When the
//! change fails before the resource saw it, the prior state goes back
//! unchanged, so Terraform loses nothing.

use super::codec::{DynamicValue, ResourceIdentityData};
use super::panics::answer;
use super::registry::ResourceEntry;
use super::{OrReport, Server};
use crate::framework::diag::Diagnostics;
use crate::framework::provider::ApplyRequest;

/// The name of the operation.
pub const APPLY_RESOURCE_CHANGE: &str = "ApplyResourceChange";

/// A planned change, values still encoded.
#[derive(Debug, Clone, Default)]
pub struct ApplyResourceChangeRequest {
    pub type_name: String,
    pub prior_state: Option<DynamicValue>,
    pub planned_state: Option<DynamicValue>,
    pub config: Option<DynamicValue>,
    pub planned_private: Vec<u8>,
    pub planned_identity: Option<ResourceIdentityData>,
}

/// The state after the change.
#[derive(Debug, Clone, Default)]
pub struct ApplyResourceChangeResponse {
    pub new_state: Option<DynamicValue>,
    pub private: Vec<u8>,
    pub new_identity: Option<ResourceIdentityData>,
    pub diagnostics: Diagnostics,
}

impl Server {
    /// Apply a change of a resource of type `req.type_name`.
    pub async fn apply_resource_change(
        &self,
        req: ApplyResourceChangeRequest,
    ) -> ApplyResourceChangeResponse {
        answer(APPLY_RESOURCE_CHANGE, async {
            let entry = self.registry.resource(&req.type_name)?;
            let prior_state = req.prior_state.clone();
            Ok(self.apply(entry, req).await.unwrap_or_else(|diagnostics| {
                ApplyResourceChangeResponse {
                    new_state: prior_state,
                    diagnostics,
                    ..Default::default()
                }
            }))
        })
        .await
    }

    /// Decode the change, hand it to the resource, encode what it returns.
    /// An error means the resource was never called.
    async fn apply(
        &self,
        entry: &ResourceEntry,
        req: ApplyResourceChangeRequest,
    ) -> Result<ApplyResourceChangeResponse, Diagnostics> {
        let ty = &entry.state.ty;
        let prior_state = self.decode("apply input", req.prior_state.as_ref(), ty)?;
        let planned_state = self.decode("apply input", req.planned_state.as_ref(), ty)?;
        let config = self.decode("apply input", req.config.as_ref(), ty)?;
        let planned_identity = self.identity_in(entry, req.planned_identity.as_ref())?;
        let resp = entry
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
        let mut diagnostics = resp.diagnostics;
        // A new state that cannot be encoded (a provider bug) is reported,
        // and the prior state stays.
        let new_state = self
            .encode("new state", &resp.new_state, ty)
            .or_report(&mut diagnostics)
            .or(req.prior_state);
        let new_identity = self
            .identity_out(entry, resp.new_identity.as_ref())
            .or_report(&mut diagnostics)
            .flatten();
        Ok(ApplyResourceChangeResponse {
            new_state,
            private: resp.private,
            new_identity,
            diagnostics,
        })
    }
}
