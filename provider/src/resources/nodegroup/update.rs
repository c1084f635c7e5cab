//! Update in place: a new launch template version and/or Kubernetes
//! version, then labels, taints and scaling, then tags.

use super::changes::map_changes;
use super::instance::{Private, TAG_INSTANCE, TAG_NODEGROUP, call_token, token};
use super::model::NodegroupModel;
use super::online::{all_tags, aws_diag, release_version};
use super::read::finish_apply;
use super::rollout;
use super::{MANAGED_BY, TAG_MANAGED_BY, TAG_SANDBOX};
use crate::aws::eks::{ConfigUpdate, Taint, TemplateRef, VersionUpdate};
use crate::aws::{AwsClients, AwsError};
use crate::config::ProviderRuntime;
use crate::framework::{ApplyRequest, ApplyResponse, Attr, Diagnostic, Diagnostics};

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
    // An import taking the node group over: it must still be the instance's
    // the import found (two imports racing for one node group: one wins).
    if let Some(from) = &private.taken_from {
        match aws.find_nodegroup(&cluster, &name).await {
            Ok(ng) if ng.tags.get(TAG_INSTANCE).is_none_or(|t| t == from) => {}
            Ok(_) => {
                diags.push(Diagnostic::error(
                    "Node group taken over elsewhere",
                    format!(
                        "EKS Node Group ({id}) was imported here from another resource instance, but since then a third one took it over; nothing was changed. One node group has one owner: release it there (a `removed` block) and import it here again."
                    ),
                ));
                return ApplyResponse {
                    new_state: req.prior_state.clone(),
                    diagnostics: diags,
                    ..Default::default()
                };
            }
            Err(e) => return fail(diags, &e, "reading"),
        }
    }

    let version_changes = prior.kubernetes_version.as_deref() != Some(version.as_str());
    let remake = prior.template_missing();
    let template_changes = !state.template_changes(prior).is_empty() || remake;
    let pinned = rollout::release_to_send(prior, &state, version_changes).map(String::from);
    let mut lt_id = prior
        .launch_template_id
        .as_deref()
        .unwrap_or_default()
        .to_string();
    if version_changes || template_changes || pinned.is_some() {
        let mut lt_version = prior.launch_template_version.known().copied().unwrap_or(1);
        // Set when the template was made again: EKS is then told its name.
        let mut remade_name: Option<String> = None;
        if template_changes {
            let content = state.template_content();
            let t = call_token(&[&id, &lt_id, "template-version"]);
            // An adopted template keeps what its owner put in it (unless it
            // is gone).
            let source = (adopted && !remake).then_some(lt_version);
            match aws
                .create_launch_template_version(&lt_id, &t, &content, source)
                .await
            {
                Ok(v) => lt_version = v,
                Err(e) if remake && e.is_not_found() => {
                    // A state from before instances gets one for the tag.
                    let owner = private
                        .instance
                        .clone()
                        .or_else(|| super::instance::new_instance().ok())
                        .unwrap_or_default();
                    match remake_template(rt, aws, &state, &owner).await {
                        Ok((new_id, name)) => {
                            lt_id = new_id;
                            lt_version = 1;
                            remade_name = Some(name);
                        }
                        Err(e) => return fail(diags, &e, "making the launch template again for"),
                    }
                }
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
        let template = match &remade_name {
            Some(n) => TemplateRef::Name(n),
            None => TemplateRef::Id(&lt_id),
        };
        let change = VersionUpdate {
            cluster: &cluster,
            name: &name,
            launch_template: (template, lt_version),
            version: version_changes.then_some(version.as_str()),
            release_version: release.as_deref(),
            force: state.force_update(),
            token: &t,
        };
        let update_id = match aws.update_nodegroup_version(&change).await {
            Ok(u) => u,
            Err(e) => {
                if remade_name.is_some() {
                    // EKS did not take it: the new template serves nothing.
                    if let Err(d) = aws.delete_launch_template(&lt_id).await {
                        diags.push(aws_diag("deleting the unused launch template", &d));
                    }
                    diags.push(Diagnostic::error(
                        "EKS refused the launch template made again",
                        format!(
                            "EKS Node Group ({id}) keeps the launch template it was created with, which was deleted outside Terraform, and EKS did not accept the one made again under its name: {e}. Replace the node group: `terraform apply -replace=<this resource's address>`."
                        ),
                    ));
                    return ApplyResponse {
                        new_state: req.prior_state.clone(),
                        diagnostics: diags,
                        ..Default::default()
                    };
                }
                return fail(diags, &e, "updating the version of");
            }
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
        state.launch_template_id = Attr::Known(lt_id.clone());
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
    let taking_over = private.taken_from.is_some();
    if (adopted || taking_over) && !diags.has_errors() {
        // Adopted or taken over: from now on the node group is this
        // instance's.
        set.extend(owner_tags(&state, private.instance.as_deref()));
    }
    // A tag set anew (the owner's) is not also taken off.
    let unset: Vec<String> = unset.into_iter().filter(|k| !set.contains_key(k)).collect();
    if let Err(e) = aws.tag_resource(arn, &set).await {
        diags.push(aws_diag("tagging the node group", &e));
    }
    if let Err(e) = aws.untag_resource(arn, &unset).await {
        diags.push(aws_diag("untagging the node group", &e));
    }
    // The launch template goes with the node group it was made for.
    if taking_over
        && !adopted
        && !diags.has_errors()
        && let Some(owner) = &private.instance
    {
        let tags = [(TAG_INSTANCE.to_string(), owner.clone())].into();
        if let Err(e) = aws.tag_launch_template(&lt_id, &tags).await {
            diags.push(aws_diag("tagging the launch template", &e));
        }
    }
    finish_apply(rt, aws, state, diags, None).await
}

/// A launch template deleted outside Terraform, made again under the name
/// EKS knows it by (EKS keeps a node group on the template "ID or name" it
/// was created with): the planned content, tagged as this instance's.
/// Returns the new ID and the name. This is EKS's own remedy for the health
/// issue `Ec2LaunchTemplateNotFound`: "You may be able to recreate a launch
/// template with the same settings to recover" (EKS API Reference, Issue).
/// Where EKS refuses it, the update says to replace the node group.
async fn remake_template(
    rt: &ProviderRuntime,
    aws: &AwsClients,
    state: &NodegroupModel,
    owner: &str,
) -> Result<(String, String), AwsError> {
    let id = state.nodegroup_id();
    let ng = aws
        .find_nodegroup(state.cluster(), state.nodegroup_name())
        .await?;
    let Some(name) = ng.launch_template_name else {
        return Err(AwsError::Failed {
            what: format!("EKS Node Group ({id})"),
            detail: "EKS does not report the name of its launch template, so it cannot be made again; replace the node group (`terraform apply -replace=<this resource's address>`)".into(),
        });
    };
    let old = ng.launch_template_id.unwrap_or_default();
    let (new_id, _) = aws
        .create_launch_template(
            &name,
            &token(owner, &["launch-template", &old]),
            &state.template_content(),
            &all_tags(rt, state),
            (TAG_INSTANCE, owner),
            &[(TAG_NODEGROUP, &id)],
        )
        .await?;
    tracing::info!(launch_template = %new_id, name = %name, node_group = %id, "made the deleted launch template again");
    Ok((new_id, name))
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
