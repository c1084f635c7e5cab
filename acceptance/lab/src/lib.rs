//! Node lab: the container that kubelet + containerd (or CRI-O) create
//! for a pod, emulated on this machine's real kernel with Debian's crun,
//! with the real nested sandbox run inside it.
//!
//! - [`Pod`] is what the kubelet asks the runtime for (the provider's pod
//!   outputs, [`Pod::from_provider_outputs`]); [`Node`] is the runtime's
//!   defaults ([`RuntimeDefaults::containerd`], [`RuntimeDefaults::cri_o`]),
//!   the kubelet's `seccompDefault` and `user.max_user_namespaces`.
//! - [`oci_config`] is the typed pod → OCI translation, as the CRI does it.
//! - [`Lab::run`] builds a bundle (rootfs + config.json), runs it with
//!   crun in a private mount namespace (cgroup2 there only; an outer user
//!   namespace emulates the node sysctl), runs the [`Workload`] inside and
//!   returns an [`Outcome`]. Nothing on the host is changed: no sysctl is
//!   written, the host's /sys/fs/cgroup is never unmounted, and each
//!   bundle is removed after its run.
//!
//! - [`vm`] runs the same pod containers on other kernels (Debian's cloud
//!   kernels 6.1 and 6.12, as EKS nodes run them) in QEMU micro-VMs.
//!
//! Everything needs root and the tools `acceptance/lab/setup.sh` installs,
//! except the translation itself.

pub mod apparmor;
mod assets;
mod caps;
pub mod cri;
mod error;
pub mod host;
mod lab;
mod node;
pub mod oci;
mod pod;
pub mod record;
mod rootfs;
mod runner;
mod seccomp;
pub mod vm;
mod workload;

pub use caps::{all_capabilities, container_set};
pub use error::LabError;
pub use host::LabVersions;
pub use lab::{DEFAULT_TIMEOUT, Lab, Outcome, RunOptions};
pub use node::{Node, RuntimeDefaults, SeccompProfileSource};
pub use oci::{
    KUBELET_TOKEN_DIR, Mount, OciOptions, SERVICE_ACCOUNT_DIR, oci_config, oci_config_with,
};
pub use pod::{AppArmor, Pod, Seccomp};
pub use rootfs::subid_lines;
pub use seccomp::{moby_cache_dir, profile_path};
pub use workload::{PodmanOptions, Workload};
