//! EKS: clusters, managed node groups and their updates.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_eks::types::{
    AmiTypes, CapacityTypes, LaunchTemplateSpecification, NodeRepairConfig, NodegroupScalingConfig,
    NodegroupStatus, NodegroupUpdateConfig, UpdateLabelsPayload, UpdateStatus, UpdateTaintsPayload,
};

mod elsewhere;
mod flatten;

pub use flatten::{effect_from_api, effect_to_api};
use flatten::{expand_taint, flatten_nodegroup, update_id};

use super::wait::{Backoff, StateChange, wait_for};
use super::{AwsClients, AwsError, api_error};
use crate::framework::StopToken;

/// What the provider needs to know about a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    pub name: String,
    pub version: String,
    pub endpoint: Option<String>,
    pub certificate_authority: Option<String>,
    pub service_cidr: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scaling {
    pub min_size: i32,
    pub max_size: i32,
    pub desired_size: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Taint {
    pub key: String,
    pub value: String,
    /// `NO_SCHEDULE`, `NO_EXECUTE` or `PREFER_NO_SCHEDULE` (the EKS API's spelling).
    pub effect: String,
}

/// How many nodes an update may take down at once (EKS `updateConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxUnavailable {
    Nodes(i32),
    Percent(i32),
}

impl MaxUnavailable {
    fn expand(self) -> NodegroupUpdateConfig {
        match self {
            MaxUnavailable::Nodes(n) => NodegroupUpdateConfig::builder().max_unavailable(n),
            MaxUnavailable::Percent(p) => {
                NodegroupUpdateConfig::builder().max_unavailable_percentage(p)
            }
        }
        .build()
    }
}

fn repair(enabled: bool) -> NodeRepairConfig {
    NodeRepairConfig::builder().enabled(enabled).build()
}

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

/// A node group as EKS describes it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Nodegroup {
    pub arn: String,
    pub status: String,
    pub ami_type: String,
    pub version: String,
    pub release_version: String,
    pub capacity_type: String,
    pub instance_types: Vec<String>,
    pub subnets: Vec<String>,
    pub node_role: String,
    pub scaling: Scaling,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    pub tags: BTreeMap<String, String>,
    pub launch_template_id: Option<String>,
    /// The launch template's name, as EKS reports it beside the ID.
    pub launch_template_name: Option<String>,
    pub launch_template_version: Option<String>,
    pub max_unavailable: Option<MaxUnavailable>,
    pub node_repair: Option<bool>,
    /// EKS health issues, as "CODE: message".
    pub health_issues: Vec<String>,
}

/// How a version update names the node group's launch template: by ID, or
/// by name once the template was made again under its old name (a new ID).
/// EKS takes "the same launch template ID or name that was used to create
/// the node group" (UpdateNodegroupVersion, `launchTemplate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateRef<'a> {
    Id(&'a str),
    Name(&'a str),
}

/// What UpdateNodegroupVersion changes: the launch template version, the
/// Kubernetes version, the release; `force` evicts past PodDisruptionBudgets.
#[derive(Debug, Clone, Copy)]
pub struct VersionUpdate<'a> {
    pub cluster: &'a str,
    pub name: &'a str,
    pub launch_template: (TemplateRef<'a>, i64),
    pub version: Option<&'a str>,
    pub release_version: Option<&'a str>,
    pub force: bool,
    /// Idempotency token.
    pub token: &'a str,
}

/// What UpdateNodegroupConfig changes: labels, taints, scaling.
#[derive(Debug, Clone, Copy)]
pub struct ConfigUpdate<'a> {
    pub cluster: &'a str,
    pub name: &'a str,
    pub add_labels: &'a BTreeMap<String, String>,
    pub remove_labels: &'a [String],
    pub add_taints: &'a [Taint],
    pub remove_taints: &'a [Taint],
    pub scaling: Option<Scaling>,
    pub max_unavailable: Option<MaxUnavailable>,
    pub node_repair: Option<bool>,
    /// Idempotency token.
    pub token: &'a str,
}

impl ConfigUpdate<'_> {
    pub fn is_empty(&self) -> bool {
        self.add_labels.is_empty()
            && self.remove_labels.is_empty()
            && self.add_taints.is_empty()
            && self.remove_taints.is_empty()
            && self.scaling.is_none()
            && self.max_unavailable.is_none()
            && self.node_repair.is_none()
    }
}

fn label(id: &str) -> String {
    format!("EKS Node Group ({id})")
}

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

    /// New launch template version and/or Kubernetes version and/or
    /// release; returns the update ID.
    pub async fn update_nodegroup_version(
        &self,
        u: &VersionUpdate<'_>,
    ) -> Result<String, AwsError> {
        let VersionUpdate {
            cluster,
            name,
            launch_template,
            version,
            release_version,
            force,
            token,
        } = *u;
        let id = format!("{cluster}:{name}");
        let template = match launch_template.0 {
            TemplateRef::Id(t) => LaunchTemplateSpecification::builder().id(t),
            TemplateRef::Name(t) => LaunchTemplateSpecification::builder().name(t),
        };
        let mut req = self
            .eks
            .update_nodegroup_version()
            .cluster_name(cluster)
            .nodegroup_name(name)
            .launch_template(template.version(launch_template.1.to_string()).build())
            .client_request_token(token);
        if let Some(v) = version {
            req = req.version(v);
        }
        if let Some(r) = release_version {
            req = req.release_version(r);
        }
        if force {
            req = req.force(true);
        }
        let out = req
            .send()
            .await
            .map_err(|e| api_error(self.call("eks", "UpdateNodegroupVersion"), label(&id), e))?;
        update_id("UpdateNodegroupVersion", out.update())
    }

    /// Labels, taints and scaling; returns the update ID.
    pub async fn update_nodegroup_config(&self, u: &ConfigUpdate<'_>) -> Result<String, AwsError> {
        let ConfigUpdate {
            cluster,
            name,
            add_labels,
            remove_labels,
            add_taints,
            remove_taints,
            scaling,
            max_unavailable,
            node_repair,
            token,
        } = *u;
        let id = format!("{cluster}:{name}");
        let mut req = self
            .eks
            .update_nodegroup_config()
            .cluster_name(cluster)
            .nodegroup_name(name)
            .client_request_token(token);
        if !add_labels.is_empty() || !remove_labels.is_empty() {
            req = req.labels(
                UpdateLabelsPayload::builder()
                    .set_add_or_update_labels(
                        (!add_labels.is_empty()).then(|| add_labels.clone().into_iter().collect()),
                    )
                    .set_remove_labels((!remove_labels.is_empty()).then(|| remove_labels.to_vec()))
                    .build(),
            );
        }
        if !add_taints.is_empty() || !remove_taints.is_empty() {
            let add = add_taints
                .iter()
                .map(expand_taint)
                .collect::<Result<Vec<_>, _>>()?;
            let remove = remove_taints
                .iter()
                .map(expand_taint)
                .collect::<Result<Vec<_>, _>>()?;
            req = req.taints(
                UpdateTaintsPayload::builder()
                    .set_add_or_update_taints((!add.is_empty()).then_some(add))
                    .set_remove_taints((!remove.is_empty()).then_some(remove))
                    .build(),
            );
        }
        if let Some(s) = scaling {
            req = req.scaling_config(
                NodegroupScalingConfig::builder()
                    .min_size(s.min_size)
                    .max_size(s.max_size)
                    .desired_size(s.desired_size)
                    .build(),
            );
        }
        if let Some(m) = max_unavailable {
            req = req.update_config(m.expand());
        }
        if let Some(enabled) = node_repair {
            req = req.node_repair_config(repair(enabled));
        }
        let out = req
            .send()
            .await
            .map_err(|e| api_error(self.call("eks", "UpdateNodegroupConfig"), label(&id), e))?;
        update_id("UpdateNodegroupConfig", out.update())
    }

    /// Poll DescribeUpdate until the update succeeds; Failed or Cancelled
    /// ends the wait with EKS's error details.
    pub async fn wait_update_successful(
        &self,
        cluster: &str,
        name: &str,
        update_id: &str,
        timeout: Duration,
        stop: &mut StopToken,
    ) -> Result<(), AwsError> {
        let id = format!("{cluster}:{name}");
        let what = format!("update {update_id} of {}", label(&id));
        let conf = StateChange {
            what: what.clone(),
            pending: &["InProgress"],
            target: &["Successful"],
            timeout,
            backoff: Backoff::default(),
        };
        wait_for(&conf, stop, || async {
            let out = self
                .eks
                .describe_update()
                .name(cluster)
                .nodegroup_name(name)
                .update_id(update_id)
                .send()
                .await
                .map_err(|e| api_error(self.call("eks", "DescribeUpdate"), what.clone(), e))?;
            let update = out.update();
            let status = update.and_then(|u| u.status()).cloned();
            if let Some(UpdateStatus::Failed | UpdateStatus::Cancelled) = status {
                let errors: Vec<String> = update
                    .map(|u| {
                        u.errors()
                            .iter()
                            .map(|e| {
                                format!(
                                    "{}: {}",
                                    e.error_code().map(|c| c.as_str()).unwrap_or("Error"),
                                    e.error_message().unwrap_or_default()
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                return Err(AwsError::Failed {
                    what: what.clone(),
                    detail: errors.join("; "),
                });
            }
            Ok((
                (),
                status.map(|s| s.as_str().to_string()).unwrap_or_default(),
            ))
        })
        .await
    }

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
