//! ValidateProviderConfig, ValidateResourceConfig and
//! ValidateDataResourceConfig: the rules the schema declares (allowed
//! values, deprecations), then the implementation's own checks. Values may
//! still be unknown here.

use super::Server;
use super::codec::DynamicValue;
use super::panics::answer;
use super::registry::Typed;
use crate::framework::diag::{Diagnostics, Severity};
use crate::framework::schema::validate_declared;
use crate::framework::value::Value;

/// The name of the provider configuration check.
pub const VALIDATE_PROVIDER_CONFIG: &str = "ValidateProviderConfig";
/// The name of the resource configuration check.
pub const VALIDATE_RESOURCE_CONFIG: &str = "ValidateResourceConfig";
/// The name of the data source configuration check.
pub const VALIDATE_DATA_RESOURCE_CONFIG: &str = "ValidateDataResourceConfig";

impl Server {
    /// Check the provider's configuration.
    pub async fn validate_provider_config(&self, config: Option<DynamicValue>) -> Diagnostics {
        answer(VALIDATE_PROVIDER_CONFIG, async {
            self.validate_config(
                "provider configuration",
                &self.registry.provider,
                config.as_ref(),
                |c| self.provider.validate_config(c),
            )
        })
        .await
    }

    /// Check the configuration of one resource of type `type_name`.
    pub async fn validate_resource_config(
        &self,
        type_name: &str,
        config: Option<DynamicValue>,
    ) -> Diagnostics {
        answer(VALIDATE_RESOURCE_CONFIG, async {
            let entry = self.registry.resource(type_name)?;
            self.validate_config(
                "resource configuration",
                &entry.state,
                config.as_ref(),
                |c| entry.imp.validate(c),
            )
        })
        .await
    }

    /// Check the configuration of one data source of type `type_name`.
    pub async fn validate_data_resource_config(
        &self,
        type_name: &str,
        config: Option<DynamicValue>,
    ) -> Diagnostics {
        answer(VALIDATE_DATA_RESOURCE_CONFIG, async {
            let entry = self.registry.data_source(type_name)?;
            self.validate_config(
                "data source configuration",
                &entry.config,
                config.as_ref(),
                |c| entry.imp.validate(c),
            )
        })
        .await
    }

    /// Decode `config` (`what` names it), check what `schema` declares, then
    /// run `checks`.
    pub(super) fn validate_config(
        &self,
        what: &str,
        schema: &Typed,
        config: Option<&DynamicValue>,
        checks: impl FnOnce(&Value) -> Diagnostics,
    ) -> Result<Diagnostics, Diagnostics> {
        let config = self.decode(what, config, &schema.ty)?;
        let mut diags = Diagnostics::new();
        validate_declared(&schema.schema.block, &config, &mut diags);
        // An attribute the schema's own rules already refused gets no
        // second error from the implementation's checks.
        let refused: Vec<_> = diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .filter_map(|d| d.path.clone())
            .collect();
        diags.extend(Diagnostics(
            checks(&config)
                .0
                .into_iter()
                .filter(|d| {
                    d.severity != Severity::Error
                        || d.path.as_ref().is_none_or(|p| !refused.contains(p))
                })
                .collect(),
        ));
        Ok(diags)
    }
}
