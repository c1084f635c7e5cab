//! The checks. Each is a row of [`CHECKS`]: either it runs in the reporting
//! process (reads files, harmless syscalls, or starts other programs such as
//! newuidmap or sudo against child processes), or it changes namespaces or
//! restricts itself and therefore runs in a helper process: the probe
//! re-executes `/proc/self/exe __check NAME`, the helper performs the one
//! check and prints its [`Outcome`] as one JSON line. The reporting process
//! never changes its own namespaces.
//!
//! One module per area: [`kernel`], [`userns`] (user, network and UTS namespaces),
//! [`mount`] (procfs, devpts, overlay, pivot_root), [`landlock`], [`caps`]
//! (capabilities, seccomp, NoNewPrivs), [`filtered`] (syscalls a seccomp
//! profile may refuse, asked harmlessly), [`uidmap`] and [`newuidmap`]
//! (newuidmap/newgidmap and sub-ids for podman), [`nsjail`] (Coder Boundary's privilege step and jail
//! clones), [`cgroup`], [`lsm`] (SELinux, AppArmor), [`devices`], and
//! [`helpers`] (running helper processes).

use std::fs;
use std::io;

use crate::model::{Check, Outcome};
use crate::procfs::{self, MountEntry, ProcStatus};
use crate::sys::{self, errno_text};

pub mod caps;
pub mod cgroup;
pub mod devices;
pub mod filtered;
pub mod helpers;
pub mod kernel;
pub mod landlock;
pub mod lsm;
pub mod mount;
pub mod newuidmap;
pub mod nsjail;
pub mod uidmap;
pub mod userns;

pub use helpers::{HELPER_SUBCOMMAND, helper_main};

/// What the checks know about the process before running.
#[derive(Debug, Clone)]
pub struct Context {
    pub status: Result<ProcStatus, String>,
    pub mounts: Result<Vec<MountEntry>, String>,
    pub euid: u32,
    pub egid: u32,
}

impl Context {
    pub fn gather() -> Self {
        Context {
            status: read("/proc/self/status")
                .map(|t| procfs::parse_status(&t))
                .map_err(|e| io_text("/proc/self/status", &e)),
            mounts: read("/proc/self/mountinfo")
                .map(|t| procfs::parse_mountinfo(&t))
                .map_err(|e| io_text("/proc/self/mountinfo", &e)),
            euid: sys::euid(),
            egid: sys::egid(),
        }
    }

    /// `; this process runs under a seccomp filter (N filter(s))`, or empty.
    pub fn seccomp_note(&self) -> String {
        match &self.status {
            Ok(ProcStatus {
                seccomp: Some(2),
                seccomp_filters,
                ..
            }) => format!(
                "; this process runs under a seccomp filter ({} filter(s))",
                seccomp_filters.map_or_else(|| "?".to_string(), |n| n.to_string())
            ),
            _ => String::new(),
        }
    }

    /// Whether capability `name` is effective.
    pub fn effective(&self, name: &str) -> Option<bool> {
        let bit = procfs::capability_bit(name)?;
        self.status.as_ref().ok()?.effective(bit)
    }

    /// Whether capability `name` is in the bounding set.
    pub fn bounding(&self, name: &str) -> Option<bool> {
        let bit = procfs::capability_bit(name)?;
        self.status.as_ref().ok()?.bounding(bit)
    }

    /// NoNewPrivs from /proc/self/status.
    pub fn no_new_privs(&self) -> Option<bool> {
        self.status.as_ref().ok()?.no_new_privs
    }
}

/// Where a check runs.
#[derive(Clone, Copy)]
pub enum Run {
    /// In the reporting process.
    InProcess(fn(&Context) -> Outcome),
    /// In a `__check` helper process.
    Helper(fn(&Context) -> Outcome),
}

/// One row of the check table.
#[derive(Clone, Copy)]
pub struct CheckSpec {
    pub name: &'static str,
    pub run: Run,
}

const fn in_process(name: &'static str, f: fn(&Context) -> Outcome) -> CheckSpec {
    CheckSpec {
        name,
        run: Run::InProcess(f),
    }
}

const fn helper(name: &'static str, f: fn(&Context) -> Outcome) -> CheckSpec {
    CheckSpec {
        name,
        run: Run::Helper(f),
    }
}

/// Every check, in report order.
pub const CHECKS: &[CheckSpec] = &[
    in_process("kernel.release", kernel::release),
    in_process("userns.current", userns::current),
    in_process("userns.sysctl", userns::sysctl),
    helper("userns.unshare", userns::helper_unshare),
    helper("userns.clone", userns::helper_clone),
    helper("userns.map_self", userns::helper_map_self),
    helper("userns.map_root", userns::helper_map_root),
    helper("userns.netns", userns::helper_userns_netns),
    helper("netns.unshare", userns::helper_netns_unshare),
    helper("uts.sethostname", userns::helper_sethostname),
    in_process("proc.overmounts", mount::proc_overmounts),
    helper("pidns.proc_mount", mount::helper_proc_mount),
    helper("mount.pivot_root", mount::helper_pivot_root),
    helper("devpts.mount", mount::helper_devpts_mount),
    helper("overlay.userns", mount::helper_overlay_mount),
    in_process("landlock.abi", landlock::abi),
    in_process("landlock.lsm", landlock::lsm),
    helper("landlock.restrict", landlock::helper_restrict),
    in_process("seccomp.mode", caps::seccomp_mode),
    in_process("seccomp.umount2", filtered::umount2),
    in_process("seccomp.setns", filtered::setns),
    in_process("seccomp.keyctl", filtered::keyctl),
    in_process("seccomp.open_tree", filtered::open_tree),
    helper("seccomp.move_mount", filtered::helper_move_mount),
    in_process("seccomp.mount_setattr", filtered::mount_setattr),
    in_process("caps.effective", caps::effective_set),
    in_process("caps.bounding", caps::bounding_set),
    in_process("cap.net_admin", caps::net_admin),
    in_process("cap.sys_admin", caps::sys_admin),
    in_process("cap.setuid", caps::setuid),
    in_process("cap.setgid", caps::setgid),
    in_process("cap.setfcap", caps::setfcap),
    in_process("caps.setid_effective", caps::setid_effective),
    in_process("no_new_privs", caps::no_new_privs),
    in_process("uidmap.helpers", uidmap::helpers_installed),
    in_process("subid.ranges", uidmap::subid_ranges),
    in_process("uidmap.newuidmap", newuidmap::run),
    in_process("nsjail.privileges", nsjail::privileges),
    in_process("nsjail.jail_userns", nsjail::jail_userns),
    in_process("nsjail.jail_netns", nsjail::jail_netns),
    in_process("cgroup.v2", cgroup::v2),
    in_process("cgroup.delegation", cgroup::delegation),
    in_process("selinux", lsm::selinux),
    in_process("apparmor", lsm::apparmor),
    in_process("dev.fuse", devices::fuse),
    in_process("dev.net_tun", devices::net_tun),
];

/// Runs every check of [`CHECKS`].
pub fn run_all(ctx: &Context) -> Vec<Check> {
    CHECKS
        .iter()
        .map(|spec| {
            let outcome = match spec.run {
                Run::InProcess(f) => f(ctx),
                Run::Helper(_) => helpers::run_helper(spec.name),
            };
            Check {
                name: spec.name,
                status: outcome.status,
                detail: outcome.detail,
                value: outcome.value,
            }
        })
        .collect()
}

pub(crate) fn read(path: &str) -> io::Result<String> {
    fs::read_to_string(path)
}

pub(crate) fn io_text(path: &str, e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(errno) => format!("{path}: {}", errno_text(errno)),
        None => format!("{path}: {e}"),
    }
}

pub(crate) fn is_not_found(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound
}

/// `yes`/`no`/`unknown` for a detail text.
pub(crate) fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// A context for user 1000 with the given /proc/self/status text.
    pub fn ctx_with(status: &str) -> Context {
        Context {
            status: Ok(procfs::parse_status(status)),
            mounts: Ok(vec![]),
            euid: 1000,
            egid: 1000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requirements::REQUIREMENTS;

    #[test]
    fn check_names_are_unique() {
        for (i, a) in CHECKS.iter().enumerate() {
            assert!(
                CHECKS.iter().skip(i + 1).all(|b| b.name != a.name),
                "duplicate {}",
                a.name
            );
        }
    }

    #[test]
    fn every_required_check_exists() {
        for row in REQUIREMENTS {
            for check in row.any_of.iter().flat_map(|a| a.iter()) {
                assert!(
                    CHECKS.iter().any(|c| c.name == *check),
                    "requirement {:?} names unknown check {check}",
                    row.need
                );
            }
            if let Some(check) = row.when.deciding_check() {
                assert!(CHECKS.iter().any(|c| c.name == check), "{check}");
            }
        }
    }

    #[test]
    fn nested_helpers_do_not_shadow_report_checks() {
        for name in helpers::NESTED.iter().map(|n| n.name) {
            assert!(CHECKS.iter().all(|c| c.name != name), "{name}");
        }
    }
}
