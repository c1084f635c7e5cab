//! Plan: validate every input, fill defaults and the cluster's version,
//! derive the decision and user data, and say what changes in place and
//! what replaces the node group.

use super::model::{NodegroupModel, nodegroup_id, scaling_model};
use super::online::{aws_diag, runtime};
use super::{claims, instance, rollout, schema, validate};
use crate::aws::eks::Scaling;
use crate::config::ProviderRuntime;
use crate::framework::model::Field as _;
use crate::framework::{
    Attr, AttributePath, Diagnostic, Diagnostics, Model, PlanRequest, PlanResponse,
};

pub(super) async fn plan(req: PlanRequest) -> PlanResponse {
    let mut diags = Diagnostics::new();
    let rt = runtime(&req.provider);
    let unchanged = |diagnostics| PlanResponse {
        planned_state: req.proposed_new_state.clone(),
        planned_private: req.prior_private.clone(),
        planned_identity: req.prior_identity.clone(),
        diagnostics,
        ..Default::default()
    };

    // Every value to the rules of the API it goes to, before anything else:
    // a plan built on a value AWS would refuse is worse than no plan.
    validate::config(&req.config, &mut diags);
    if let Some(rt) = &rt {
        validate::tag_total(&req.config, &rt.config.default_tags, &mut diags);
    }
    if diags.has_errors() {
        return unchanged(diags);
    }
    // Defaults the schema declares (architecture, capacity_type, scaling, …).
    let models = (
        NodegroupModel::from_value(&req.config),
        NodegroupModel::from_optional(&req.prior_state),
        NodegroupModel::from_state(&req.proposed_new_state),
    );
    let (config, prior, mut planned) = match models {
        (Ok(c), Ok(p), Ok(n)) => (c, p, n),
        (c, p, n) => {
            for e in [c.err(), p.err(), n.err()].into_iter().flatten() {
                diags.extend(e);
            }
            return unchanged(diags);
        }
    };
    let creating = prior.is_none();
    // Settings with defaults that AWS can drift from: the configuration's
    // value or the default, never the drifted one Terraform proposes.
    if let Ok(with_defaults) = NodegroupModel::from_state(&req.config) {
        planned.metadata_options = with_defaults.metadata_options;
    }

    // Keep the family chosen at create when the config leaves it open, so a
    // change of preference never replaces a running node group.
    if let Some(p) = &prior
        && config.ami_family.is_null()
    {
        planned.ami_family = p.ami_family.clone();
    }
    planned.id = match (planned.cluster_name.known(), planned.name.known()) {
        (Some(c), Some(n)) => Attr::Known(nodegroup_id(c, n)),
        _ => Attr::Unknown,
    };

    let version =
        kubernetes_version(&config, prior.as_ref(), &planned, rt.as_deref(), &mut diags).await;
    planned.kubernetes_version = version.clone().map_or(Attr::Unknown, Attr::Known);
    // The release before the decision: it is judged on the image the nodes
    // will run.
    rollout::plan_release(&config, prior.as_ref(), &mut planned);

    let inputs_known = planned.sandbox.wholly_known()
        && planned.name.wholly_known()
        && planned.taints.wholly_known()
        && planned.probe_image.wholly_known()
        && planned.ami_family.wholly_known()
        && planned.architecture.wholly_known()
        && planned.max_user_namespaces.wholly_known()
        && planned.bootstrap_extra_settings.wholly_known()
        && planned.run_as_root.wholly_known()
        && planned.ids_per_pod.wholly_known()
        && planned.probe_namespace.wholly_known();
    match (version.as_deref(), inputs_known) {
        (Some(v), true) => {
            let warnings = if config.release_version.known().is_some() {
                super::derive::ReleaseWarnings::Pinned
            } else {
                super::derive::ReleaseWarnings::Quiet
            };
            if let Some(d) = super::derive::derive(&planned, v, warnings, &mut diags) {
                planned.set_derived(&d);
            }
        }
        (None, true) => {
            super::derive::check_without_version(&planned, &mut diags);
            planned.unknown_derived();
        }
        (_, false) => planned.unknown_derived(),
    }

    planned.plan_device_name();
    match &rt {
        Some(rt) => planned.plan_tags_all(&rt.config.default_tags),
        None => planned.tags_all = Attr::Unknown,
    }
    plan_scaling(&config, prior.as_ref(), &mut planned, &mut diags);
    plan_computed(&config, prior.as_ref(), &mut planned);
    rollout::plan_eks_defaults(&config, creating, &mut planned);
    rollout::check_release(&planned, &mut diags);
    if let Some(p) = &prior {
        rollout::warn_when_nodes_roll(p, &planned, &mut diags);
    }

    // Replacement where EKS cannot change the value in place.
    let mut requires_replace = Vec::new();
    if let Some(p) = &prior {
        // A state written before `ami_variant` existed holds null: the
        // standard image it ran is no change.
        let mut p = p.clone();
        if p.ami_variant.is_null() {
            p.ami_variant = Attr::Known(crate::capability::ImageVariant::Standard.to_string());
        }
        let (before, after) = (p.to_value(), planned.to_value());
        for k in schema::REPLACE_ON_CHANGE {
            let (a, b) = (before.attr(k), after.attr(k));
            if b.is_some_and(|b| b.is_wholly_known()) && a != b {
                requires_replace.push(AttributePath::attr(k));
            }
        }
        // Refresh found the node group gone (its launch template is still
        // this resource's): the apply deletes the template and creates both
        // again. The ARN is the node group's, and it will be a new one.
        if instance::Private::decode(&req.prior_private).gone {
            planned.arn = Attr::Unknown;
            planned.status = Attr::Unknown;
            requires_replace.push(NodegroupModel::arn());
        }
    }

    // One resource instance, one node group: a create gets its own nonce,
    // and a second create of the same node group in this plan is refused.
    // A replacement is planned twice: first with the prior state (here it
    // passes the old object's private state on), then as a create, whose
    // planned private state Terraform hands both the create and the delete
    // of the old object: it carries the old object's for the delete.
    let planned_private = if creating {
        // A fresh create has no prior private state; a replacement forced
        // with `-replace` comes here with the old object's as it is.
        let prior = instance::Private::decode(&req.prior_private);
        let old = match prior.replacing {
            Some(old) => Some(old),
            None if prior != instance::Private::default() => {
                instance::Private::to_be_replaced(prior).replacing
            }
            None => None,
        };
        let new = plan_instance(
            rt.as_deref(),
            planned.cluster_name.as_deref(),
            planned.name.as_deref(),
            old.as_ref().and_then(|o| o.instance.as_deref()),
            &mut diags,
        );
        match old {
            Some(old) => instance::Private {
                replacing: Some(old),
                ..instance::Private::decode(&new)
            }
            .encode(),
            None => new,
        }
    } else if !requires_replace.is_empty() {
        instance::Private::to_be_replaced(instance::Private::decode(&req.prior_private)).encode()
    } else {
        adopted_instance(
            rt.as_deref(),
            (planned.cluster(), planned.nodegroup_name()),
            &req.prior_private,
            &mut diags,
        )
    };

    PlanResponse {
        planned_state: planned.to_value(),
        requires_replace,
        planned_private,
        // Identity values must be known: keep the prior one; apply sets it.
        planned_identity: req.prior_identity.clone(),
        diagnostics: diags,
    }
}

/// The nodes' Kubernetes version: the configuration's (checked against the
/// cluster's), else the prior state's, else the cluster's. `None` while
/// unknown: the configuration's is unknown, `cluster_name` is, or the
/// cluster does not exist yet (created in the same apply).
async fn kubernetes_version(
    config: &NodegroupModel,
    prior: Option<&NodegroupModel>,
    planned: &NodegroupModel,
    rt: Option<&ProviderRuntime>,
    diags: &mut Diagnostics,
) -> Option<String> {
    let prior_version = prior.and_then(|p| p.kubernetes_version.known().cloned());
    let configured = config.kubernetes_version.known().cloned();
    let cluster = planned.cluster_name.known();
    let online = rt.filter(|rt| !rt.config.offline && !rt.config.unknown);
    match (configured, prior_version) {
        (Some(v), prior_version) => {
            if let (Some(c), Some(rt)) = (cluster, online) {
                check_version_against_cluster(rt, c, &v, prior_version, diags).await;
            }
            Some(v)
        }
        (None, Some(p)) => Some(p),
        (None, None) if config.kubernetes_version.is_unknown() => None,
        (None, None) => {
            let (c, rt) = (cluster?, online?);
            match rt.aws().await {
                Ok(aws) => match aws.find_cluster(c).await {
                    Ok(cl) => Some(cl.version),
                    // Created in the same apply (cluster_name =
                    // aws_eks_cluster.this.name): its version is read at
                    // apply, before the node group is created.
                    Err(e) if e.is_not_found() => {
                        tracing::debug!(
                            cluster = c,
                            "cluster not found at plan; its version is read at apply"
                        );
                        if let Some(d) = super::online::cluster_elsewhere(&aws, c).await {
                            diags.push(d);
                        }
                        None
                    }
                    Err(e) => {
                        diags.push(
                            aws_diag("Cannot read the cluster's Kubernetes version", &e)
                                .at(NodegroupModel::cluster_name()),
                        );
                        None
                    }
                },
                Err(e) => {
                    diags.push(aws_diag("Cannot reach AWS", &e));
                    None
                }
            }
        }
    }
}

/// Scaling: the schema's default on create; with manage_desired_size =
/// false (or no desired size configured) the desired size stays whatever
/// AWS (an autoscaler) has.
fn plan_scaling(
    config: &NodegroupModel,
    prior: Option<&NodegroupModel>,
    planned: &mut NodegroupModel,
    diags: &mut Diagnostics,
) {
    let manage_desired = planned.manage_desired_size.known().copied().unwrap_or(true);
    let desired_configured = config
        .scaling
        .known()
        .is_some_and(|sc| !sc.desired_size.is_null());
    let prior_sizes = prior.and_then(NodegroupModel::scaling_sizes);
    // Sizes not yet known stay as planned (the schema's default fills a
    // scaling left out).
    let Some(mut sc) = planned.scaling_sizes() else {
        return;
    };
    if (!manage_desired || !desired_configured)
        && let Some(p) = prior_sizes
    {
        sc.desired_size = p.desired_size;
    }
    let Scaling {
        min_size,
        max_size,
        desired_size,
    } = sc;
    if min_size > max_size || desired_size < min_size || desired_size > max_size {
        diags.error_at(
            NodegroupModel::scaling(),
            "Invalid scaling",
            format!(
                "Need min_size ≤ desired_size ≤ max_size; got {min_size}/{desired_size}/{max_size}."
            ),
        );
    }
    planned.scaling = Attr::Known(scaling_model(sc));
}

/// Values only AWS knows: unknown on create, kept on update; unknown again
/// where the change makes AWS set them anew.
fn plan_computed(
    config: &NodegroupModel,
    prior: Option<&NodegroupModel>,
    planned: &mut NodegroupModel,
) {
    let Some(prior) = prior else {
        planned.arn = Attr::Unknown;
        planned.status = Attr::Unknown;
        planned.launch_template_id = Attr::Unknown;
        planned.launch_template_version = Attr::Unknown;
        if config.instance_types.is_null() {
            planned.instance_types = Attr::Unknown;
        }
        return;
    };
    planned.arn = prior.arn.clone();
    planned.status = prior.status.clone();
    // A launch template deleted outside Terraform is made again: a new ID
    // (unless only the version was gone) and a new version.
    let remade = prior.template_missing();
    planned.launch_template_id = if remade {
        Attr::Unknown
    } else {
        prior.launch_template_id.clone()
    };
    if config.instance_types.is_null() {
        planned.instance_types = prior.instance_types.clone();
    }
    let version_changes = prior.kubernetes_version != planned.kubernetes_version
        || prior.release_version != planned.release_version;
    let template_changes = !planned.template_changes(prior).is_empty() || remade;
    planned.launch_template_version = if template_changes {
        Attr::Unknown
    } else {
        prior.launch_template_version.clone()
    };
    if template_changes || version_changes {
        planned.status = Attr::Unknown;
    }
}

/// The private state of an update: the prior one, but an adopted node
/// group without an instance yet gets one, and so does one an import takes
/// over from another resource instance (its apply tags the group with it,
/// so the ownership checks of read hold from then on). Two resources
/// adopting one node group are refused, as two creating one.
fn adopted_instance(
    rt: Option<&ProviderRuntime>,
    (cluster, name): (&str, &str),
    prior: &[u8],
    diags: &mut Diagnostics,
) -> Vec<u8> {
    let p = instance::Private::decode(prior);
    if let Some(from) = &p.taken_from {
        diags.push(Diagnostic::warning(
            TAKING_OVER,
            format!(
                "EKS Node Group {cluster}/{name} was created by another nested_nodegroup (resource instance {}…, in another state or working directory). This apply makes it and its launch template this resource's (the `nested.dev/instance` tag, shown leaving `tags_all`); from then on the other state's refresh reports that it lost them, and it neither changes nor destroys them. If that state still manages it, release it there first without destroying it: a `removed {{ from = <its address> lifecycle {{ destroy = false }} }}` block applied in that configuration.",
                from.get(..12).unwrap_or(from)
            ),
        ));
    } else if !p.adopted {
        return prior.to_vec();
    } else if p.instance.is_none() {
        diags.push(Diagnostic::warning(
            "Adopting the node group",
            format!(
                "EKS Node Group {cluster}/{name} was not created by nested_nodegroup. This apply takes its launch template over: a new version keeps the rest of the template and adds the bootstrap settings for `sandbox`, which rolls every node; then the node group is tagged as this resource's. Release it first from any other configuration that manages it (a `removed` block with `lifecycle {{ destroy = false }}`)."
            ),
        ));
    }
    if p.instance.is_some() {
        return prior.to_vec();
    }
    let i = match instance::new_instance() {
        Ok(i) => i,
        Err(e) => {
            diags.push(Diagnostic::error("Cannot plan the adoption", e.to_string()));
            return prior.to_vec();
        }
    };
    if let Some(rt) = rt
        && claims::Claims::global()
            .claim(rt.generation, cluster, name, &i)
            .is_err()
    {
        diags.error_at(
            NodegroupModel::name(),
            "Node group planned twice",
            format!(
                "Another nested_nodegroup in this configuration also manages EKS Node Group {cluster}/{name}. One resource instance owns one node group: import it into one resource only."
            ),
        );
    }
    instance::Private {
        instance: Some(i),
        ..p
    }
    .encode()
}

/// The summary of the plan's warning when an import takes a node group over.
pub const TAKING_OVER: &str = "Taking over a node group another resource instance created";

/// A fresh instance nonce for a planned create, claimed for its node group
/// (taking over the claim of the instance it replaces, if any).
fn plan_instance(
    rt: Option<&ProviderRuntime>,
    cluster: Option<&str>,
    name: Option<&str>,
    replaced: Option<&str>,
    diags: &mut Diagnostics,
) -> Vec<u8> {
    let instance = match instance::new_instance() {
        Ok(i) => i,
        Err(e) => {
            diags.push(Diagnostic::error(
                "Cannot plan the node group",
                e.to_string(),
            ));
            return Vec::new();
        }
    };
    if let (Some(rt), Some(c), Some(n)) = (rt, cluster, name)
        && claims::Claims::global()
            .claim_replacing(rt.generation, c, n, &instance, replaced)
            .is_err()
    {
        diags.error_at(
            NodegroupModel::name(),
            "Node group planned twice",
            format!(
                "Another nested_nodegroup in this configuration also creates EKS Node Group {c}/{n} (same cluster_name and name). One resource instance owns one node group: give each a different name (with count or for_each, e.g. name = \"agents-${{count.index}}\")."
            ),
        );
    }
    instance::Private::with_instance(instance).encode()
}

/// EKS creates node groups only at the cluster's version, and never moves
/// one past it or back. Best effort: a cluster that does not exist yet (one
/// apply creating both) or cannot be read is left to apply.
async fn check_version_against_cluster(
    rt: &ProviderRuntime,
    cluster: &str,
    version: &str,
    prior: Option<String>,
    diags: &mut Diagnostics,
) {
    let Ok(wanted) = crate::validate::version::kubernetes_minor(version) else {
        return;
    };
    let Ok(aws) = rt.aws().await else { return };
    let cl = match aws.find_cluster(cluster).await {
        Ok(cl) => cl,
        Err(e) if e.is_not_found() => {
            tracing::debug!(
                cluster,
                "cluster not found at plan; its version is checked at apply"
            );
            if let Some(d) = super::online::cluster_elsewhere(&aws, cluster).await {
                diags.push(d);
            }
            return;
        }
        Err(e) => {
            tracing::debug!(cluster, error = %e, "cluster not readable at plan; its version is checked at apply");
            return;
        }
    };
    let Ok(have) = crate::validate::version::kubernetes_minor(&cl.version) else {
        return;
    };
    let path = NodegroupModel::kubernetes_version();
    match prior.as_deref().map(crate::validate::version::kubernetes_minor) {
        None if wanted != have => diags.error_at(
            path,
            "Node group version differs from the cluster's",
            format!(
                "EKS creates a node group only at its cluster's Kubernetes version: cluster {cluster} runs {have}, and kubernetes_version is {wanted}. Set kubernetes_version = \"{have}\" (or aws_eks_cluster.<name>.version), or upgrade the cluster first."
            ),
        ),
        Some(Ok(old)) if wanted < old => diags.error_at(
            path,
            "Node groups cannot be downgraded",
            format!(
                "The node group runs Kubernetes {old}; EKS cannot move it back to {wanted}. Keep {old} or later, or replace the node group under another name."
            ),
        ),
        Some(Ok(_)) if wanted > have => diags.error_at(
            path,
            "Node group version above the cluster's",
            format!(
                "Cluster {cluster} runs Kubernetes {have}; a node group cannot run a newer version ({wanted}). Upgrade the cluster first, or keep kubernetes_version at {have} or below."
            ),
        ),
        _ => {}
    }
}
