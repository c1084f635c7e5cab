//! Create: the launch template, then the node group, both owned by one
//! resource instance (its nonce, [`super::instance`]).
//!
//! A node group name that already exists is never silently taken over:
//! - being deleted → wait until it is gone, then create;
//! - left by a create of this working directory and workspace whose answer
//!   never reached Terraform (its in-flight record, [`super::inflight`],
//!   names the instance on its tag) → adopt it and bring it to the plan;
//! - anything else → an error naming the import command.

use super::ids::launch_template_name;
use super::inflight::{Journal, Record};
use super::instance::{Private, TAG_INSTANCE, TAG_NODEGROUP, new_instance, token};
use super::model::NodegroupModel;
use super::online::{all_tags, aws_diag, release_version};
use super::read::{TemplateCheck, finish_apply, fold};
use super::{MANAGED_BY, TAG_MANAGED_BY, TAG_SANDBOX, schema, update};
use crate::aws::eks::{Nodegroup, NodegroupSpec};
use crate::aws::{AwsClients, AwsError};
use crate::config::ProviderRuntime;
use crate::framework::{ApplyRequest, ApplyResponse, Attr, Diagnostic, Diagnostics, Model, Value};

/// An apply that created nothing: no state, only the diagnostics.
pub(super) fn failed(diagnostics: Diagnostics) -> ApplyResponse {
    ApplyResponse {
        new_state: Value::Null,
        diagnostics,
        ..Default::default()
    }
}

/// What every step of one create works with.
struct Create<'a> {
    rt: &'a ProviderRuntime,
    aws: &'a AwsClients,
    req: &'a ApplyRequest,
    /// The resource instance's nonce.
    instance: &'a str,
    /// In-flight records of earlier creates of this node group.
    leftovers: &'a [Record],
}

/// What a create found under the node group's name.
enum Existing {
    /// Ours from an interrupted create: its instance.
    Adopt(Nodegroup, String),
    /// Someone else's (another state, the console, …).
    Foreign(Nodegroup),
}

/// The in-flight bookkeeping of one create: the record is written before
/// anything is created and removed once the answer goes back to Terraform,
/// unless Terraform is gone (then it stays, for the next apply).
struct Flight<'a> {
    journal: Journal,
    record: Record,
    stop: &'a crate::framework::StopToken,
}

impl Flight<'_> {
    fn save(&self) {
        if let Err(e) = self.journal.write(&self.record) {
            tracing::warn!(error = %e, "cannot record the create in flight; an interrupted create will need an import");
        }
    }

    /// The answer is going back to Terraform.
    fn land(&self) {
        if self.stop.is_gone() {
            tracing::warn!(
                node_group = %format!("{}:{}", self.record.cluster, self.record.name),
                "Terraform is gone: the create stays recorded, the next apply adopts it"
            );
        } else {
            self.journal.remove(&self.record.instance);
        }
    }
}

fn stopped(diags: &mut Diagnostics, id: &str, stop: &crate::framework::StopToken) {
    let why = if stop.is_gone() {
        "Terraform is gone"
    } else {
        "Terraform asked the provider to stop"
    };
    diags.push(Diagnostic::error(
        "Create not started",
        format!("{why}, so EKS Node Group ({id}) was not created. Run apply again."),
    ));
}

pub(super) async fn create(
    rt: &ProviderRuntime,
    aws: &AwsClients,
    req: &ApplyRequest,
    planned: NodegroupModel,
) -> ApplyResponse {
    let mut diags = Diagnostics::new();
    let mut state = planned;
    let (cluster, name) = (
        state.cluster().to_string(),
        state.nodegroup_name().to_string(),
    );
    let id = state.nodegroup_id();

    // The instance nonce made at plan; a plan from elsewhere (an older
    // provider, a bridge that drops private state) gets one now.
    let instance = match Private::decode(&req.planned_private).instance {
        Some(i) => i,
        None => match new_instance() {
            Ok(i) => i,
            Err(e) => {
                diags.push(Diagnostic::error(
                    "Cannot create the node group",
                    e.to_string(),
                ));
                return failed(diags);
            }
        },
    };

    // Anything plan could not know yet (the cluster's version) is settled now.
    let version = match state.kubernetes_version.known().cloned() {
        Some(v) => v,
        None => match aws.find_cluster(&cluster).await {
            Ok(c) => c.version,
            Err(e) if e.is_not_found() => {
                diags.push(
                    super::online::cluster_missing(
                        aws,
                        &cluster,
                        "EKS cluster not found",
                        "no node group can be created in it",
                    )
                    .await,
                );
                return failed(diags);
            }
            Err(e) => {
                diags.push(
                    aws_diag("Cannot read the cluster", &e).at(NodegroupModel::cluster_name()),
                );
                return failed(diags);
            }
        },
    };
    state.kubernetes_version = Attr::Known(version.clone());
    if state.user_data.is_unknown() || state.ami_type.is_unknown() {
        match super::derive::derive(
            &state,
            &version,
            super::derive::ReleaseWarnings::Quiet,
            &mut diags,
        ) {
            Some(d) => state.set_derived(&d),
            None => return failed(diags),
        }
    }
    // The family is known now: so is the container volume's device.
    state.plan_device_name();

    let journal = Journal::for_process();
    let leftovers = journal.find(&aws.region, &cluster, &name);
    let mut flight = Flight {
        record: Record {
            region: aws.region.clone(),
            cluster: cluster.clone(),
            name: name.clone(),
            workspace: journal.workspace().to_string(),
            instance: instance.clone(),
            launch_template_id: None,
        },
        journal,
        stop: &req.stop,
    };
    if req.stop.is_stopped() {
        stopped(&mut diags, &id, &req.stop);
        return failed(diags);
    }
    flight.save();
    let c = Create {
        rt,
        aws,
        req,
        instance: &instance,
        leftovers: &leftovers,
    };
    let resp = c.create_owned(state, &mut flight, diags).await;
    flight.land();
    resp
}

impl Create<'_> {
    async fn create_owned(
        &self,
        mut state: NodegroupModel,
        flight: &mut Flight<'_>,
        mut diags: Diagnostics,
    ) -> ApplyResponse {
        let Create {
            rt,
            aws,
            req,
            instance,
            leftovers,
        } = *self;
        let (cluster, name) = (
            state.cluster().to_string(),
            state.nodegroup_name().to_string(),
        );
        let id = state.nodegroup_id();
        let version = state
            .kubernetes_version
            .as_deref()
            .unwrap_or_default()
            .to_string();
        let sandbox = state.sandbox.as_deref().unwrap_or_default().to_string();
        let mut tags = all_tags(rt, &state);

        // 1. The launch template this instance owns.
        let lt_name = launch_template_name(&cluster, &name, instance);
        let content = state.template_content();
        let (lt_id, lt_version) = match aws
            .create_launch_template(
                &lt_name,
                &token(instance, &["launch-template"]),
                &content,
                &tags,
                (TAG_INSTANCE, instance),
                &[(TAG_NODEGROUP, &id)],
            )
            .await
        {
            Ok(x) => x,
            Err(e) => {
                diags.push(aws_diag(
                    &format!("creating EC2 Launch Template ({lt_name})"),
                    &e,
                ));
                return failed(diags);
            }
        };
        flight.record.launch_template_id = Some(lt_id.clone());
        flight.save();
        // 2. The node group.
        // A pinned release_version is the configuration's; else the latest.
        let pinned = state.release_version.known().cloned();
        let resolved = match pinned {
            Some(r) => Ok(Some(r)),
            None => release_version(aws, &state).await,
        };
        let release_version = match resolved {
            Ok(r) => r,
            Err(e) => {
                diags.push(aws_diag("Cannot resolve the node image release", &e));
                discard_template(aws, &lt_id, &mut diags).await;
                return failed(diags);
            }
        };
        tags.insert(TAG_SANDBOX.into(), sandbox);
        tags.insert(TAG_MANAGED_BY.into(), MANAGED_BY.into());
        tags.insert(TAG_INSTANCE.into(), instance.to_string());
        let spec = NodegroupSpec {
            cluster: cluster.clone(),
            name: name.clone(),
            node_role: state
                .node_role_arn
                .as_deref()
                .unwrap_or_default()
                .to_string(),
            subnets: state.subnet_list(),
            instance_types: state.instance_type_list(),
            // Planned with the schema's defaults: known here.
            capacity_type: state
                .capacity_type
                .as_deref()
                .unwrap_or_default()
                .to_string(),
            ami_type: state.ami_type.as_deref().unwrap_or_default().to_string(),
            version: version.clone(),
            release_version,
            // Planned with the schema's default 1/1/1 when left out.
            scaling: state
                .scaling_sizes()
                .or_else(|| NodegroupModel::defaults().ok()?.scaling_sizes())
                .unwrap_or_default(),
            labels: state.label_map(),
            taints: state
                .taint_list()
                .into_iter()
                .map(|mut t| {
                    t.effect = crate::aws::eks::effect_to_api(&t.effect);
                    t
                })
                .collect(),
            tags,
            launch_template_id: lt_id.clone(),
            launch_template_version: lt_version,
            max_unavailable: state.max_unavailable(),
            node_repair: state.node_repair(),
            client_request_token: token(instance, &[&lt_id, "create"]),
        };
        let limit = state.timeout("create");
        let mut stop = req.stop.clone();
        let mut waited_for_delete = false;
        loop {
            // Nothing new is created once Terraform stopped or went away.
            if req.stop.is_stopped() {
                stopped(&mut diags, &id, &req.stop);
                discard_template(aws, &lt_id, &mut diags).await;
                return failed(diags);
            }
            match aws.create_nodegroup(&spec).await {
                Ok(_) => break,
                Err(e) if e.code() == Some("ResourceInUseException") => {
                    let existing = match aws.find_nodegroup(&cluster, &name).await {
                        Ok(ng) => ng,
                        // Gone between the two calls: try again.
                        Err(AwsError::NotFound { .. }) => continue,
                        Err(e) => {
                            diags.push(aws_diag(&format!("creating EKS Node Group ({id})"), &e));
                            discard_template(aws, &lt_id, &mut diags).await;
                            return failed(diags);
                        }
                    };
                    if existing.status == "DELETING" && !waited_for_delete {
                        waited_for_delete = true;
                        tracing::info!(node_group = %id, "a node group of this name is being deleted; waiting for it to go");
                        if let Err(e) = aws
                            .wait_nodegroup_deleted(&cluster, &name, limit, &mut stop)
                            .await
                        {
                            diags.push(aws_diag(
                                &format!("waiting for the old EKS Node Group ({id}) to be deleted"),
                                &e,
                            ));
                            discard_template(aws, &lt_id, &mut diags).await;
                            return failed(diags);
                        }
                        continue;
                    }
                    discard_template(aws, &lt_id, &mut diags).await;
                    return match classify(existing, leftovers) {
                        Existing::Adopt(ng, owner) => self.adopt(state, ng, &owner, diags).await,
                        Existing::Foreign(ng) => {
                            diags.push(foreign(&id, &ng));
                            failed(diags)
                        }
                    };
                }
                // CreateNodegroup's only not-found is its cluster's.
                Err(e) if e.is_not_found() => {
                    diags.push(
                        super::online::cluster_missing(
                            aws,
                            &cluster,
                            "EKS cluster not found",
                            "no node group can be created in it",
                        )
                        .await,
                    );
                    discard_template(aws, &lt_id, &mut diags).await;
                    return failed(diags);
                }
                Err(e) => {
                    diags.push(aws_diag(&format!("creating EKS Node Group ({id})"), &e));
                    discard_template(aws, &lt_id, &mut diags).await;
                    return failed(diags);
                }
            }
        }
        // The name is ours now: templates that creates of it cut off in this
        // working directory left behind (their in-flight records say so) can
        // serve nothing. Without such a record there is nothing to look for
        // (and no call is spent): every path that takes a node group out of
        // state deletes the template it owns.
        if !leftovers.is_empty() {
            sweep_templates(aws, &id, &lt_id).await;
            forget_leftovers(leftovers);
        }

        // 3. The ID is saved before waiting: a failed wait leaves a tainted
        //    resource in state, never an orphan.
        state.id = Attr::Known(id.clone());
        state.launch_template_id = Attr::Known(lt_id.clone());
        state.launch_template_version = Attr::Known(lt_version);
        let private = Private::with_instance(instance.to_string()).encode();
        match aws
            .wait_nodegroup_active(&cluster, &name, limit, &mut stop)
            .await
        {
            // The wait's last DescribeNodegroup is the read after write.
            Ok(active) => {
                let mut resp = finish_apply(rt, aws, state, diags, Some(active)).await;
                resp.private = private;
                resp
            }
            Err(e) => {
                diags.push(aws_diag(
                    &format!("waiting for EKS Node Group ({id}) create"),
                    &e,
                ));
                state.fill_unknowns();
                ApplyResponse {
                    new_state: state.to_value(),
                    private,
                    diagnostics: diags,
                    ..Default::default()
                }
            }
        }
    }

    /// The node group a create of this working directory started and never
    /// reported: wait until it is ACTIVE, then change what differs from the
    /// plan in place, as an update would.
    async fn adopt(
        &self,
        planned: NodegroupModel,
        ng: Nodegroup,
        owner: &str,
        mut diags: Diagnostics,
    ) -> ApplyResponse {
        let Create {
            rt,
            aws,
            req,
            leftovers,
            ..
        } = *self;
        let (cluster, name) = (planned.cluster(), planned.nodegroup_name());
        let id = planned.nodegroup_id();
        tracing::info!(node_group = %id, instance = owner, "adopting the node group an interrupted create of this working directory made");
        let mut stop = req.stop.clone();
        let ng = if ng.status == "ACTIVE" {
            ng
        } else {
            match aws
                .wait_nodegroup_active(cluster, name, planned.timeout("create"), &mut stop)
                .await
            {
                Ok(ng) => ng,
                Err(e) => {
                    diags.push(aws_diag(
                        &format!(
                            "waiting for EKS Node Group ({id}), left by an interrupted create"
                        ),
                        &e,
                    ));
                    return failed(diags);
                }
            }
        };
        if let Some(lt) = &ng.launch_template_id {
            sweep_templates(aws, &id, lt).await;
        }
        forget_leftovers(leftovers);
        // What AWS has, in the shape of the planned state.
        let mut prior = match fold(aws, rt, planned.clone(), &ng, TemplateCheck::Verify(None)).await
        {
            Ok(p) => p,
            Err(e) => {
                diags.push(aws_diag("reading the adopted node group", &e));
                return failed(diags);
            }
        };
        prior.fill_unknowns();
        let (planned_v, prior_v) = (planned.to_value(), prior.to_value());
        let mismatch: Vec<&str> = schema::REPLACE_ON_CHANGE
            .iter()
            .copied()
            .filter(|k| {
                let p = planned_v
                    .attr(k)
                    .filter(|v| v.is_wholly_known() && !v.is_null());
                p.is_some() && p != prior_v.attr(k)
            })
            .collect();
        if !mismatch.is_empty() {
            diags.push(Diagnostic::error(
            "Node group left by an interrupted create differs",
            format!(
                "EKS Node Group {id} was created by an earlier apply of this configuration that was interrupted, but its {} differ from the configuration and cannot change in place. Import it (`terraform import <address> {id}`) and let the next plan replace it, or delete it.",
                mismatch.join(", ")
            ),
        ));
            return failed(diags);
        }
        let private = Private::with_instance(owner.to_string()).encode();
        let adopted = ApplyRequest {
            prior_state: prior_v,
            planned_state: planned_v,
            config: req.config.clone(),
            planned_private: private.clone(),
            planned_identity: None,
            provider: req.provider.clone(),
            stop: req.stop.clone(),
        };
        let mut resp = update::update(rt, aws, &adopted, &prior, planned).await;
        resp.diagnostics.0.splice(0..0, diags.0);
        // The object exists: whatever the update did, it stays in state
        // (tainted on error) rather than being lost.
        if resp.new_state.is_null() {
            resp.new_state = adopted.prior_state;
        }
        resp.private = private;
        resp
    }
}

/// Nothing references the template: remove it rather than orphan it.
async fn discard_template(aws: &AwsClients, lt_id: &str, diags: &mut Diagnostics) {
    if let Err(e) = aws.delete_launch_template(lt_id).await {
        diags.push(aws_diag("deleting the unused launch template", &e));
    }
}

fn classify(ng: Nodegroup, leftovers: &[Record]) -> Existing {
    let tag = ng.tags.get(TAG_INSTANCE).cloned();
    match tag {
        Some(t) if leftovers.iter().any(|r| r.instance == t) => Existing::Adopt(ng, t),
        _ => Existing::Foreign(ng),
    }
}

fn foreign(id: &str, ng: &Nodegroup) -> Diagnostic {
    let (cluster, name) = id.split_once(':').unwrap_or((id, ""));
    let whose = if ng.tags.contains_key(TAG_INSTANCE) {
        "another nested_nodegroup (in another state or working directory) owns it"
    } else if ng.tags.contains_key(TAG_SANDBOX) {
        "it was created by nested_nodegroup but is not in this state"
    } else {
        "it was not created by nested_nodegroup"
    };
    Diagnostic::error(
        "Node group already exists",
        format!(
            "EKS Node Group {cluster}/{name} already exists and this resource did not create it ({whose}); it was left untouched. \
             To manage it here, import it: `terraform import <this resource's address> {id}`, or an import block with `id = \"{id}\"` \
             (remove it from the other state first with a `removed` block or `terraform state rm`). Otherwise choose another `name`."
        ),
    )
    .at(NodegroupModel::name())
}

/// Records of earlier creates are done with.
fn forget_leftovers(leftovers: &[Record]) {
    let journal = Journal::for_process();
    for r in leftovers {
        journal.remove(&r.instance);
    }
}

/// Delete every launch template made for node group `id` except `keep`.
/// Best effort: a leftover template costs nothing but clutter.
async fn sweep_templates(aws: &AwsClients, id: &str, keep: &str) {
    match aws.find_launch_templates_tagged(TAG_NODEGROUP, id).await {
        Ok(ids) => {
            for lt in ids.iter().filter(|lt| *lt != keep) {
                tracing::info!(launch_template = %lt, node_group = %id, "deleting a launch template an earlier node group of this name left");
                if let Err(e) = aws.delete_launch_template(lt).await {
                    tracing::warn!(launch_template = %lt, error = %e, "cannot delete a leftover launch template");
                }
            }
        }
        Err(e) => {
            tracing::warn!(node_group = %id, error = %e, "cannot list leftover launch templates")
        }
    }
}
