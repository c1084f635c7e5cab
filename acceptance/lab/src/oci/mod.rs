//! The pod → OCI translation: the `config.json` that kubelet + containerd
//! (or CRI-O) hand to the OCI runtime for a container of a [`Pod`] on a
//! [`Node`]. This is the one place that knows the CRI's rules:
//!
//! - capabilities only in bounding/effective/permitted (the CRI clears
//!   inheritable and ambient), `drop: [ALL]` first, then `add`;
//! - `noNewPrivileges` iff `allowPrivilegeEscalation: false`;
//! - the runtime's masked/read-only paths unless `procMount: Unmasked`;
//! - `hostUsers: false` → a user namespace mapping 0 → 100000 ×
//!   `idsPerPod`, and `/usr` (and the service-account token volume, when
//!   the pod has one) bind-mounted with `idmap`;
//! - seccomp resolved against the bounding set; no rlimits;
//! - namespaces pid, network, ipc, uts, mount, cgroup (+ user);
//!   `/sys` and `/sys/fs/cgroup` read-only.

mod mounts;
pub mod spec;

pub use mounts::{Mount, SERVICE_ACCOUNT_DIR, device_numbers};
use mounts::{base_mounts, bind, idmapped_bind};

use std::path::{Path, PathBuf};

use crate::caps;
use crate::seccomp;
use crate::{AppArmor, LabError, Node, Pod, Seccomp};
use spec::*;

/// The host id the pod's user namespace maps container id 0 to.
pub const USERNS_HOST_BASE: u32 = 100_000;

/// Lab-specific knobs of the translation that no pod field expresses.
#[derive(Debug, Clone, Default)]
pub struct OciOptions {
    /// A directory with 0666 copies of the device nodes (named by
    /// [`device_copy_name`]). When crun runs in a user namespace (pod or
    /// outer) it bind-mounts device nodes with the host's mode, and this
    /// machine's /dev/net/tun and /dev/fuse are 0600 where typical nodes
    /// have 0666; with this set, devices are bound from the copies instead.
    pub device_nodes_dir: Option<PathBuf>,
    /// Syscalls made to fail with an errno (e.g. `("landlock_create_ruleset", 38)`
    /// emulates a kernel without Landlock), on top of the pod's filter.
    pub deny_syscalls: Vec<(String, u32)>,
    /// Extra `KEY=value` environment entries.
    pub env: Vec<String>,
    /// The host directory (a tmpfs) bound as the pod's service-account
    /// token volume ([`Pod::service_account_token`]); unset, the kubelet's
    /// path for it is written ([`KUBELET_TOKEN_DIR`]).
    pub token_volume: Option<PathBuf>,
}

/// Where the kubelet keeps a pod's projected token volume (the pod uid
/// and volume suffix are placeholders).
pub const KUBELET_TOKEN_DIR: &str =
    "/var/lib/kubelet/pods/POD_UID/volumes/kubernetes.io~projected/kube-api-access-lab";

/// The typed pod → OCI translation, as the CRI does it; `process_args` is
/// the container's command. Refuses `privileged: true` (the provider never
/// outputs it).
pub fn oci_config(
    pod: &Pod,
    node: &Node,
    process_args: &[String],
    extra_mounts: &[Mount],
) -> Result<serde_json::Value, LabError> {
    let spec = build_spec(
        pod,
        node,
        process_args,
        extra_mounts,
        &OciOptions::default(),
    )?;
    to_value(&spec)
}

/// [`oci_config`] with lab options.
pub fn oci_config_with(
    pod: &Pod,
    node: &Node,
    process_args: &[String],
    extra_mounts: &[Mount],
    options: &OciOptions,
) -> Result<serde_json::Value, LabError> {
    to_value(&build_spec(pod, node, process_args, extra_mounts, options)?)
}

fn to_value(spec: &Spec) -> Result<serde_json::Value, LabError> {
    serde_json::to_value(spec).map_err(|e| LabError::Harness(format!("config.json: {e}")))
}

/// The file name of a device node's 0666 copy: `/dev/net/tun` → `dev_net_tun`.
pub fn device_copy_name(device: &str) -> String {
    device.trim_start_matches('/').replace('/', "_")
}

/// The pod's id mapping: container 0.. → host 100000.. (`idsPerPod` ids).
pub fn pod_id_mapping(pod: &Pod) -> IdMapping {
    IdMapping {
        container_id: 0,
        host_id: USERNS_HOST_BASE,
        size: pod.ids_per_pod,
    }
}

/// The container's capability set (OCI names) on this node.
pub fn container_capabilities(pod: &Pod, node: &Node) -> Vec<String> {
    let defaults: Vec<String> = node
        .runtime
        .default_capabilities
        .iter()
        .map(|c| caps::oci_name(c))
        .collect();
    caps::container_set(&defaults, &pod.capabilities_add, &pod.capabilities_drop)
}

pub(crate) fn build_spec(
    pod: &Pod,
    node: &Node,
    process_args: &[String],
    extra_mounts: &[Mount],
    options: &OciOptions,
) -> Result<Spec, LabError> {
    if pod.privileged {
        return Err(LabError::Unsupported(
            "privileged: true (all capabilities, no masks, no seccomp): the provider never outputs it"
                .into(),
        ));
    }
    let userns = !pod.host_users;
    let outer = node.max_user_namespaces.is_some();
    let caps = container_capabilities(pod, node);
    let mapping = pod_id_mapping(pod);
    let maps = if userns { vec![mapping] } else { Vec::new() };

    let mut mounts = base_mounts(userns);
    // An idmapped mount needs CAP_SYS_ADMIN in the filesystem's (initial)
    // user namespace, which crun lacks inside the outer namespace.
    let idmap = userns && !outer;
    let idmap_mapping = idmap.then_some(mapping);
    mounts.push(idmapped_bind("/usr", "/usr", idmap_mapping));
    if pod.service_account_token {
        let source = options
            .token_volume
            .clone()
            .unwrap_or_else(|| PathBuf::from(KUBELET_TOKEN_DIR));
        mounts.push(idmapped_bind(
            &source.display().to_string(),
            SERVICE_ACCOUNT_DIR,
            idmap_mapping,
        ));
    }

    let mut devices = Vec::new();
    let mut rules = vec![DeviceRule {
        allow: false,
        kind: None,
        major: None,
        minor: None,
        access: "rwm".into(),
    }];
    for d in &pod.devices {
        let (major, minor) = device_numbers(Path::new(d))?;
        rules.push(DeviceRule {
            allow: true,
            kind: Some("c".into()),
            major: Some(major),
            minor: Some(minor),
            access: "rwm".into(),
        });
        match (&options.device_nodes_dir, userns || outer) {
            (Some(dir), true) => mounts.push(bind(
                &dir.join(device_copy_name(d)).display().to_string(),
                d,
                false,
            )),
            _ => devices.push(Device {
                path: d.clone(),
                kind: "c".into(),
                major,
                minor,
                file_mode: 0o666,
                uid: 0,
                gid: 0,
            }),
        }
    }
    for m in extra_mounts {
        mounts.push(bind(
            &m.source.display().to_string(),
            &m.destination,
            m.read_only,
        ));
    }

    let mut namespaces: Vec<Namespace> = ["pid", "network", "ipc", "uts", "mount", "cgroup"]
        .iter()
        .map(|k| Namespace {
            kind: k.to_string(),
        })
        .collect();
    if userns {
        namespaces.push(Namespace {
            kind: "user".into(),
        });
    }

    let runtime_default = match pod.seccomp {
        Seccomp::Unconfined => false,
        Seccomp::RuntimeDefault => true,
        Seccomp::Unset => node.seccomp_default,
        Seccomp::Localhost => {
            return Err(LabError::Unsupported(
                "seccompProfile type Localhost: only the CRI lab (containerd) loads node-local profiles"
                    .into(),
            ));
        }
    };
    let mut filter = if runtime_default {
        Some(seccomp::runtime_default(
            node.runtime.runtime_default_profile,
            &caps,
        )?)
    } else {
        None
    };
    if !options.deny_syscalls.is_empty() {
        let f = filter.get_or_insert_with(seccomp::allow_all);
        for (name, errno) in &options.deny_syscalls {
            seccomp::deny(f, name, *errno);
        }
    }

    let apparmor_profile = apparmor_profile(pod, node)?;

    let home = if pod.run_as_user == 0 {
        "/root"
    } else {
        "/home/user"
    };
    // Extra entries replace defaults of the same name.
    let mut env: Vec<String> = vec![
        format!("PATH={}", crate::workload::DEFAULT_PATH),
        format!("HOME={home}"),
    ];
    for extra in &options.env {
        let key = extra.split('=').next().unwrap_or_default();
        env.retain(|e| e.split('=').next() != Some(key));
        env.push(extra.clone());
    }

    Ok(Spec {
        oci_version: "1.0.2".into(),
        process: Process {
            terminal: false,
            user: User {
                uid: pod.run_as_user,
                gid: pod.run_as_group,
            },
            args: process_args.to_vec(),
            env,
            cwd: "/".into(),
            capabilities: Capabilities {
                bounding: caps.clone(),
                effective: caps.clone(),
                permitted: caps,
            },
            no_new_privileges: pod.allow_privilege_escalation == Some(false),
            apparmor_profile,
        },
        root: Root {
            path: "rootfs".into(),
            readonly: false,
        },
        hostname: "pod".into(),
        mounts,
        linux: Linux {
            namespaces,
            uid_mappings: maps.clone(),
            gid_mappings: maps,
            masked_paths: if pod.proc_mount_unmasked {
                Vec::new()
            } else {
                node.runtime.masked_paths.clone()
            },
            readonly_paths: if pod.proc_mount_unmasked {
                Vec::new()
            } else {
                node.runtime.readonly_paths.clone()
            },
            devices,
            resources: Resources { devices: rules },
            seccomp: filter,
        },
    })
}

/// containerd's CRI (`generateApparmorSpecOpts`): without AppArmor on the
/// node only `Unconfined` or no profile is accepted ("apparmor is not
/// supported"); with it, no profile or `RuntimeDefault` is the default
/// profile and `Unconfined` none.
fn apparmor_profile(pod: &Pod, node: &Node) -> Result<Option<String>, LabError> {
    match (&pod.app_armor, &node.apparmor_default) {
        (AppArmor::Unconfined, _) | (AppArmor::Unset, None) => Ok(None),
        (AppArmor::Unset | AppArmor::RuntimeDefault, Some(p)) => Ok(Some(p.clone())),
        (AppArmor::RuntimeDefault, None) => Err(LabError::BadInput {
            field: "appArmorProfile".into(),
            detail: "RuntimeDefault on a node without AppArmor: containerd refuses the container (apparmor is not supported)".into(),
        }),
        (AppArmor::Localhost(name), _) => Err(LabError::Unsupported(format!(
            "appArmorProfile Localhost {name:?}: the lab loads only the runtime's default profile"
        ))),
    }
}
