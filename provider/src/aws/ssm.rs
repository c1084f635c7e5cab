//! SSM public parameters: the current EKS node image release. Which
//! parameter holds it is the family's business ([`crate::family`]).

use std::collections::HashMap;

use tokio::sync::Mutex;

use super::{AwsClients, AwsError, api_error};

/// Parameter name → value, asked once per process.
#[derive(Default)]
pub struct ReleaseVersionCache {
    entries: Mutex<HashMap<String, String>>,
}

impl AwsClients {
    /// The value of public parameter `name` (a node image release), asked
    /// once per process.
    pub async fn find_release_version(&self, name: &str) -> Result<String, AwsError> {
        let mut cache = self.release_versions.entries.lock().await;
        if let Some(v) = cache.get(name) {
            return Ok(v.clone());
        }
        let out = self
            .ssm
            .get_parameter()
            .name(name)
            .send()
            .await
            .map_err(|e| {
                api_error(
                    self.call("ssm", "GetParameter"),
                    format!("SSM Parameter ({name})"),
                    e,
                )
            })?;
        let value = out
            .parameter()
            .and_then(|p| p.value())
            .map(String::from)
            .ok_or_else(|| AwsError::NotFound {
                what: format!("SSM Parameter ({name})"),
            })?;
        cache.insert(name.to_string(), value.clone());
        Ok(value)
    }
}
