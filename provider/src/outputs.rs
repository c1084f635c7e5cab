//! One writer of a decision's outputs: the attributes `nested_capability`
//! and `nested_nodegroup` (and later sources) share are written here, once,
//! and findings become diagnostics here, at the attribute the schema that
//! shows them has for the input at fault.

use std::collections::BTreeMap;

use crate::capability::{Decision, Field};
use crate::framework::{AttributePath, Diagnostic, Diagnostics, Value};
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

/// What the data source shows beyond that: node settings and reasons.
pub fn write_node_outputs(state: &mut Value, d: &Decision) {
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
