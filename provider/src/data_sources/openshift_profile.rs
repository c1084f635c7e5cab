//! `data "nested_openshift_profile"`: the manifests a nested sandbox needs
//! on OpenShift (FeatureGate before 4.20, SCC, pod settings, Dev Spaces).

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::capability::{CapabilityData, Input, SANDBOXES, Version, decide};
use crate::data_sources::capability::findings_to_diagnostics;
use crate::framework::{
    Attribute, AttributePath, DataSource, Diagnostic, Diagnostics, ReadDataRequest,
    ReadDataResponse, Schema, Value,
};
use crate::render::openshift::{OpenShiftError, profile};

pub struct OpenShiftProfileDataSource;

fn schema() -> Schema {
    Schema::new(
        "Manifests and pod settings for running a nested sandbox on OpenShift: the \
         FeatureGate that OpenShift 4.17–4.19 needs (upgrade-blocking), a \
         SecurityContextConstraints, the pod and container security contexts, pod \
         annotations, and the Dev Spaces CheCluster patch. Pure: nothing is applied.",
    )
    .attribute(Attribute::string("openshift_version").required().description(
        "OpenShift minor version, e.g. `\"4.20\"`. 4.17 is the oldest with user namespaces \
         (behind upgrade-blocking feature gates until 4.20).",
    ))
    .attribute(
        Attribute::string("sandbox")
            .required()
            .one_of(SANDBOXES)
            .description("`nsjail`, `landjail`, `bubblewrap` or `podman`."),
    )
    .attribute(Attribute::bool("dev_spaces").default_value(false).description(
        "Whether the pods are OpenShift Dev Spaces workspaces (podman only; OpenShift ≥ 4.20).",
    ))
    .attribute(Attribute::string("feature_gate_manifest").computed().description(
        "YAML FeatureGate enabling the user-namespace gates (`CustomNoUpgrade`). Empty on \
         OpenShift ≥ 4.20, where they are on by default. **Applying it cannot be undone and \
         blocks upgrades.**",
    ))
    .attribute(Attribute::string("scc_manifest").computed().description(
        "YAML SecurityContextConstraints for the sandbox. Empty when a built-in SCC fits \
         (`nested-container` for podman on ≥ 4.20, `restricted-v2` for landjail).",
    ))
    .attribute(
        Attribute::string("scc_name")
            .computed()
            .description("The SCC the pods must use (also in `pod_annotations`)."),
    )
    .attribute(Attribute::string("pod_spec").computed().description(
        "JSON for the pod spec fields the sandbox needs, e.g. `{\"hostUsers\":false}`.",
    ))
    .attribute(Attribute::string("pod_security_context").computed().description(
        "JSON for the pod's `securityContext` fields the sandbox needs (`{}` when none).",
    ))
    .attribute(Attribute::string("container_security_context").computed().description(
        "JSON for the container's `securityContext` (drops ALL, adds only what is needed).",
    ))
    .attribute(Attribute::string_map("pod_annotations").computed().description(
        "Annotations for the pod: `openshift.io/required-scc`, and for podman \
         `io.kubernetes.cri-o.Devices`.",
    ))
    .attribute(Attribute::string("checluster_patch").computed().description(
        "JSON merge patch for the Dev Spaces CheCluster enabling container run \
         capabilities; null unless `dev_spaces` is true.",
    ))
    .attribute(Attribute::bool("upgrade_blocking").computed().description(
        "True when `feature_gate_manifest` must be applied, which blocks cluster upgrades.",
    ))
    .attribute(
        Attribute::string_list("warnings")
            .computed()
            .description("What deserves attention before applying."),
    )
}

#[async_trait]
impl DataSource for OpenShiftProfileDataSource {
    fn type_name(&self) -> &'static str {
        "nested_openshift_profile"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn read(&self, req: ReadDataRequest) -> ReadDataResponse {
        let mut diagnostics = Diagnostics::new();
        let fail = |diagnostics| ReadDataResponse {
            state: Value::Null,
            diagnostics,
        };
        let config = &req.config;
        let text = config
            .attr("openshift_version")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Ok(version) = text.trim_start_matches('v').parse::<Version>() else {
            diagnostics.error_at(
                AttributePath::attr("openshift_version"),
                "Invalid openshift_version",
                format!("{text:?} is not a version; use a version like \"4.20\"."),
            );
            return fail(diagnostics);
        };
        let sandbox = config
            .attr("sandbox")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let dev_spaces = config
            .attr("dev_spaces")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let data = match CapabilityData::embedded() {
            Ok(d) => d,
            Err(e) => {
                diagnostics.push(Diagnostic::error(
                    "Provider capability data is invalid",
                    e.to_string(),
                ));
                return fail(diagnostics);
            }
        };
        let mut input = Input::new(sandbox, "openshift");
        input.openshift_version = Some(version);
        let decision = match decide(data, &input) {
            Ok(d) => d,
            Err(e) => {
                diagnostics.push(Diagnostic::error(
                    "Provider capability data is invalid",
                    e.to_string(),
                ));
                return fail(diagnostics);
            }
        };
        let p = match profile(data, sandbox, version, dev_spaces, &decision) {
            Ok(p) => p,
            Err(e) => {
                let attr = match e {
                    OpenShiftError::Version(_) => "openshift_version",
                    OpenShiftError::DevSpaces(_) => "dev_spaces",
                };
                let summary = match e {
                    OpenShiftError::Version(_) => "Unsupported OpenShift version",
                    OpenShiftError::DevSpaces(_) => "Dev Spaces nested containers unavailable",
                };
                diagnostics.error_at(AttributePath::attr(attr), summary, e.to_string());
                return fail(diagnostics);
            }
        };
        findings_to_diagnostics(&decision, &mut diagnostics);
        if diagnostics.has_errors() {
            return fail(diagnostics);
        }
        let mut warnings = p.warnings.clone();
        warnings.extend(decision.warnings.iter().cloned());
        for w in &p.warnings {
            diagnostics.warning_at(
                AttributePath::attr("openshift_version"),
                "OpenShift profile",
                w.clone(),
            );
        }
        let annotations: BTreeMap<String, Value> = p
            .pod_annotations
            .iter()
            .map(|(k, v)| (k.clone(), Value::string(v)))
            .collect();
        let mut state = config.clone();
        state.set_attr(
            "feature_gate_manifest",
            Value::string(p.feature_gate_manifest),
        );
        state.set_attr("scc_manifest", Value::string(p.scc_manifest));
        state.set_attr("scc_name", Value::string(p.scc_name));
        state.set_attr("pod_spec", Value::string(decision.pod_spec.to_string()));
        state.set_attr(
            "pod_security_context",
            Value::string(decision.pod_security_context.to_string()),
        );
        state.set_attr(
            "container_security_context",
            Value::string(decision.container_security_context.to_string()),
        );
        state.set_attr("pod_annotations", Value::Map(annotations));
        state.set_attr("checluster_patch", p.checluster_patch.into());
        state.set_attr("upgrade_blocking", Value::Bool(p.upgrade_blocking));
        state.set_attr(
            "warnings",
            Value::List(warnings.into_iter().map(Value::String).collect()),
        );
        ReadDataResponse { state, diagnostics }
    }
}
