//! `data "nested_capability"`: can this sandbox run on this platform, and
//! what do the node and the pod need? Pure: answered from the embedded
//! capability data, never from AWS.

use async_trait::async_trait;

use crate::capability::engine::DEFAULT_MAX_USER_NAMESPACES;
use crate::capability::{
    AmiFamily, Architecture, CapabilityData, Decision, Input, PlatformKind, Runtime, SANDBOXES,
    Version, decide,
};
use crate::framework::{
    Attr, Attribute, AttributePath, DataSource, Diagnostic, Diagnostics, List, Map, Model, Number,
    ReadDataRequest, ReadDataResponse, Schema, Value,
};
use crate::outputs;
use crate::render;

pub struct CapabilityDataSource;

fn schema() -> Schema {
    Schema::new(
        "Decides whether a nested sandbox can run in pods on a platform, and what the node \
         (AMI family, kernel, sysctls, kubelet settings) and the pod (security contexts) need. \
         Every decision comes with its reason and source. Pure: computed from the provider's \
         embedded capability data, never from AWS.",
    )
    .attribute(
        Attribute::string("sandbox")
            .required()
            .one_of(SANDBOXES)
            .description(
                "The sandbox to run inside pods: `nsjail` (Coder Agent Firewall), `landjail` \
                 (Coder Agent Firewall with Landlock), `bubblewrap` or `podman` (rootless).",
            ),
    )
    .attribute(
        Attribute::string("platform")
            .required()
            .one_of(PlatformKind::NAMES)
            .description(
                "Where the pods run: `eks` (managed node group), `eks_auto_mode`, \
                 `eks_fargate`, `openshift`, or `kubernetes` (your own nodes, described by \
                 `kernel_version`, `container_runtime` and `seccomp_default`).",
            ),
    )
    .attribute(Attribute::string("kubernetes_version").optional().description(
        "Kubernetes minor version, e.g. `\"1.33\"`. Required for `eks`, `eks_auto_mode` and \
         `kubernetes`.",
    ))
    .attribute(Attribute::string("openshift_version").optional().description(
        "OpenShift minor version, e.g. `\"4.20\"`. Required for (and only for) `openshift`.",
    ))
    .attribute(
        Attribute::string("ami_family")
            .optional()
            .computed()
            .one_of(AmiFamily::NAMES)
            .description(
                "`bottlerocket`, `al2023` or `al2`. When omitted on an EKS platform, the \
                 provider picks the first of al2023, bottlerocket that can run the sandbox \
                 (never al2, which has no new AMIs since 2025-11-26: name it to use it).",
            ),
    )
    .attribute(
        Attribute::string("architecture")
            .default_value(Architecture::default().as_str())
            .one_of(Architecture::NAMES)
            .description("`x86_64` (default) or `arm64`."),
    )
    .attribute(Attribute::bool("run_as_root").default_value(false).description(
        "Whether the sandbox's process runs as uid 0 in the container. `false` (default): a \
         non-root user, e.g. a Coder workspace's agent; the container gets `runAsNonRoot`. \
         The capabilities differ: Coder's nsjail re-executes a non-root agent through \
         `sudo` + `setpriv` (`NET_ADMIN`, `SYS_ADMIN`, `SETUID`, `SETGID`), while as root it \
         maps uid 0 into its user namespace (`NET_ADMIN`, `SETFCAP`); bwrap needs `SETFCAP` \
         only as root; rootless podman cannot run as root.",
    ))
    .attribute(Attribute::number("ids_per_pod").optional().description(
        "Sets the kubelet's `userNamespaces.idsPerPod` (a multiple of 65536; Kubernetes ≥ \
         1.33) for sandboxes that run in a pod user namespace. The default 65536 is enough \
         for rootless podman when the user's subordinate ids fit in it (`user:1:999` and \
         `user:1001:64535` for uid 1000); use `131072` when nested images own ids above \
         64535 (e.g. 65532 or 65534).",
    ))
    .attribute(Attribute::bool("user_namespaces").default_value(true).description(
        "Whether the node may enable unprivileged user namespaces. `false` (e.g. a CIS \
         level 2 policy) pins `user.max_user_namespaces` to 0 and rejects sandboxes that \
         need them. Defaults to `true`.",
    ))
    .attribute(
        Attribute::string("kernel_version")
            .optional()
            .computed()
            .description(
                "Input for `kubernetes`: the nodes' kernel release, e.g. `\"6.12\"`. Output \
                 elsewhere: the kernel series of the chosen node image.",
            ),
    )
    .attribute(Attribute::string("container_runtime").optional().description(
        "For `kubernetes`: the nodes' runtime and version, e.g. `\"containerd 2.1\"` or \
         `\"cri-o 1.33\"`.",
    ))
    .attribute(Attribute::bool("seccomp_default").optional().description(
        "For `kubernetes`: whether the kubelet runs pods with the runtime's default seccomp \
         profile (`seccompDefault: true`).",
    ))
    .attribute(Attribute::string("ami_type").computed().description(
        "The EKS `amiType` for a managed node group, e.g. `BOTTLEROCKET_x86_64` or \
         `AL2023_ARM_64_STANDARD`. Null off EKS managed node groups.",
    ))
    .attribute(Attribute::string("kernel_floor").computed().description(
        "Lowest Linux release on which the sandbox can work in a pod, e.g. `6.7`. Null when \
         every supported node image is new enough.",
    ))
    .attribute(
        Attribute::string_map("sysctls")
            .computed()
            .description("Node sysctls the sandbox needs, e.g. `user.max_user_namespaces`."),
    )
    .attribute(Attribute::string_map("kubelet_settings").computed().description(
        "Kubelet configuration the sandbox needs, keyed by KubeletConfiguration path, e.g. \
         `userNamespaces.idsPerPod`.",
    ))
    .attribute(Attribute::string("pod_spec").computed().description(
        "JSON for the pod spec fields the sandbox needs, e.g. `{\"hostUsers\":false}` (they \
         belong in the pod spec itself, not in its `securityContext`).",
    ))
    .attribute(Attribute::string("pod_security_context").computed().description(
        "JSON for the pod's `securityContext` fields the sandbox needs (`{}` when none).",
    ))
    .attribute(Attribute::string("container_security_context").computed().description(
        "JSON for the container's `securityContext`: drops ALL capabilities and adds only \
         what the sandbox needs; never privileged.",
    ))
    .attribute(
        Attribute::string_list("runtime_args")
            .computed()
            .description("Arguments the sandbox must be started with, e.g. `--no-user-namespace`."),
    )
    .attribute(
        Attribute::string_map("node_labels")
            .computed()
            .description("Labels that mark nodes prepared for this sandbox."),
    )
    .attribute(
        Attribute::string_list("image_needs")
            .computed()
            .description(
                "What the container image must provide for the sandbox, e.g. `sudo` with a \
                 NOPASSWD rule for Coder's nsjail as a non-root agent.",
            ),
    )
    .attribute(Attribute::string("pod_security_level").computed().description(
        "The Pod Security Standards level the pod's namespace must allow: `restricted`, \
         `baseline` or `privileged` (label `pod-security.kubernetes.io/enforce`). Adding \
         `NET_ADMIN` or `SYS_ADMIN`, or `seccompProfile: Unconfined`, needs `privileged`.",
    ))
    .attribute(
        Attribute::string_list("warnings")
            .computed()
            .description("Conditions that do not stop the sandbox but deserve attention."),
    )
    .attribute(Attribute::string("probe_image").optional().description(
        "Image of `nested-probe` for `probe_manifest`; default \
         `ghcr.io/nested-sandbox/nested-probe:0.1.0` (the probe alone). For what the image \
         must provide (`image_needs`: sudo and setpriv for a non-root nsjail agent, the \
         newuidmap/newgidmap helpers and `/etc/subuid` for podman), the probe can only judge \
         the image it runs in: build one from your sandbox's image with `/nested-probe` \
         copied in, and name it here.",
    ))
    .attribute(Attribute::string("probe_namespace").optional().description(
        "Namespace of the `probe_manifest` Job; default `nested-probe`. The manifest says \
         which Pod Security label that namespace needs (`pod_security_level`).",
    ))
    .attribute(Attribute::string("probe_manifest").computed().description(
        "A Kubernetes Job (YAML) that runs `nested-probe --sandbox <sandbox>` with `pod_spec` \
         and the security contexts above on a node carrying `node_labels`: the Job succeeds \
         only when the sandbox can run there.",
    ))
    .attribute(
        Attribute::string_list("reasons")
            .computed()
            .description("Each decision with its source."),
    )
    .attribute(Attribute::string("user_data").computed().description(
        "The bootstrap document the chosen AMI family needs, before any merge with your own \
         settings: Bottlerocket TOML (never MIME-wrapped) or Amazon Linux MIME multipart \
         (a sysctl shell part and a nodeadm NodeConfig part). For a managed node group with \
         an EKS-provided AMI, so no cluster keys. Null when nothing needs rendering or the \
         platform takes no user data.",
    ))
}

crate::model! {
    /// A `nested_capability` configuration and its answer.
    pub struct CapabilityModel {
        sandbox: Attr<String>,
        platform: Attr<String>,
        kubernetes_version: Attr<String>,
        openshift_version: Attr<String>,
        ami_family: Attr<String>,
        architecture: Attr<String>,
        run_as_root: Attr<bool>,
        ids_per_pod: Attr<Number>,
        user_namespaces: Attr<bool>,
        kernel_version: Attr<String>,
        container_runtime: Attr<String>,
        seccomp_default: Attr<bool>,
        ami_type: Attr<String>,
        kernel_floor: Attr<String>,
        sysctls: Attr<Map<String>>,
        kubelet_settings: Attr<Map<String>>,
        pod_spec: Attr<String>,
        pod_security_context: Attr<String>,
        container_security_context: Attr<String>,
        runtime_args: Attr<List<String>>,
        node_labels: Attr<Map<String>>,
        image_needs: Attr<List<String>>,
        pod_security_level: Attr<String>,
        warnings: Attr<List<String>>,
        probe_image: Attr<String>,
        probe_namespace: Attr<String>,
        probe_manifest: Attr<String>,
        reasons: Attr<List<String>>,
        user_data: Attr<String>,
    }
}

/// The model of a configuration with the schema's defaults filled in.
fn model_of(config: &Value) -> Result<CapabilityModel, Diagnostics> {
    let mut v = config.clone();
    crate::framework::schema::apply_defaults(&schema().block.attributes, &mut v);
    CapabilityModel::from_value(&v)
}

/// The engine's input; bad values become diagnostics at their attribute.
fn input_from(m: &CapabilityModel, diags: &mut Diagnostics) -> Input {
    let mut input = Input::new(
        m.sandbox.as_deref().unwrap_or_default(),
        m.platform.as_deref().unwrap_or_default(),
    );
    input.kubernetes_version = m.kubernetes_version.as_deref().and_then(|text| {
        // One parser for the resource and the data sources.
        crate::validate::version::kubernetes_minor(text)
            .map_err(|e| {
                diags.error_at(
                    AttributePath::attr("kubernetes_version"),
                    "Invalid kubernetes_version",
                    format!("{e}."),
                );
            })
            .ok()
    });
    let mut version = |name: &str, text: Option<&str>, example: &str| -> Option<Version> {
        let text = text?;
        match text.trim_start_matches('v').parse::<Version>() {
            Ok(v) => Some(v),
            Err(_) => {
                diags.error_at(
                    AttributePath::attr(name),
                    format!("Invalid {name}"),
                    format!("{text:?} is not a version; use a version like \"{example}\"."),
                );
                None
            }
        }
    };
    input.openshift_version = version("openshift_version", m.openshift_version.as_deref(), "4.20");
    input.kernel_version = version("kernel_version", m.kernel_version.as_deref(), "6.12");
    input.ami_family = m.ami_family.known().cloned();
    // Defaults come from the schema (model_of).
    input.architecture = m
        .architecture
        .as_deref()
        .and_then(Architecture::parse)
        .unwrap_or_default();
    input.user_namespaces = m
        .user_namespaces
        .known()
        .copied()
        .unwrap_or(input.user_namespaces);
    input.seccomp_default = m.seccomp_default.known().copied();
    input.run_as_root = m.run_as_root.known().copied().unwrap_or(input.run_as_root);
    if let Some(n) = m.ids_per_pod.known() {
        match crate::validate::number::whole_in_range(n, 1, i64::from(u32::MAX)) {
            Ok(v) => input.ids_per_pod = u64::try_from(v).ok(),
            Err(e) => diags.error_at(
                AttributePath::attr("ids_per_pod"),
                "Invalid ids_per_pod",
                format!("{e}: ids_per_pod is a whole number, a multiple of 65536 such as 131072."),
            ),
        }
    }
    input.max_user_namespaces = DEFAULT_MAX_USER_NAMESPACES;
    if let Some(rt) = m.container_runtime.as_deref() {
        match Runtime::parse(rt) {
            Ok(r) => input.container_runtime = Some(r),
            Err(e) => diags.error_at(
                AttributePath::attr("container_runtime"),
                "Invalid container_runtime",
                e,
            ),
        }
    }
    input
}

/// The data source's state for a decision: the configuration, and the
/// answer written by the one writer of decision outputs.
fn decision_state(m: &CapabilityModel, d: &Decision, user_data: Option<String>) -> Value {
    let mut answer = m.clone();
    // Optional + computed inputs keep the user's own spelling when set.
    if answer.ami_family.is_null() {
        answer.ami_family = d.ami_family.map(|f| f.to_string()).into();
    }
    if answer.kernel_version.is_null() {
        answer.kernel_version = d.kernel_version.map(|v| v.to_string()).into();
    }
    let sandbox = m.sandbox.as_deref().unwrap_or_default();
    answer.probe_manifest = Attr::Known(outputs::probe_manifest(
        d,
        &outputs::ProbePlacement {
            name: sandbox,
            sandbox,
            image: m.probe_image.as_deref(),
            namespace: m.probe_namespace.as_deref(),
            node_selector: d.node_labels.clone(),
            tolerations: Vec::new(),
        },
    ));
    answer.user_data = user_data.into();
    let mut state = answer.to_value();
    outputs::write_pod_outputs(&mut state, d);
    outputs::write_node_outputs(&mut state, d);
    state
}

/// The rendered bootstrap document for the decision (no user merge).
fn rendered_user_data(data: &CapabilityData, d: &Decision) -> Result<Option<String>, String> {
    crate::family::user_data(data, d, &render::UserDataOptions::default())
        .map_err(|e| e.to_string())
}

/// Findings as diagnostics at the data source's attribute for the input
/// at fault (every input the engine names is an attribute here).
pub fn findings_to_diagnostics(d: &Decision, diags: &mut Diagnostics) {
    outputs::findings_to_diagnostics(d, |f| AttributePath::attr(f.attribute()), diags);
}

#[async_trait]
impl DataSource for CapabilityDataSource {
    fn type_name(&self) -> &'static str {
        "nested_capability"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    /// Plan-time checks: when every input is known, the whole decision is
    /// made here so errors show during `terraform validate` and `plan`.
    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        if !config.is_wholly_known() {
            return diags;
        }
        let input = match model_of(config) {
            Ok(m) => input_from(&m, &mut diags),
            Err(d) => return d,
        };
        if diags.has_errors() {
            return diags;
        }
        match CapabilityData::embedded().and_then(|data| decide(data, &input)) {
            Ok(d) => {
                // Only errors here: warnings are reported once, at read.
                let mut all = Diagnostics::new();
                findings_to_diagnostics(&d, &mut all);
                diags.extend(Diagnostics(
                    all.0
                        .into_iter()
                        .filter(|x| x.severity == crate::framework::Severity::Error)
                        .collect(),
                ));
            }
            Err(e) => diags.push(Diagnostic::error(
                "Provider capability data is invalid",
                e.to_string(),
            )),
        }
        diags
    }

    async fn read(&self, req: ReadDataRequest) -> ReadDataResponse {
        let mut diagnostics = Diagnostics::new();
        let model = match model_of(&req.config) {
            Ok(m) => m,
            Err(diagnostics) => {
                return ReadDataResponse {
                    state: Value::Null,
                    diagnostics,
                };
            }
        };
        let input = input_from(&model, &mut diagnostics);
        if diagnostics.has_errors() {
            return ReadDataResponse {
                state: Value::Null,
                diagnostics,
            };
        }
        let decision = match CapabilityData::embedded().and_then(|data| decide(data, &input)) {
            Ok(d) => d,
            Err(e) => {
                diagnostics.push(Diagnostic::error(
                    "Provider capability data is invalid",
                    e.to_string(),
                ));
                return ReadDataResponse {
                    state: Value::Null,
                    diagnostics,
                };
            }
        };
        findings_to_diagnostics(&decision, &mut diagnostics);
        if diagnostics.has_errors() {
            return ReadDataResponse {
                state: Value::Null,
                diagnostics,
            };
        }
        let user_data = match CapabilityData::embedded()
            .map_err(|e| e.to_string())
            .and_then(|data| rendered_user_data(data, &decision))
        {
            Ok(v) => v,
            Err(e) => {
                diagnostics.push(Diagnostic::error("Cannot render user data", e));
                return ReadDataResponse {
                    state: Value::Null,
                    diagnostics,
                };
            }
        };
        let state = decision_state(&model, &decision, user_data);
        ReadDataResponse { state, diagnostics }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::StopToken;
    use crate::framework::schema::apply_defaults;

    fn config(pairs: &[(&str, &str)]) -> Value {
        let schema = schema();
        let mut attrs: std::collections::BTreeMap<String, Value> = schema
            .block
            .attributes
            .iter()
            .map(|a| (a.name.clone(), Value::Null))
            .collect();
        for (k, v) in pairs {
            attrs.insert((*k).to_string(), Value::string(*v));
        }
        let mut v = Value::Object(attrs);
        apply_defaults(&schema.block.attributes, &mut v);
        v
    }

    async fn read(pairs: &[(&str, &str)]) -> ReadDataResponse {
        CapabilityDataSource
            .read(ReadDataRequest {
                config: config(pairs),
                provider: None,
                stop: StopToken::never(),
            })
            .await
    }

    #[test]
    fn the_model_has_exactly_the_schemas_attributes() {
        let s = schema();
        let mut want = crate::framework::model::attribute_names(&s.block.attributes);
        let mut have = CapabilityModel::ATTRIBUTES.to_vec();
        want.sort();
        have.sort();
        assert_eq!(have, want);
    }

    #[tokio::test]
    async fn outputs_for_coder_nsjail_on_bottlerocket() {
        let r = read(&[
            ("sandbox", "nsjail"),
            ("platform", "eks"),
            ("kubernetes_version", "1.33"),
            ("ami_family", "bottlerocket"),
        ])
        .await;
        // 1.33 is in EKS extended support on the tests' day: a warning only.
        assert!(!r.diagnostics.has_errors(), "{:?}", r.diagnostics);
        let s = &r.state;
        assert_eq!(
            s.attr("ami_type"),
            Some(&Value::string("BOTTLEROCKET_x86_64"))
        );
        assert_eq!(s.attr("kernel_version"), Some(&Value::string("6.12")));
        let csc: serde_json::Value = serde_json::from_str(
            s.attr("container_security_context")
                .unwrap()
                .as_str()
                .unwrap(),
        )
        .unwrap();
        // A non-root agent: Boundary's sudo + setpriv re-exec.
        assert_eq!(
            csc["capabilities"]["add"],
            serde_json::json!(["NET_ADMIN", "SETGID", "SETUID", "SYS_ADMIN"])
        );
        assert_eq!(
            s.attr("pod_security_level"),
            Some(&Value::string("privileged"))
        );
        let sysctls = s.attr("sysctls").unwrap().as_entries().unwrap();
        assert_eq!(sysctls["user.max_user_namespaces"], Value::string("65536"));
    }

    #[tokio::test]
    async fn fargate_rejection_is_an_error_at_platform() {
        let r = read(&[("sandbox", "nsjail"), ("platform", "eks_fargate")]).await;
        assert!(r.diagnostics.has_errors());
        assert_eq!(
            r.diagnostics.0[0].path,
            Some(AttributePath::attr("platform"))
        );
        assert!(r.diagnostics.0[0].detail.contains("landjail"));
    }

    #[tokio::test]
    async fn malformed_versions_name_the_attribute() {
        let r = read(&[
            ("sandbox", "nsjail"),
            ("platform", "eks"),
            ("kubernetes_version", "one.thirty"),
        ])
        .await;
        assert_eq!(
            r.diagnostics.0[0].path,
            Some(AttributePath::attr("kubernetes_version"))
        );
        assert!(r.diagnostics.0[0].detail.contains("\"1.33\""));
        let r = read(&[
            ("sandbox", "podman"),
            ("platform", "kubernetes"),
            ("kubernetes_version", "1.33"),
            ("kernel_version", "6.8"),
            ("container_runtime", "docker 24"),
        ])
        .await;
        assert_eq!(
            r.diagnostics.0[0].path,
            Some(AttributePath::attr("container_runtime"))
        );
    }

    #[tokio::test]
    async fn configured_values_come_back_exactly_as_written() {
        let r = read(&[
            ("sandbox", "landjail"),
            ("platform", "kubernetes"),
            ("kubernetes_version", "1.33"),
            ("kernel_version", "6.8.0"),
            ("container_runtime", "containerd 2.1"),
        ])
        .await;
        assert!(!r.diagnostics.has_errors(), "{:?}", r.diagnostics);
        assert_eq!(
            r.state.attr("kernel_version"),
            Some(&Value::string("6.8.0"))
        );
    }

    #[test]
    fn validate_reports_decision_errors_at_plan_time_and_skips_unknowns() {
        let ds = CapabilityDataSource;
        let d = ds.validate(&config(&[
            ("sandbox", "landjail"),
            ("platform", "eks"),
            ("kubernetes_version", "1.31"),
        ]));
        assert!(d.has_errors());
        assert_eq!(d.0[0].path, Some(AttributePath::attr("kubernetes_version")));
        let mut cfg = config(&[("sandbox", "landjail"), ("platform", "eks")]);
        cfg.set_attr("kubernetes_version", Value::unknown());
        assert!(ds.validate(&cfg).is_empty());
    }
}
