//! PlanResourceChange: the resource decides what a change will do. A
//! destroy (null proposed state) is planned here without asking it.

use super::codec::{DynamicValue, ResourceIdentityData};
use super::panics::answer;
use super::{OrReport, Server};
use crate::framework::diag::{AttributePath, Diagnostics};
use crate::framework::provider::PlanRequest;
use crate::framework::schema::validate_declared;

/// The name of the operation.
pub const PLAN_RESOURCE_CHANGE: &str = "PlanResourceChange";

/// A proposed change, values still encoded.
#[derive(Debug, Clone, Default)]
pub struct PlanResourceChangeRequest {
    pub type_name: String,
    pub prior_state: Option<DynamicValue>,
    pub proposed_new_state: Option<DynamicValue>,
    pub config: Option<DynamicValue>,
    pub prior_private: Vec<u8>,
    pub prior_identity: Option<ResourceIdentityData>,
}

/// The planned change.
#[derive(Debug, Clone, Default)]
pub struct PlanResourceChangeResponse {
    pub planned_state: Option<DynamicValue>,
    pub requires_replace: Vec<AttributePath>,
    pub planned_private: Vec<u8>,
    pub planned_identity: Option<ResourceIdentityData>,
    pub diagnostics: Diagnostics,
}

impl Server {
    /// Plan a change of a resource of type `req.type_name`.
    pub async fn plan_resource_change(
        &self,
        req: PlanResourceChangeRequest,
    ) -> PlanResourceChangeResponse {
        answer(PLAN_RESOURCE_CHANGE, async {
            let entry = self.registry.resource(&req.type_name)?;
            let ty = &entry.state.ty;
            let prior_state = self.decode("plan input", req.prior_state.as_ref(), ty)?;
            let proposed_new_state =
                self.decode("plan input", req.proposed_new_state.as_ref(), ty)?;
            let config = self.decode("plan input", req.config.as_ref(), ty)?;
            let prior_identity = self.identity_in(entry, req.prior_identity.as_ref())?;
            if proposed_new_state.is_null() {
                // Destroy: nothing to decide beyond "it goes".
                return Ok(PlanResourceChangeResponse {
                    planned_state: req.proposed_new_state,
                    planned_private: req.prior_private,
                    planned_identity: req.prior_identity,
                    ..Default::default()
                });
            }
            // The rules the schema declares, again: a client that skipped
            // ValidateResourceConfig (or had unknowns then) gets no plan
            // built on a value they refuse.
            let mut declared = Diagnostics::new();
            validate_declared(&entry.state.schema.block, &config, &mut declared);
            if declared.has_errors() {
                return Ok(PlanResourceChangeResponse {
                    planned_state: req.proposed_new_state,
                    planned_private: req.prior_private,
                    planned_identity: req.prior_identity,
                    diagnostics: declared,
                    ..Default::default()
                });
            }
            let resp = entry
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
            let mut diagnostics = resp.diagnostics;
            let planned_state = self
                .encode("planned state", &resp.planned_state, ty)
                .or_report(&mut diagnostics);
            let planned_identity = self
                .identity_out(entry, resp.planned_identity.as_ref())
                .or_report(&mut diagnostics)
                .flatten();
            Ok(PlanResourceChangeResponse {
                planned_state,
                requires_replace: resp.requires_replace,
                planned_private: resp.planned_private,
                planned_identity,
                diagnostics,
            })
        })
        .await
    }
}
