//! [`Pod`]: what the kubelet asks the container runtime for, i.e. the pod
//! fields the provider outputs, already resolved the way the kubelet
//! resolves them (container field over pod field over default).

use serde_json::{Map, Value};

use crate::LabError;

/// What the kubelet asks the runtime for: the pod fields the provider outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pod {
    /// The container's uid (`runAsUser`, else the image's user).
    pub run_as_user: u32,
    /// The container's gid (`runAsGroup`, else the image user's group).
    pub run_as_group: u32,
    /// `spec.hostUsers` (Kubernetes default `true`); `false` puts the
    /// container in its own user namespace.
    pub host_users: bool,
    /// kubelet `userNamespaces.idsPerPod` (default 65536): the size of the
    /// pod's id mapping when `host_users` is false.
    pub ids_per_pod: u32,
    /// `securityContext.privileged`. The lab refuses `true`: the provider
    /// never outputs it.
    pub privileged: bool,
    /// `securityContext.allowPrivilegeEscalation`; `None` is the Kubernetes
    /// default (`true`, no `no_new_privs`).
    pub allow_privilege_escalation: Option<bool>,
    /// `securityContext.capabilities.add`, Kubernetes names (`NET_ADMIN`).
    pub capabilities_add: Vec<String>,
    /// `securityContext.capabilities.drop`, e.g. `ALL`.
    pub capabilities_drop: Vec<String>,
    /// `securityContext.procMount: Unmasked`.
    pub proc_mount_unmasked: bool,
    /// The seccomp profile type: the container's field, else the pod's,
    /// else [`Seccomp::Unset`] (the node's default decides).
    pub seccomp: Seccomp,
    /// `localhostProfile` when [`Pod::seccomp`] is [`Seccomp::Localhost`]:
    /// a descending path relative to the kubelet's `<root-dir>/seccomp`.
    pub localhost_profile: Option<String>,
    /// `appArmorProfile` after the kubelet's container/pod fallback
    /// (Kubernetes ≥ 1.30).
    pub app_armor: AppArmor,
    /// Character devices the container gets (what a device plugin or
    /// CRI-O's `io.kubernetes.cri-o.Devices` adds), e.g. `/dev/net/tun`.
    pub devices: Vec<String>,
    /// The kubelet's projected service-account token volume
    /// (`automountServiceAccountToken`): a tmpfs with `token`, `ca.crt` and
    /// `namespace`, bound read-only at
    /// `/var/run/secrets/kubernetes.io/serviceaccount` — with the pod's
    /// idmap when `host_users` is false, which needs idmapped tmpfs
    /// (Linux ≥ 6.3). Off by default in the lab.
    pub service_account_token: bool,
}

/// A pod's seccomp profile type after the kubelet's container/pod fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seccomp {
    /// `seccompProfile: {type: Unconfined}`: no filter.
    Unconfined,
    /// `seccompProfile: {type: RuntimeDefault}`: the runtime's profile.
    RuntimeDefault,
    /// No field set: RuntimeDefault when the kubelet's `seccompDefault` is
    /// true, else unconfined.
    Unset,
    /// `seccompProfile: {type: Localhost, localhostProfile: …}`: the file
    /// [`Pod::localhost_profile`] names under the kubelet's seccomp root.
    Localhost,
}

/// A pod's AppArmor profile after the kubelet's container/pod fallback
/// (`pkg/api/pod` / kubelet `getAppArmorProfile`: no field sends no profile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppArmor {
    /// No field: containerd applies its default profile where the node
    /// has AppArmor ([`Node::apparmor_default`](crate::Node::apparmor_default)).
    Unset,
    /// `appArmorProfile: {type: RuntimeDefault}`: the runtime's profile.
    RuntimeDefault,
    /// `appArmorProfile: {type: Unconfined}`: no profile.
    Unconfined,
    /// `appArmorProfile: {type: Localhost, localhostProfile: NAME}`.
    Localhost(String),
}

impl Default for Pod {
    /// A pod with every field at its Kubernetes default, running as root.
    fn default() -> Self {
        Pod {
            run_as_user: 0,
            run_as_group: 0,
            host_users: true,
            ids_per_pod: 65536,
            privileged: false,
            allow_privilege_escalation: None,
            capabilities_add: Vec::new(),
            capabilities_drop: Vec::new(),
            proc_mount_unmasked: false,
            seccomp: Seccomp::Unset,
            localhost_profile: None,
            app_armor: AppArmor::Unset,
            devices: Vec::new(),
            service_account_token: false,
        }
    }
}

impl Pod {
    /// From the provider's JSON outputs (Kubernetes field names): pod_spec
    /// (e.g. `{"hostUsers":false}`), pod_security_context,
    /// container_security_context. `run_as_user` is the image's user: it
    /// applies unless a context sets `runAsUser`; the group defaults to the
    /// same number (the lab's images give each user a group of its own id).
    pub fn from_provider_outputs(
        pod_spec: &str,
        pod_security_context: &str,
        container_security_context: &str,
        run_as_user: u32,
    ) -> Result<Pod, LabError> {
        let spec = object("pod_spec", pod_spec)?;
        let psc = object("pod_security_context", pod_security_context)?;
        let csc = object("container_security_context", container_security_context)?;
        // A field the lab does not apply would go unproven: refuse it.
        known("pod_spec", &spec, &["hostUsers"])?;
        known(
            "pod_security_context",
            &psc,
            &[
                "runAsUser",
                "runAsGroup",
                "runAsNonRoot",
                "seccompProfile",
                "appArmorProfile",
            ],
        )?;
        known(
            "container_security_context",
            &csc,
            &[
                "runAsUser",
                "runAsGroup",
                "runAsNonRoot",
                "seccompProfile",
                "appArmorProfile",
                "capabilities",
                "privileged",
                "allowPrivilegeEscalation",
                "procMount",
            ],
        )?;
        if let Some(Value::Object(c)) = csc.get("capabilities") {
            known(
                "container_security_context.capabilities",
                c,
                &["add", "drop"],
            )?;
        }
        for (name, m) in [
            ("pod_security_context", &psc),
            ("container_security_context", &csc),
        ] {
            for profile in ["seccompProfile", "appArmorProfile"] {
                if let Some(Value::Object(p)) = m.get(profile) {
                    known(
                        &format!("{name}.{profile}"),
                        p,
                        &["type", "localhostProfile"],
                    )?;
                }
            }
        }
        let field = |name: &str| csc.get(name).or_else(|| psc.get(name));

        let run_as_user = match field("runAsUser") {
            Some(v) => id("runAsUser", v)?,
            None => run_as_user,
        };
        let run_as_group = match field("runAsGroup") {
            Some(v) => id("runAsGroup", v)?,
            None => run_as_user,
        };
        if run_as_user == 0 && field("runAsNonRoot") == Some(&Value::Bool(true)) {
            return Err(bad(
                "runAsNonRoot",
                "true, but the container would run as uid 0: the kubelet refuses to start it",
            ));
        }
        let caps = csc.get("capabilities").map(|c| ("capabilities", c));
        let (seccomp, localhost_profile) = match field("seccompProfile") {
            None => (Seccomp::Unset, None),
            Some(p) => match p.get("type").and_then(Value::as_str) {
                Some("Unconfined") => (Seccomp::Unconfined, None),
                Some("RuntimeDefault") => (Seccomp::RuntimeDefault, None),
                Some("Localhost") => {
                    let path = p.get("localhostProfile").and_then(Value::as_str);
                    (
                        Seccomp::Localhost,
                        Some(descending("localhostProfile", path)?),
                    )
                }
                _ => return Err(bad("seccompProfile", &format!("unknown type in {p}"))),
            },
        };
        let app_armor = match field("appArmorProfile") {
            None => AppArmor::Unset,
            Some(p) => match p.get("type").and_then(Value::as_str) {
                Some("Unconfined") => AppArmor::Unconfined,
                Some("RuntimeDefault") => AppArmor::RuntimeDefault,
                Some("Localhost") => match p.get("localhostProfile").and_then(Value::as_str) {
                    Some(name) if !name.trim().is_empty() => AppArmor::Localhost(name.into()),
                    _ => return Err(bad("appArmorProfile", "Localhost without localhostProfile")),
                },
                _ => return Err(bad("appArmorProfile", &format!("unknown type in {p}"))),
            },
        };
        Ok(Pod {
            run_as_user,
            run_as_group,
            host_users: opt_bool(&spec, "hostUsers")?.unwrap_or(true),
            ids_per_pod: 65536,
            privileged: opt_bool(&csc, "privileged")?.unwrap_or(false),
            allow_privilege_escalation: opt_bool(&csc, "allowPrivilegeEscalation")?,
            capabilities_add: cap_list(caps, "add")?,
            capabilities_drop: cap_list(caps, "drop")?,
            proc_mount_unmasked: match csc.get("procMount").and_then(Value::as_str) {
                None | Some("Default") => false,
                Some("Unmasked") => true,
                Some(other) => return Err(bad("procMount", other)),
            },
            seccomp,
            localhost_profile,
            app_armor,
            devices: Vec::new(),
            service_account_token: false,
        })
    }
}

/// The API server's check of `localhostProfile` (pkg/apis/core/validation
/// `validateLocalDescendingPath`): set, relative, no `..` element.
fn descending(field: &str, path: Option<&str>) -> Result<String, LabError> {
    match path {
        Some(p) if !p.is_empty() && !p.starts_with('/') && !p.split('/').any(|e| e == "..") => {
            Ok(p.to_string())
        }
        Some(p) => Err(bad(
            field,
            &format!("{p:?} is not a descending relative path"),
        )),
        None => Err(bad(field, "missing: a Localhost profile names its file")),
    }
}

/// Every key of `m` is one the lab applies.
fn known(name: &str, m: &Map<String, Value>, fields: &[&str]) -> Result<(), LabError> {
    match m.keys().find(|k| !fields.contains(&k.as_str())) {
        Some(k) => Err(bad(
            &format!("{name}.{k}"),
            "a field the node lab does not apply (teach the lab and its CRI translation, then prove it)",
        )),
        None => Ok(()),
    }
}

fn bad(field: &str, detail: &str) -> LabError {
    LabError::BadInput {
        field: field.to_string(),
        detail: detail.to_string(),
    }
}

/// Parses one output; an empty string or `null` is an empty object.
fn object(name: &str, text: &str) -> Result<Map<String, Value>, LabError> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(other) => Err(bad(name, &format!("expected a JSON object, got {other}"))),
        Err(e) => Err(bad(name, &e.to_string())),
    }
}

fn id(name: &str, v: &Value) -> Result<u32, LabError> {
    v.as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| bad(name, &format!("not a uid/gid: {v}")))
}

fn opt_bool(m: &Map<String, Value>, name: &str) -> Result<Option<bool>, LabError> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(bad(name, &format!("not a boolean: {other}"))),
    }
}

fn cap_list(caps: Option<(&str, &Value)>, key: &str) -> Result<Vec<String>, LabError> {
    let Some((_, c)) = caps else {
        return Ok(Vec::new());
    };
    match c.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| bad(&format!("capabilities.{key}"), &i.to_string()))
            })
            .collect(),
        Some(other) => Err(bad(&format!("capabilities.{key}"), &other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn provider_nsjail_output() {
        let pod = Pod::from_provider_outputs(
            "{}",
            "{}",
            r#"{"allowPrivilegeEscalation":true,"capabilities":{"add":["NET_ADMIN"],"drop":["ALL"]},
                "privileged":false,"seccompProfile":{"type":"Unconfined"}}"#,
            1000,
        )
        .unwrap();
        assert_eq!(pod.run_as_user, 1000);
        assert_eq!(pod.run_as_group, 1000);
        assert!(pod.host_users);
        assert_eq!(pod.allow_privilege_escalation, Some(true));
        assert_eq!(pod.capabilities_add, vec!["NET_ADMIN"]);
        assert_eq!(pod.capabilities_drop, vec!["ALL"]);
        assert_eq!(pod.seccomp, Seccomp::Unconfined);
    }

    #[test]
    fn container_fields_win_over_pod_fields() {
        let pod = Pod::from_provider_outputs(
            r#"{"hostUsers":false}"#,
            r#"{"runAsUser":5,"seccompProfile":{"type":"RuntimeDefault"}}"#,
            r#"{"runAsUser":7,"procMount":"Unmasked"}"#,
            0,
        )
        .unwrap();
        assert!(!pod.host_users);
        assert_eq!((pod.run_as_user, pod.run_as_group), (7, 7));
        assert_eq!(pod.seccomp, Seccomp::RuntimeDefault);
        assert!(pod.proc_mount_unmasked);
    }

    #[test]
    fn unknown_fields_are_refused() {
        let e = Pod::from_provider_outputs("{}", "", r#"{"readOnlyRootFilesystem":true}"#, 0)
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("container_security_context.readOnlyRootFilesystem"),
            "{e}"
        );
        let e = Pod::from_provider_outputs(r#"{"hostUsers":false,"hostPID":true}"#, "", "", 0)
            .unwrap_err();
        assert!(e.to_string().contains("pod_spec.hostPID"), "{e}");
        let e =
            Pod::from_provider_outputs("{}", "", r#"{"capabilities":{"add":[],"ambient":[]}}"#, 0)
                .unwrap_err();
        assert!(e.to_string().contains("capabilities.ambient"), "{e}");
    }

    #[test]
    fn the_containers_apparmor_profile_wins_over_the_pods() {
        let pod = Pod::from_provider_outputs(
            "{}",
            r#"{"appArmorProfile":{"type":"RuntimeDefault"}}"#,
            r#"{"appArmorProfile":{"type":"Unconfined"}}"#,
            1000,
        )
        .unwrap();
        assert_eq!(pod.app_armor, AppArmor::Unconfined);
        let pod = Pod::from_provider_outputs("{}", "{}", "{}", 1000).unwrap();
        assert_eq!(pod.app_armor, AppArmor::Unset);
        let e = Pod::from_provider_outputs("{}", "", r#"{"appArmorProfile":{"type":"x"}}"#, 0)
            .unwrap_err();
        assert!(e.to_string().contains("appArmorProfile"), "{e}");
    }

    #[test]
    fn bad_types_name_the_field() {
        let e = Pod::from_provider_outputs("{\"hostUsers\":\"no\"}", "", "", 0).unwrap_err();
        assert!(e.to_string().contains("hostUsers"), "{e}");
    }
}
