//! [`Node`]: the facts about a node that shape a pod container — the
//! runtime's defaults, the kubelet's `seccompDefault` and the
//! `user.max_user_namespaces` sysctl.

use crate::error::LabError;

/// What a node's runtime gives a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeDefaults {
    /// `containerd` or `cri-o`.
    pub name: String,
    /// The default capability set, Kubernetes names (`CHOWN`, …).
    pub default_capabilities: Vec<String>,
    /// Paths masked below /proc and /sys unless `procMount: Unmasked`.
    pub masked_paths: Vec<String>,
    /// Paths made read-only unless `procMount: Unmasked`.
    pub readonly_paths: Vec<String>,
    /// Which profile `RuntimeDefault` means on this runtime.
    pub runtime_default_profile: SeccompProfileSource,
}

/// The seccomp profile file behind a runtime's `RuntimeDefault`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeccompProfileSource {
    /// containerd's RuntimeDefault: moby's `default.json`, resolved, plus
    /// `pkey_alloc`, `pkey_free` and `pkey_mprotect`, which containerd's
    /// built-in copy allows and moby 20.10's JSON lacks.
    Moby,
    /// `/usr/share/containers/seccomp.json` (containers-common: podman's
    /// default and the base of CRI-O's).
    ContainersCommon,
}

/// A node: its runtime, its kubelet's `seccompDefault`, and its
/// `user.max_user_namespaces`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The container runtime's defaults.
    pub runtime: RuntimeDefaults,
    /// kubelet `seccompDefault`: when true, [`Seccomp::Unset`](crate::Seccomp::Unset)
    /// means RuntimeDefault.
    pub seccomp_default: bool,
    /// `None` leaves the machine's value; `Some(n)` emulates the node
    /// sysctl with an outer user namespace whose limit is `n`
    /// (at most 2147483647, the kernel's maximum).
    pub max_user_namespaces: Option<u64>,
    /// The node enforces AppArmor and its runtime's default profile is
    /// loaded under this name (containerd: `cri-containerd.apparmor.d`,
    /// [`crate::apparmor`]); `None`: the node has no AppArmor.
    pub apparmor_default: Option<String>,
}

/// The runtime rows of the provider's capability data: the lab builds
/// containers from the same facts the engine decides from.
const CAPABILITIES_TOML: &str = include_str!("../../../schemas/capabilities.toml");

#[derive(serde::Deserialize)]
struct RuntimeRow {
    name: String,
    default_capabilities: Vec<String>,
    masked_paths: Vec<String>,
    readonly_paths: Vec<String>,
}

#[derive(serde::Deserialize)]
struct RuntimeRows {
    runtime: Vec<RuntimeRow>,
}

impl RuntimeDefaults {
    /// The runtime named `name` (`containerd`, `cri-o`) as the capability
    /// data's `[[runtime]]` row describes it (default capabilities, the
    /// kubelet's masked and read-only paths); RuntimeDefault is moby's
    /// profile on containerd and containers-common's on CRI-O.
    pub fn from_data(name: &str) -> Result<Self, LabError> {
        let rows: RuntimeRows = toml::from_str(CAPABILITIES_TOML)
            .map_err(|e| LabError::Harness(format!("schemas/capabilities.toml: {e}")))?;
        let row = rows
            .runtime
            .into_iter()
            .find(|r| r.name == name)
            .ok_or_else(|| LabError::Unsupported(format!("runtime {name} (no [[runtime]] row)")))?;
        Ok(RuntimeDefaults {
            runtime_default_profile: if row.name == "containerd" {
                SeccompProfileSource::Moby
            } else {
                SeccompProfileSource::ContainersCommon
            },
            name: row.name,
            default_capabilities: row.default_capabilities,
            masked_paths: row.masked_paths,
            readonly_paths: row.readonly_paths,
        })
    }

    /// containerd (`pkg/oci/spec.go` `defaultUnixCaps`).
    pub fn containerd() -> Result<Self, LabError> {
        Self::from_data("containerd")
    }

    /// CRI-O (`internal/config/capabilities` `Default()`).
    pub fn cri_o() -> Result<Self, LabError> {
        Self::from_data("cri-o")
    }
}

impl Node {
    /// A node with this runtime, `seccompDefault: false` and the machine's
    /// own `user.max_user_namespaces`.
    pub fn new(runtime: RuntimeDefaults) -> Self {
        Node {
            runtime,
            seccomp_default: false,
            max_user_namespaces: None,
            apparmor_default: None,
        }
    }
}
