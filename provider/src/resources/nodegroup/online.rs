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

/// "…; it exists in eu-west-1: set region = "eu-west-1" in the provider
/// block" when other regions have the cluster, else nothing.
fn elsewhere(regions: &[String]) -> String {
    match regions {
        [] => String::new(),
        [one] => format!(
            " It exists in {one}: if that is the one, set region = \"{one}\" in the provider block (or AWS_REGION)."
        ),
        many => format!(
            " Clusters of that name exist in {}: set region in the provider block (or AWS_REGION) to the right one.",
            many.join(", ")
        ),
    }
}

/// The cluster does not exist in the provider's region: an error at
/// `cluster_name` that says so (not that a node group is missing), with the
/// regions that have it. `summary` says what failed; `consequence` what
/// cannot happen, e.g. "no node group can be created in it".
pub async fn cluster_missing(
    aws: &AwsClients,
    cluster: &str,
    summary: &str,
    consequence: &str,
) -> Diagnostic {
    let regions = aws.regions_with_cluster(cluster).await;
    Diagnostic::error(
        summary,
        format!(
            "There is no EKS cluster {cluster:?} in {}, so {consequence}.{} Otherwise check cluster_name, or create the cluster first (cluster_name = aws_eks_cluster.this.name orders that).",
            aws.region,
            elsewhere(&regions)
        ),
    )
    .at(NodegroupModel::cluster_name())
}

/// At plan, a cluster not found may still be created by the same apply; a
/// cluster of that name in another region is worth a warning, though.
pub async fn cluster_elsewhere(aws: &AwsClients, cluster: &str) -> Option<Diagnostic> {
    let regions = aws.regions_with_cluster(cluster).await;
    (!regions.is_empty()).then(|| {
        Diagnostic::warning(
            "EKS cluster in another region",
            format!(
                "There is no EKS cluster {cluster:?} in {} (the provider's region).{} If the cluster is created by this apply, ignore this.",
                aws.region,
                elsewhere(&regions)
            ),
        )
        .at(NodegroupModel::cluster_name())
    })
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
