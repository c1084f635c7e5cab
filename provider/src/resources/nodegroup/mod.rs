//! `resource "nested_nodegroup"`: an EKS managed node group and the launch
//! template it owns, shaped by a capability decision.
//!
//! Plan runs the capability engine and the renderers, so every error shows
//! at `terraform plan` at the attribute at fault. Apply creates the launch
//! template, then the node group with an idempotency token, returns the ID
//! even when the wait fails (the object is tainted, never lost), and reads
//! back after every write.

pub mod schema;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::aws::ec2::TemplateContent;
use crate::aws::eks::{Nodegroup, NodegroupSpec, Scaling, Taint};
use crate::aws::{AwsClients, AwsError};
use crate::capability::{Architecture, CapabilityData, Decision, Field, Input, decide};
use crate::config::ProviderRuntime;
use crate::framework::{
    ApplyRequest, ApplyResponse, AttributePath, Diagnostic, Diagnostics, ImportRequest,
    ImportResponse, ImportedResource, PlanRequest, PlanResponse, ProviderData, ReadRequest,
    ReadResponse, Resource, Schema, Value,
};
use crate::render::probe;
use crate::render::{self, UserDataOptions};

/// Tags the provider keeps on what it creates; not shown in `tags`.
pub const TAG_SANDBOX: &str = "nested.dev/sandbox";
pub const TAG_MANAGED_BY: &str = "nested.dev/managed-by";
pub const TAG_OWNER: &str = "nested.dev/node-group";
const MANAGED_BY: &str = "terraform-provider-nested";

pub struct NodegroupResource;

// ------------------------------------------------------------------ values

fn s(v: &Value, k: &str) -> Option<String> {
    v.attr(k).and_then(Value::as_str).map(str::to_string)
}

fn is_unknown(v: &Value, k: &str) -> bool {
    v.attr(k).is_some_and(|x| !x.is_wholly_known())
}

fn strings(v: &Value, k: &str) -> Vec<String> {
    v.attr(k)
        .and_then(Value::as_elements)
        .map(|e| {
            e.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn string_map(v: &Value, k: &str) -> BTreeMap<String, String> {
    v.attr(k)
        .and_then(Value::as_entries)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn map_value(m: &BTreeMap<String, String>) -> Value {
    Value::Map(
        m.iter()
            .map(|(k, v)| (k.clone(), Value::string(v)))
            .collect(),
    )
}

fn list_value(v: &[String]) -> Value {
    Value::List(v.iter().map(Value::string).collect())
}

fn int(v: &Value, k: &str) -> Option<i64> {
    v.attr(k)
        .and_then(Value::as_number)
        .and_then(|n| n.as_i64())
}

fn scaling_of(v: &Value) -> Option<Scaling> {
    let sc = v.attr("scaling").filter(|x| !x.is_null())?;
    let get = |k: &str| int(sc, k).and_then(|i| i32::try_from(i).ok());
    let min_size = get("min_size")?;
    Some(Scaling {
        min_size,
        max_size: get("max_size")?,
        // Unset desired size: start at the minimum.
        desired_size: get("desired_size").unwrap_or(min_size),
    })
}

fn scaling_value(s: Scaling) -> Value {
    Value::object([
        ("min_size", Value::int(i64::from(s.min_size))),
        ("max_size", Value::int(i64::from(s.max_size))),
        ("desired_size", Value::int(i64::from(s.desired_size))),
    ])
}

fn taints_of(v: &Value) -> Vec<Taint> {
    let mut out: Vec<Taint> = v
        .attr("taints")
        .and_then(Value::as_elements)
        .map(|e| {
            e.iter()
                .map(|t| Taint {
                    key: s(t, "key").unwrap_or_default(),
                    value: s(t, "value").unwrap_or_default(),
                    effect: s(t, "effect").unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn taints_value(taints: &[Taint]) -> Value {
    Value::List(
        taints
            .iter()
            .map(|t| {
                Value::object([
                    ("key", Value::string(&t.key)),
                    (
                        "value",
                        if t.value.is_empty() {
                            Value::Null
                        } else {
                            Value::string(&t.value)
                        },
                    ),
                    ("effect", Value::string(&t.effect)),
                ])
            })
            .collect(),
    )
}

/// "60m", "1h30m", "45s".
pub fn parse_duration(text: &str) -> Option<Duration> {
    let mut total = 0u64;
    let mut num = String::new();
    let mut any = false;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num.parse().ok()?;
        num.clear();
        total = total.checked_add(n.checked_mul(match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        })?)?;
        any = true;
    }
    (num.is_empty() && any).then(|| Duration::from_secs(total))
}

fn timeout(state: &Value, op: &str) -> Duration {
    state
        .attr("timeouts")
        .and_then(|t| s(t, op))
        .and_then(|t| parse_duration(&t))
        .or_else(|| parse_duration(schema::DEFAULT_TIMEOUT))
        .unwrap_or(Duration::from_secs(3600))
}

fn runtime(p: &Option<ProviderData>) -> Option<Arc<ProviderRuntime>> {
    p.clone().and_then(|d| d.downcast::<ProviderRuntime>().ok())
}

fn aws_diag(summary: &str, e: &AwsError) -> Diagnostic {
    Diagnostic::error(summary, e.to_string())
}

fn field_path(f: Field) -> AttributePath {
    match f {
        Field::AmiFamily => AttributePath::attr("ami_family"),
        Field::KubernetesVersion => AttributePath::attr("kubernetes_version"),
        Field::Architecture => AttributePath::attr("architecture"),
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
    match kubernetes_version.parse() {
        Ok(v) => input.kubernetes_version = Some(v),
        Err(_) => {
            diags.error_at(
                AttributePath::attr("kubernetes_version"),
                "Invalid kubernetes_version",
                format!("{kubernetes_version:?} is not a version; use a version like \"1.33\"."),
            );
            return None;
        }
    }
    if let Some(n) = int(state, "max_user_namespaces") {
        match u64::try_from(n) {
            Ok(n) if n > 0 => input.max_user_namespaces = n,
            _ => {
                diags.error_at(
                    AttributePath::attr("max_user_namespaces"),
                    "Invalid max_user_namespaces",
                    "max_user_namespaces must be a positive whole number, e.g. 65536.",
                );
                return None;
            }
        }
    }
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
    for f in &decision.findings {
        let d = if f.error {
            Diagnostic::error(f.summary.clone(), f.detail.clone())
        } else {
            Diagnostic::warning(f.summary.clone(), f.detail.clone())
        };
        diags.push(d.at(field_path(f.field)));
    }
    if decision.has_errors() {
        return None;
    }
    let extra = s(state, "bootstrap_extra_settings");
    let opts = UserDataOptions {
        user: extra.as_deref(),
        custom_ami: None,
    };
    match render::user_data(data, &decision, &opts) {
        Ok(user_data) => Some(Derived {
            decision,
            user_data,
        }),
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
    state.set_attr("ami_family", dec.ami_family.clone().into());
    state.set_attr("ami_type", dec.ami_type.clone().into());
    state.set_attr(
        "kernel_version",
        dec.kernel_version.map(|v| v.to_string()).into(),
    );
    state.set_attr(
        "kernel_floor",
        dec.kernel_floor.map(|v| v.to_string()).into(),
    );
    state.set_attr("user_data", d.user_data.clone().into());
    state.set_attr(
        "pod_security_context",
        Value::string(dec.pod_security_context.to_string()),
    );
    state.set_attr(
        "container_security_context",
        Value::string(dec.container_security_context.to_string()),
    );
    state.set_attr("runtime_args", list_value(&dec.runtime_args));
    state.set_attr("warnings", list_value(&dec.warnings));
    state.set_attr("pod_spec", Value::string(dec.pod_spec.to_string()));
    let manifest = probe_manifest(state, dec);
    state.set_attr("probe_manifest", manifest);
}

/// The probe Job for this pool: scheduled by EKS's own node group label,
/// tolerating the pool's taints. Unknown while those are.
fn probe_manifest(state: &Value, dec: &crate::capability::Decision) -> Value {
    if ["name", "taints", "probe_image"]
        .iter()
        .any(|k| state.attr(k).is_some_and(|v| !v.is_wholly_known()))
    {
        return Value::unknown();
    }
    let name = s(state, "name").unwrap_or_default();
    let sandbox = s(state, "sandbox").unwrap_or_default();
    let image = s(state, "probe_image").unwrap_or_else(|| probe::DEFAULT_PROBE_IMAGE.to_string());
    let job = probe::ProbeJob {
        name: &name,
        sandbox: &sandbox,
        image: &image,
        pod_spec: &dec.pod_spec,
        pod_security_context: &dec.pod_security_context,
        container_security_context: &dec.container_security_context,
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
    Value::string(probe::probe_job(&job))
}

/// The label EKS puts on every node of a managed node group.
const EKS_NODEGROUP_LABEL: &str = "eks.amazonaws.com/nodegroup";

const DERIVED: [&str; 11] = [
    "ami_family",
    "ami_type",
    "kernel_version",
    "kernel_floor",
    "user_data",
    "pod_security_context",
    "container_security_context",
    "runtime_args",
    "warnings",
    "pod_spec",
    "probe_manifest",
];

// --------------------------------------------------------------------- plan

async fn plan(req: PlanRequest) -> PlanResponse {
    let mut diags = Diagnostics::new();
    let prior = &req.prior_state;
    let creating = prior.is_null();
    let mut planned = req.proposed_new_state.clone();

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
    let rt = runtime(&req.provider);
    let mut version =
        s(&req.config, "kubernetes_version").or_else(|| s(prior, "kubernetes_version"));
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

    // Identity values must be known: keep the prior one; apply sets it.
    let planned_identity = req.prior_identity.clone();
    PlanResponse {
        planned_state: planned,
        requires_replace,
        planned_private: req.prior_private,
        planned_identity,
        diagnostics: diags,
    }
}

// -------------------------------------------------------------------- apply

fn all_tags(rt: &ProviderRuntime, state: &Value) -> BTreeMap<String, String> {
    let mut tags = rt.config.default_tags.clone();
    tags.extend(string_map(state, "tags"));
    tags
}

/// A stable, printable idempotency token (≤ 64 characters): the same parts
/// give the same token in every process and every provider version.
fn token(parts: &[&str]) -> String {
    fn fnv1a(seed: u64, parts: &[&str]) -> u64 {
        let mut h = seed;
        for p in parts {
            for b in p.bytes().chain([0xff]) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        h
    }
    format!(
        "nested-{:016x}{:016x}",
        fnv1a(0xcbf2_9ce4_8422_2325, parts),
        fnv1a(0x8422_2325_cbf2_9ce4, parts)
    )
}

fn launch_template_name(cluster: &str, name: &str) -> String {
    let raw = format!("nested-{cluster}-{name}");
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "()./_-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(128)
        .collect()
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

/// An apply that created nothing: no state, only the diagnostics.
fn failed(diagnostics: Diagnostics) -> ApplyResponse {
    ApplyResponse {
        new_state: Value::Null,
        diagnostics,
        ..Default::default()
    }
}

async fn create(rt: &ProviderRuntime, aws: &AwsClients, req: &ApplyRequest) -> ApplyResponse {
    let mut diags = Diagnostics::new();
    let mut state = req.planned_state.clone();
    let cluster = s(&state, "cluster_name").unwrap_or_default();
    let name = s(&state, "name").unwrap_or_default();
    let id = format!("{cluster}:{name}");

    // Anything plan could not know yet (the cluster's version) is settled now.
    let version = match s(&state, "kubernetes_version") {
        Some(v) => v,
        None => match aws.find_cluster(&cluster).await {
            Ok(c) => c.version,
            Err(e) => {
                diags.push(
                    aws_diag("Cannot read the cluster", &e).at(AttributePath::attr("cluster_name")),
                );
                return failed(diags);
            }
        },
    };
    state.set_attr("kubernetes_version", Value::string(&version));
    if state.attr("user_data").is_some_and(Value::is_unknown)
        || state.attr("ami_type").is_some_and(Value::is_unknown)
    {
        match derive(&state, &version, &mut diags) {
            Some(d) => set_derived(&mut state, &d),
            None => {
                return failed(diags);
            }
        }
    }
    let family = s(&state, "ami_family").unwrap_or_default();
    let arch = s(&state, "architecture").unwrap_or_else(|| "x86_64".into());
    let sandbox = s(&state, "sandbox").unwrap_or_default();
    let mut tags = all_tags(rt, &state);

    // 1. The launch template this node group owns.
    let lt_name = launch_template_name(&cluster, &name);
    let content = TemplateContent {
        user_data: s(&state, "user_data"),
    };
    let (lt_id, lt_version) = match aws
        .create_launch_template(
            &lt_name,
            &token(&[&id, "launch-template"]),
            &content,
            &tags,
            (TAG_OWNER, &id),
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

    // 2. The node group.
    let release_version = match aws.find_release_version(&family, &version, &arch).await {
        Ok(r) => r,
        Err(e) => {
            diags.push(aws_diag("Cannot resolve the node image release", &e));
            let _ = aws.delete_launch_template(&lt_id).await;
            return failed(diags);
        }
    };
    tags.insert(TAG_SANDBOX.into(), sandbox);
    tags.insert(TAG_MANAGED_BY.into(), MANAGED_BY.into());
    let scaling = scaling_of(&state).unwrap_or(Scaling {
        min_size: 1,
        max_size: 1,
        desired_size: 1,
    });
    let spec = NodegroupSpec {
        cluster: cluster.clone(),
        name: name.clone(),
        node_role: s(&state, "node_role_arn").unwrap_or_default(),
        subnets: strings(&state, "subnet_ids"),
        instance_types: strings(&state, "instance_types"),
        capacity_type: s(&state, "capacity_type").unwrap_or_else(|| "ON_DEMAND".into()),
        ami_type: s(&state, "ami_type").unwrap_or_default(),
        version: version.clone(),
        release_version,
        scaling,
        labels: string_map(&state, "labels"),
        taints: taints_of(&state)
            .into_iter()
            .map(|mut t| {
                t.effect = crate::aws::eks::effect_to_api(&t.effect);
                t
            })
            .collect(),
        tags,
        launch_template_id: lt_id.clone(),
        launch_template_version: lt_version,
        client_request_token: token(&[&id, &lt_id, "create"]),
    };
    if let Err(e) = aws.create_nodegroup(&spec).await {
        diags.push(aws_diag(&format!("creating EKS Node Group ({id})"), &e));
        // Nothing references the template: remove it rather than orphan it.
        if let Err(e2) = aws.delete_launch_template(&lt_id).await {
            diags.push(aws_diag("deleting the unused launch template", &e2));
        }
        return failed(diags);
    }

    // 3. The ID is saved before waiting: a failed wait leaves a tainted
    //    resource in state, never an orphan.
    state.set_attr("id", Value::string(&id));
    state.set_attr("launch_template_id", Value::string(&lt_id));
    state.set_attr("launch_template_version", Value::int(lt_version));
    let mut stop = req.stop.clone();
    match aws
        .wait_nodegroup_active(&cluster, &name, timeout(&state, "create"), &mut stop)
        .await
    {
        // The wait's last DescribeNodegroup is the read after write.
        Ok(active) => finish_apply(rt, aws, state, diags, Some(active)).await,
        Err(e) => {
            diags.push(aws_diag(
                &format!("waiting for EKS Node Group ({id}) create"),
                &e,
            ));
            fill_unknowns(&mut state);
            ApplyResponse {
                new_state: state,
                diagnostics: diags,
                ..Default::default()
            }
        }
    }
}

/// Replace any value still unknown with null (state may hold no unknowns).
fn fill_unknowns(state: &mut Value) {
    if let Value::Object(m) = state {
        for v in m.values_mut() {
            if !v.is_wholly_known() {
                *v = Value::Null;
            }
        }
    }
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

async fn update(rt: &ProviderRuntime, aws: &AwsClients, req: &ApplyRequest) -> ApplyResponse {
    let mut diags = Diagnostics::new();
    let prior = &req.prior_state;
    let mut state = req.planned_state.clone();
    let cluster = s(&state, "cluster_name").unwrap_or_default();
    let name = s(&state, "name").unwrap_or_default();
    let id = format!("{cluster}:{name}");
    let mut stop = req.stop.clone();
    let limit = timeout(&state, "update");
    let fail = |mut diags: Diagnostics, e: &AwsError, what: &str, prior: &Value| {
        diags.push(aws_diag(&format!("{what} EKS Node Group ({id})"), e));
        ApplyResponse {
            new_state: prior.clone(),
            diagnostics: diags,
            ..Default::default()
        }
    };

    // Version phase: new launch template version and/or Kubernetes version.
    let version = s(&state, "kubernetes_version").unwrap_or_default();
    let version_changes = s(prior, "kubernetes_version").as_deref() != Some(version.as_str());
    let template_changes = prior.attr("user_data") != state.attr("user_data");
    if version_changes || template_changes {
        let lt_id = s(prior, "launch_template_id").unwrap_or_default();
        let mut lt_version = int(prior, "launch_template_version").unwrap_or(1);
        if template_changes {
            let content = TemplateContent {
                user_data: s(&state, "user_data"),
            };
            let t = token(&[&id, &lt_id, content.user_data.as_deref().unwrap_or("")]);
            match aws
                .create_launch_template_version(&lt_id, &t, &content)
                .await
            {
                Ok(v) => lt_version = v,
                Err(e) => return fail(diags, &e, "creating a launch template version for", prior),
            }
        }
        let release = if version_changes {
            let family = s(&state, "ami_family").unwrap_or_default();
            let arch = s(&state, "architecture").unwrap_or_else(|| "x86_64".into());
            match aws.find_release_version(&family, &version, &arch).await {
                Ok(r) => r,
                Err(e) => return fail(diags, &e, "resolving the node image release for", prior),
            }
        } else {
            None
        };
        let t = token(&[&id, "version", &version, &lt_version.to_string()]);
        let update_id = match aws
            .update_nodegroup_version(
                &cluster,
                &name,
                (&lt_id, lt_version),
                version_changes.then_some(version.as_str()),
                release.as_deref(),
                &t,
            )
            .await
        {
            Ok(u) => u,
            Err(e) => return fail(diags, &e, "updating the version of", prior),
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
        state.set_attr("launch_template_version", Value::int(lt_version));
    }

    // Config phase: labels, taints, scaling.
    let (add_labels, remove_labels) =
        map_changes(&string_map(prior, "labels"), &string_map(&state, "labels"));
    let to_api = |t: &Taint| Taint {
        effect: crate::aws::eks::effect_to_api(&t.effect),
        ..t.clone()
    };
    let (old_taints, new_taints) = (taints_of(prior), taints_of(&state));
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
    let scaling = scaling_of(&state).filter(|sc| Some(*sc) != scaling_of(prior));
    if !diags.has_errors()
        && (!add_labels.is_empty()
            || !remove_labels.is_empty()
            || !add_taints.is_empty()
            || !remove_taints.is_empty()
            || scaling.is_some())
    {
        let t = token(&[
            &id,
            "config",
            &format!("{add_labels:?}{remove_labels:?}{add_taints:?}{remove_taints:?}{scaling:?}"),
        ]);
        match aws
            .update_nodegroup_config(
                &cluster,
                &name,
                &add_labels,
                &remove_labels,
                &add_taints,
                &remove_taints,
                scaling,
                &t,
            )
            .await
        {
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
    let arn = s(prior, "arn").unwrap_or_default();
    let (set, unset) = map_changes(&all_tags(rt, prior), &all_tags(rt, &state));
    if let Err(e) = aws.tag_resource(&arn, &set).await {
        diags.push(aws_diag("tagging the node group", &e));
    }
    if let Err(e) = aws.untag_resource(&arn, &unset).await {
        diags.push(aws_diag("untagging the node group", &e));
    }
    finish_apply(rt, aws, state, diags, None).await
}

/// What turns `old` into `new`: entries to set (new or changed) and keys
/// to remove. Labels and tags are both updated this way.
fn map_changes(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> (BTreeMap<String, String>, Vec<String>) {
    let set = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect();
    (set, remove)
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
        diagnostics: diags,
        ..Default::default()
    };
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
    if let Some(lt) = s(prior, "launch_template_id")
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
            "create" => create(&rt, &aws, &req).await,
            _ => update(&rt, &aws, &req).await,
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
        match refresh(&aws, &rt, req.current_state.clone()).await {
            Ok(state) => ReadResponse {
                new_identity: identity(&aws, &state).await,
                new_state: state,
                private: req.private,
                ..Default::default()
            },
            Err(AwsError::NotFound { .. }) => {
                let mut diagnostics = Diagnostics::new();
                diagnostics.push(Diagnostic::warning(
                    "Node group no longer exists",
                    format!("EKS Node Group ({cluster}:{name}) was not found; removing it from state so the next apply recreates it."),
                ));
                ReadResponse {
                    new_state: Value::Null,
                    diagnostics,
                    ..Default::default()
                }
            }
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
        let family = if ng.ami_type.starts_with("BOTTLEROCKET") {
            "bottlerocket"
        } else if ng.ami_type.starts_with("AL2023") {
            "al2023"
        } else {
            "al2"
        };
        let arch = if ng.ami_type.contains("ARM_64") {
            "arm64"
        } else {
            "x86_64"
        };
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
        ] {
            state.set_attr(k, v);
        }
        let state = match refresh(&aws, &rt, state).await {
            Ok(s) => s,
            Err(e) => return fail(aws_diag("reading the imported node group", &e)),
        };
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
                private: Vec::new(),
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
    fn durations_parse_like_terraform_timeouts() {
        assert_eq!(parse_duration("60m"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("45s"), Some(Duration::from_secs(45)));
        for bad in ["", "10", "5x", "m"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn tokens_are_stable_and_distinct() {
        assert_eq!(token(&["a", "b"]), token(&["a", "b"]));
        assert_ne!(token(&["a", "b"]), token(&["ab"]));
        assert!(token(&["x"]).len() <= 64);
    }

    #[test]
    fn launch_template_names_are_valid() {
        assert_eq!(launch_template_name("prod", "agents"), "nested-prod-agents");
        assert_eq!(launch_template_name("a b", "c:d"), "nested-a-b-c-d");
    }
}
