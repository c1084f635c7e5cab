//! Update in place: a new launch template version and/or Kubernetes
//! version, then labels, taints and scaling, then tags.

use super::changes::map_changes;
use super::instance::{Private, TAG_INSTANCE, call_token};
use super::model::NodegroupModel;
use super::online::{all_tags, aws_diag, release_version};
use super::read::finish_apply;
use super::rollout;
use super::{MANAGED_BY, TAG_MANAGED_BY, TAG_SANDBOX};
use crate::aws::AwsClients;
use crate::aws::eks::{ConfigUpdate, Taint, VersionUpdate};
use crate::config::ProviderRuntime;
use crate::framework::{ApplyRequest, ApplyResponse, Attr, Diagnostics};

pub(super) async fn update(
    rt: &ProviderRuntime,
    aws: &AwsClients,
    req: &ApplyRequest,
    prior: &NodegroupModel,
    mut state: NodegroupModel,
) -> ApplyResponse {
    let mut diags = Diagnostics::new();
    let private = Private::decode(&req.planned_private);
    let adopted = private.adopted;
    let (cluster, name) = (
        state.cluster().to_string(),
        state.nodegroup_name().to_string(),
    );
    let id = state.nodegroup_id();
    let mut stop = req.stop.clone();
    let limit = state.timeout("update");
    let fail = |mut diags: Diagnostics, e: &crate::aws::AwsError, what: &str| {
        diags.push(aws_diag(&format!("{what} EKS Node Group ({id})"), e));
        ApplyResponse {
            new_state: req.prior_state.clone(),
            diagnostics: diags,
            ..Default::default()
        }
    };

    // Version phase: new launch template version and/or Kubernetes version.
    let version = state
        .kubernetes_version
        .as_deref()
        .unwrap_or_default()
        .to_string();
    let version_changes = prior.kubernetes_version.as_deref() != Some(version.as_str());
    let template_changes = !state.template_changes(prior).is_empty();
    let pinned = rollout::release_to_send(prior, &state, version_changes).map(String::from);
    if version_changes || template_changes || pinned.is_some() {
        let lt_id = prior
            .launch_template_id
            .as_deref()
            .unwrap_or_default()
            .to_string();
        let mut lt_version = prior.launch_template_version.known().copied().unwrap_or(1);
        if template_changes {
            let content = state.template_content();
            let t = call_token(&[&id, &lt_id, "template-version"]);
            // An adopted template keeps what its owner put in it.
            let source = adopted.then_some(lt_version);
            match aws
                .create_launch_template_version(&lt_id, &t, &content, source)
                .await
            {
                Ok(v) => lt_version = v,
                Err(e) => return fail(diags, &e, "creating a launch template version for"),
            }
        }
        let release = if pinned.is_some() {
            pinned
        } else if version_changes {
            match release_version(aws, &state).await {
                Ok(r) => r,
                Err(e) => return fail(diags, &e, "resolving the node image release for"),
            }
        } else {
            None
        };
        let t = call_token(&[&id, "version", &version, &lt_version.to_string()]);
        let change = VersionUpdate {
            cluster: &cluster,
            name: &name,
            launch_template: (&lt_id, lt_version),
            version: version_changes.then_some(version.as_str()),
            release_version: release.as_deref(),
            force: state.force_update(),
            token: &t,
        };
        let update_id = match aws.update_nodegroup_version(&change).await {
            Ok(u) => u,
            Err(e) => return fail(diags, &e, "updating the version of"),
        };
        if let Err(e) = aws
            .wait_update_successful(&cluster, &name, &update_id, limit, &mut stop)
            .await
        {
            diags.push(aws_diag(
                &format!("waiting for EKS Node Group ({id}) version update"),
                &e,
            ));
        }
        state.launch_template_version = Attr::Known(lt_version);
    }

    // Config phase: labels, taints, scaling.
    let (add_labels, remove_labels) = map_changes(&prior.label_map(), &state.label_map());
    let to_api = |t: &Taint| Taint {
        effect: crate::aws::eks::effect_to_api(&t.effect),
        ..t.clone()
    };
    let (old_taints, new_taints) = (prior.taint_list(), state.taint_list());
    let add_taints: Vec<Taint> = new_taints
        .iter()
        .filter(|t| !old_taints.contains(t))
        .map(to_api)
        .collect();
    let remove_taints: Vec<Taint> = old_taints
        .iter()
        .filter(|t| {
            !new_taints
                .iter()
                .any(|n| n.key == t.key && n.effect == t.effect)
        })
        .map(to_api)
        .collect();
    let token = call_token(&[&id, "config"]);
    let change = ConfigUpdate {
        cluster: &cluster,
        name: &name,
        add_labels: &add_labels,
        remove_labels: &remove_labels,
        add_taints: &add_taints,
        remove_taints: &remove_taints,
        scaling: state
            .scaling_sizes()
            .filter(|sc| Some(*sc) != prior.scaling_sizes()),
        max_unavailable: state
            .max_unavailable()
            .filter(|m| Some(*m) != prior.max_unavailable()),
        node_repair: state
            .node_repair()
            .filter(|r| Some(*r) != prior.node_repair()),
        token: &token,
    };
    if !diags.has_errors() && !change.is_empty() {
        match aws.update_nodegroup_config(&change).await {
            Ok(update_id) => {
                if let Err(e) = aws
                    .wait_update_successful(&cluster, &name, &update_id, limit, &mut stop)
                    .await
                {
                    diags.push(aws_diag(
                        &format!("waiting for EKS Node Group ({id}) config update"),
                        &e,
                    ));
                }
            }
            Err(e) => diags.push(aws_diag(
                &format!("updating the configuration of EKS Node Group ({id})"),
                &e,
            )),
        }
    }

    // Tags.
    let arn = prior.arn.as_deref().unwrap_or_default();
    // From the tags the node group has (tags_all, as read) to the planned
    // ones: out-of-band tags go, default_tags changes arrive.
    let (mut set, unset) = map_changes(
        &prior.current_tags(&rt.config.default_tags),
        &all_tags(rt, &state),
    );
    if adopted && !diags.has_errors() {
        // Adopted: from now on the node group is this instance's.
        set.extend(owner_tags(&state, private.instance.as_deref()));
    }
    if let Err(e) = aws.tag_resource(arn, &set).await {
        diags.push(aws_diag("tagging the node group", &e));
    }
    if let Err(e) = aws.untag_resource(arn, &unset).await {
        diags.push(aws_diag("untagging the node group", &e));
    }
    finish_apply(rt, aws, state, diags, None).await
}

/// The tags that mark a node group as created (or adopted) by the
/// resource instance `instance`.
fn owner_tags(
    state: &NodegroupModel,
    instance: Option<&str>,
) -> std::collections::BTreeMap<String, String> {
    let mut tags = std::collections::BTreeMap::new();
    if let Some(sandbox) = state.sandbox.known() {
        tags.insert(TAG_SANDBOX.to_string(), sandbox.clone());
    }
    tags.insert(TAG_MANAGED_BY.to_string(), MANAGED_BY.to_string());
    if let Some(i) = instance {
        tags.insert(TAG_INSTANCE.to_string(), i.to_string());
    }
    tags
}
