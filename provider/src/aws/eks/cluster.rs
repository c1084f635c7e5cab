//! Clusters: what the provider reads of one (DescribeCluster, once per
//! process).

use super::*;

impl AwsClients {
    /// The cluster, asked once per provider process (a plan of many node
    /// groups in one cluster makes one DescribeCluster call).
    pub async fn find_cluster(&self, name: &str) -> Result<Cluster, AwsError> {
        let mut known = self.clusters.lock().await;
        if let Some(c) = known.get(name) {
            return Ok(c.clone());
        }
        let cluster = self.describe_cluster(name).await?;
        known.insert(name.to_string(), cluster.clone());
        Ok(cluster)
    }

    async fn describe_cluster(&self, name: &str) -> Result<Cluster, AwsError> {
        let out = self
            .eks
            .describe_cluster()
            .name(name)
            .send()
            .await
            .map_err(|e| {
                api_error(
                    self.call("eks", "DescribeCluster"),
                    format!("EKS Cluster ({name})"),
                    e,
                )
            })?;
        let c = out.cluster().ok_or_else(|| AwsError::NotFound {
            what: format!("EKS Cluster ({name})"),
        })?;
        Ok(Cluster {
            name: name.to_string(),
            version: c.version().unwrap_or_default().to_string(),
            endpoint: c.endpoint().map(String::from),
            certificate_authority: c
                .certificate_authority()
                .and_then(|a| a.data())
                .map(String::from),
            service_cidr: c
                .kubernetes_network_config()
                .and_then(|n| n.service_ipv4_cidr())
                .map(String::from),
        })
    }
}
