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
    /// The uid the pod must name for its SCC (`admitted_pod`).
    pub run_as_user: Option<i64>,
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

/// The release's row. A release without the user-namespace gates serves
/// only sandboxes that need no pod user namespace (`needs_userns` false).
fn row(
    data: &CapabilityData,
    v: Version,
    needs_userns: bool,
) -> Result<&OpenShiftRow, OpenShiftError> {
    let first = data
        .openshift
        .iter()
        .find(|o| o.gates != GateState::Absent)
        .map(|o| o.versions[0]);
    let ga = default_on(data).map_or_else(String::new, |g| {
        format!(" ({g} without upgrade-blocking feature gates)")
    });
    match data.openshift(v) {
        Some(r) if r.gates != GateState::Absent || !needs_userns => Ok(r),
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

/// The pod runs in its own user namespace (`hostUsers: false`).
fn host_users_false(d: &Decision) -> bool {
    d.pod_spec.get("hostUsers") == Some(&Json::Bool(false))
}

/// What the SCC must admit: the pod `nested_capability` describes.
struct PodShape {
    caps: Vec<String>,
    escalation: bool,
    root: bool,
    /// The container's `seccompProfile.type`, when the pod names one.
    seccomp: Option<String>,
    /// `userNamespaceLevel: RequirePodLevel` (the pod has `hostUsers:
    /// false` and the release's SCC API has the field).
    pod_level: bool,
}

impl PodShape {
    fn of(d: &Decision, pod_level_field: bool) -> PodShape {
        let csc = &d.container_security_context;
        PodShape {
            caps: csc["capabilities"]["add"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|c| c.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
            escalation: csc["allowPrivilegeEscalation"] == Json::Bool(true),
            root: csc["runAsUser"] == json!(0),
            seccomp: csc["seccompProfile"]["type"].as_str().map(String::from),
            pod_level: pod_level_field && host_users_false(d),
        }
    }
}

/// The SCC's `seccompProfiles` entry for a pod's `seccompProfile.type`
/// (openshift/apiserver-library-go:pkg/securitycontextconstraints/seccomp/strategy.go,
/// seccompAnnotationForField). A pod that names no profile fits only an
/// SCC without `seccompProfiles` (validateProfile: an empty list allows
/// only the empty profile).
fn seccomp_entry(kind: &str) -> Option<&'static str> {
    match kind {
        "RuntimeDefault" => Some("runtime/default"),
        "Unconfined" => Some("unconfined"),
        _ => None,
    }
}

/// An SCC that admits exactly `pod`: its capabilities after dropping ALL,
/// its privilege escalation, its user (uid 0 for a root sandbox, any
/// non-root uid otherwise: `MustRunAsRange` would assign its minimum, 0, to
/// a pod that names no uid, which `runAsNonRoot` then refuses), its seccomp
/// profile and, where the release has the field, a pod user namespace.
/// The SCC API has no `procMount`: `Unmasked` is allowed by the Kubernetes
/// API for `hostUsers: false` pods, which `RequirePodLevel` enforces.
/// `defaultAddCapabilities`, `priority` and `requiredDropCapabilities` are
/// required (nullable) by the SCC CRD.
fn scc(name: &str, pod: &PodShape, selinux_type: &str) -> String {
    let run_as_user = if pod.root {
        json!({ "type": "MustRunAs", "uid": 0 })
    } else {
        json!({ "type": "MustRunAsNonRoot" })
    };
    let who = if pod.root {
        "as root"
    } else {
        "as a non-root user"
    };
    let userns = if pod.pod_level {
        "in their own user namespace "
    } else {
        ""
    };
    let mut doc = json!({
        "apiVersion": "security.openshift.io/v1",
        "kind": "SecurityContextConstraints",
        "metadata": {
            "name": name,
            "annotations": {
                "kubernetes.io/description": format!("{name}: pods {userns}running a nested sandbox {who} (written by terraform-provider-nested)")
            }
        },
        "allowHostDirVolumePlugin": false,
        "allowHostIPC": false,
        "allowHostNetwork": false,
        "allowHostPID": false,
        "allowHostPorts": false,
        "allowPrivilegeEscalation": pod.escalation,
        "allowPrivilegedContainer": false,
        "allowedCapabilities": pod.caps,
        "defaultAddCapabilities": null,
        "fsGroup": { "type": "RunAsAny" },
        "priority": null,
        "readOnlyRootFilesystem": false,
        "requiredDropCapabilities": ["ALL"],
        "runAsUser": run_as_user,
        "seLinuxContext": { "type": "MustRunAs", "seLinuxOptions": { "type": selinux_type } },
        "supplementalGroups": { "type": "RunAsAny" },
        "users": [],
        "groups": [],
        "volumes": ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"]
    });
    if let Json::Object(m) = &mut doc {
        if let Some(entry) = pod.seccomp.as_deref().and_then(seccomp_entry) {
            m.insert("seccompProfiles".into(), json!([entry]));
        }
        if pod.pod_level {
            m.insert("userNamespaceLevel".into(), json!("RequirePodLevel"));
        }
    }
    to_yaml(&doc)
}

/// Before 4.20 the SCC API knows `userNamespaceLevel` only once the
/// CustomNoUpgrade feature set is in force (openshift/api release-4.18 and
/// release-4.19: the `Default` SCC CRD lacks the field, the
/// `CustomNoUpgrade` one has it). Until then the API refuses the SCC
/// ("unknown field"), and `--validate=false` drops the field, so the SCC
/// would admit pods in the host user namespace: the order, and how to wait.
fn apply_after_gate(name: &str) -> String {
    format!(
        "# Apply this SCC only after feature_gate_manifest has rolled out. Until then the\n\
         # API does not know userNamespaceLevel and refuses this SCC (\"unknown field\");\n\
         # never apply it with --validate=false, which drops the field so that the SCC no\n\
         # longer requires a pod user namespace.\n\
         #   oc apply -f feature-gate.yaml\n\
         #   oc wait crd/securitycontextconstraints.security.openshift.io --timeout=30m \\\n\
         #     --for=jsonpath='{{.spec.versions[0].schema.openAPIV3Schema.properties.userNamespaceLevel.type}}'=string\n\
         #   oc wait machineconfigpool --all --for=condition=Updated=True --timeout=120m\n\
         #   oc get featuregate cluster -o jsonpath='{{.status.featureGates[*].enabled[*].name}}'   # lists UserNamespacesPodSecurityStandards\n\
         #   oc apply -f scc.yaml\n\
         #   oc get scc {name} -o jsonpath='{{.userNamespaceLevel}}'   # must print RequirePodLevel\n"
    )
}

/// The SCC pods of `sandbox` need on OpenShift `version`, and its manifest
/// (empty for a built-in SCC).
pub struct SccChoice {
    pub name: String,
    pub manifest: String,
    /// The API takes the manifest only after the FeatureGate rolled out.
    pub after_gate: bool,
    /// The uid the pod must name for this SCC to admit it.
    pub run_as_user: Option<i64>,
}

/// Built-in SCCs every authenticated user may use (no grant needed).
const OPEN_TO_ALL: &[&str] = &["restricted-v2"];

/// The uid a non-root pod names on the built-in `nested-container` SCC.
/// That SCC's `runAsUser` is `MustRunAsRange` 0–65534
/// (openshift/cluster-kube-apiserver-operator:bindata/bootkube/scc-manifests/0000_20_kube-apiserver-operator_00_scc-nested-container.yaml@release-4.20:35-38),
/// and admission gives a container that names no uid the range's minimum
/// (openshift/apiserver-library-go:pkg/securitycontextconstraints/user/mustrunasrange.go@release-4.20:36-38),
/// uid 0, with which the kubelet refuses to start a `runAsNonRoot`
/// container (kubernetes/kubernetes:pkg/kubelet/kuberuntime/security_context_others.go:41-43).
/// 1000 is the user of the podman images whose subordinate id ranges the
/// podman row describes (user:1:999 and user:1001:64535), and the uid Dev
/// Spaces' nested-container workspaces run as (issues.redhat.com/browse/CRW-8320).
const NESTED_CONTAINER_UID: i64 = 1000;

/// The pod `d` describes as its SCC admits it: with the uid the SCC needs
/// named in the container's security context.
pub fn admitted_pod(d: &Decision, run_as_user: Option<i64>) -> Decision {
    let mut d = d.clone();
    if let (Some(uid), Json::Object(csc)) = (run_as_user, &mut d.container_security_context) {
        csc.insert("runAsUser".into(), json!(uid));
    }
    d
}

/// Which SCC admits the pod `d` describes, and its manifest.
pub fn scc_for(
    data: &CapabilityData,
    sandbox: &str,
    version: Version,
    d: &Decision,
) -> Result<SccChoice, OpenShiftError> {
    let row = row(data, version, host_users_false(d))?;
    let pod = PodShape::of(d, row.pss_gate);
    let builtin_nested = row.gates == GateState::Default;
    let builtin = match sandbox {
        // 4.20+ ships the nested-container SCC for exactly this pod.
        "podman" if builtin_nested && !pod.root => Some("nested-container"),
        // restricted-v2: a non-root uid from the namespace's range, drop
        // ALL, no escalation, RuntimeDefault seccomp.
        "landjail" if !pod.root => Some("restricted-v2"),
        _ => None,
    };
    if let Some(name) = builtin {
        return Ok(SccChoice {
            name: name.into(),
            manifest: String::new(),
            after_gate: false,
            run_as_user: (name == "nested-container").then_some(NESTED_CONTAINER_UID),
        });
    }
    let name = if pod.root {
        format!("nested-{sandbox}-root")
    } else {
        format!("nested-{sandbox}")
    };
    let selinux = if sandbox == "podman" {
        "container_engine_t"
    } else {
        "container_t"
    };
    let after_gate = pod.pod_level && row.gates == GateState::Preview;
    let mut manifest = scc(&name, &pod, selinux);
    if after_gate {
        manifest.insert_str(0, &apply_after_gate(&name));
    }
    Ok(SccChoice {
        name,
        manifest,
        after_gate,
        run_as_user: None,
    })
}

/// What to tell about who may use `scc`: the pods' service account needs
/// the RBAC verb `use` on it, unless it is open to every user.
pub fn scc_use_note(scc: &str, namespace: &str, service_account: &str) -> Option<String> {
    (!OPEN_TO_ALL.contains(&scc)).then(|| {
        format!(
            "The pods' service account must be allowed to use SCC {scc} (RBAC verb \"use\" on securitycontextconstraints, resourceNames [{scc}], apiGroups [security.openshift.io]), e.g. oc adm policy add-scc-to-user {scc} -z {service_account} -n {namespace}; without it OpenShift refuses the pod."
        )
    })
}

/// The OpenShift profile for a sandbox whose capability decision is `d`.
pub fn profile(
    data: &CapabilityData,
    sandbox: &str,
    version: Version,
    dev_spaces: bool,
    d: &Decision,
) -> Result<Profile, OpenShiftError> {
    let needs_userns = host_users_false(d);
    let row = row(data, version, needs_userns)?;
    let mut p = Profile::default();
    if needs_userns && row.gates == GateState::Preview {
        p.feature_gate_manifest = feature_gate(row);
        p.upgrade_blocking = true;
        p.warnings.push(format!(
            "OpenShift {version}: feature_gate_manifest sets featureSet CustomNoUpgrade, which CANNOT BE UNDONE and PREVENTS UPGRADES; OpenShift {} has these gates by default.",
            default_on(data).map_or_else(|| "4.20".into(), |v| v.to_string())
        ));
    }
    let choice = scc_for(data, sandbox, version, d)?;
    if choice.after_gate {
        p.warnings.push(format!(
            "OpenShift {version}: apply scc_manifest only after feature_gate_manifest has rolled out (oc wait crd/securitycontextconstraints.security.openshift.io until its schema has userNamespaceLevel, then oc wait machineconfigpool --all --for=condition=Updated=True); before that the API refuses the SCC, and --validate=false would drop userNamespaceLevel so that {} no longer requires a pod user namespace. The steps are at the top of scc_manifest.",
            choice.name
        ));
    }
    if let Some(note) = scc_use_note(&choice.name, "NAMESPACE", "SERVICE_ACCOUNT") {
        p.warnings.push(note);
    }
    p.scc_name = choice.name;
    p.scc_manifest = choice.manifest;
    p.run_as_user = choice.run_as_user;
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

    fn prof_as(sandbox: &str, v: &str, dev: bool, root: bool) -> Result<Profile, OpenShiftError> {
        let data = CapabilityData::embedded().unwrap();
        let mut i = Input::new(sandbox, "openshift");
        i.openshift_version = Some(v.parse().unwrap());
        i.run_as_root = root;
        let d = decide(data, &i).unwrap();
        profile(data, sandbox, v.parse().unwrap(), dev, &d)
    }

    fn prof(sandbox: &str, v: &str, dev: bool) -> Result<Profile, OpenShiftError> {
        prof_as(sandbox, v, dev, false)
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
        // The SCC's MustRunAsRange 0-65534 would give a pod that names no
        // uid uid 0, which runAsNonRoot refuses: the pod names uid 1000.
        assert_eq!(p.run_as_user, Some(1000));
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
        // Sandboxes without a pod user namespace run there (as
        // nested_capability says): an SCC without userNamespaceLevel.
        let p = prof("nsjail", "4.16", false).unwrap();
        assert_eq!(p.scc_name, "nested-nsjail");
        assert!(!p.scc_manifest.contains("userNamespaceLevel"));
        assert!(p.feature_gate_manifest.is_empty());
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

    #[test]
    fn root_sandboxes_get_an_scc_for_root_with_their_capabilities() {
        let p = prof_as("nsjail", "4.20", false, true).unwrap();
        assert_eq!(p.scc_name, "nested-nsjail-root");
        assert!(
            p.scc_manifest
                .contains("  - \"NET_ADMIN\"\n  - \"SETFCAP\"\n"),
            "{}",
            p.scc_manifest
        );
        assert!(
            p.scc_manifest
                .contains("runAsUser:\n  type: \"MustRunAs\"\n  uid: 0\n"),
            "{}",
            p.scc_manifest
        );
        let p = prof_as("bubblewrap", "4.21", false, true).unwrap();
        assert_eq!(p.scc_name, "nested-bubblewrap-root");
        assert!(
            p.scc_manifest.contains("- \"SETFCAP\""),
            "{}",
            p.scc_manifest
        );
        assert!(
            p.scc_manifest
                .contains("userNamespaceLevel: \"RequirePodLevel\"")
        );
        // restricted-v2 takes only non-root pods.
        let p = prof_as("landjail", "4.20", false, true).unwrap();
        assert_eq!(p.scc_name, "nested-landjail-root");
        assert_eq!(
            p.pod_annotations["openshift.io/required-scc"],
            "nested-landjail-root"
        );
        let p = prof_as("landjail", "4.20", false, false).unwrap();
        assert_eq!(p.scc_name, "restricted-v2");
        assert!(
            !p.warnings
                .iter()
                .any(|w| w.contains("must be allowed to use"))
        );
    }

    #[test]
    fn non_root_sccs_assign_no_uid_and_name_the_seccomp_profile_the_pod_names() {
        let p = prof("nsjail", "4.20", false).unwrap();
        assert!(
            p.scc_manifest
                .contains("runAsUser:\n  type: \"MustRunAsNonRoot\"\n"),
            "{}",
            p.scc_manifest
        );
        // The non-root nsjail pod names RuntimeDefault: the SCC lists exactly it.
        assert!(
            p.scc_manifest
                .contains("seccompProfiles:\n  - \"runtime/default\"\n"),
            "{}",
            p.scc_manifest
        );
        // A pod that names no profile gets an SCC without the list (an
        // empty list allows only the empty profile).
        let root = prof_as("nsjail", "4.20", false, true).unwrap();
        assert!(
            !root.scc_manifest.contains("seccompProfiles"),
            "{}",
            root.scc_manifest
        );
        assert!(p.scc_manifest.contains("priority: null\n"));
        assert!(p.scc_manifest.contains("defaultAddCapabilities: null\n"));
        assert!(
            p.warnings
                .iter()
                .any(|w| w.contains("add-scc-to-user nested-nsjail")),
            "{:?}",
            p.warnings
        );
    }

    #[test]
    fn before_4_20_the_scc_says_to_wait_for_the_feature_gate() {
        let p = prof("bubblewrap", "4.18", false).unwrap();
        assert!(
            p.scc_manifest.starts_with("# Apply this SCC only after"),
            "{}",
            p.scc_manifest
        );
        assert!(
            p.scc_manifest
                .contains("oc wait crd/securitycontextconstraints.security.openshift.io")
        );
        assert!(
            p.warnings
                .iter()
                .any(|w| w.contains("only after feature_gate_manifest"))
        );
        // 4.17 has no userNamespaceLevel, 4.20 has it without gates.
        for v in ["4.17", "4.20"] {
            let p = prof("bubblewrap", v, false).unwrap();
            assert!(!p.scc_manifest.starts_with('#'), "{v}: {}", p.scc_manifest);
        }
    }

    /// The FeatureGate names the gates only where they are Technology
    /// Preview: from 4.22 ProcMountType is gone from openshift/api (always
    /// on), from 4.23 all three are; naming a removed gate in
    /// customNoUpgrade would be refused.
    #[test]
    fn the_feature_gate_is_only_for_preview_releases() {
        let gate = |v: &str| prof("bubblewrap", v, false).unwrap().feature_gate_manifest;
        assert!(gate("4.18").contains("ProcMountType"));
        for v in ["4.20", "4.21", "4.22", "4.23"] {
            assert!(gate(v).is_empty(), "{v}: {}", gate(v));
        }
    }
}
