//! One writer of a decision's outputs: the attributes `nested_capability`
//! and `nested_nodegroup` (and later sources) share are written here, once,
//! and findings become diagnostics here, at the attribute the schema that
//! shows them has for the input at fault.

use std::collections::BTreeMap;

use crate::capability::data::Evidence;
use crate::capability::{Decision, Field};
use crate::framework::{Attribute, AttributePath, Diagnostic, Diagnostics, Type, Value};
use crate::render::probe::{self, ProbeJob, RequiredScc, Toleration};

/// Where the probe Job goes and what it tolerates.
pub struct ProbePlacement<'a> {
    /// Used in the Job name.
    pub name: &'a str,
    pub sandbox: &'a str,
    pub image: Option<&'a str>,
    pub namespace: Option<&'a str>,
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<Toleration>,
}

/// The probe Job YAML for a decision.
pub fn probe_manifest(d: &Decision, p: &ProbePlacement<'_>) -> String {
    probe_manifest_with_scc(d, p, None)
}

/// The probe Job YAML for a decision; on OpenShift it names the SCC its
/// pod needs.
pub fn probe_manifest_with_scc(
    d: &Decision,
    p: &ProbePlacement<'_>,
    openshift_scc: Option<RequiredScc<'_>>,
) -> String {
    probe::probe_job(&ProbeJob {
        name: p.name,
        namespace: p.namespace.unwrap_or(probe::DEFAULT_PROBE_NAMESPACE),
        pod_security_level: &d.pod_security_level,
        sandbox: p.sandbox,
        image: p.image.unwrap_or(probe::DEFAULT_PROBE_IMAGE),
        pod_spec: &d.pod_spec,
        pod_security_context: &d.pod_security_context,
        container_security_context: &d.container_security_context,
        node_selector: p.node_selector.clone(),
        tolerations: p.tolerations.clone(),
        runtime_args: &d.runtime_args,
        openshift_scc,
    })
}

/// The one diagnostic for capability data that does not load or decide
/// (a defect of the provider build, never of the configuration).
pub fn invalid_data(e: &crate::capability::CapabilityError) -> Diagnostic {
    Diagnostic::error("Provider capability data is invalid", e.to_string())
}

fn strings(v: &[String]) -> Value {
    Value::List(v.iter().map(Value::string).collect())
}

fn string_map(m: &BTreeMap<String, String>) -> Value {
    Value::Map(
        m.iter()
            .map(|(k, v)| (k.clone(), Value::string(v)))
            .collect(),
    )
}

/// The attributes every schema that shows a decision has: the pod's
/// settings, the image's needs, the Pod Security level and the warnings.
pub fn write_pod_outputs(state: &mut Value, d: &Decision) {
    state.set_attr("ami_type", d.ami_type.clone().into());
    state.set_attr("kernel_floor", d.kernel_floor.map(|v| v.to_string()).into());
    state.set_attr("pod_spec", Value::string(d.pod_spec.to_string()));
    state.set_attr(
        "pod_security_context",
        Value::string(d.pod_security_context.to_string()),
    );
    state.set_attr(
        "container_security_context",
        Value::string(d.container_security_context.to_string()),
    );
    state.set_attr("runtime_args", strings(&d.runtime_args));
    state.set_attr("warnings", strings(&d.warnings));
    state.set_attr("image_needs", strings(&d.image_needs));
    state.set_attr("pod_security_level", Value::string(&d.pod_security_level));
}

/// A JSON document as a Terraform value (arrays as tuples, so mixed
/// elements keep their own types), for `dynamic` attributes.
pub fn json_value(j: &serde_json::Value) -> Value {
    use crate::framework::Number;
    match j {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Value::int(i),
            (None, Some(u), _) => Value::Number(Number::from_u64(u)),
            (None, None, Some(f)) => Value::Number(Number::from_f64(f)),
            _ => Value::Null,
        },
        serde_json::Value::String(s) => Value::string(s),
        serde_json::Value::Array(items) => Value::Tuple(items.iter().map(json_value).collect()),
        serde_json::Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), json_value(v))).collect())
        }
    }
}

/// The pod settings as objects, next to their JSON strings (for
/// `kubernetes_pod` blocks and Helm values without `jsondecode`), and the
/// devices the sandbox uses.
pub fn write_pod_objects(state: &mut Value, d: &Decision) {
    state.set_attr("pod_spec_object", json_value(&d.pod_spec));
    state.set_attr(
        "pod_security_context_object",
        json_value(&d.pod_security_context),
    );
    state.set_attr(
        "container_security_context_object",
        json_value(&d.container_security_context),
    );
    state.set_attr("devices", strings(&d.devices));
}

/// The `node_image` attribute: the node image a decision was judged on.
pub fn node_image_attribute() -> Attribute {
    Attribute::of_type(
        "node_image",
        Type::object([
            ("family", Type::String),
            ("variant", Type::String),
            ("release", Type::String),
            ("releases", Type::String),
            ("kernel", Type::String),
            ("containerd", Type::String),
            ("landlock_enabled", Type::Bool),
            ("seccomp_default", Type::Bool),
            ("evidence", Type::String),
        ]),
    )
    .computed()
    .description(
        "The node image the answer is judged on (EKS platforms; null elsewhere): `family`, \
         `variant`, `release` (the pinned release, canonical, or null when the newest known \
         was assumed), `releases` (the range of releases with these facts), `kernel`, \
         `containerd` (null when no source confirms it), `landlock_enabled`, \
         `seccomp_default` and `evidence` (`documented`, or `reported` where no primary \
         source publishes the image's facts, e.g. EKS Auto Mode).",
    )
}

fn node_image_value(d: &Decision) -> Value {
    let Some(i) = &d.image else {
        return Value::Null;
    };
    let opt = |v: Option<String>| v.map_or(Value::Null, Value::string);
    Value::Object(
        [
            ("family", Value::string(i.family.as_str())),
            ("variant", Value::string(i.variant.as_str())),
            ("release", opt(i.pinned.map(|r| r.to_string()))),
            ("releases", Value::string(&i.releases)),
            ("kernel", Value::string(i.kernel.to_string())),
            ("containerd", opt(i.containerd.map(|v| v.to_string()))),
            ("landlock_enabled", Value::Bool(i.landlock_enabled)),
            ("seccomp_default", Value::Bool(i.seccomp_default)),
            (
                "evidence",
                Value::string(match i.evidence {
                    Evidence::Documented => "documented",
                    Evidence::Reported => "reported",
                }),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect(),
    )
}

/// What the data source shows beyond that: node settings and reasons.
pub fn write_node_outputs(state: &mut Value, d: &Decision) {
    state.set_attr("node_image", node_image_value(d));
    state.set_attr("sysctls", string_map(&d.sysctls));
    state.set_attr("kubelet_settings", string_map(&d.kubelet_settings));
    state.set_attr("node_labels", string_map(&d.node_labels));
    state.set_attr("reasons", strings(&d.reasons));
}

/// Findings as diagnostics; `path` maps the input at fault to the
/// attribute of the schema at hand.
pub fn findings_to_diagnostics(
    d: &Decision,
    path: impl Fn(Field) -> AttributePath,
    diags: &mut Diagnostics,
) {
    for f in &d.findings {
        let diag = if f.error {
            Diagnostic::error(f.summary.clone(), f.detail.clone())
        } else {
            Diagnostic::warning(f.summary.clone(), f.detail.clone())
        };
        diags.push(diag.at(path(f.field)));
    }
}
