//! The machine the lab runs on: whether it can run (root, the tools and
//! files it needs, each with the Debian package that provides it) and
//! what it is (kernel, runtime and sandbox versions, Landlock, LSMs).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::seccomp;
use crate::{LabError, SeccompProfileSource};

/// Tools the lab and its workloads use, with the bookworm package of each.
/// They must be under /usr: the pod containers see the host's /usr only.
const TOOLS: [(&str, &str); 17] = [
    ("crun", "crun"),
    ("bwrap", "bubblewrap"),
    ("podman", "podman"),
    ("conmon", "conmon"),
    ("catatonit", "catatonit"),
    ("newuidmap", "uidmap"),
    ("newgidmap", "uidmap"),
    ("sudo", "sudo"),
    ("setpriv", "util-linux"),
    ("unshare", "util-linux"),
    ("iptables-nft", "iptables"),
    ("ip", "iproute2"),
    ("sysctl", "procps"),
    ("setcap", "libcap2-bin"),
    ("busybox", "busybox-static"),
    ("mknod", "coreutils"),
    ("tar", "tar"),
];

/// Versions and kernel features of the machine the lab runs on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LabVersions {
    /// `uname -r`.
    pub kernel: String,
    /// First line of `crun --version`.
    pub crun: String,
    /// `bwrap --version`.
    pub bwrap: String,
    /// `podman --version`.
    pub podman: String,
    /// The kernel's Landlock ABI; `None` when Landlock is not built or
    /// not enabled.
    pub landlock_abi: Option<u32>,
    /// The active LSMs (`/sys/kernel/security/lsm`).
    pub lsms: Vec<String>,
}

impl LabVersions {
    /// The kernel series, `6.18` of `6.18.44-fc-v669`.
    pub fn kernel_series(&self) -> String {
        self.kernel.split('.').take(2).collect::<Vec<_>>().join(".")
    }
}

/// The absolute path of a tool under /usr, if present.
pub fn usr_tool(name: &str) -> Option<PathBuf> {
    ["/usr/sbin", "/usr/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

/// Whether this process runs with effective uid 0.
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// Checks everything the lab needs and lists what is missing, each item
/// with the package that provides it.
pub fn check() -> Result<(), LabError> {
    if !is_root() {
        return Err(LabError::NotRoot);
    }
    let mut missing: Vec<String> = TOOLS
        .iter()
        .filter(|(tool, _)| usr_tool(tool).is_none())
        .map(|(tool, pkg)| format!("{tool} (package {pkg})"))
        .collect();
    for (source, pkg) in [
        (
            SeccompProfileSource::Moby,
            "golang-github-docker-docker-dev",
        ),
        (
            SeccompProfileSource::ContainersCommon,
            "golang-github-containers-common",
        ),
    ] {
        if seccomp::profile_path(source).is_none() {
            let looked: Vec<String> = seccomp::profile_candidates(source)
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            missing.push(format!(
                "seccomp profile {} (package {pkg})",
                looked.join(" or ")
            ));
        }
    }
    if !Path::new("/etc/containers/policy.json").is_file() {
        missing
            .push("/etc/containers/policy.json (package golang-github-containers-common)".into());
    }
    let filesystems = std::fs::read_to_string("/proc/filesystems").unwrap_or_default();
    if !filesystems.contains("cgroup2") {
        missing.push("cgroup2 support in the kernel".into());
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(LabError::Missing(missing))
    }
}

/// The first line a command prints (stdout, else stderr), or why not.
pub fn first_line(program: &str, args: &[&str]) -> String {
    match Command::new(program).args(args).output() {
        Ok(out) => {
            let text = if out.stdout.is_empty() {
                out.stderr
            } else {
                out.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        }
        Err(e) => format!("unknown ({program}: {e})"),
    }
}

/// The running kernel's Landlock ABI, or why there is none.
pub fn landlock_abi() -> Result<u32, String> {
    // No ruleset, no flags and no no_new_privs: apply() only probes.
    let status = landlock::RestrictSelf::default()
        .no_new_privs(false)
        .apply()
        .map_err(|e| e.to_string())?;
    match status.landlock {
        landlock::LandlockStatus::Available {
            effective_abi,
            kernel_abi,
        } => match kernel_abi {
            Some(v) => u32::try_from(v).map_err(|e| e.to_string()),
            None => effective_abi
                .to_string()
                .parse::<u32>()
                .map_err(|e| e.to_string()),
        },
        landlock::LandlockStatus::NotEnabled => {
            Err("Landlock is built but not enabled (EOPNOTSUPP)".into())
        }
        landlock::LandlockStatus::NotImplemented => {
            Err("Landlock is not implemented (ENOSYS)".into())
        }
    }
}

/// The LSM list. securityfs is mounted only in a private mount namespace
/// when it is not mounted already; the host's mounts are not touched.
pub fn lsms() -> Vec<String> {
    let path = "/sys/kernel/security/lsm";
    let text = std::fs::read_to_string(path).ok().or_else(|| {
        Command::new("unshare")
            .args(["--mount", "--propagation", "private", "--", "/bin/sh", "-c"])
            .arg(format!(
                "mount -t securityfs securityfs /sys/kernel/security && cat {path}"
            ))
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    });
    text.unwrap_or_default()
        .trim()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Collects [`LabVersions`].
pub fn versions() -> LabVersions {
    LabVersions {
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|e| format!("unknown ({e})")),
        crun: first_line("crun", &["--version"]),
        bwrap: first_line("bwrap", &["--version"]),
        podman: first_line("podman", &["--version"]),
        landlock_abi: landlock_abi().ok(),
        lsms: lsms(),
    }
}
