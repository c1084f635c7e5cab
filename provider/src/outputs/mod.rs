//! One writer of a decision's outputs: the attributes `nested_capability`,
//! `nested_karpenter_pool` and `nested_nodegroup` share are typed models
//! built here, once ([`decision`]), and findings become diagnostics here, at
//! the attribute the schema that shows them has for the input at fault.

use std::collections::BTreeMap;

use crate::capability::{Decision, Field};
use crate::framework::{AttributePath, Diagnostic, Diagnostics, Value};
use crate::render::probe::{self, ProbeJob, RequiredScc, Toleration};

pub mod decision;

pub use decision::{DecisionDetails, DecisionOutputs};

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
