//! EKS SDK types to and from the provider's: node groups, taints, update IDs.

use aws_sdk_eks::types::{Taint as SdkTaint, TaintEffect};

use super::{Nodegroup, Scaling, Taint};
use crate::aws::AwsError;

pub fn effect_to_api(effect: &str) -> String {
    match effect {
        "NoSchedule" => "NO_SCHEDULE".into(),
        "NoExecute" => "NO_EXECUTE".into(),
        "PreferNoSchedule" => "PREFER_NO_SCHEDULE".into(),
        other => other.to_string(),
    }
}

pub fn effect_from_api(effect: &str) -> String {
    match effect {
        "NO_SCHEDULE" => "NoSchedule".into(),
        "NO_EXECUTE" => "NoExecute".into(),
        "PREFER_NO_SCHEDULE" => "PreferNoSchedule".into(),
        other => other.to_string(),
    }
}

pub(super) fn expand_taint(t: &Taint) -> Result<SdkTaint, AwsError> {
    Ok(SdkTaint::builder()
        .key(&t.key)
        .value(&t.value)
        .effect(TaintEffect::from(effect_to_api(&t.effect).as_str()))
        .build())
}

pub(super) fn flatten_nodegroup(ng: &aws_sdk_eks::types::Nodegroup) -> Nodegroup {
    let scaling = ng
        .scaling_config()
        .map_or_else(Scaling::default, |s| Scaling {
            min_size: s.min_size().unwrap_or_default(),
            max_size: s.max_size().unwrap_or_default(),
            desired_size: s.desired_size().unwrap_or_default(),
        });
    let mut taints: Vec<Taint> = ng
        .taints()
        .iter()
        .map(|t| Taint {
            key: t.key().unwrap_or_default().to_string(),
            value: t.value().unwrap_or_default().to_string(),
            effect: effect_from_api(t.effect().map(|e| e.as_str()).unwrap_or_default()),
        })
        .collect();
    taints.sort();
    Nodegroup {
        arn: ng.nodegroup_arn().unwrap_or_default().to_string(),
        status: ng
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        ami_type: ng
            .ami_type()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        version: ng.version().unwrap_or_default().to_string(),
        release_version: ng.release_version().unwrap_or_default().to_string(),
        capacity_type: ng
            .capacity_type()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        instance_types: ng.instance_types().to_vec(),
        subnets: ng.subnets().to_vec(),
        node_role: ng.node_role().unwrap_or_default().to_string(),
        scaling,
        labels: ng
            .labels()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        taints,
        tags: ng
            .tags()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        launch_template_id: ng.launch_template().and_then(|l| l.id()).map(String::from),
        launch_template_name: ng
            .launch_template()
            .and_then(|l| l.name())
            .map(String::from),
        launch_template_version: ng
            .launch_template()
            .and_then(|l| l.version())
            .map(String::from),
        max_unavailable: ng.update_config().and_then(|u| {
            match (u.max_unavailable(), u.max_unavailable_percentage()) {
                (Some(n), _) => Some(super::MaxUnavailable::Nodes(n)),
                (None, Some(p)) => Some(super::MaxUnavailable::Percent(p)),
                (None, None) => None,
            }
        }),
        node_repair: ng.node_repair_config().and_then(|r| r.enabled()),
        health_issues: ng
            .health()
            .map(|h| {
                h.issues()
                    .iter()
                    .map(|i| {
                        format!(
                            "{}: {}",
                            i.code().map(|c| c.as_str()).unwrap_or("Issue"),
                            i.message().unwrap_or_default()
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// The ID of an update EKS started, or an error naming the operation.
pub(super) fn update_id(
    operation: &'static str,
    update: Option<&aws_sdk_eks::types::Update>,
) -> Result<String, AwsError> {
    update
        .and_then(|u| u.id())
        .map(String::from)
        .ok_or_else(|| AwsError::Api {
            operation,
            code: None,
            message: "no update ID in the answer".into(),
        })
}
