//! SSM public parameters: the current EKS node image release per AMI family.

use std::collections::HashMap;

use tokio::sync::Mutex;

use super::{AwsClients, AwsError, api_error};

/// (family, Kubernetes version, architecture) → release version.
#[derive(Default)]
pub struct ReleaseVersionCache {
    entries: Mutex<HashMap<(String, String, String), String>>,
}

/// The public parameter holding the latest release for a node image.
pub fn release_parameter(family: &str, kubernetes: &str, arch: &str) -> Option<String> {
    match family {
        "bottlerocket" => Some(format!(
            "/aws/service/bottlerocket/aws-k8s-{kubernetes}/{arch}/latest/image_version"
        )),
        "al2023" => Some(format!(
            "/aws/service/eks/optimized-ami/{kubernetes}/amazon-linux-2023/{arch}/standard/recommended/release_version"
        )),
        _ => None,
    }
}

impl AwsClients {
    /// The latest node image release for the key, asked once per process.
    /// `None` for families without a public parameter the provider reads.
    pub async fn find_release_version(
        &self,
        family: &str,
        kubernetes: &str,
        arch: &str,
    ) -> Result<Option<String>, AwsError> {
        let Some(name) = release_parameter(family, kubernetes, arch) else {
            return Ok(None);
        };
        let key = (family.to_string(), kubernetes.to_string(), arch.to_string());
        let mut cache = self.release_versions.entries.lock().await;
        if let Some(v) = cache.get(&key) {
            return Ok(Some(v.clone()));
        }
        let out = self
            .ssm
            .get_parameter()
            .name(&name)
            .send()
            .await
            .map_err(|e| api_error("GetParameter", format!("SSM Parameter ({name})"), e))?;
        let value = out
            .parameter()
            .and_then(|p| p.value())
            .map(String::from)
            .ok_or_else(|| AwsError::NotFound {
                what: format!("SSM Parameter ({name})"),
            })?;
        cache.insert(key, value.clone());
        Ok(Some(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_paths_follow_the_published_layout() {
        assert_eq!(
            release_parameter("bottlerocket", "1.33", "x86_64").as_deref(),
            Some("/aws/service/bottlerocket/aws-k8s-1.33/x86_64/latest/image_version")
        );
        assert_eq!(
            release_parameter("al2023", "1.34", "arm64").as_deref(),
            Some(
                "/aws/service/eks/optimized-ami/1.34/amazon-linux-2023/arm64/standard/recommended/release_version"
            )
        );
        assert_eq!(release_parameter("al2", "1.32", "x86_64"), None);
    }
}
