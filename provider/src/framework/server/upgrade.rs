//! UpgradeResourceState and UpgradeResourceIdentity: stored JSON, written
//! by some schema version, brought to the current schema's shape and type.

use super::Server;
use super::codec::{DynamicValue, RawState, ResourceIdentityData, codec_diagnostic};
use super::not_supported;
use super::panics::answer;
use crate::framework::diag::{Diagnostic, Diagnostics};
use crate::framework::value::Value;

/// The name of the state upgrade.
pub const UPGRADE_RESOURCE_STATE: &str = "UpgradeResourceState";
/// The name of the identity upgrade.
pub const UPGRADE_RESOURCE_IDENTITY: &str = "UpgradeResourceIdentity";

/// A stored state and the schema version that wrote it.
#[derive(Debug, Clone, Default)]
pub struct UpgradeResourceStateRequest {
    pub type_name: String,
    pub version: i64,
    pub raw_state: Option<RawState>,
}

/// The state in the current schema's type.
#[derive(Debug, Clone, Default)]
pub struct UpgradeResourceStateResponse {
    pub upgraded_state: Option<DynamicValue>,
    pub diagnostics: Diagnostics,
}

/// A stored identity and the identity schema version that wrote it.
#[derive(Debug, Clone, Default)]
pub struct UpgradeResourceIdentityRequest {
    pub type_name: String,
    pub version: i64,
    pub raw_identity: Option<RawState>,
}

/// The identity in the current identity schema's type.
#[derive(Debug, Clone, Default)]
pub struct UpgradeResourceIdentityResponse {
    pub upgraded_identity: Option<ResourceIdentityData>,
    pub diagnostics: Diagnostics,
}

impl Server {
    /// Upgrade a stored state: the resource reshapes the JSON
    /// ([`crate::framework::Resource::upgrade_state`]), then it is typed.
    /// Nothing stored upgrades to null.
    pub async fn upgrade_resource_state(
        &self,
        req: UpgradeResourceStateRequest,
    ) -> UpgradeResourceStateResponse {
        answer(UPGRADE_RESOURCE_STATE, async {
            let entry = self.registry.resource(&req.type_name)?;
            let ty = &entry.state.ty;
            let raw = req.raw_state.unwrap_or_default();
            let value = if !raw.json.is_empty() {
                let json: serde_json::Value = serde_json::from_slice(&raw.json).map_err(|e| {
                    Diagnostic::error(
                        "Corrupt state",
                        format!("The stored state is not valid JSON: {e}."),
                    )
                })?;
                let upgraded = entry.imp.upgrade_state(req.version, json)?;
                let value = self
                    .codec
                    .decode_json_value(&upgraded, ty)
                    .map_err(|e| codec_diagnostic("stored state", &e))?;
                self.encode("stored state", &value, ty)?
            } else if raw.flatmap.is_empty() {
                self.encode("state", &Value::Null, ty)?
            } else {
                return Err(Diagnostic::error(
                    "Unsupported state format",
                    "This state was stored in the legacy flatmap format, which this provider \
                     never wrote. Remove the resource from state and import it again.",
                )
                .into());
            };
            Ok(UpgradeResourceStateResponse {
                upgraded_state: Some(value),
                diagnostics: Diagnostics::new(),
            })
        })
        .await
    }

    /// Upgrade a stored identity. Only the current identity schema version
    /// is read.
    pub async fn upgrade_resource_identity(
        &self,
        req: UpgradeResourceIdentityRequest,
    ) -> UpgradeResourceIdentityResponse {
        answer(UPGRADE_RESOURCE_IDENTITY, async {
            let entry = self.registry.resource(&req.type_name)?;
            let identity = entry
                .identity
                .as_ref()
                .ok_or_else(|| not_supported("resource identity for this resource type"))?;
            if req.version != identity.schema.version {
                return Err(Diagnostic::error(
                    "Unsupported identity version",
                    format!(
                        "The stored identity has version {}; this provider reads version {}.",
                        req.version, identity.schema.version
                    ),
                )
                .into());
            }
            let raw = req.raw_identity.unwrap_or_default();
            let dv = self
                .codec
                .decode_json(&raw.json, &identity.ty)
                .and_then(|v| self.codec.encode(&v, &identity.ty))
                .map_err(|e| codec_diagnostic("stored identity", &e))?;
            Ok(UpgradeResourceIdentityResponse {
                upgraded_identity: Some(ResourceIdentityData {
                    identity_data: Some(dv),
                }),
                diagnostics: Diagnostics::new(),
            })
        })
        .await
    }
}
