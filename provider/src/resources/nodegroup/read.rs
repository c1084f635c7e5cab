//! Read: what AWS reports for the node group, folded into the model (read,
//! import, and the read after every write). A node group of the same name
//! that another resource instance owns is never taken for ours.

use std::collections::BTreeMap;

use super::ids::identifiers_possible;
use super::instance;
use super::model::{
    IdentityModel, NodegroupModel, nodegroup_id, scaling_model, string_map, taint_models,
};
use super::online::{aws_diag, online};
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

/// Fold what AWS reports for the node group into `m`.
pub async fn fold(
    aws: &AwsClients,
    rt: &ProviderRuntime,
    mut m: NodegroupModel,
    ng: &Nodegroup,
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
        if !same_version {
            let content = aws.find_launch_template_version(id, ver).await?;
            m.fold_template(content);
        }
    }
    Ok(m)
}

/// Read the node group and fold it into `m`.
pub async fn refresh(
    aws: &AwsClients,
    rt: &ProviderRuntime,
    m: NodegroupModel,
) -> Result<NodegroupModel, AwsError> {
    let ng = aws.find_nodegroup(m.cluster(), m.nodegroup_name()).await?;
    fold(aws, rt, m, &ng).await
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
        Some(ng) => fold(aws, rt, applied.clone(), &ng).await,
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

/// A read that drops the resource from state, saying why.
fn gone(summary: &str, detail: String) -> ReadResponse {
    ReadResponse {
        new_state: Value::Null,
        diagnostics: Diagnostic::warning(summary, detail).into(),
        ..Default::default()
    }
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
        return gone(
            "Node group cannot exist",
            format!(
                "{id:?} is not a valid EKS node group identifier, so no such node group can exist; removing it from state."
            ),
        );
    }
    let found = aws.find_nodegroup(cluster, name).await;
    // Still the object this instance created? A node group of the same
    // name made by someone else (after ours was deleted out of band) is
    // not ours to manage, update or delete.
    if let (Ok(ng), Some(ours)) = (&found, instance::Private::decode(&req.private).instance)
        && let Some(tag) = ng.tags.get(instance::TAG_INSTANCE)
        && *tag != ours
    {
        return gone(
            "Node group replaced outside this configuration",
            format!(
                "EKS Node Group ({id}) exists, but it is not the one this resource created (it belongs to another resource instance); removing it from state and leaving it untouched. The next plan creates this resource again, which fails until the name is free or you import the group."
            ),
        );
    }
    // Adopted by this state but not yet applied, and meanwhile claimed by
    // another resource instance (another state's adoption or create): that
    // one owns it now.
    let private = instance::Private::decode(&req.private);
    if let Ok(ng) = &found
        && private.adopted
        && private.instance.is_none()
        && ng.tags.contains_key(instance::TAG_INSTANCE)
    {
        return gone(
            "Node group adopted elsewhere",
            format!(
                "EKS Node Group ({id}) was imported here to be adopted, but before this configuration applied, another resource instance (another state) took it over; removing it from state and leaving it untouched. One node group has one owner: remove it from the other state (a `removed` block) and import it here again."
            ),
        );
    }
    let refreshed = match found {
        Ok(ng) => fold(&aws, &rt, current.clone(), &ng).await,
        Err(e) => Err(e),
    };
    match refreshed {
        Ok(state) => ReadResponse {
            new_identity: identity(&aws, &state).await,
            new_state: state.to_value(),
            private: req.private,
            ..Default::default()
        },
        Err(AwsError::NotFound { .. }) => gone(
            "Node group no longer exists",
            format!(
                "EKS Node Group ({id}) was not found; removing it from state so the next apply recreates it."
            ),
        ),
        Err(e) => {
            let d = aws_diag(&format!("reading EKS Node Group ({id})"), &e);
            keep(req, d.into())
        }
    }
}
