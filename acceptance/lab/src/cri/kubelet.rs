//! Pod → CRI, as the kubelet translates it: the [`Pod`] fields the provider
//! outputs become the `RunPodSandbox` and `CreateContainer` requests the
//! kubelet sends containerd. Each field cites the kubelet code it follows
//! (kubernetes/kubernetes, release-1.34):
//!
//! - `pkg/kubelet/kuberuntime/kuberuntime_sandbox.go`
//!   `generatePodSandboxConfig` / `generatePodSandboxLinuxConfig`: metadata,
//!   labels, the pod's seccomp profile, namespace options;
//! - `pkg/kubelet/kuberuntime/util/util.go` `NamespacesForPod`: network and
//!   IPC per pod, PID per container (no `shareProcessNamespace`), and the
//!   user namespace from `GetOrCreateUserNamespaceMappings`;
//! - `pkg/kubelet/userns/userns_manager.go`: `hostUsers: false` → mode POD
//!   with one mapping of `idsPerPod` ids (default 65536) at a multiple of
//!   `idsPerPod` above the node's own ids; container id 0;
//! - `pkg/kubelet/kuberuntime/security_context.go`
//!   `determineEffectiveSecurityContext`: capabilities add/drop, run as
//!   user, `NoNewPrivs = AddNoNewPrivileges(sc)` (only an explicit
//!   `allowPrivilegeEscalation: false`), masked and read-only paths from
//!   `procMount`, the container's seccomp profile;
//! - `pkg/kubelet/kuberuntime/helpers.go` `getSeccompProfile`: the
//!   container's profile, else the pod's, else RuntimeDefault when the
//!   kubelet's `seccompDefault` is on, else Unconfined (sent explicitly);
//!   Localhost profiles are files under `<root-dir>/seccomp`;
//! - `pkg/securitycontext/util.go` `ConvertToRuntimeMaskedPaths` /
//!   `ConvertToRuntimeReadonlyPaths`: the default lists for procMount
//!   Default, empty lists for Unmasked;
//! - `pkg/kubelet/kuberuntime/kuberuntime_container.go` `makeDevices`:
//!   devices (from a device plugin) with their permissions.

use super::api;
use crate::{AppArmor, Pod, Seccomp};

/// pkg/securitycontext/util.go `defaultMaskedPaths` (release-1.34).
pub const KUBELET_MASKED_PATHS: [&str; 11] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// pkg/securitycontext/util.go `defaultReadonlyPaths` (release-1.34).
pub const KUBELET_READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The kubelet's settings that shape the requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kubelet {
    /// `seccompDefault`: an unprofiled pod gets RuntimeDefault.
    pub seccomp_default: bool,
    /// `userNamespaces.idsPerPod` (default 65536).
    pub ids_per_pod: u32,
    /// `<root-dir>/seccomp`, where Localhost profiles live.
    pub seccomp_root: String,
}

impl Default for Kubelet {
    fn default() -> Self {
        Kubelet {
            seccomp_default: false,
            ids_per_pod: 65536,
            seccomp_root: "/var/lib/kubelet/seccomp".into(),
        }
    }
}

/// Names and places of one pod, chosen by the caller (the API server and
/// the kubelet's pod workers in a cluster).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodIdentity {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    /// The pod's slot in the kubelet's user-namespace allocator (≥ 1:
    /// range 0 is the node's own ids).
    pub userns_slot: u32,
    /// `CgroupParent` (the kubelet's `kubepods/<qos>/pod<uid>`).
    pub cgroup_parent: String,
    pub log_directory: String,
}

/// The two requests for one pod with one container.
#[derive(Debug, Clone, PartialEq)]
pub struct PodRequests {
    pub sandbox: api::PodSandboxConfig,
    pub container: api::ContainerConfig,
}

/// The kubelet's translation of `pod` running `image` with `command`.
pub fn translate(
    pod: &Pod,
    kubelet: &Kubelet,
    id: &PodIdentity,
    image: &str,
    command: &[String],
    mounts: Vec<api::Mount>,
) -> PodRequests {
    let namespaces = namespaces(pod, kubelet, id);
    let seccomp = seccomp_profile(pod, kubelet);
    let labels: std::collections::HashMap<String, String> = [
        ("io.kubernetes.pod.name", id.name.as_str()),
        ("io.kubernetes.pod.namespace", id.namespace.as_str()),
        ("io.kubernetes.pod.uid", id.uid.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let sandbox = api::PodSandboxConfig {
        metadata: Some(api::PodSandboxMetadata {
            name: id.name.clone(),
            uid: id.uid.clone(),
            namespace: id.namespace.clone(),
            attempt: 0,
        }),
        hostname: id.name.clone(),
        log_directory: id.log_directory.clone(),
        labels: labels.clone(),
        linux: Some(api::LinuxPodSandboxConfig {
            cgroup_parent: id.cgroup_parent.clone(),
            security_context: Some(api::LinuxSandboxSecurityContext {
                namespace_options: Some(namespaces.clone()),
                // The sandbox gets the pod-level profile (container name "").
                seccomp: Some(seccomp.clone()),
                run_as_user: (pod.run_as_user != 0).then_some(api::Int64Value {
                    value: i64::from(pod.run_as_user),
                }),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let (masked, readonly) = if pod.proc_mount_unmasked {
        (Vec::new(), Vec::new())
    } else {
        (
            KUBELET_MASKED_PATHS.iter().map(|s| s.to_string()).collect(),
            KUBELET_READONLY_PATHS
                .iter()
                .map(|s| s.to_string())
                .collect(),
        )
    };
    let security_context = api::LinuxContainerSecurityContext {
        capabilities: Some(api::Capability {
            add_capabilities: pod.capabilities_add.clone(),
            drop_capabilities: pod.capabilities_drop.clone(),
            add_ambient_capabilities: Vec::new(),
        }),
        privileged: pod.privileged,
        namespace_options: Some(namespaces),
        // The image's user is root; a non-root agent is `runAsUser` (or an
        // image USER, which the kubelet sends the same way).
        run_as_user: Some(api::Int64Value {
            value: i64::from(pod.run_as_user),
        }),
        run_as_group: Some(api::Int64Value {
            value: i64::from(pod.run_as_group),
        }),
        no_new_privs: pod.allow_privilege_escalation == Some(false) && !pod.privileged,
        masked_paths: masked,
        readonly_paths: readonly,
        seccomp: Some(seccomp),
        apparmor: apparmor_profile(pod),
        ..Default::default()
    };
    let devices = pod
        .devices
        .iter()
        .map(|path| api::Device {
            container_path: path.clone(),
            host_path: path.clone(),
            permissions: "rw".into(),
        })
        .collect();
    let container = api::ContainerConfig {
        metadata: Some(api::ContainerMetadata {
            name: "agent".into(),
            attempt: 0,
        }),
        image: Some(api::ImageSpec {
            image: image.to_string(),
            ..Default::default()
        }),
        command: command.to_vec(),
        log_path: "agent/0.log".into(),
        labels: [
            (
                "io.kubernetes.container.name".to_string(),
                "agent".to_string(),
            ),
            ("io.kubernetes.pod.uid".to_string(), id.uid.clone()),
        ]
        .into_iter()
        .collect(),
        mounts,
        devices,
        linux: Some(api::LinuxContainerConfig {
            security_context: Some(security_context),
            ..Default::default()
        }),
        ..Default::default()
    };
    PodRequests { sandbox, container }
}

/// `NamespacesForPod`: network and IPC per pod, PID per container; the
/// user namespace per `hostUsers`.
fn namespaces(pod: &Pod, kubelet: &Kubelet, id: &PodIdentity) -> api::NamespaceOption {
    let userns = if pod.host_users {
        api::UserNamespace {
            mode: api::NamespaceMode::Node as i32,
            ..Default::default()
        }
    } else {
        let mapping = api::IdMapping {
            host_id: kubelet.ids_per_pod * id.userns_slot.max(1),
            container_id: 0,
            length: kubelet.ids_per_pod,
        };
        api::UserNamespace {
            mode: api::NamespaceMode::Pod as i32,
            uids: vec![mapping],
            gids: vec![mapping],
        }
    };
    api::NamespaceOption {
        network: api::NamespaceMode::Pod as i32,
        pid: api::NamespaceMode::Container as i32,
        ipc: api::NamespaceMode::Pod as i32,
        target_id: String::new(),
        userns_options: Some(userns),
    }
}

/// `getSeccompProfile`: Unset is RuntimeDefault under `seccompDefault`,
/// else Unconfined, sent explicitly.
fn seccomp_profile(pod: &Pod, kubelet: &Kubelet) -> api::SecurityProfile {
    use api::security_profile::ProfileType;
    let (profile_type, localhost_ref) = match pod.seccomp {
        Seccomp::RuntimeDefault => (ProfileType::RuntimeDefault, String::new()),
        Seccomp::Unconfined => (ProfileType::Unconfined, String::new()),
        Seccomp::Unset if kubelet.seccomp_default => (ProfileType::RuntimeDefault, String::new()),
        Seccomp::Unset => (ProfileType::Unconfined, String::new()),
        // `filepath.Join(m.seccompProfileRoot, *spec.LocalhostProfile)`.
        Seccomp::Localhost => (
            ProfileType::Localhost,
            format!(
                "{}/{}",
                kubelet.seccomp_root.trim_end_matches('/'),
                pod.localhost_profile.as_deref().unwrap_or_default()
            ),
        ),
    };
    api::SecurityProfile {
        profile_type: profile_type as i32,
        localhost_ref,
    }
}

/// `getAppArmorProfile` (Kubernetes ≥ 1.30): no field sends none (the
/// runtime then applies its default where the node has AppArmor);
/// `Localhost` names `localhost/<name>`.
fn apparmor_profile(pod: &Pod) -> Option<api::SecurityProfile> {
    use api::security_profile::ProfileType;
    let (profile_type, localhost_ref) = match &pod.app_armor {
        AppArmor::Unset => return None,
        AppArmor::RuntimeDefault => (ProfileType::RuntimeDefault, String::new()),
        AppArmor::Unconfined => (ProfileType::Unconfined, String::new()),
        AppArmor::Localhost(name) => (ProfileType::Localhost, format!("localhost/{name}")),
    };
    Some(api::SecurityProfile {
        profile_type: profile_type as i32,
        localhost_ref,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use api::security_profile::ProfileType;

    fn id() -> PodIdentity {
        PodIdentity {
            name: "p".into(),
            namespace: "default".into(),
            uid: "u".into(),
            userns_slot: 3,
            cgroup_parent: "/node-lab/podu".into(),
            log_directory: "/tmp/logs".into(),
        }
    }

    /// The translation on a kubelet with its defaults.
    fn with_default_kubelet(pod: &Pod) -> PodRequests {
        translate(pod, &Kubelet::default(), &id(), "i", &[], vec![])
    }

    fn sc(r: &PodRequests) -> &api::LinuxContainerSecurityContext {
        r.container
            .linux
            .as_ref()
            .unwrap()
            .security_context
            .as_ref()
            .unwrap()
    }

    #[test]
    fn an_apparmor_profile_is_sent_only_when_the_pod_names_one() {
        // kubelet getAppArmorProfile: no field, no SecurityProfile (the
        // runtime picks its default); Unconfined and Localhost sent as such.
        let off = with_default_kubelet(&Pod::default());
        assert_eq!(sc(&off).apparmor, None);
        let pod = Pod {
            app_armor: AppArmor::Unconfined,
            ..Pod::default()
        };
        let r = with_default_kubelet(&pod);
        assert_eq!(
            sc(&r).apparmor.as_ref().unwrap().profile_type,
            ProfileType::Unconfined as i32
        );
        let pod = Pod {
            app_armor: AppArmor::Localhost("k8s-x".into()),
            ..Pod::default()
        };
        let r = with_default_kubelet(&pod);
        assert_eq!(
            sc(&r).apparmor.as_ref().unwrap().localhost_ref,
            "localhost/k8s-x"
        );
    }

    #[test]
    fn an_unprofiled_pod_is_unconfined_unless_the_kubelet_defaults_to_runtime_default() {
        let pod = Pod::default();
        let off = with_default_kubelet(&pod);
        assert_eq!(
            sc(&off).seccomp.as_ref().unwrap().profile_type,
            ProfileType::Unconfined as i32
        );
        let on = Kubelet {
            seccomp_default: true,
            ..Kubelet::default()
        };
        let r = translate(&pod, &on, &id(), "i", &[], vec![]);
        assert_eq!(
            sc(&r).seccomp.as_ref().unwrap().profile_type,
            ProfileType::RuntimeDefault as i32
        );
        let sandbox = r.sandbox.linux.as_ref().unwrap().security_context.as_ref();
        assert_eq!(
            sandbox.unwrap().seccomp.as_ref().unwrap().profile_type,
            ProfileType::RuntimeDefault as i32
        );
    }

    #[test]
    fn host_users_false_maps_ids_per_pod_ids_at_the_pods_slot() {
        let pod = Pod {
            host_users: false,
            ..Pod::default()
        };
        let r = with_default_kubelet(&pod);
        let ns = sc(&r).namespace_options.as_ref().unwrap();
        let u = ns.userns_options.as_ref().unwrap();
        assert_eq!(u.mode, api::NamespaceMode::Pod as i32);
        assert_eq!(
            u.uids,
            vec![api::IdMapping {
                host_id: 3 * 65536,
                container_id: 0,
                length: 65536
            }]
        );
        assert_eq!(u.uids, u.gids);
        assert_eq!(ns.pid, api::NamespaceMode::Container as i32);
        let node = with_default_kubelet(&Pod::default());
        let u = sc(&node)
            .namespace_options
            .as_ref()
            .unwrap()
            .userns_options
            .as_ref()
            .unwrap();
        assert_eq!(u.mode, api::NamespaceMode::Node as i32);
        assert!(u.uids.is_empty());
    }

    #[test]
    fn proc_mount_decides_the_masked_and_read_only_lists() {
        let r = with_default_kubelet(&Pod::default());
        assert_eq!(sc(&r).masked_paths.len(), 11);
        assert!(sc(&r).readonly_paths.contains(&"/proc/sys".to_string()));
        let pod = Pod {
            proc_mount_unmasked: true,
            ..Pod::default()
        };
        let r = with_default_kubelet(&pod);
        assert!(sc(&r).masked_paths.is_empty() && sc(&r).readonly_paths.is_empty());
    }

    #[test]
    fn only_an_explicit_false_sets_no_new_privs() {
        for (ape, nnp) in [(None, false), (Some(true), false), (Some(false), true)] {
            let pod = Pod {
                allow_privilege_escalation: ape,
                ..Pod::default()
            };
            let r = with_default_kubelet(&pod);
            assert_eq!(sc(&r).no_new_privs, nnp, "{ape:?}");
        }
    }

    #[test]
    fn devices_are_the_node_path_with_rw() {
        let pod = Pod {
            devices: vec!["/dev/net/tun".into()],
            capabilities_add: vec!["SYS_ADMIN".into()],
            capabilities_drop: vec!["ALL".into()],
            run_as_user: 1000,
            run_as_group: 1000,
            ..Pod::default()
        };
        let r = with_default_kubelet(&pod);
        assert_eq!(
            r.container.devices,
            vec![api::Device {
                container_path: "/dev/net/tun".into(),
                host_path: "/dev/net/tun".into(),
                permissions: "rw".into()
            }]
        );
        let caps = sc(&r).capabilities.as_ref().unwrap();
        assert_eq!(
            (
                caps.add_capabilities.clone(),
                caps.drop_capabilities.clone()
            ),
            (vec!["SYS_ADMIN".to_string()], vec!["ALL".to_string()])
        );
        assert_eq!(sc(&r).run_as_user.as_ref().unwrap().value, 1000);
    }
}
