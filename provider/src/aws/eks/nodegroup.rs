//! Node groups: create, find, list, delete, and the waits for each.

use super::*;

/// What a node group should be created with.
#[derive(Debug, Clone)]
pub struct NodegroupSpec {
    pub cluster: String,
    pub name: String,
    pub node_role: String,
    pub subnets: Vec<String>,
    pub instance_types: Vec<String>,
    pub capacity_type: String,
    pub ami_type: String,
    pub version: String,
    pub release_version: Option<String>,
    pub scaling: Scaling,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    pub tags: BTreeMap<String, String>,
    pub launch_template_id: String,
    pub launch_template_version: i64,
    pub max_unavailable: Option<MaxUnavailable>,
    /// Node auto repair (`nodeRepairConfig.enabled`).
    pub node_repair: Option<bool>,
    /// Idempotency token: a retry of the same create returns the same group.
    pub client_request_token: String,
}

impl AwsClients {
    /// The node group, or `NotFound`.
    pub async fn find_nodegroup(&self, cluster: &str, name: &str) -> Result<Nodegroup, AwsError> {
        let id = format!("{cluster}:{name}");
        let out = self
            .eks
            .describe_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(name)
            .send()
            .await
            .map_err(|e| api_error(self.call("eks", "DescribeNodegroup"), label(&id), e))?;
        out.nodegroup()
            .map(flatten_nodegroup)
            .ok_or(AwsError::NotFound { what: label(&id) })
    }

    /// One page of the cluster's node group names and the token of the
    /// next page (`None`: the last page).
    pub async fn list_nodegroups_page(
        &self,
        cluster: &str,
        next_token: Option<String>,
    ) -> Result<(Vec<String>, Option<String>), AwsError> {
        let out = self
            .eks
            .list_nodegroups()
            .cluster_name(cluster)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| {
                api_error(
                    self.call("eks", "ListNodegroups"),
                    format!("EKS Cluster ({cluster})"),
                    e,
                )
            })?;
        let next = out.next_token().filter(|t| !t.is_empty()).map(String::from);
        Ok((out.nodegroups().to_vec(), next))
    }

    pub async fn create_nodegroup(&self, spec: &NodegroupSpec) -> Result<Nodegroup, AwsError> {
        let id = format!("{}:{}", spec.cluster, spec.name);
        let mut req = self
            .eks
            .create_nodegroup()
            .cluster_name(&spec.cluster)
            .nodegroup_name(&spec.name)
            .node_role(&spec.node_role)
            .set_subnets(Some(spec.subnets.clone()))
            .set_instance_types(Some(spec.instance_types.clone()))
            .capacity_type(CapacityTypes::from(spec.capacity_type.as_str()))
            .ami_type(AmiTypes::from(spec.ami_type.as_str()))
            .version(&spec.version)
            .scaling_config(
                NodegroupScalingConfig::builder()
                    .min_size(spec.scaling.min_size)
                    .max_size(spec.scaling.max_size)
                    .desired_size(spec.scaling.desired_size)
                    .build(),
            )
            .set_labels(Some(spec.labels.clone().into_iter().collect()))
            .set_tags(Some(spec.tags.clone().into_iter().collect()))
            .launch_template(
                LaunchTemplateSpecification::builder()
                    .id(&spec.launch_template_id)
                    .version(spec.launch_template_version.to_string())
                    .build(),
            )
            .client_request_token(&spec.client_request_token);
        if let Some(r) = &spec.release_version {
            req = req.release_version(r);
        }
        if let Some(m) = spec.max_unavailable {
            req = req.update_config(m.expand());
        }
        if let Some(enabled) = spec.node_repair {
            req = req.node_repair_config(repair(enabled));
        }
        for t in &spec.taints {
            req = req.taints(expand_taint(t)?);
        }
        let out = req
            .send()
            .await
            .map_err(|e| api_error(self.call("eks", "CreateNodegroup"), label(&id), e))?;
        out.nodegroup()
            .map(flatten_nodegroup)
            .ok_or(AwsError::NotFound { what: label(&id) })
    }

    /// Poll until the node group is ACTIVE. A `*_FAILED` or `DEGRADED`
    /// status ends the wait with EKS's health issues in the error.
    pub async fn wait_nodegroup_active(
        &self,
        cluster: &str,
        name: &str,
        timeout: Duration,
        stop: &mut StopToken,
    ) -> Result<Nodegroup, AwsError> {
        let id = format!("{cluster}:{name}");
        let conf = StateChange {
            what: label(&id),
            pending: &["CREATING", "UPDATING"],
            target: &["ACTIVE"],
            timeout,
            backoff: Backoff::default(),
        };
        wait_for(&conf, stop, || async {
            let ng = self.find_nodegroup(cluster, name).await?;
            match NodegroupStatus::from(ng.status.as_str()) {
                NodegroupStatus::CreateFailed
                | NodegroupStatus::DeleteFailed
                | NodegroupStatus::Degraded => {
                    let detail = if ng.health_issues.is_empty() {
                        format!("status {}", ng.status)
                    } else {
                        format!("status {}: {}", ng.status, ng.health_issues.join("; "))
                    };
                    Err(AwsError::Failed {
                        what: label(&id),
                        detail,
                    })
                }
                _ => {
                    let status = ng.status.clone();
                    Ok((ng, status))
                }
            }
        })
        .await
    }

    /// Delete; a node group that is already gone counts as deleted.
    pub async fn delete_nodegroup(&self, cluster: &str, name: &str) -> Result<(), AwsError> {
        let id = format!("{cluster}:{name}");
        match self
            .eks
            .delete_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(name)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match api_error(self.call("eks", "DeleteNodegroup"), label(&id), e) {
                AwsError::NotFound { .. } => Ok(()),
                other => Err(other),
            },
        }
    }

    /// Poll until the node group is gone. `DELETE_FAILED` ends the wait
    /// with EKS's health issues.
    pub async fn wait_nodegroup_deleted(
        &self,
        cluster: &str,
        name: &str,
        timeout: Duration,
        stop: &mut StopToken,
    ) -> Result<(), AwsError> {
        const GONE: &str = "deleted";
        let id = format!("{cluster}:{name}");
        let conf = StateChange {
            what: label(&id),
            // Right after DeleteNodegroup a group may still read as it was.
            pending: &[
                "DELETING",
                "ACTIVE",
                "UPDATING",
                "CREATING",
                "CREATE_FAILED",
                "DEGRADED",
            ],
            target: &[GONE],
            timeout,
            backoff: Backoff::default(),
        };
        wait_for(&conf, stop, || async {
            match self.find_nodegroup(cluster, name).await {
                Err(AwsError::NotFound { .. }) => Ok(((), GONE.to_string())),
                Err(e) => Err(e),
                Ok(ng) if ng.status == "DELETE_FAILED" => Err(AwsError::Failed {
                    what: label(&id),
                    detail: ng.health_issues.join("; "),
                }),
                Ok(ng) => Ok(((), ng.status)),
            }
        })
        .await
    }
}
