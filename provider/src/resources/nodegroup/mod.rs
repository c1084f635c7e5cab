//! `resource "nested_nodegroup"`: an EKS managed node group and the launch
//! template it owns, shaped by a capability decision.
//!
//! Plan validates every input to the rules of the API it goes to
//! ([`validate`]) and runs the capability engine and the renderers, so every
//! error shows at `terraform plan` at the attribute at fault. One resource
//! instance owns one node group ([`instance`]): its nonce makes the tokens,
//! the launch template name and the ownership tag, and a name that exists
//! and is not ours is an error, never an adoption. Apply returns the ID even
//! when the wait fails (the object is tainted, never lost), and reads back
//! after every write.

pub mod claims;
mod create;
pub mod inflight;
pub mod instance;
pub mod schema;
mod update;
pub mod validate;
mod values;

use values::*;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::aws::ec2::TemplateContent;
use crate::aws::eks::{Nodegroup, NodegroupSpec, Scaling, Taint};
use crate::aws::{AwsClients, AwsError};
use crate::capability::{AmiFamily, Architecture, CapabilityData, Decision, Field, Input, decide};
use crate::config::ProviderRuntime;
use crate::framework::{
    ApplyRequest, ApplyResponse, AttributePath, Diagnostic, Diagnostics, ImportRequest,
    ImportResponse, ImportedResource, PlanRequest, PlanResponse, ProviderData, ReadRequest,
    ReadResponse, Resource, Schema, Value,
};
use crate::outputs;
use crate::render::UserDataOptions;
use crate::render::probe;

/// Tags the provider keeps on what it creates; not shown in `tags`.
pub const TAG_SANDBOX: &str = "nested.dev/sandbox";
pub const TAG_MANAGED_BY: &str = "nested.dev/managed-by";
const MANAGED_BY: &str = "terraform-provider-nested";

pub struct NodegroupResource;

/// How long `op` may wait: the configured timeout (validated at plan), else
/// the default.
fn timeout(state: &Value, op: &str) -> Duration {
    state
        .attr("timeouts")
        .and_then(|t| s(t, op))
        .and_then(|t| crate::validate::duration::parse(&t).ok())
        .or_else(|| crate::validate::duration::parse(schema::DEFAULT_TIMEOUT).ok())
        .unwrap_or(Duration::from_secs(3600))
}

fn runtime(p: &Option<ProviderData>) -> Option<Arc<ProviderRuntime>> {
    p.clone().and_then(|d| d.downcast::<ProviderRuntime>().ok())
}

/// The latest node image release of the family for `version`, where the
/// family publishes one (else EKS picks).
async fn release_version(
    aws: &AwsClients,
    family: &str,
    version: &str,
    arch: &str,
) -> Result<Option<String>, AwsError> {
    let parameter = AmiFamily::parse(family).and_then(|f| {
        crate::family::of(f)
            .release_parameter(version, Architecture::parse(arch).unwrap_or_default())
    });
    match parameter {
        Some(name) => aws.find_release_version(&name).await.map(Some),
        None => Ok(None),
    }
}

fn aws_diag(summary: &str, e: &AwsError) -> Diagnostic {
    Diagnostic::error(summary, e.to_string())
}

/// The resource's attribute for a finding: the data source's inputs that
/// the resource has map to themselves; the platform is fixed (`eks`), so
/// its findings belong to `sandbox`.
fn field_path(f: Field) -> AttributePath {
    match f {
        Field::AmiFamily => AttributePath::attr("ami_family"),
        Field::KubernetesVersion => AttributePath::attr("kubernetes_version"),
        Field::Architecture => AttributePath::attr("architecture"),
        Field::RunAsRoot => AttributePath::attr("run_as_root"),
        Field::IdsPerPod => AttributePath::attr("ids_per_pod"),
        _ => AttributePath::attr("sandbox"),
    }
}

// --------------------------------------------------------------- decisions

/// The capability decision and rendered user data for a (planned) state.
struct Derived {
    decision: Decision,
    user_data: Option<String>,
}

fn derive(state: &Value, kubernetes_version: &str, diags: &mut Diagnostics) -> Option<Derived> {
    let data = match CapabilityData::embedded() {
        Ok(d) => d,
        Err(e) => {
            diags.push(Diagnostic::error(
                "Provider capability data is invalid",
                e.to_string(),
            ));
            return None;
        }
    };
    let mut input = Input::new(&s(state, "sandbox").unwrap_or_default(), "eks");
    input.ami_family = s(state, "ami_family");
    input.architecture = s(state, "architecture")
        .and_then(|a| Architecture::parse(&a))
        .unwrap_or_default();
    match crate::validate::version::kubernetes_minor(kubernetes_version) {
        Ok(v) => input.kubernetes_version = Some(v),
        Err(e) => {
            diags.error_at(
                AttributePath::attr("kubernetes_version"),
                "Invalid kubernetes_version",
                format!("{e}."),
            );
            return None;
        }
    }
    // Validated at plan (validate::config): whole numbers in range.
    if let Some(n) = int(state, "max_user_namespaces").and_then(|n| u64::try_from(n).ok()) {
        input.max_user_namespaces = n;
    }
    input.ids_per_pod = int(state, "ids_per_pod").and_then(|n| u64::try_from(n).ok());
    input.run_as_root = state
        .attr("run_as_root")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let decision = match decide(data, &input) {
        Ok(d) => d,
        Err(e) => {
            diags.push(Diagnostic::error(
                "Provider capability data is invalid",
                e.to_string(),
            ));
            return None;
        }
    };
    outputs::findings_to_diagnostics(&decision, field_path, diags);
    if decision.has_errors() {
        return None;
    }
    let extra = s(state, "bootstrap_extra_settings");
    let opts = UserDataOptions {
        user: extra.as_deref(),
        custom_ami: None,
    };
    match crate::family::user_data(data, &decision, &opts) {
        Ok(user_data) => {
            if let Some(Err(e)) = user_data.as_deref().map(validate::user_data_size) {
                diags.error_at(
                    AttributePath::attr("bootstrap_extra_settings"),
                    "User data too large",
                    e,
                );
                return None;
            }
            Some(Derived {
                decision,
                user_data,
            })
        }
        Err(e) => {
            diags.error_at(
                AttributePath::attr("bootstrap_extra_settings"),
                "Bootstrap settings cannot be used",
                e.to_string(),
            );
            None
        }
    }
}

/// Write the decision's outputs into a state value.
fn set_derived(state: &mut Value, d: &Derived) {
    let dec = &d.decision;
    state.set_attr("ami_family", dec.ami_family.map(|f| f.as_str()).into());
    state.set_attr(
        "kernel_version",
        dec.kernel_version.map(|v| v.to_string()).into(),
    );
    state.set_attr("user_data", d.user_data.clone().into());
    outputs::write_pod_outputs(state, dec);
    let manifest = probe_manifest(state, dec);
    state.set_attr("probe_manifest", manifest);
}

/// The probe Job for this pool: scheduled by EKS's own node group label,
/// tolerating the pool's taints. Unknown while those are.
fn probe_manifest(state: &Value, dec: &Decision) -> Value {
    if ["name", "taints", "probe_image", "probe_namespace"]
        .iter()
        .any(|k| state.attr(k).is_some_and(|v| !v.is_wholly_known()))
    {
        return Value::unknown();
    }
    let name = s(state, "name").unwrap_or_default();
    let sandbox = s(state, "sandbox").unwrap_or_default();
    let (image, namespace) = (s(state, "probe_image"), s(state, "probe_namespace"));
    let placement = outputs::ProbePlacement {
        name: &name,
        sandbox: &sandbox,
        image: image.as_deref(),
        namespace: namespace.as_deref(),
        node_selector: BTreeMap::from([(EKS_NODEGROUP_LABEL.to_string(), name.clone())]),
        tolerations: taints_of(state)
            .into_iter()
            .map(|t| probe::Toleration {
                key: t.key,
                value: (!t.value.is_empty()).then_some(t.value),
                effect: t.effect,
            })
            .collect(),
    };
    Value::string(outputs::probe_manifest(dec, &placement))
}

/// The label EKS puts on every node of a managed node group.
const EKS_NODEGROUP_LABEL: &str = "eks.amazonaws.com/nodegroup";

const DERIVED: [&str; 13] = [
    "ami_family",
    "ami_type",
    "kernel_version",
    "kernel_floor",
    "user_data",
    "pod_security_context",
    "container_security_context",
    "runtime_args",
    "warnings",
    "image_needs",
    "pod_security_level",
    "pod_spec",
    "probe_manifest",
];

// --------------------------------------------------------------------- plan

async fn plan(req: PlanRequest) -> PlanResponse {
    let mut diags = Diagnostics::new();
    let prior = &req.prior_state;
    let creating = prior.is_null();
    let mut planned = req.proposed_new_state.clone();
    let rt = runtime(&req.provider);

    // Every value to the rules of the API it goes to, before anything else:
    // a plan built on a value AWS would refuse is worse than no plan.
    validate::config(&req.config, &mut diags);
    if let Some(rt) = &rt {
        validate::tag_total(&req.config, &rt.config.default_tags, &mut diags);
    }
    if diags.has_errors() {
        return PlanResponse {
            planned_state: planned,
            planned_private: req.prior_private,
            planned_identity: req.prior_identity,
            diagnostics: diags,
            ..Default::default()
        };
    }

    // Defaults the schema declares (architecture, capacity_type, …).
    crate::framework::schema::apply_defaults(&schema::schema().block.attributes, &mut planned);

    // Keep the family chosen at create when the config leaves it open, so a
    // change of preference never replaces a running node group.
    if req.config.attr("ami_family").is_none_or(Value::is_null) && !creating {
        planned.set_attr(
            "ami_family",
            prior.attr("ami_family").cloned().unwrap_or_default(),
        );
    }

    let cluster = s(&planned, "cluster_name");
    let name = s(&planned, "name");
    planned.set_attr(
        "id",
        match (&cluster, &name) {
            (Some(c), Some(n)) => Value::string(format!("{c}:{n}")),
            _ => Value::unknown(),
        },
    );

    // Kubernetes version: config, else prior, else the cluster's.
    let configured_version = s(&req.config, "kubernetes_version");
    let mut version = configured_version
        .clone()
        .or_else(|| s(prior, "kubernetes_version"));
    if version.is_none()
        && !is_unknown(&req.config, "kubernetes_version")
        && let (Some(c), Some(rt)) = (&cluster, &rt)
        && !rt.config.offline
        && !rt.config.unknown
    {
        match rt.aws().await {
            Ok(aws) => match aws.find_cluster(c).await {
                Ok(cl) => version = Some(cl.version),
                Err(e) => diags.push(
                    aws_diag("Cannot read the cluster's Kubernetes version", &e)
                        .at(AttributePath::attr("cluster_name")),
                ),
            },
            Err(e) => diags.push(aws_diag("Cannot reach AWS", &e)),
        }
    } else if let (Some(v), Some(c), Some(rt)) = (&configured_version, &cluster, &rt)
        && !rt.config.offline
        && !rt.config.unknown
    {
        check_version_against_cluster(rt, c, v, s(prior, "kubernetes_version"), &mut diags).await;
    }
    planned.set_attr(
        "kubernetes_version",
        version.clone().map_or(Value::unknown(), Value::from),
    );

    let inputs_known = [
        "sandbox",
        "name",
        "taints",
        "probe_image",
        "ami_family",
        "architecture",
        "max_user_namespaces",
        "bootstrap_extra_settings",
        "run_as_root",
        "ids_per_pod",
        "probe_namespace",
    ]
    .iter()
    .all(|k| !is_unknown(&planned, k))
        && version.is_some();
    if inputs_known {
        if let Some(d) = derive(&planned, version.as_deref().unwrap_or_default(), &mut diags) {
            set_derived(&mut planned, &d);
        }
    } else {
        for k in DERIVED {
            if k != "ami_family" || planned.attr("ami_family").is_none_or(Value::is_null) {
                planned.set_attr(k, Value::unknown());
            }
        }
    }

    // Scaling: default on create; with manage_desired_size = false the
    // desired size stays whatever AWS (an autoscaler) has.
    let manage_desired = planned
        .attr("manage_desired_size")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let mut scaling = scaling_of(&planned).or_else(|| scaling_of(prior));
    if scaling.is_none() && !is_unknown(&planned, "scaling") {
        scaling = Some(Scaling {
            min_size: 1,
            max_size: 1,
            desired_size: 1,
        });
    }
    let desired_configured = req
        .config
        .attr("scaling")
        .and_then(|sc| sc.attr("desired_size"))
        .is_some_and(|d| !d.is_null());
    if let Some(mut sc) = scaling {
        if (!manage_desired || !desired_configured)
            && let Some(p) = scaling_of(prior)
        {
            sc.desired_size = p.desired_size;
        }
        if sc.min_size > sc.max_size
            || sc.desired_size < sc.min_size
            || sc.desired_size > sc.max_size
        {
            diags.error_at(
                AttributePath::attr("scaling"),
                "Invalid scaling",
                format!(
                    "Need min_size ≤ desired_size ≤ max_size; got {}/{}/{}.",
                    sc.min_size, sc.desired_size, sc.max_size
                ),
            );
        }
        planned.set_attr("scaling", scaling_value(sc));
    }

    // Values only AWS knows: unknown on create, kept on update.
    let keep = |planned: &mut Value, k: &str| {
        let v = if creating {
            Value::unknown()
        } else {
            prior.attr(k).cloned().unwrap_or_default()
        };
        planned.set_attr(k, v);
    };
    for k in ["arn", "status", "launch_template_id"] {
        keep(&mut planned, k);
    }
    if req.config.attr("instance_types").is_none_or(Value::is_null) {
        keep(&mut planned, "instance_types");
    }
    let version_changes = !creating && s(prior, "kubernetes_version") != version;
    if creating || version_changes {
        planned.set_attr("release_version", Value::unknown());
    } else {
        keep(&mut planned, "release_version");
    }
    let template_changes = !creating && prior.attr("user_data") != planned.attr("user_data");
    if creating || template_changes {
        planned.set_attr("launch_template_version", Value::unknown());
    } else {
        keep(&mut planned, "launch_template_version");
    }
    if !creating && (template_changes || version_changes) {
        planned.set_attr("status", Value::unknown());
    }

    // Replacement where EKS cannot change the value in place.
    let mut requires_replace = Vec::new();
    if !creating {
        for k in schema::REPLACE_ON_CHANGE {
            let (a, b) = (prior.attr(k), planned.attr(k));
            if b.is_some_and(|b| b.is_wholly_known()) && a != b {
                requires_replace.push(AttributePath::attr(k));
            }
        }
    }

    // One resource instance, one node group: a create gets its own nonce,
    // and a second create of the same node group in this plan is refused.
    let planned_private = if creating {
        plan_instance(
            rt.as_deref(),
            cluster.as_deref(),
            name.as_deref(),
            &mut diags,
        )
    } else {
        req.prior_private
    };

    // Identity values must be known: keep the prior one; apply sets it.
    let planned_identity = req.prior_identity.clone();
    PlanResponse {
        planned_state: planned,
        requires_replace,
        planned_private,
        planned_identity,
        diagnostics: diags,
    }
}

/// A fresh instance nonce for a planned create, claimed for its node group.
fn plan_instance(
    rt: Option<&ProviderRuntime>,
    cluster: Option<&str>,
    name: Option<&str>,
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
            .claim(rt.generation, c, n, &instance)
            .is_err()
    {
        diags.error_at(
            AttributePath::attr("name"),
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
        Err(e) => {
            tracing::debug!(cluster, error = %e, "cluster not readable at plan; its version is checked at apply");
            return;
        }
    };
    let Ok(have) = crate::validate::version::kubernetes_minor(&cl.version) else {
        return;
    };
    let path = AttributePath::attr("kubernetes_version");
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

// -------------------------------------------------------------------- apply

fn all_tags(rt: &ProviderRuntime, state: &Value) -> BTreeMap<String, String> {
    let mut tags = rt.config.default_tags.clone();
    tags.extend(string_map(state, "tags"));
    tags
}

/// The launch template's name: unique per resource instance (the nonce's
/// first 12 digits end it), so two instances never meet on one template.
/// Truncated to EC2's limit, keeping the suffix.
fn launch_template_name(cluster: &str, name: &str, instance: &str) -> String {
    let suffix = format!("-{}", &instance[..instance.len().min(12)]);
    let max = crate::validate::Limits::embedded()
        .map_or(128, |l| l.ec2.launch_template_name.max as usize);
    let head: String = format!("nested-{cluster}-{name}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "()./_-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(max.saturating_sub(suffix.len()))
        .collect();
    head + &suffix
}

/// The resource identity. The account comes from the node group's ARN in
/// `state` when there is one (no call), else from STS once per process.
async fn identity(aws: &AwsClients, state: &Value) -> Option<Value> {
    let cluster = s(state, "cluster_name").unwrap_or_default();
    let name = s(state, "name").unwrap_or_default();
    let account = match s(state, "arn")
        .as_deref()
        .and_then(AwsClients::account_from_arn)
    {
        Some(a) => a.to_string(),
        None => aws.account_id().await.ok()?,
    };
    Some(Value::object([
        ("account_id", Value::string(account)),
        ("region", Value::string(&aws.region)),
        ("cluster_name", Value::string(cluster)),
        ("name", Value::string(name)),
    ]))
}

/// Read the node group and fold it into `state` (refresh, import).
async fn refresh(aws: &AwsClients, rt: &ProviderRuntime, state: Value) -> Result<Value, AwsError> {
    let cluster = s(&state, "cluster_name").unwrap_or_default();
    let name = s(&state, "name").unwrap_or_default();
    let ng = aws.find_nodegroup(&cluster, &name).await?;
    fold(aws, rt, state, &ng).await
}

/// Fold what AWS reports for the node group into `state`.
async fn fold(
    aws: &AwsClients,
    rt: &ProviderRuntime,
    mut state: Value,
    ng: &Nodegroup,
) -> Result<Value, AwsError> {
    let cluster = s(&state, "cluster_name").unwrap_or_default();
    let name = s(&state, "name").unwrap_or_default();
    state.set_attr("id", Value::string(format!("{cluster}:{name}")));
    state.set_attr("arn", Value::string(&ng.arn));
    state.set_attr("status", Value::string(&ng.status));
    state.set_attr("ami_type", Value::string(&ng.ami_type));
    state.set_attr("kubernetes_version", Value::string(&ng.version));
    state.set_attr("release_version", Value::string(&ng.release_version));
    state.set_attr("node_role_arn", Value::string(&ng.node_role));
    state.set_attr("capacity_type", Value::string(&ng.capacity_type));
    state.set_attr("instance_types", list_value(&ng.instance_types));
    let mut subnets = ng.subnets.clone();
    subnets.sort();
    state.set_attr(
        "subnet_ids",
        Value::Set(subnets.iter().map(Value::string).collect()),
    );
    state.set_attr("scaling", scaling_value(ng.scaling));
    let labels_null = state.attr("labels").is_none_or(Value::is_null);
    state.set_attr(
        "labels",
        if ng.labels.is_empty() && labels_null {
            Value::Null
        } else {
            map_value(&ng.labels)
        },
    );
    let taints_null = state.attr("taints").is_none_or(Value::is_null);
    state.set_attr(
        "taints",
        if ng.taints.is_empty() && taints_null {
            Value::Null
        } else {
            taints_value(&ng.taints)
        },
    );
    // `tags` shows the resource's own tags: not the provider's bookkeeping,
    // not default_tags that AWS reports unchanged.
    let configured = string_map(&state, "tags");
    let own: BTreeMap<String, String> = ng
        .tags
        .iter()
        .filter(|(k, v)| {
            !k.starts_with("nested.dev/")
                && (configured.contains_key(*k) || rt.config.default_tags.get(*k) != Some(*v))
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if own.is_empty() && state.attr("tags").is_none_or(Value::is_null) {
        state.set_attr("tags", Value::Null);
    } else {
        state.set_attr("tags", map_value(&own));
    }
    if let (Some(id), Some(ver)) = (&ng.launch_template_id, &ng.launch_template_version) {
        let version = ver.parse::<i64>().ok();
        // A launch template version never changes once made: when the node
        // group still uses the one in state, its user data is known.
        let same_version = s(&state, "launch_template_id").as_deref() == Some(id.as_str())
            && state
                .attr("launch_template_version")
                .and_then(Value::as_number)
                .and_then(crate::framework::value::Number::as_i64)
                == version
            && state.attr("user_data").is_some_and(Value::is_wholly_known);
        state.set_attr("launch_template_id", Value::string(id));
        state.set_attr(
            "launch_template_version",
            version.map_or(Value::Null, Value::int),
        );
        if !same_version {
            let content = aws.find_launch_template_version(id, ver).await?;
            state.set_attr("user_data", content.user_data.into());
        }
    }
    Ok(state)
}

/// Read after write: fold the node group as AWS now reports it (`read`, or
/// a fresh DescribeNodegroup) into the applied state.
async fn finish_apply(
    rt: &ProviderRuntime,
    aws: &AwsClients,
    state: Value,
    mut diags: Diagnostics,
    read: Option<Nodegroup>,
) -> ApplyResponse {
    let derived: Vec<(&str, Value)> = DERIVED
        .iter()
        .filter(|k| **k != "user_data")
        .map(|k| (*k, state.attr(k).cloned().unwrap_or_default()))
        .collect();
    let fresh = match read {
        Some(ng) => fold(aws, rt, state.clone(), &ng).await,
        None => refresh(aws, rt, state.clone()).await,
    };
    match fresh {
        Ok(mut fresh) => {
            for (k, v) in derived {
                fresh.set_attr(k, v);
            }
            let new_identity = identity(aws, &fresh).await;
            ApplyResponse {
                new_state: fresh,
                new_identity,
                diagnostics: diags,
                ..Default::default()
            }
        }
        Err(e) => {
            diags.push(aws_diag("reading the node group after the change", &e));
            let mut state = state;
            fill_unknowns(&mut state);
            ApplyResponse {
                new_state: state,
                diagnostics: diags,
                ..Default::default()
            }
        }
    }
}

async fn delete(aws: &AwsClients, req: &ApplyRequest) -> ApplyResponse {
    let mut diags = Diagnostics::new();
    let prior = &req.prior_state;
    let cluster = s(prior, "cluster_name").unwrap_or_default();
    let name = s(prior, "name").unwrap_or_default();
    let id = format!("{cluster}:{name}");
    let mut stop = req.stop.clone();
    let keep = |diags| ApplyResponse {
        new_state: prior.clone(),
        private: req.planned_private.clone(),
        diagnostics: diags,
        ..Default::default()
    };
    // A state must always be destroyable: identifiers that AWS could never
    // have (a state edited by hand, an older provider's bug) name nothing.
    if !identifiers_possible(&cluster, &name) {
        diags.push(Diagnostic::warning(
            "Nothing to delete",
            format!("{id:?} is not a valid EKS node group identifier, so no such node group can exist; removing it from state."),
        ));
        return ApplyResponse {
            new_state: Value::Null,
            diagnostics: diags,
            ..Default::default()
        };
    }
    if let Err(e) = aws.delete_nodegroup(&cluster, &name).await {
        diags.push(aws_diag(&format!("deleting EKS Node Group ({id})"), &e));
        return keep(diags);
    }
    if let Err(e) = aws
        .wait_nodegroup_deleted(&cluster, &name, timeout(prior, "delete"), &mut stop)
        .await
    {
        diags.push(aws_diag(
            &format!("waiting for EKS Node Group ({id}) delete"),
            &e,
        ));
        return keep(diags);
    }
    if let Some(lt) = s(prior, "launch_template_id").filter(|lt| is_launch_template_id(lt))
        && let Err(e) = aws.delete_launch_template(&lt).await
    {
        diags.push(aws_diag(
            &format!("deleting EC2 Launch Template ({lt})"),
            &e,
        ));
        return keep(diags);
    }
    // Both are gone: the resource leaves state.
    ApplyResponse {
        new_state: Value::Null,
        diagnostics: diags,
        ..Default::default()
    }
}

/// Whether a node group with these identifiers could exist in EKS.
fn identifiers_possible(cluster: &str, name: &str) -> bool {
    crate::validate::Limits::embedded().is_ok_and(|l| {
        crate::validate::aws::cluster_name(cluster, l).is_ok()
            && crate::validate::aws::nodegroup_name(name, l).is_ok()
    })
}

/// `lt-` and hexadecimal digits: anything else was never a template.
fn is_launch_template_id(id: &str) -> bool {
    id.strip_prefix("lt-")
        .is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The provider runtime and its AWS clients, or an error diagnostic
/// (offline mode, or configuration that does not resolve).
async fn online(
    p: &Option<ProviderData>,
    action: &str,
) -> Result<(Arc<ProviderRuntime>, Arc<AwsClients>), Diagnostic> {
    let rt = runtime(p).ok_or_else(|| {
        Diagnostic::error(
            "Provider not configured",
            "The provider was not configured; this is a bug.",
        )
    })?;
    if rt.config.offline {
        return Err(Diagnostic::error(
            "The provider is offline",
            format!(
                "provider \"nested\" has offline = true, which plans without AWS but cannot {action} a node group. Set offline = false (and AWS credentials) to apply."
            ),
        ));
    }
    let aws = rt
        .aws()
        .await
        .map_err(|e| aws_diag("Cannot reach AWS", &e))?;
    Ok((rt, aws))
}

#[async_trait]
impl Resource for NodegroupResource {
    fn type_name(&self) -> &'static str {
        "nested_nodegroup"
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn identity_schema(&self) -> Option<Schema> {
        Some(schema::identity_schema())
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        validate::config(config, &mut diags);
        diags
    }

    async fn plan(&self, req: PlanRequest) -> PlanResponse {
        plan(req).await
    }

    async fn apply(&self, req: ApplyRequest) -> ApplyResponse {
        let action = if req.planned_state.is_null() {
            "delete"
        } else if req.prior_state.is_null() {
            "create"
        } else {
            "update"
        };
        let (rt, aws) = match online(&req.provider, action).await {
            Ok(x) => x,
            Err(d) => {
                return ApplyResponse {
                    new_state: req.prior_state.clone(),
                    diagnostics: d.into(),
                    ..Default::default()
                };
            }
        };
        match action {
            "delete" => delete(&aws, &req).await,
            "create" => create::create(&rt, &aws, &req).await,
            _ => {
                // The object keeps its instance in private state.
                let mut resp = update::update(&rt, &aws, &req).await;
                resp.private = req.planned_private.clone();
                resp
            }
        }
    }

    async fn read(&self, req: ReadRequest) -> ReadResponse {
        let (rt, aws) = match online(&req.provider, "read").await {
            Ok(x) => x,
            // Offline: keep the state as it is.
            Err(_) => {
                return ReadResponse {
                    new_state: req.current_state,
                    private: req.private,
                    new_identity: req.current_identity,
                    ..Default::default()
                };
            }
        };
        let cluster = s(&req.current_state, "cluster_name").unwrap_or_default();
        let name = s(&req.current_state, "name").unwrap_or_default();
        let gone = |summary: &str, detail: String| {
            let mut diagnostics = Diagnostics::new();
            diagnostics.push(Diagnostic::warning(summary, detail));
            ReadResponse {
                new_state: Value::Null,
                diagnostics,
                ..Default::default()
            }
        };
        if !identifiers_possible(&cluster, &name) {
            return gone(
                "Node group cannot exist",
                format!(
                    "{:?} is not a valid EKS node group identifier, so no such node group can exist; removing it from state.",
                    format!("{cluster}:{name}")
                ),
            );
        }
        let found = aws.find_nodegroup(&cluster, &name).await;
        // Still the object this instance created? A node group of the same
        // name made by someone else (after ours was deleted out of band)
        // is not ours to manage, update or delete.
        if let (Ok(ng), Some(ours)) = (&found, instance::Private::decode(&req.private).instance)
            && let Some(tag) = ng.tags.get(instance::TAG_INSTANCE)
            && *tag != ours
        {
            return gone(
                "Node group replaced outside this configuration",
                format!(
                    "EKS Node Group ({cluster}:{name}) exists, but it is not the one this resource created (it belongs to another resource instance); removing it from state and leaving it untouched. The next plan creates this resource again, which fails until the name is free or you import the group."
                ),
            );
        }
        let refreshed = match found {
            Ok(ng) => fold(&aws, &rt, req.current_state.clone(), &ng).await,
            Err(e) => Err(e),
        };
        match refreshed {
            Ok(state) => ReadResponse {
                new_identity: identity(&aws, &state).await,
                new_state: state,
                private: req.private,
                ..Default::default()
            },
            Err(AwsError::NotFound { .. }) => gone(
                "Node group no longer exists",
                format!(
                    "EKS Node Group ({cluster}:{name}) was not found; removing it from state so the next apply recreates it."
                ),
            ),
            Err(e) => ReadResponse {
                new_state: req.current_state,
                private: req.private,
                diagnostics: aws_diag(&format!("reading EKS Node Group ({cluster}:{name})"), &e)
                    .into(),
                ..Default::default()
            },
        }
    }

    async fn import(&self, req: ImportRequest) -> ImportResponse {
        let fail = |d: Diagnostic| ImportResponse {
            diagnostics: d.into(),
            ..Default::default()
        };
        let (cluster, name) = if req.id.is_empty() {
            match &req.identity {
                Some(i) => (
                    s(i, "cluster_name").unwrap_or_default(),
                    s(i, "name").unwrap_or_default(),
                ),
                None => {
                    return fail(Diagnostic::error(
                        "Nothing to import",
                        "Give an ID `cluster_name:name` or an identity.",
                    ));
                }
            }
        } else {
            match req.id.split_once(':') {
                Some((c, n)) if !c.is_empty() && !n.is_empty() && !n.contains(':') => {
                    (c.to_string(), n.to_string())
                }
                _ => {
                    return fail(Diagnostic::error(
                        "Invalid import ID",
                        format!(
                            "{:?} is not `cluster_name:name`, e.g. `prod:agents`.",
                            req.id
                        ),
                    ));
                }
            }
        };
        let (rt, aws) = match online(&req.provider, "import").await {
            Ok(x) => x,
            Err(d) => return fail(d),
        };
        // An identity naming another region than the provider's would
        // import a same-named node group from the wrong place.
        if let Some(region) = req.identity.as_ref().and_then(|i| s(i, "region"))
            && region != aws.region
        {
            return fail(Diagnostic::error(
                "Identity is for another region",
                format!(
                    "The identity names region {region:?}, but this provider works in {:?}. \
                     Import with a provider configured for {region:?} (an aliased provider \
                     block and `provider` in the import block).",
                    aws.region
                ),
            ));
        }
        let ng = match aws.find_nodegroup(&cluster, &name).await {
            Ok(ng) => ng,
            Err(e) => {
                return fail(aws_diag(
                    &format!("importing EKS Node Group ({cluster}:{name})"),
                    &e,
                ));
            }
        };
        if let Some(wanted) = req.identity.as_ref().and_then(|i| s(i, "account_id"))
            && let Some(found) = AwsClients::account_from_arn(&ng.arn)
            && wanted != found
        {
            return fail(Diagnostic::error(
                "Identity is for another account",
                format!(
                    "The identity names account {wanted}, but the credentials reach account \
                     {found}. Import with credentials for account {wanted}."
                ),
            ));
        }
        let Some(sandbox) = ng.tags.get(TAG_SANDBOX).cloned() else {
            return fail(Diagnostic::error(
                "Not a nested node group",
                format!(
                    "EKS Node Group ({cluster}:{name}) has no {TAG_SANDBOX} tag: only node groups created by nested_nodegroup can be imported."
                ),
            ));
        };
        let known = CapabilityData::embedded()
            .ok()
            .and_then(|data| crate::family::from_ami_type(data, &ng.ami_type));
        let Some((family, arch)) = known else {
            return fail(Diagnostic::error(
                "Unknown AMI type",
                format!(
                    "EKS Node Group ({cluster}:{name}) has amiType {:?}, which is not one nested_nodegroup creates ({}).",
                    ng.ami_type,
                    crate::capability::AmiFamily::NAMES.join(", ")
                ),
            ));
        };
        let (family, arch) = (family.as_str(), arch.as_str());
        let mut state = Value::object(
            schema::schema()
                .block
                .attributes
                .iter()
                .map(|a| (a.name.clone(), Value::Null)),
        );
        for (k, v) in [
            ("cluster_name", Value::string(&cluster)),
            ("name", Value::string(&name)),
            ("sandbox", Value::string(sandbox)),
            ("ami_family", Value::string(family)),
            ("architecture", Value::string(arch)),
            ("manage_desired_size", Value::Bool(true)),
            ("max_user_namespaces", Value::int(65536)),
            ("run_as_root", Value::Bool(false)),
        ] {
            state.set_attr(k, v);
        }
        let state = match fold(&aws, &rt, state, &ng).await {
            Ok(s) => s,
            Err(e) => return fail(aws_diag("reading the imported node group", &e)),
        };
        // The import takes over the instance that created the node group.
        let private = ng
            .tags
            .get(instance::TAG_INSTANCE)
            .map(|i| instance::Private::with_instance(i.clone()))
            .unwrap_or_default()
            .encode();
        // Outputs the engine derives follow from the imported inputs.
        let mut state = state;
        let mut diags = Diagnostics::new();
        let version = s(&state, "kubernetes_version").unwrap_or_default();
        let imported_user_data = state.attr("user_data").cloned();
        if let Some(d) = derive(&state, &version, &mut diags) {
            set_derived(&mut state, &d);
        }
        if let Some(u) = imported_user_data {
            state.set_attr("user_data", u);
        }
        fill_unknowns(&mut state);
        let identity = identity(&aws, &state).await;
        ImportResponse {
            imported: vec![ImportedResource {
                state,
                private,
                identity,
            }],
            diagnostics: Diagnostics(
                diags
                    .0
                    .into_iter()
                    .filter(|d| d.severity == crate::framework::Severity::Error)
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launch_template_names_are_valid() {
        let i = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            launch_template_name("prod", "agents", i),
            "nested-prod-agents-0123456789ab"
        );
        assert_eq!(
            launch_template_name("a b", "c:d", i),
            "nested-a-b-c-d-0123456789ab"
        );
        // Long names keep the instance suffix within EC2's 128 characters.
        let long = launch_template_name(&"c".repeat(100), &"n".repeat(63), i);
        assert_eq!(long.len(), 128);
        assert!(long.ends_with("-0123456789ab"));
    }
}
