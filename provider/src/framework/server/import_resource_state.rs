//! ImportResourceState: `terraform import` and `import` blocks, by ID or by
//! identity. The resource returns partial states that Terraform reads next.

use super::codec::{DynamicValue, ResourceIdentityData};
use super::panics::answer;
use super::{OrReport, Server};
use crate::framework::diag::Diagnostics;
use crate::framework::provider::ImportRequest;

/// The name of the operation.
pub const IMPORT_RESOURCE_STATE: &str = "ImportResourceState";

/// What to import: an ID (empty when importing by identity) or an identity.
#[derive(Debug, Clone, Default)]
pub struct ImportResourceStateRequest {
    pub type_name: String,
    pub id: String,
    pub identity: Option<ResourceIdentityData>,
}

/// One imported object, encoded.
#[derive(Debug, Clone, Default)]
pub struct ImportedResourceState {
    pub type_name: String,
    pub state: DynamicValue,
    pub private: Vec<u8>,
    pub identity: Option<ResourceIdentityData>,
}

/// The imported objects.
#[derive(Debug, Clone, Default)]
pub struct ImportResourceStateResponse {
    pub imported: Vec<ImportedResourceState>,
    pub diagnostics: Diagnostics,
}

impl Server {
    /// Import objects of type `req.type_name`. An imported state that cannot
    /// be encoded (a provider bug) is reported and left out.
    pub async fn import_resource_state(
        &self,
        req: ImportResourceStateRequest,
    ) -> ImportResourceStateResponse {
        answer(IMPORT_RESOURCE_STATE, async {
            let entry = self.registry.resource(&req.type_name)?;
            let identity = self.identity_in(entry, req.identity.as_ref())?;
            let resp = entry
                .imp
                .import(ImportRequest {
                    id: req.id,
                    identity,
                    provider: self.provider_data(),
                })
                .await;
            let mut diagnostics = resp.diagnostics;
            let mut imported = Vec::new();
            for r in resp.imported {
                let Some(state) = self
                    .encode("imported state", &r.state, &entry.state.ty)
                    .or_report(&mut diagnostics)
                else {
                    continue;
                };
                let identity = self
                    .identity_out(entry, r.identity.as_ref())
                    .or_report(&mut diagnostics)
                    .flatten();
                imported.push(ImportedResourceState {
                    type_name: req.type_name.clone(),
                    state,
                    private: r.private,
                    identity,
                });
            }
            Ok(ImportResourceStateResponse {
                imported,
                diagnostics,
            })
        })
        .await
    }
}
