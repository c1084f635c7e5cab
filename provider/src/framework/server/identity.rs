//! Resource identity in and out: decoded at the identity schema's type on
//! the way to the resource, encoded on the way back. Resources without an
//! identity schema neither see nor send one.

use super::Server;
use super::codec::{DynamicValue, ResourceIdentityData};
use super::registry::ResourceEntry;
use crate::framework::diag::Diagnostic;
use crate::framework::value::Value;

impl Server {
    /// The identity Terraform sent, for the resource (`None` when there is
    /// none, it is null, or the resource has no identity schema).
    pub(super) fn identity_in(
        &self,
        entry: &ResourceEntry,
        data: Option<&ResourceIdentityData>,
    ) -> Result<Option<Value>, Diagnostic> {
        match (&entry.identity, data.and_then(|d| d.identity_data.as_ref())) {
            (Some(identity), Some(dv)) => self
                .decode("resource identity", Some(dv), &identity.ty)
                .map(|v| (!v.is_null()).then_some(v)),
            _ => Ok(None),
        }
    }

    /// The identity the resource returned, for Terraform.
    pub(super) fn identity_out(
        &self,
        entry: &ResourceEntry,
        identity: Option<&Value>,
    ) -> Result<Option<ResourceIdentityData>, Diagnostic> {
        match (&entry.identity, identity) {
            (Some(schema), Some(v)) => {
                let dv: DynamicValue = self.encode("resource identity", v, &schema.ty)?;
                Ok(Some(ResourceIdentityData {
                    identity_data: Some(dv),
                }))
            }
            _ => Ok(None),
        }
    }
}
