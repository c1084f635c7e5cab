//! ConfigureProvider: the provider builds its clients and settings from its
//! configuration; what it builds is handed to every later call.

use super::Server;
use super::codec::DynamicValue;
use super::panics::answer;
use crate::framework::diag::Diagnostics;
use crate::framework::provider::{ClientCapabilities, ConfigureRequest};

/// The name of the operation.
pub const CONFIGURE_PROVIDER: &str = "ConfigureProvider";

/// The provider's configuration, still encoded.
#[derive(Debug, Clone, Default)]
pub struct ConfigureProviderRequest {
    pub terraform_version: String,
    pub config: Option<DynamicValue>,
    pub client: ClientCapabilities,
}

impl Server {
    /// Configure the provider. A configuration that cannot be decoded
    /// leaves the provider as it was.
    pub async fn configure_provider(&self, req: ConfigureProviderRequest) -> Diagnostics {
        answer(CONFIGURE_PROVIDER, async {
            let config = self.decode(
                "provider configuration",
                req.config.as_ref(),
                &self.registry.provider.ty,
            )?;
            if let Ok(mut slot) = self.terraform_version.write() {
                slot.clone_from(&req.terraform_version);
            }
            let resp = self
                .provider
                .configure(ConfigureRequest {
                    terraform_version: req.terraform_version,
                    config,
                    client: req.client,
                })
                .await;
            if let Ok(mut slot) = self.provider_data.write() {
                *slot = resp.data;
            }
            Ok(resp.diagnostics)
        })
        .await
    }
}
