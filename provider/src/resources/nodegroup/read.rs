//! Read: what AWS reports for the node group, folded into the model (read,
//! import, and the read after every write). A node group of the same name
//! that another resource instance owns is never taken for ours.

use std::collections::BTreeMap;

use super::ids::identifiers_possible;
use super::instance::{self, Private};
use super::model::{
    IdentityModel, NodegroupModel, nodegroup_id, scaling_model, string_map, taint_models,
};
use super::online::{aws_diag, online};
use crate::aws::ec2::Ticket;
use crate::aws::eks::Nodegroup;
use crate::aws::{AwsClients, AwsError};
use crate::config::ProviderRuntime;
use crate::framework::model::{Set, list_of};
use crate::framework::{
    ApplyResponse, Attr, Diagnostic, Diagnostics, Model, ReadRequest, ReadResponse, Value,
};

/// The resource identity. The account comes from the node group's ARN
/// when there is one (no call), else from STS once per process.
pub async fn identity(aws: &AwsClients, m: &NodegroupModel) -> Option<Value> {
    let account = match m.arn.as_deref().and_then(AwsClients::account_from_arn) {
        Some(a) => a.to_string(),
        None => aws.account_id().await.ok()?,
    };
    let identity = IdentityModel {
        account_id: Attr::Known(account),
        region: Attr::Known(aws.region.clone()),
        cluster_name: Attr::Known(m.cluster().to_string()),
        name: Attr::Known(m.nodegroup_name().to_string()),
    };
    Some(identity.to_value())
}

/// Whether a fold asks EC2 that the launch template still exists.
pub enum TemplateCheck {
    /// The apply that folds just wrote or used it.
    Trust,
    /// A refresh or an import: ask (one call shared by the refreshes of the
    /// moment, [`AwsClients::launch_template_exists`]), with the refresh's
    /// ticket if it announced itself.
    Verify(Option<Ticket>),
}

/// Fold what AWS reports for the node group into `m`. A launch template
/// that no longer exists leaves `launch_template_version` null
/// ([`NodegroupModel::template_missing`]): the node group stays, and the
/// plan makes the template again.
pub async fn fold(
    aws: &AwsClients,
    rt: &ProviderRuntime,
    mut m: NodegroupModel,
    ng: &Nodegroup,
    check: TemplateCheck,
) -> Result<NodegroupModel, AwsError> {
    m.id = Attr::Known(m.nodegroup_id());
    m.arn = Attr::Known(ng.arn.clone());
    m.status = Attr::Known(ng.status.clone());
    m.ami_type = Attr::Known(ng.ami_type.clone());
    m.kubernetes_version = Attr::Known(ng.version.clone());
    m.release_version = Attr::Known(ng.release_version.clone());
    m.node_role_arn = Attr::Known(ng.node_role.clone());
    m.capacity_type = Attr::Known(ng.capacity_type.clone());
    m.instance_types = Attr::Known(list_of(ng.instance_types.clone()));
    let mut subnets = ng.subnets.clone();
    subnets.sort();
    m.subnet_ids = Attr::Known(Set(list_of(subnets)));
    m.scaling = Attr::Known(scaling_model(ng.scaling));
    m.fold_rollout(ng);
    m.fold_tags_all(ng);
    // Empty and unset read the same: keep what the configuration said.
    m.labels = if ng.labels.is_empty() && m.labels.is_null() {
        Attr::Null
    } else {
        Attr::Known(string_map(&ng.labels))
    };
    m.taints = if ng.taints.is_empty() && m.taints.is_null() {
        Attr::Null
    } else {
        Attr::Known(taint_models(&ng.taints))
    };
    // `tags` shows the resource's own tags: not the provider's bookkeeping,
    // not default_tags that AWS reports unchanged.
    let configured = m.tag_map();
    let own: BTreeMap<String, String> = ng
        .tags
        .iter()
        .filter(|(k, v)| {
            !super::tags::is_bookkeeping(k)
                && (configured.contains_key(*k) || rt.config.default_tags.get(*k) != Some(*v))
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    m.tags = if own.is_empty() && m.tags.is_null() {
        Attr::Null
    } else {
        Attr::Known(string_map(&own))
    };
    if let (Some(id), Some(ver)) = (&ng.launch_template_id, &ng.launch_template_version) {
        let version = ver.parse::<i64>().ok();
        // A launch template version never changes once made: when the node
        // group still uses the one in state, its user data is known.
        let same_version = m.launch_template_id.as_deref() == Some(id.as_str())
            && m.launch_template_version.known().copied() == version
            && !m.user_data.is_unknown()
            // A state written before metadata_options existed reads it.
            && !m.metadata_options.is_null();
        m.launch_template_id = Attr::Known(id.clone());
        m.launch_template_version = version.into();
        let exists = if same_version {
            match check {
                TemplateCheck::Trust => true,
                TemplateCheck::Verify(ticket) => aws.launch_template_exists(id, ticket).await?,
            }
        } else {
            // The content answers whether it exists: the checks of the
            // moment need not wait for this refresh.
            drop(check);
            match aws.find_launch_template_version(id, ver).await {
                Ok(content) => {
                    m.fold_template(content);
                    true
                }
                Err(e) if e.is_not_found() => false,
                Err(e) => return Err(e),
            }
        };
        if !exists {
            m.launch_template_version = Attr::Null;
        }
    }
    Ok(m)
}

/// Read the node group and fold it into `m`, after a write of this apply.
pub async fn refresh(
    aws: &AwsClients,
    rt: &ProviderRuntime,
    m: NodegroupModel,
) -> Result<NodegroupModel, AwsError> {
    let ng = aws.find_nodegroup(m.cluster(), m.nodegroup_name()).await?;
    fold(aws, rt, m, &ng, TemplateCheck::Trust).await
}

/// Read after write: fold the node group as AWS now reports it (`read`, or
/// a fresh DescribeNodegroup) into the applied state.
pub async fn finish_apply(
    rt: &ProviderRuntime,
    aws: &AwsClients,
    applied: NodegroupModel,
    mut diags: Diagnostics,
    read: Option<Nodegroup>,
) -> ApplyResponse {
    let fresh = match read {
        Some(ng) => fold(aws, rt, applied.clone(), &ng, TemplateCheck::Trust).await,
        None => refresh(aws, rt, applied.clone()).await,
    };
    match fresh {
        Ok(mut fresh) => {
            applied.keep_derived(&mut fresh);
            ApplyResponse {
                new_identity: identity(aws, &fresh).await,
                new_state: fresh.to_value(),
                diagnostics: diags,
                ..Default::default()
            }
        }
        Err(e) => {
            diags.push(aws_diag("reading the node group after the change", &e));
            let mut state = applied;
            state.fill_unknowns();
            ApplyResponse {
                new_state: state.to_value(),
                diagnostics: diags,
                ..Default::default()
            }
        }
    }
}

/// Who holds the node group AWS reports under this resource's name.
#[derive(Debug, PartialEq, Eq)]
enum Holder {
    /// This resource instance (or one it cannot tell from: a state written
    /// before instances, or whose private state a bridge dropped).
    This,
    /// An import here whose takeover is still to be applied; the tag still
    /// names the instance it is taken from.
    TakingOver,
    /// Another resource instance took it over (an import in another state
    /// applied), launch template and all.
    TakenOver,
    /// Another node group under the same name: ours was deleted and someone
    /// made a new one. Our launch template is left over.
    Replaced,
    /// Imported here (an adoption or a takeover) but, before this state
    /// applied, another resource instance took it.
    TakenElsewhere,
}

fn holder(private: &Private, ng: &Nodegroup, current: &NodegroupModel) -> Holder {
    let tag = ng.tags.get(instance::TAG_INSTANCE);
    if let Some(from) = &private.taken_from {
        return match tag {
            Some(t) if t == from => Holder::TakingOver,
            Some(t) if Some(t) == private.instance.as_ref() => Holder::This,
            Some(_) => Holder::TakenElsewhere,
            None => Holder::TakingOver,
        };
    }
    match (&private.instance, tag) {
        (Some(ours), Some(t)) if t != ours => {
            let same_template = current.launch_template_id.known().is_some()
                && current.launch_template_id.known() == ng.launch_template_id.as_ref();
            if same_template {
                Holder::TakenOver
            } else {
                Holder::Replaced
            }
        }
        (None, Some(_)) if private.adopted => Holder::TakenElsewhere,
        _ => Holder::This,
    }
}

/// A read that drops the resource from state (the node group is someone
/// else's now, launch template and all), saying why.
fn let_go(summary: &str, detail: String) -> ReadResponse {
    ReadResponse {
        new_state: Value::Null,
        diagnostics: Diagnostic::warning(summary, detail).into(),
        ..Default::default()
    }
}

/// The node group this resource created is gone: the resource stays in
/// state, marked, so that the next apply deletes the launch template it owns
/// (the plan replaces the resource, or destroys it when the configuration
/// no longer has it).
fn vanished(
    req: ReadRequest,
    current: &NodegroupModel,
    mut private: Private,
    why: String,
    name_taken: bool,
) -> ReadResponse {
    let create = if name_taken {
        "then tries to create the node group again, which fails while another node group has its name (remove this resource from the configuration, or import that node group once its owner released it)"
    } else {
        "then creates the node group again"
    };
    let template = match (current.launch_template_id.known(), private.adopted) {
        (Some(lt), false) => format!(
            " The next apply deletes its launch template {lt}, {create}; without this resource in the configuration, it only deletes the template."
        ),
        _ if name_taken => format!(" The next apply {create}."),
        _ => " The next apply creates it again.".to_string(),
    };
    private.gone = true;
    ReadResponse {
        new_state: req.current_state,
        private: private.encode(),
        new_identity: req.current_identity,
        diagnostics: Diagnostic::warning(
            "Node group no longer exists",
            format!("{why}.{template}"),
        )
        .into(),
    }
}

/// What the read says about a launch template deleted outside Terraform.
fn template_missing_warning(m: &NodegroupModel) -> Diagnostic {
    Diagnostic::warning(
        "Launch template missing",
        format!(
            "EKS Node Group ({}) uses launch template {}, which no longer exists (deleted outside Terraform). The node group stays; the next apply makes the template again under its name and rolls the nodes to it.",
            m.nodegroup_id(),
            m.launch_template_id.as_deref().unwrap_or("?")
        ),
    )
}

/// An import's pending takeover shows in the plan: `tags_all` holds the tag
/// naming the instance it is taken from, which the apply replaces.
fn show_pending_takeover(m: &mut NodegroupModel, from: &str) {
    let mut all: BTreeMap<String, String> = m
        .tags_all
        .known()
        .map(|t| {
            t.iter()
                .filter_map(|(k, v)| v.known().map(|v| (k.clone(), v.clone())))
                .collect()
        })
        .unwrap_or_default();
    all.insert(instance::TAG_INSTANCE.to_string(), from.to_string());
    m.tags_all = Attr::Known(string_map(&all));
}

pub(super) async fn read(req: ReadRequest) -> ReadResponse {
    let keep = |req: ReadRequest, diagnostics| ReadResponse {
        new_state: req.current_state,
        private: req.private,
        new_identity: req.current_identity,
        diagnostics,
    };
    let current = match NodegroupModel::from_value(&req.current_state) {
        Ok(m) => m,
        Err(d) => return keep(req, d),
    };
    let Ok((rt, aws)) = online(&req.provider, "read").await else {
        // Offline: keep the state as it is.
        return keep(req, Diagnostics::new());
    };
    let (cluster, name) = (current.cluster(), current.nodegroup_name());
    let id = nodegroup_id(cluster, name);
    if !identifiers_possible(cluster, name) {
        return let_go(
            "Node group cannot exist",
            format!(
                "{id:?} is not a valid EKS node group identifier, so no such node group can exist; removing it from state."
            ),
        );
    }
    let mut private = Private::decode(&req.private);
    // The template checks of the refreshes under way share one call.
    let ticket = aws.expect_template_check();
    let ng = match aws.find_nodegroup(cluster, name).await {
        Ok(ng) => ng,
        Err(AwsError::NotFound { .. }) if !private.owns() => {
            return let_go(
                "Node group no longer exists",
                format!(
                    "EKS Node Group ({id}) was not found; it was imported here but never taken over, so nothing of it is this resource's. Removing it from state."
                ),
            );
        }
        Err(AwsError::NotFound { .. }) => {
            return vanished(
                req,
                &current,
                private,
                format!("EKS Node Group ({id}) was not found"),
                false,
            );
        }
        Err(e) => {
            let d = aws_diag(&format!("reading EKS Node Group ({id})"), &e);
            return keep(req, d.into());
        }
    };
    match holder(&private, &ng, &current) {
        Holder::This | Holder::TakingOver => {}
        Holder::TakenOver => {
            return let_go(
                "Node group taken over by another resource instance",
                format!(
                    "EKS Node Group ({id}) and its launch template now belong to another nested_nodegroup (an import in another state or working directory took them over). This state no longer manages them: it removes the node group from state and will neither change nor destroy it. Remove the resource from this configuration (the next plan otherwise proposes to create it again, which fails while the name is taken)."
                ),
            );
        }
        Holder::Replaced => {
            return vanished(
                req,
                &current,
                private,
                format!(
                    "EKS Node Group ({id}) exists, but it is not the one this resource created (it belongs to another resource instance); it is left untouched"
                ),
                true,
            );
        }
        Holder::TakenElsewhere => {
            return let_go(
                "Node group adopted elsewhere",
                format!(
                    "EKS Node Group ({id}) was imported here, but before this configuration applied, another resource instance (another state) took it over; removing it from state and leaving it untouched. One node group has one owner: remove it from the other state (a `removed` block) and import it here again."
                ),
            );
        }
    }
    // Seen again as ours: whatever an earlier refresh thought, it is here.
    private.gone = false;
    if private.taken_from.is_some()
        && ng.tags.get(instance::TAG_INSTANCE) == private.instance.as_ref()
    {
        // The takeover was applied (the rest of that apply failed).
        private.taken_from = None;
    }
    let check = TemplateCheck::Verify(Some(ticket));
    match fold(&aws, &rt, current.clone(), &ng, check).await {
        Ok(mut state) => {
            let mut diagnostics = Diagnostics::new();
            if state.template_missing() {
                diagnostics.push(template_missing_warning(&state));
            }
            if let Some(from) = &private.taken_from {
                show_pending_takeover(&mut state, from);
            }
            ReadResponse {
                new_identity: identity(&aws, &state).await,
                new_state: state.to_value(),
                private: private.encode(),
                diagnostics,
            }
        }
        Err(e) => {
            let d = aws_diag(&format!("reading EKS Node Group ({id})"), &e);
            keep(req, d.into())
        }
    }
}
