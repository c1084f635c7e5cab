//! [`Node`]: the facts about a node that shape a pod container — the
//! runtime's defaults, the kubelet's `seccompDefault` and the
//! `user.max_user_namespaces` sysctl.

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
}

/// The kubelet's default masked paths (`pkg/securitycontext/util.go`),
/// which both runtimes receive for `procMount: Default`.
const KUBELET_MASKED: [&str; 11] = [
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

/// The kubelet's default read-only paths.
const KUBELET_READONLY: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

impl RuntimeDefaults {
    /// containerd (`pkg/oci/spec.go` `defaultUnixCaps`, the kubelet's
    /// masked/read-only lists, moby's profile for RuntimeDefault).
    pub fn containerd() -> Self {
        RuntimeDefaults {
            name: "containerd".into(),
            default_capabilities: strings(&[
                "CHOWN",
                "DAC_OVERRIDE",
                "FSETID",
                "FOWNER",
                "MKNOD",
                "NET_RAW",
                "SETGID",
                "SETUID",
                "SETFCAP",
                "SETPCAP",
                "NET_BIND_SERVICE",
                "SYS_CHROOT",
                "KILL",
                "AUDIT_WRITE",
            ]),
            masked_paths: strings(&KUBELET_MASKED),
            readonly_paths: strings(&KUBELET_READONLY),
            runtime_default_profile: SeccompProfileSource::Moby,
        }
    }

    /// CRI-O ≥ 1.18 (`internal/config/capabilities` `Default()`: no
    /// MKNOD, NET_RAW, SYS_CHROOT, AUDIT_WRITE, SETFCAP), the kubelet's
    /// lists, containers-common's profile for RuntimeDefault.
    pub fn cri_o() -> Self {
        RuntimeDefaults {
            name: "cri-o".into(),
            default_capabilities: strings(&[
                "CHOWN",
                "DAC_OVERRIDE",
                "FSETID",
                "FOWNER",
                "SETGID",
                "SETUID",
                "SETPCAP",
                "NET_BIND_SERVICE",
                "KILL",
            ]),
            masked_paths: strings(&KUBELET_MASKED),
            readonly_paths: strings(&KUBELET_READONLY),
            runtime_default_profile: SeccompProfileSource::ContainersCommon,
        }
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
        }
    }
}
