//! A cluster that is not in the provider's region may be in another one:
//! the usual cause of "cluster not found" is a `region` (or AWS_REGION)
//! that differs from the cluster's. Asked only after a cluster was not
//! found: EC2 DescribeRegions (the regions enabled for the account), then
//! DescribeCluster in each other region at once. A hint, never an error of
//! its own: any failure here just gives no hint.

use aws_sdk_eks::config::Region;

use crate::aws::AwsClients;

impl AwsClients {
    /// The regions other than the provider's that have a cluster `name`.
    pub async fn regions_with_cluster(&self, name: &str) -> Vec<String> {
        let regions = match self.ec2.describe_regions().send().await {
            Ok(out) => out
                .regions()
                .iter()
                .filter_map(|r| r.region_name().map(String::from))
                .filter(|r| *r != self.region)
                .collect::<Vec<_>>(),
            Err(e) => {
                tracing::debug!(error = %e, "DescribeRegions failed: no hint where the cluster is");
                return Vec::new();
            }
        };
        let asks = regions.into_iter().map(|region| {
            let conf = self
                .eks
                .config()
                .to_builder()
                .region(Region::new(region.clone()))
                .build();
            let eks = aws_sdk_eks::Client::from_conf(conf);
            async move {
                let found = eks.describe_cluster().name(name).send().await.is_ok();
                found.then_some(region)
            }
        });
        let mut found: Vec<String> = futures::future::join_all(asks)
            .await
            .into_iter()
            .flatten()
            .collect();
        found.sort();
        found
    }
}
