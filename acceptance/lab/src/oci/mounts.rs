//! The mounts of a pod container: the ones every CRI container gets, the
//! caller's bind mounts, and device numbers for device nodes.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::spec::{IdMapping, OciMount};
use crate::LabError;

/// Where the kubelet mounts the service-account token volume.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// A bind mount the caller adds to the container (workload files, output
/// directories).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Host path.
    pub source: PathBuf,
    /// Path inside the container.
    pub destination: String,
    /// Mounted read-only.
    pub read_only: bool,
}

impl Mount {
    /// A read-only bind mount.
    pub fn bind_ro(source: impl Into<PathBuf>, destination: &str) -> Self {
        Mount {
            source: source.into(),
            destination: destination.to_string(),
            read_only: true,
        }
    }

    /// A read-write bind mount.
    pub fn bind_rw(source: impl Into<PathBuf>, destination: &str) -> Self {
        Mount {
            source: source.into(),
            destination: destination.to_string(),
            read_only: false,
        }
    }
}

pub(super) fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

pub(super) fn bind(source: &str, destination: &str, read_only: bool) -> OciMount {
    let mut options = strings(&["rbind"]);
    if read_only {
        options.push("ro".into());
    }
    OciMount {
        destination: destination.into(),
        kind: "bind".into(),
        source: source.into(),
        options,
        uid_mappings: Vec::new(),
        gid_mappings: Vec::new(),
    }
}

/// A read-only recursive bind mount, idmapped with `mapping` (uid and gid)
/// when given: how the CRI mounts the image's /usr and the pod's volumes
/// for `hostUsers: false`.
pub(super) fn idmapped_bind(
    source: &str,
    destination: &str,
    mapping: Option<IdMapping>,
) -> OciMount {
    let mut m = bind(source, destination, true);
    if let Some(map) = mapping {
        m.options.push("idmap".into());
        m.uid_mappings = vec![map];
        m.gid_mappings = vec![map];
    }
    m
}

/// The mounts every CRI container gets (containerd's `populateDefaultUnixSpec`).
pub(super) fn base_mounts(userns: bool) -> Vec<OciMount> {
    let m = |dst: &str, kind: &str, src: &str, opts: &[&str]| OciMount {
        destination: dst.into(),
        kind: kind.into(),
        source: src.into(),
        options: strings(opts),
        uid_mappings: Vec::new(),
        gid_mappings: Vec::new(),
    };
    let mut devpts = vec![
        "nosuid",
        "noexec",
        "newinstance",
        "ptmxmode=0666",
        "mode=0620",
    ];
    if !userns {
        devpts.push("gid=5");
    }
    vec![
        m("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"]),
        m(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        ),
        m("/dev/pts", "devpts", "devpts", &devpts),
        m(
            "/dev/shm",
            "tmpfs",
            "shm",
            &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        ),
        m(
            "/dev/mqueue",
            "mqueue",
            "mqueue",
            &["nosuid", "noexec", "nodev"],
        ),
        m(
            "/sys",
            "sysfs",
            "sysfs",
            &["nosuid", "noexec", "nodev", "ro"],
        ),
        m(
            "/sys/fs/cgroup",
            "cgroup",
            "cgroup",
            &["nosuid", "noexec", "nodev", "relatime", "ro"],
        ),
    ]
}

/// Major and minor number of a character device on this machine.
pub fn device_numbers(path: &Path) -> Result<(u64, u64), LabError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| LabError::Unsupported(format!("device {}: {e}", path.display())))?;
    let dev = meta.rdev();
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & 0xffff_f000);
    let minor = (dev & 0xff) | ((dev >> 12) & 0xffff_ff00);
    Ok((major, minor))
}
