//! `data "nested_openshift_profile"`: the manifests a nested sandbox needs
//! on OpenShift (FeatureGate before 4.20, SCC, pod settings, Dev Spaces).

use async_trait::async_trait;

use crate::capability::{CapabilityData, Input, PlatformKind, SANDBOXES, Version, decide};
use crate::data_sources::capability::findings_to_diagnostics;
use crate::framework::model::{list_of, map_of};
use crate::framework::{
    Attr, Attribute, AttributePath, DataSource, Diagnostics, List, Map, Model, ReadDataRequest,
    ReadDataResponse, Schema, Value,
};
use crate::render::openshift::{OpenShiftError, admitted_pod, profile};
use crate::validate::declared;

pub struct OpenShiftProfileDataSource;

crate::model! {
    /// A `nested_openshift_profile` configuration and its answer.
    pub struct OpenShiftProfileModel {
        openshift_version: Attr<String>,
        sandbox: Attr<String>,
        dev_spaces: Attr<bool>,
        run_as_root: Attr<bool>,
        feature_gate_manifest: Attr<String>,
        scc_manifest: Attr<String>,
        scc_name: Attr<String>,
        pod_spec: Attr<String>,
        pod_security_context: Attr<String>,
        container_security_context: Attr<String>,
        pod_annotations: Attr<Map<String>>,
        checluster_patch: Attr<String>,
        upgrade_blocking: Attr<bool>,
        warnings: Attr<List<String>>,
    }
}

fn schema() -> Schema {
    Schema::new(
        "Manifests and pod settings for running a nested sandbox on OpenShift: the \
         FeatureGate that OpenShift 4.17–4.19 needs (upgrade-blocking), a \
         SecurityContextConstraints, the pod and container security contexts, pod \
         annotations, and the Dev Spaces CheCluster patch. Pure: nothing is applied.",
    )
    .attribute(Attribute::string("openshift_version").required().validate(declared::OPENSHIFT_VERSION).description(
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
    .attribute(Attribute::bool("run_as_root").default_value(false).description(
        "Whether the sandbox's process runs as uid 0 in the container, as in \
         `nested_capability`: the pod settings and the SCC follow it. As root the SCC \
         (`nested-<sandbox>-root`) admits uid 0 only, with the capabilities the sandbox \
         needs as root (`SETFCAP` for nsjail and bubblewrap); otherwise any non-root uid. \
         Rootless podman cannot run as root.",
    ))
    .attribute(Attribute::string("feature_gate_manifest").computed().description(
        "YAML FeatureGate enabling the user-namespace gates (`CustomNoUpgrade`). Empty on \
         OpenShift ≥ 4.20, where they are on by default. **Applying it cannot be undone and \
         blocks upgrades.**",
    ))
    .attribute(Attribute::string("scc_manifest").computed().description(
        "YAML SecurityContextConstraints that admits exactly the pod of `pod_spec` and \
         `container_security_context`: its added capabilities, privilege escalation, \
         user (uid 0 as root, else any non-root uid), seccomp profile and, for pods with \
         `hostUsers: false`, `userNamespaceLevel: RequirePodLevel`. Empty when a built-in \
         SCC fits (`nested-container` for podman on ≥ 4.20, `restricted-v2` for landjail \
         as non-root). On 4.18 and 4.19 the API knows `userNamespaceLevel` only after \
         `feature_gate_manifest` has rolled out: the manifest starts with the order and \
         the `oc wait` commands. The pods' service account needs the RBAC verb `use` on \
         the SCC (`oc adm policy add-scc-to-user`).",
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
        "JSON for the container's `securityContext` (drops ALL, adds only what is needed). \
         On the built-in `nested-container` SCC it names `runAsUser: 1000`: that SCC would \
         give a container without a uid uid 0, which `runAsNonRoot` refuses.",
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
        let mut m = match OpenShiftProfileModel::from_value(&req.config) {
            Ok(m) => m,
            Err(d) => return fail(d),
        };
        let text = m.openshift_version.as_deref().unwrap_or_default();
        let Ok(version) = text.trim_start_matches('v').parse::<Version>() else {
            diagnostics.error_at(
                OpenShiftProfileModel::openshift_version(),
                "Invalid openshift_version",
                format!("{text:?} is not a version; use a version like \"4.20\"."),
            );
            return fail(diagnostics);
        };
        let sandbox = m.sandbox.as_deref().unwrap_or_default().to_string();
        // The schema's default is filled in before read.
        let dev_spaces = m.dev_spaces.known().copied().unwrap_or_default();
        let data = match CapabilityData::embedded() {
            Ok(d) => d,
            Err(e) => {
                diagnostics.push(crate::outputs::invalid_data(&e));
                return fail(diagnostics);
            }
        };
        let mut input = Input::new(&sandbox, PlatformKind::Openshift.as_str());
        input.openshift_version = Some(version);
        input.run_as_root = m.run_as_root.known().copied().unwrap_or_default();
        let decision = match decide(data, &input) {
            Ok(d) => d,
            Err(e) => {
                diagnostics.push(crate::outputs::invalid_data(&e));
                return fail(diagnostics);
            }
        };
        let p = match profile(data, &sandbox, version, dev_spaces, &decision) {
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
                OpenShiftProfileModel::openshift_version(),
                "OpenShift profile",
                w.clone(),
            );
        }
        m.feature_gate_manifest = Attr::Known(p.feature_gate_manifest);
        m.scc_manifest = Attr::Known(p.scc_manifest);
        m.scc_name = Attr::Known(p.scc_name);
        let decision = admitted_pod(&decision, p.run_as_user);
        m.pod_spec = Attr::Known(decision.pod_spec.to_string());
        m.pod_security_context = Attr::Known(decision.pod_security_context.to_string());
        m.container_security_context = Attr::Known(decision.container_security_context.to_string());
        m.pod_annotations = Attr::Known(map_of(p.pod_annotations));
        m.checluster_patch = p.checluster_patch.into();
        m.upgrade_blocking = Attr::Known(p.upgrade_blocking);
        m.warnings = Attr::Known(list_of(warnings));
        let state = m.to_value();
        ReadDataResponse { state, diagnostics }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_has_exactly_the_schemas_attributes() {
        let s = schema();
        let mut want = crate::framework::model::attribute_names(&s.block.attributes);
        let mut have = OpenShiftProfileModel::ATTRIBUTES.to_vec();
        want.sort();
        have.sort();
        assert_eq!(have, want);
    }
}
