//! What every AWS-facing operation of the resource starts from: the
//! provider runtime and its clients, and AWS errors as diagnostics.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::model::NodegroupModel;
use crate::aws::{AwsClients, AwsError};
use crate::config::ProviderRuntime;
use crate::framework::{Diagnostic, ProviderData};

pub fn runtime(p: &Option<ProviderData>) -> Option<Arc<ProviderRuntime>> {
    p.clone().and_then(|d| d.downcast::<ProviderRuntime>().ok())
}

pub fn aws_diag(summary: &str, e: &AwsError) -> Diagnostic {
    Diagnostic::error(summary, e.to_string())
}

/// The provider runtime and its AWS clients, or an error diagnostic
/// (offline mode, or configuration that does not resolve).
pub async fn online(
    p: &Option<ProviderData>,
    action: &str,
) -> Result<(Arc<ProviderRuntime>, Arc<AwsClients>), Diagnostic> {
    let rt = runtime(p).ok_or_else(|| {
        Diagnostic::error(
            "Provider not configured",
            "The provider was not configured; this is a bug.",
        )
    })?;
    if rt.config.offline {
        return Err(Diagnostic::error(
            "The provider is offline",
            format!(
                "provider \"nested\" has offline = true, which plans without AWS but cannot {action} a node group. Set offline = false (and AWS credentials) to apply."
            ),
        ));
    }
    let aws = rt
        .aws()
        .await
        .map_err(|e| aws_diag("Cannot reach AWS", &e))?;
    Ok((rt, aws))
}

/// The provider's `default_tags` with the resource's own on top.
pub fn all_tags(rt: &ProviderRuntime, m: &NodegroupModel) -> BTreeMap<String, String> {
    let mut tags = rt.config.default_tags.clone();
    tags.extend(m.tag_map());
    tags
}

/// The latest node image release of the node group's family for its
/// Kubernetes version, where the family publishes one (else EKS picks).
pub async fn release_version(
    aws: &AwsClients,
    m: &NodegroupModel,
) -> Result<Option<String>, AwsError> {
    let version = m.kubernetes_version.as_deref().unwrap_or_default();
    let parameter = m
        .family()
        .and_then(|f| crate::family::of(f).release_parameter(version, m.variant(), m.arch()));
    match parameter {
        Some(name) => aws.find_release_version(&name).await.map(Some),
        None => Ok(None),
    }
}
