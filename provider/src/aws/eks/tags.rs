//! Tags of EKS resources (TagResource, UntagResource).

use super::*;

impl AwsClients {
    pub async fn tag_resource(
        &self,
        arn: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), AwsError> {
        if tags.is_empty() {
            return Ok(());
        }
        self.eks
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| api_error(self.call("eks", "TagResource"), arn.to_string(), e))
    }

    pub async fn untag_resource(&self, arn: &str, keys: &[String]) -> Result<(), AwsError> {
        if keys.is_empty() {
            return Ok(());
        }
        self.eks
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| api_error(self.call("eks", "UntagResource"), arn.to_string(), e))
    }
}
