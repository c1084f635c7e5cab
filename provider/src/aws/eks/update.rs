//! Updates of a node group in place: its version (UpdateNodegroupVersion),
//! its configuration (UpdateNodegroupConfig) and the wait for either.

use super::*;

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

impl AwsClients {
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
}
