//! The typed model of a `nested_capability` configuration and the engine
//! input it stands for (bad values become diagnostics at their attribute).

use crate::capability::engine::DEFAULT_MAX_USER_NAMESPACES;
use crate::capability::{Architecture, CapabilityData, Input, Runtime, Version};
use crate::framework::{Attr, AttributePath, Diagnostics, List, Model, Number, Value};
use crate::outputs::{DecisionDetails, DecisionOutputs};

use super::node_pool::{AksNodePoolModel, GkeNodePoolModel};
use super::schema::schema;

crate::model! {
    /// A `nested_capability` configuration and its answer.
    pub struct CapabilityModel {
        sandbox: Attr<String>,
        platform: Attr<String>,
        kubernetes_version: Attr<String>,
        openshift_version: Attr<String>,
        ami_family: Attr<String>,
        ami_variant: Attr<String>,
        ami_release: Attr<String>,
        image_type: Attr<String>,
        os_sku: Attr<String>,
        architecture: Attr<String>,
        run_as_root: Attr<bool>,
        ids_per_pod: Attr<Number>,
        user_namespaces: Attr<bool>,
        kernel_version: Attr<String>,
        container_runtime: Attr<String>,
        oci_runtime: Attr<String>,
        seccomp_default: Attr<bool>,
        seccomp_profile: Attr<String>,
        bootstrap_extra_settings: Attr<String>,
        cluster: Attr<ClusterModel>,
        gke_node_pool: Attr<GkeNodePoolModel>,
        aks_node_pool: Attr<AksNodePoolModel>,
        node_prep_manifest: Attr<String>,
        ami_type: Attr<String>,
        seccomp_profile_json: Attr<String>,
        seccomp_profile_manifest: Attr<String>,
        probe_image: Attr<String>,
        probe_namespace: Attr<String>,
        probe_manifest: Attr<String>,
        user_data: Attr<String>,
        nodeadm_config: Attr<String>,
        sysctl_script: Attr<String>,
        cloudinit_parts: Attr<List<PartModel>>,
    }
    embeds {
        decision: DecisionOutputs,
        details: DecisionDetails,
    }
}

crate::model! {
    /// The cluster keys a node from a custom AMI needs to join.
    pub struct ClusterModel {
        name: Attr<String>,
        api_server_endpoint: Attr<String>,
        certificate_authority: Attr<String>,
        service_cidr: Attr<String>,
        dns_ip: Attr<String>,
    }
}

crate::model! {
    /// One part of an Amazon Linux user data document.
    pub struct PartModel {
        content_type: Attr<String>,
        content: Attr<String>,
        filename: Attr<String>,
        merge_type: Attr<String>,
    }
}

/// The model of a configuration with the schema's defaults filled in.
pub(super) fn model_of(config: &Value) -> Result<CapabilityModel, Diagnostics> {
    let mut v = config.clone();
    crate::framework::schema::apply_defaults(&schema().block.attributes, &mut v);
    CapabilityModel::from_value(&v)
}

/// The engine's input; bad values become diagnostics at their attribute.
pub(super) fn input_from(m: &CapabilityModel, diags: &mut Diagnostics) -> Input {
    let mut input = Input::new(
        m.sandbox.as_deref().unwrap_or_default(),
        m.platform.as_deref().unwrap_or_default(),
    );
    input.kubernetes_version = m.kubernetes_version.as_deref().and_then(|text| {
        // One parser for the resource and the data sources.
        crate::validate::version::kubernetes_minor(text)
            .map_err(|e| {
                diags.error_at(
                    CapabilityModel::kubernetes_version(),
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
    input.ami_variant = m.ami_variant.known().cloned();
    input.ami_release = m.ami_release.known().cloned();
    input.node_image = node_image_input(m, diags);
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
    // one_of makes it `unconfined`, `localhost` or unset (as `unconfined`,
    // with a word about the trade-off).
    input.seccomp_localhost = m.seccomp_profile.as_deref() == Some("localhost");
    input.seccomp_tradeoff_warning = m.seccomp_profile.is_null();
    input.run_as_root = m.run_as_root.known().copied().unwrap_or(input.run_as_root);
    if let Some(n) = m.ids_per_pod.known() {
        match crate::validate::number::whole_in_range(n, 1, i64::from(u32::MAX)) {
            Ok(v) => input.ids_per_pod = u64::try_from(v).ok(),
            Err(e) => diags.error_at(
                CapabilityModel::ids_per_pod(),
                "Invalid ids_per_pod",
                format!("{e}: ids_per_pod is a whole number, a multiple of 65536 such as 131072."),
            ),
        }
    }
    input.max_user_namespaces = DEFAULT_MAX_USER_NAMESPACES;
    if let Some(rt) = m.oci_runtime.as_deref() {
        match crate::capability::engine::parse_oci_runtime(rt) {
            Ok(r) => input.oci_runtime = Some(r),
            Err(e) => diags.error_at(CapabilityModel::oci_runtime(), "Invalid oci_runtime", e),
        }
    }
    if let Some(rt) = m.container_runtime.as_deref() {
        match Runtime::parse(rt) {
            Ok(r) => input.container_runtime = Some(r),
            Err(e) => diags.error_at(
                CapabilityModel::container_runtime(),
                "Invalid container_runtime",
                e,
            ),
        }
    }
    input
}

/// `image_type` (GKE) or `os_sku` (AKS) as the engine's node image; each
/// only on the platforms whose node pools take it.
fn node_image_input(m: &CapabilityModel, diags: &mut Diagnostics) -> Option<String> {
    let platform = m.platform.as_deref().unwrap_or_default();
    let setting = crate::capability::PlatformKind::parse(platform)
        .and_then(|k| CapabilityData::embedded().ok()?.platform(k))
        .and_then(|p| p.node_image_setting.clone());
    let mut chosen = None;
    for (name, path, value) in [
        (
            "image_type",
            CapabilityModel::image_type(),
            m.image_type.known(),
        ),
        ("os_sku", CapabilityModel::os_sku(), m.os_sku.known()),
    ] {
        let Some(value) = value else { continue };
        if setting.as_deref() == Some(name) {
            chosen = Some(value.clone());
        } else {
            let owner = if name == "image_type" {
                "\"gke\" or \"gke_autopilot\""
            } else {
                "\"aks\""
            };
            diags.error_at(
                path,
                format!("{name} needs platform {owner}"),
                format!("{name} chooses the node image of a node pool on platform {owner}; remove it for platform {platform:?}."),
            );
        }
    }
    chosen
}
