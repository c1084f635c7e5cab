//! Delete: the node group, then the launch template it owned (an adopted
//! node group's template, which someone else made, is left). A failure
//! keeps the resource in state; identifiers that could name nothing leave
//! state at once (a state must always be destroyable).

use super::ids::{identifiers_possible, is_launch_template_id};
use super::model::NodegroupModel;
use super::online::aws_diag;
use crate::aws::AwsClients;
use crate::framework::{ApplyRequest, ApplyResponse, Diagnostic, Diagnostics, Value};

pub(super) async fn delete(
    aws: &AwsClients,
    req: &ApplyRequest,
    prior: &NodegroupModel,
) -> ApplyResponse {
    let mut diags = Diagnostics::new();
    let (cluster, name) = (prior.cluster(), prior.nodegroup_name());
    let id = prior.nodegroup_id();
    let mut stop = req.stop.clone();
    let keep = |diagnostics| ApplyResponse {
        new_state: req.prior_state.clone(),
        private: req.planned_private.clone(),
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
    if let Err(e) = aws.delete_nodegroup(cluster, name).await {
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
    // An adopted node group's template was someone else's: it stays.
    let adopted = super::instance::Private::decode(&req.planned_private).adopted;
    if let Some(lt) = prior
        .launch_template_id
        .as_deref()
        .filter(|lt| is_launch_template_id(lt) && !adopted)
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
