//! OpenShift manifests for nested sandboxes: the FeatureGate needed before
//! 4.20, a SecurityContextConstraints, pod annotations and the Dev Spaces
//! CheCluster patch.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use super::yaml::to_yaml;
use crate::capability::data::{GateState, OpenShiftRow};
use crate::capability::{CapabilityData, Decision, Version};

/// What `nested_openshift_profile` outputs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    pub feature_gate_manifest: String,
    pub scc_manifest: String,
    pub scc_name: String,
    pub pod_annotations: BTreeMap<String, String>,
    pub checluster_patch: Option<String>,
    pub upgrade_blocking: bool,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenShiftError {
    /// A version the provider has no data for, or that lacks the feature.
    #[error("{0}")]
    Version(String),
    /// Dev Spaces nested containers on a version or sandbox that lacks them.
    #[error("{0}")]
    DevSpaces(String),
}

/// First OpenShift version with the user-namespace gates on by default.
fn default_on(data: &CapabilityData) -> Option<Version> {
    data.openshift
        .iter()
        .find(|o| o.gates == GateState::Default)
        .map(|o| o.versions[0])
}

fn row(data: &CapabilityData, v: Version) -> Result<&OpenShiftRow, OpenShiftError> {
    let first = data
        .openshift
        .iter()
        .find(|o| o.gates != GateState::Absent)
        .map(|o| o.versions[0]);
    let ga = default_on(data).map_or_else(String::new, |g| {
        format!(" ({g} without upgrade-blocking feature gates)")
    });
    match data.openshift(v) {
        Some(r) if r.gates != GateState::Absent => Ok(r),
        _ => match first {
            Some(f) if v < f => Err(OpenShiftError::Version(format!(
                "OpenShift {v} has no user-namespace support for pods; nested sandboxes need OpenShift {f} or later{ga}."
            ))),
            _ => Err(OpenShiftError::Version(format!(
                "The provider has no data for OpenShift {v}; it knows {} to {}.",
                data.openshift
                    .first()
                    .map_or_else(String::new, |o| o.versions[0].to_string()),
                data.openshift
                    .last()
                    .map_or_else(String::new, |o| o.versions[1].to_string()),
            ))),
        },
    }
}

/// The FeatureGate that turns the user-namespace gates on before 4.20.
fn feature_gate(row: &OpenShiftRow) -> String {
    let mut enabled = vec!["UserNamespacesSupport", "ProcMountType"];
    if row.pss_gate {
        enabled.push("UserNamespacesPodSecurityStandards");
    }
    to_yaml(&json!({
        "apiVersion": "config.openshift.io/v1",
        "kind": "FeatureGate",
        "metadata": { "name": "cluster" },
        "spec": {
            "featureSet": "CustomNoUpgrade",
            "customNoUpgrade": { "enabled": enabled }
        }
    }))
}

fn scc(
    name: &str,
    caps: &[String],
    escalation: bool,
    selinux_type: &str,
    pod_level: bool,
) -> String {
    let mut doc = json!({
        "apiVersion": "security.openshift.io/v1",
        "kind": "SecurityContextConstraints",
        "metadata": {
            "name": name,
            "annotations": {
                "kubernetes.io/description": format!("{name}: pods in their own user namespace running a nested sandbox (written by terraform-provider-nested)")
            }
        },
        "allowHostDirVolumePlugin": false,
        "allowHostIPC": false,
        "allowHostNetwork": false,
        "allowHostPID": false,
        "allowHostPorts": false,
        "allowPrivilegeEscalation": escalation,
        "allowPrivilegedContainer": false,
        "allowedCapabilities": caps,
        "fsGroup": { "type": "RunAsAny" },
        "readOnlyRootFilesystem": false,
        "runAsUser": { "type": "MustRunAsRange", "uidRangeMin": 0, "uidRangeMax": 65534 },
        "seLinuxContext": { "type": "MustRunAs", "seLinuxOptions": { "type": selinux_type } },
        "seccompProfiles": ["*"],
        "supplementalGroups": { "type": "RunAsAny" },
        "users": [],
        "groups": [],
        "volumes": ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"]
    });
    if pod_level && let Json::Object(m) = &mut doc {
        m.insert("userNamespaceLevel".into(), json!("RequirePodLevel"));
    }
    to_yaml(&doc)
}

/// The OpenShift profile for a sandbox whose capability decision is `d`.
pub fn profile(
    data: &CapabilityData,
    sandbox: &str,
    version: Version,
    dev_spaces: bool,
    d: &Decision,
) -> Result<Profile, OpenShiftError> {
    let row = row(data, version)?;
    let needs_userns = d.pod_spec.get("hostUsers") == Some(&Json::Bool(false));
    let mut p = Profile::default();
    if needs_userns && row.gates == GateState::Preview {
        p.feature_gate_manifest = feature_gate(row);
        p.upgrade_blocking = true;
        p.warnings.push(format!(
            "OpenShift {version}: feature_gate_manifest sets featureSet CustomNoUpgrade, which CANNOT BE UNDONE and PREVENTS UPGRADES; OpenShift {} has these gates by default.",
            default_on(data).map_or_else(|| "4.20".into(), |v| v.to_string())
        ));
    }
    let caps: Vec<String> = d.container_security_context["capabilities"]["add"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let escalation = d.container_security_context["allowPrivilegeEscalation"] == Json::Bool(true);
    let builtin_nested = row.gates == GateState::Default;
    match sandbox {
        "podman" if builtin_nested => {
            // 4.20+ ships the nested-container SCC with exactly this shape.
            p.scc_name = "nested-container".into();
        }
        "landjail" => p.scc_name = "restricted-v2".into(),
        _ => {
            p.scc_name = format!("nested-{sandbox}");
            let selinux = if sandbox == "podman" {
                "container_engine_t"
            } else {
                "container_t"
            };
            p.scc_manifest = scc(
                &p.scc_name,
                &caps,
                escalation,
                selinux,
                needs_userns && row.pss_gate,
            );
        }
    }
    p.pod_annotations
        .insert("openshift.io/required-scc".into(), p.scc_name.clone());
    if sandbox == "podman" {
        p.pod_annotations.insert(
            "io.kubernetes.cri-o.Devices".into(),
            "/dev/fuse,/dev/net/tun".into(),
        );
    }
    if dev_spaces {
        let ga = default_on(data);
        if sandbox != "podman" {
            return Err(OpenShiftError::DevSpaces(format!(
                "Dev Spaces runs nested containers with podman; dev_spaces = true does not apply to {sandbox}."
            )));
        }
        if ga.is_none_or(|g| version < g) {
            return Err(OpenShiftError::DevSpaces(format!(
                "Dev Spaces enables container run capabilities only on OpenShift {} or later; this cluster runs {version}.",
                ga.map_or_else(|| "4.20".into(), |g| g.to_string())
            )));
        }
        p.checluster_patch = Some(
            json!({"spec": {"devEnvironments": {"disableContainerRunCapabilities": false}}})
                .to_string(),
        );
        p.warnings.push(
            "Dev Spaces: workspaces created before container run capabilities are enabled cannot be started afterwards.".into(),
        );
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::{Input, decide};

    fn prof(sandbox: &str, v: &str, dev: bool) -> Result<Profile, OpenShiftError> {
        let data = CapabilityData::embedded().unwrap();
        let mut i = Input::new(sandbox, "openshift");
        i.openshift_version = Some(v.parse().unwrap());
        let d = decide(data, &i).unwrap();
        profile(data, sandbox, v.parse().unwrap(), dev, &d)
    }

    #[test]
    fn podman_on_4_19_needs_the_upgrade_blocking_gate_and_its_own_scc() {
        let p = prof("podman", "4.19", false).unwrap();
        assert!(p.upgrade_blocking);
        assert!(
            p.feature_gate_manifest
                .contains("featureSet: \"CustomNoUpgrade\"")
        );
        assert!(
            p.feature_gate_manifest
                .contains("- \"UserNamespacesPodSecurityStandards\"")
        );
        assert!(p.warnings[0].contains("CANNOT BE UNDONE"));
        assert!(
            p.scc_manifest
                .contains("userNamespaceLevel: \"RequirePodLevel\"")
        );
        assert!(p.scc_manifest.contains("type: \"container_engine_t\""));
        assert!(
            p.scc_manifest.contains("  - \"SETGID\"\n  - \"SETUID\""),
            "{}",
            p.scc_manifest
        );
        assert_eq!(
            p.pod_annotations["openshift.io/required-scc"],
            "nested-podman"
        );
    }

    #[test]
    fn podman_on_4_17_has_no_pss_gate_to_enable() {
        let p = prof("podman", "4.17", false).unwrap();
        assert!(
            !p.feature_gate_manifest
                .contains("UserNamespacesPodSecurityStandards")
        );
        assert!(!p.scc_manifest.contains("userNamespaceLevel"));
    }

    #[test]
    fn podman_on_4_20_uses_the_builtin_scc_and_dev_spaces() {
        let p = prof("podman", "4.20", true).unwrap();
        assert!(p.feature_gate_manifest.is_empty());
        assert!(!p.upgrade_blocking);
        assert!(p.scc_manifest.is_empty());
        assert_eq!(
            p.pod_annotations["openshift.io/required-scc"],
            "nested-container"
        );
        assert_eq!(
            p.pod_annotations["io.kubernetes.cri-o.Devices"],
            "/dev/fuse,/dev/net/tun"
        );
        assert_eq!(
            p.checluster_patch.as_deref(),
            Some(r#"{"spec":{"devEnvironments":{"disableContainerRunCapabilities":false}}}"#)
        );
    }

    #[test]
    fn old_versions_and_dev_spaces_before_4_20_are_errors_saying_what_is_needed() {
        let e = prof("podman", "4.16", false).unwrap_err();
        assert!(e.to_string().contains("4.17 or later"), "{e}");
        let e = prof("podman", "4.19", true).unwrap_err();
        assert!(e.to_string().contains("4.20 or later"), "{e}");
    }

    #[test]
    fn bubblewrap_gets_its_own_scc_without_capabilities_as_non_root() {
        // OpenShift runs pods as non-root uids: bwrap maps only its own uid.
        let p = prof("bubblewrap", "4.20", false).unwrap();
        assert_eq!(p.scc_name, "nested-bubblewrap");
        assert!(!p.scc_manifest.contains("SETFCAP"), "{}", p.scc_manifest);
        assert!(p.scc_manifest.contains("allowPrivilegeEscalation: false"));
    }
}
