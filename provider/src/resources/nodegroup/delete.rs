//! Delete: the node group, then the launch template it owned (an adopted
//! node group's template, which someone else made, is left). A failure
//! keeps the resource in state; identifiers that could name nothing leave
//! state at once (a state must always be destroyable).
//!
//! What is deleted is only ever this resource instance's: a node group that
//! refresh found gone (or replaced by someone else's) costs only its launch
//! template, and an import whose takeover was never applied deletes nothing.

use super::ids::{identifiers_possible, is_launch_template_id};
use super::instance::{Private, TAG_INSTANCE};
use super::model::NodegroupModel;
use super::online::aws_diag;
use crate::aws::eks::Nodegroup;
use crate::aws::{AwsClients, AwsError};
use crate::framework::{ApplyRequest, ApplyResponse, Diagnostic, Diagnostics, Value};

/// Whether the node group AWS reports is the one `private`'s instance made
/// (a state without an instance cannot tell: it is taken for ours).
fn is_ours(ng: &Nodegroup, private: &Private) -> bool {
    match &private.instance {
        Some(i) => ng.tags.get(TAG_INSTANCE) == Some(i),
        None => true,
    }
}

pub(super) async fn delete(
    aws: &AwsClients,
    req: &ApplyRequest,
    prior: &NodegroupModel,
) -> ApplyResponse {
    let mut diags = Diagnostics::new();
    let (cluster, name) = (prior.cluster(), prior.nodegroup_name());
    let id = prior.nodegroup_id();
    let mut stop = req.stop.clone();
    // The object's own private state (in a replacement, the old object's,
    // not the one planned for its successor).
    let private = Private::decode(&req.planned_private).of_deleted_object();
    let keep = |diagnostics| ApplyResponse {
        new_state: req.prior_state.clone(),
        private: private.encode(),
        diagnostics,
        ..Default::default()
    };
    let removed = |diagnostics| ApplyResponse {
        new_state: Value::Null,
        diagnostics,
        ..Default::default()
    };
    if !identifiers_possible(cluster, name) {
        diags.push(Diagnostic::warning(
            "Nothing to delete",
            format!("{id:?} is not a valid EKS node group identifier, so no such node group can exist; removing it from state."),
        ));
        return removed(diags);
    }
    if !private.owns() {
        diags.push(Diagnostic::warning(
            "Node group left to its owner",
            format!(
                "EKS Node Group ({id}) was imported into this state, but its takeover was never applied, so it still belongs to the nested_nodegroup that created it (in another state or working directory). Nothing was deleted; it leaves this state only."
            ),
        ));
        return removed(diags);
    }
    // Refresh found it gone: unless it is back (and ours), only the launch
    // template remains to delete.
    let node_group_there = if private.gone {
        match aws.find_nodegroup(cluster, name).await {
            Ok(ng) => is_ours(&ng, &private),
            Err(AwsError::NotFound { .. }) => false,
            Err(e) => {
                diags.push(aws_diag(&format!("reading EKS Node Group ({id})"), &e));
                return keep(diags);
            }
        }
    } else {
        true
    };
    if node_group_there {
        if let Err(e) = delete_node_group(aws, cluster, name).await {
            diags.push(aws_diag(&format!("deleting EKS Node Group ({id})"), &e));
            return keep(diags);
        }
        if let Err(e) = aws
            .wait_nodegroup_deleted(cluster, name, prior.timeout("delete"), &mut stop)
            .await
        {
            diags.push(aws_diag(
                &format!("waiting for EKS Node Group ({id}) delete"),
                &e,
            ));
            return keep(diags);
        }
    }
    // An adopted node group's template was someone else's: it stays.
    if let Some(lt) = prior
        .launch_template_id
        .as_deref()
        .filter(|lt| is_launch_template_id(lt) && !private.adopted)
        && let Err(e) = aws.delete_launch_template(lt).await
    {
        diags.push(aws_diag(
            &format!("deleting EC2 Launch Template ({lt})"),
            &e,
        ));
        return keep(diags);
    }
    // Both are gone: the resource leaves state.
    removed(diags)
}

/// DeleteNodegroup; a node group already being deleted (a destroy cut off
/// by `kill -9`, run again) is waited for like one this call deletes.
async fn delete_node_group(aws: &AwsClients, cluster: &str, name: &str) -> Result<(), AwsError> {
    match aws.delete_nodegroup(cluster, name).await {
        Err(e) if e.code() == Some("ResourceInUseException") => {
            match aws.find_nodegroup(cluster, name).await {
                Ok(ng) if ng.status == "DELETING" => Ok(()),
                Err(AwsError::NotFound { .. }) => Ok(()),
                _ => Err(e),
            }
        }
        other => other,
    }
}
