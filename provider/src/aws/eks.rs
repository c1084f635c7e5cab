//! EKS: clusters, managed node groups and their updates. This file holds
//! the shapes the provider reads and writes; each call lives with its
//! concept (`cluster`, `nodegroup`, `update`, `tags`).

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_eks::types::{
    AmiTypes, CapacityTypes, LaunchTemplateSpecification, NodeRepairConfig, NodegroupScalingConfig,
    NodegroupStatus, NodegroupUpdateConfig, UpdateLabelsPayload, UpdateStatus, UpdateTaintsPayload,
};

mod cluster;
mod elsewhere;
mod flatten;
mod nodegroup;
mod tags;
mod update;

pub use flatten::{effect_from_api, effect_to_api};
use flatten::{expand_taint, flatten_nodegroup, update_id};
pub use nodegroup::NodegroupSpec;
pub use update::{ConfigUpdate, TemplateRef, VersionUpdate};

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

fn label(id: &str) -> String {
    format!("EKS Node Group ({id})")
}
