//! What each sandbox needs, as data. A sandbox has one or more modes (the
//! ways it can be started, e.g. nsjail with or without `--no-user-namespace`).
//! A requirement row applies to some modes and, through [`When`], to some
//! users; it is met by any one of its alternatives, each a list of checks
//! that must all be `ok`. The evaluation is in `verdict.rs`.
//!
//! Every `source` names public material: `owner/repo:path` on GitHub, or an
//! https URL.

use crate::model::Sandbox;

/// One way of starting a sandbox.
#[derive(Debug, Clone, Copy)]
pub struct Mode {
    pub sandbox: Sandbox,
    pub name: &'static str,
    /// Arguments that select this mode (empty for the default mode).
    pub args: &'static [&'static str],
    /// How to select it, in words (shown when only this mode works).
    pub how: &'static str,
    /// An environment variable that selects this mode when it is a true
    /// boolean (Go's `strconv.ParseBool`), as the sandbox itself reads it.
    pub env: Option<&'static str>,
}

/// The modes; the first one of a sandbox is its default.
pub const MODES: &[Mode] = &[
    Mode {
        sandbox: Sandbox::Nsjail,
        name: "user-namespace",
        args: &[],
        how: "run boundary without --no-user-namespace (and without BOUNDARY_NO_USER_NAMESPACE=true)",
        env: None,
    },
    Mode {
        sandbox: Sandbox::Nsjail,
        name: "no-user-namespace",
        args: &["--no-user-namespace"],
        how: "run boundary with --no-user-namespace (or BOUNDARY_NO_USER_NAMESPACE=true)",
        env: Some("BOUNDARY_NO_USER_NAMESPACE"),
    },
    Mode {
        sandbox: Sandbox::Landjail,
        name: "default",
        args: &[],
        how: "run boundary --jail-type landjail",
        env: None,
    },
    Mode {
        sandbox: Sandbox::Bubblewrap,
        name: "default",
        args: &[],
        how: "run bwrap",
        env: None,
    },
    Mode {
        sandbox: Sandbox::Podman,
        name: "default",
        args: &[],
        how: "run podman run without --uts",
        env: None,
    },
    Mode {
        sandbox: Sandbox::Podman,
        name: "uts-host",
        args: &["--uts=host"],
        how: "run the nested containers with podman run --uts=host (or uts = \"host\" in containers.conf)",
        env: None,
    },
];

/// Which users a row applies to. The user is the one the probe runs as,
/// i.e. the sandbox's user when the probe runs with the workload's
/// security context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Always,
    /// euid 0.
    Root,
    /// euid != 0.
    NonRoot,
    /// euid != 0 and /etc/subuid or /etc/subgid has ranges for the user.
    NonRootWithSubIds,
    /// euid != 0 and neither file has ranges for the user.
    NonRootWithoutSubIds,
}

impl When {
    /// The check whose result decides the condition, if any (reported as
    /// unknown when the condition cannot be decided).
    pub fn deciding_check(self) -> Option<&'static str> {
        match self {
            When::NonRootWithSubIds | When::NonRootWithoutSubIds => Some("subid.ranges"),
            _ => None,
        }
    }
}

/// One requirement row.
#[derive(Debug, Clone, Copy)]
pub struct Requirement {
    pub sandbox: Sandbox,
    /// The modes the row applies in; empty means all of the sandbox's modes.
    pub modes: &'static [&'static str],
    pub when: When,
    /// What is needed, in words (shown for unmet requirements).
    pub need: &'static str,
    /// Alternatives; the requirement is met when every check of one of
    /// them is `ok`.
    pub any_of: &'static [&'static [&'static str]],
    /// A caveat reported whenever the row applies.
    pub warning: Option<&'static str>,
    /// Where the rule comes from (public repositories and URLs).
    pub source: &'static str,
}

const ALL_MODES: &[&str] = &[];

pub const REQUIREMENTS: &[Requirement] = &[
    // Coder Boundary, jail type nsjail (Coder's own Go implementation, not
    // Google's nsjail binary). A non-root agent first re-executes itself
    // through `sudo -E env PATH=… setpriv --reuid U --regid G --clear-groups
    // --inh-caps +net_admin,+sys_admin --ambient-caps +net_admin,+sys_admin`.
    Requirement {
        sandbox: Sandbox::Nsjail,
        modes: ALL_MODES,
        when: When::Always,
        need: "Boundary's privilege step: as non-root, sudo (setuid root, a NOPASSWD rule allowing -E) \
               and setpriv raising NET_ADMIN+SYS_ADMIN, which needs SETUID, SETGID, NET_ADMIN and \
               SYS_ADMIN in the bounding set and allowPrivilegeEscalation: true",
        any_of: &[&["nsjail.privileges"]],
        warning: None,
        source: "coder/boundary:privilege/privilege_linux.go, coder/boundary:cli/cli.go",
    },
    Requirement {
        sandbox: Sandbox::Nsjail,
        modes: ALL_MODES,
        when: When::Always,
        need: "NET_ADMIN for the veth pair and iptables rules in the pod's network namespace",
        any_of: &[&["cap.net_admin"]],
        warning: None,
        source: "coder/boundary:nsjail_manager/nsjail/networking_host.go, \
                 coder/coder:docs/ai-coder/agent-firewall/nsjail/k8s.md",
    },
    Requirement {
        sandbox: Sandbox::Nsjail,
        modes: &["user-namespace"],
        when: When::Always,
        need: "clone(CLONE_NEWUSER|CLONE_NEWNET) with a 1:1 map of the current uid/gid, with the \
               privileges the jail runs with (root: mapping uid 0 needs SETFCAP since Linux 5.12; \
               containerd's RuntimeDefault seccomp blocks namespace creation without SYS_ADMIN)",
        any_of: &[&["nsjail.jail_userns"]],
        warning: None,
        source: "coder/boundary:nsjail_manager/nsjail/jail.go, \
                 https://man7.org/linux/man-pages/man7/user_namespaces.7.html, \
                 containerd/containerd:contrib/seccomp/seccomp_default.go",
    },
    Requirement {
        sandbox: Sandbox::Nsjail,
        modes: &["no-user-namespace"],
        when: When::Always,
        need: "clone(CLONE_NEWNET) without a user namespace, which needs SYS_ADMIN (--no-user-namespace)",
        any_of: &[&["nsjail.jail_netns"]],
        warning: None,
        source: "coder/boundary:nsjail_manager/nsjail/jail.go, \
                 https://github.com/coder/boundary/pull/179",
    },
    // landjail: Landlock V4 without best-effort downgrade; no capabilities.
    Requirement {
        sandbox: Sandbox::Landjail,
        modes: ALL_MODES,
        when: When::Always,
        need: "Landlock enabled in the active LSM list",
        any_of: &[&["landlock.lsm"]],
        warning: None,
        source: "https://man7.org/linux/man-pages/man7/landlock.7.html",
    },
    Requirement {
        sandbox: Sandbox::Landjail,
        modes: ALL_MODES,
        when: When::Always,
        need: "Landlock ABI >= 4 (TCP bind/connect rules, kernel >= 6.7)",
        any_of: &[&["landlock.abi"]],
        warning: None,
        source: "coder/boundary:landjail/child.go, landlock-lsm/go-landlock:landlock/restrict.go",
    },
    Requirement {
        sandbox: Sandbox::Landjail,
        modes: ALL_MODES,
        when: When::Always,
        need: "a Landlock network ruleset can be enforced on a process",
        any_of: &[&["landlock.restrict"]],
        warning: None,
        source: "coder/coder:docs/ai-coder/agent-firewall/landjail.md",
    },
    // Bubblewrap: an unprivileged user namespace mapping the current uid
    // (uid 0 → needs SETFCAP), its own procfs, and pivot_root.
    Requirement {
        sandbox: Sandbox::Bubblewrap,
        modes: ALL_MODES,
        when: When::Always,
        need: "unprivileged user namespace, made by clone(CLONE_NEWUSER|CLONE_NEWNS|…) as bwrap \
               makes it, with a uid/gid map of the current user (as uid 0 this maps uid 0 and \
               needs SETFCAP)",
        any_of: &[&["userns.clone", "userns.map_self"]],
        warning: None,
        source: "containers/bubblewrap:bubblewrap.c (raw_clone; write_uid_gid_map), \
                 https://man7.org/linux/man-pages/man7/user_namespaces.7.html",
    },
    Requirement {
        sandbox: Sandbox::Bubblewrap,
        modes: ALL_MODES,
        when: When::NonRoot,
        need: "unshare(CLONE_NEWUSER): as a non-root user bwrap also unshares a user namespace \
               itself (\"bwrap: unshare user ns: Operation not permitted\" when refused)",
        any_of: &[&["userns.unshare"]],
        warning: None,
        source: "containers/bubblewrap:bubblewrap.c (\"unshare user ns\"), \
                 nested-sandbox/terraform-provider-nested:acceptance/lab/tests/cri_seccomp.rs",
    },
    Requirement {
        sandbox: Sandbox::Bubblewrap,
        modes: ALL_MODES,
        when: When::Always,
        need: "umount2 (bwrap unmounts the old root after pivot_root: \"unmount old root\")",
        any_of: &[&["seccomp.umount2"]],
        warning: None,
        source: "containers/bubblewrap:bubblewrap.c (umount2 of oldroot), \
                 nested-sandbox/terraform-provider-nested:acceptance/lab/tests/cri_seccomp.rs",
    },
    Requirement {
        sandbox: Sandbox::Bubblewrap,
        modes: ALL_MODES,
        when: When::Always,
        need: "procfs mountable in a new PID namespace (unmasked /proc: procMount: Unmasked with \
               hostUsers: false)",
        any_of: &[&["pidns.proc_mount"]],
        warning: None,
        source: "https://github.com/containers/bubblewrap/issues/284, torvalds/linux:fs/namespace.c \
                 (mount_too_revealing)",
    },
    Requirement {
        sandbox: Sandbox::Bubblewrap,
        modes: ALL_MODES,
        when: When::Always,
        need: "pivot_root in a new user+mount namespace (containerd/moby RuntimeDefault seccomp never \
               allows pivot_root, even with SYS_ADMIN: use Unconfined or a Localhost profile)",
        any_of: &[&["mount.pivot_root"]],
        warning: None,
        source: "containers/bubblewrap:bubblewrap.c (pivot_root), \
                 containerd/containerd:contrib/seccomp/seccomp_default.go",
    },
    // Rootless podman (e.g. Dev Spaces).
    Requirement {
        sandbox: Sandbox::Podman,
        modes: ALL_MODES,
        when: When::Always,
        need: "user namespace: podman re-executes itself with clone(CLONE_NEWUSER|CLONE_NEWNS) \
               (\"cannot re-exec process\"), its storage unshares one",
        any_of: &[&["userns.unshare", "userns.clone"]],
        warning: None,
        source: "containers/podman:pkg/rootless/rootless_linux.c (reexec_in_user_namespace), \
                 containers/podman:pkg/rootless/rootless_linux.go",
    },
    Requirement {
        sandbox: Sandbox::Podman,
        modes: ALL_MODES,
        when: When::Always,
        need: "the syscalls rootless podman, containers/storage and crun make that a seccomp \
               profile may refuse: setns (joining its user namespace), umount2 and pivot_root \
               (applying image layers), keyctl (crun's session keyring), open_tree, move_mount \
               and mount_setattr (crun's mounts)",
        any_of: &[&[
            "seccomp.setns",
            "seccomp.umount2",
            "mount.pivot_root",
            "seccomp.keyctl",
            "seccomp.open_tree",
            "seccomp.move_mount",
            "seccomp.mount_setattr",
        ]],
        warning: None,
        source: "containers/podman:pkg/rootless/rootless_linux.c (setns), \
                 containers/crun:src/libcrun/linux.c (keyctl; open_tree; move_mount; mount_setattr), \
                 containers/storage:pkg/chrootarchive/chroot_linux.go (pivot_root; umount2), \
                 nested-sandbox/terraform-provider-nested:acceptance/lab/tests/cri_seccomp.rs",
    },
    Requirement {
        sandbox: Sandbox::Podman,
        modes: ALL_MODES,
        when: When::NonRoot,
        need: "/dev/net/tun, opening read-write: rootless podman's default network (pasta; \
               slirp4netns before podman 5) opens it (a device the pod must be given, mode 0666 \
               on the node)",
        any_of: &[&["dev.net_tun"]],
        warning: None,
        source: "https://passt.top/passt/tree/tap.c (tap_ns_tun opens /dev/net/tun), \
                 nested-sandbox/terraform-provider-nested:acceptance/lab/tests/cri.rs \
                 (without the device: pasta fails to open /dev/net/tun)",
    },
    Requirement {
        sandbox: Sandbox::Podman,
        modes: ALL_MODES,
        when: When::NonRootWithSubIds,
        need: "uid/gid maps of the /etc/subuid and /etc/subgid ranges through newuidmap/newgidmap: \
               ranges inside the ids this pod maps; setuid-root helpers need SYS_ADMIN and \
               DAC_OVERRIDE in the bounding set, file-capability helpers SETUID/SETGID; allowPrivilegeEscalation: true",
        any_of: &[&["subid.ranges", "uidmap.newuidmap"]],
        warning: None,
        source: "containers/podman:pkg/rootless/rootless_linux.go (tryMappingTool), \
                 shadow-maint/shadow:lib/idmapping.c, torvalds/linux:kernel/user_namespace.c (map_write)",
    },
    Requirement {
        sandbox: Sandbox::Podman,
        modes: ALL_MODES,
        when: When::NonRootWithoutSubIds,
        need: "a single-id map of the current user (no /etc/subuid or /etc/subgid ranges: podman \
               writes \"0 <uid> 1\" itself)",
        any_of: &[&["userns.map_root"]],
        warning: Some(
            "no /etc/subuid or /etc/subgid ranges for this user: podman uses a single-id mapping \
             (uid and gid 0 only), so images with files owned by other uids or gids fail to unpack; \
             if the sandbox's image has ranges, run the probe in that image to test newuidmap/newgidmap",
        ),
        source: "containers/podman:pkg/rootless/rootless_linux.go (\"single mapping\")",
    },
    Requirement {
        sandbox: Sandbox::Podman,
        modes: ALL_MODES,
        when: When::Root,
        need: "as uid 0: SETUID+SETGID effective to write multi-id maps itself",
        any_of: &[&["caps.setid_effective"]],
        warning: None,
        source: "containers/podman:pkg/rootless/rootless_linux.go (copyMappings), \
                 https://man7.org/linux/man-pages/man7/user_namespaces.7.html",
    },
    Requirement {
        sandbox: Sandbox::Podman,
        modes: ALL_MODES,
        when: When::Always,
        need: "/dev/fuse for fuse-overlayfs, or native overlayfs in a user namespace",
        any_of: &[&["dev.fuse"], &["overlay.userns"]],
        warning: None,
        source: "containers/storage:drivers/overlay/overlay.go",
    },
    Requirement {
        sandbox: Sandbox::Podman,
        modes: ALL_MODES,
        when: When::Always,
        need: "procfs mountable in a new PID namespace (procMount: Unmasked)",
        any_of: &[&["pidns.proc_mount"]],
        warning: None,
        source: "https://github.com/containers/bubblewrap/issues/284, torvalds/linux:fs/namespace.c \
                 (mount_too_revealing)",
    },
    Requirement {
        sandbox: Sandbox::Podman,
        modes: &["default"],
        when: When::Always,
        need: "sethostname in a new user+UTS namespace (CRI-O's and containers-common's seccomp \
               profile refuses it without SYS_ADMIN; podman run --uts=host avoids it)",
        any_of: &[&["uts.sethostname"]],
        warning: None,
        source: "containers/common:pkg/seccomp/seccomp.json, cri-o/cri-o:internal/config/seccomp/seccomp.go",
    },
];

/// The modes of `sandbox`, default first.
pub fn modes_of(sandbox: Sandbox) -> impl Iterator<Item = &'static Mode> {
    MODES.iter().filter(move |m| m.sandbox == sandbox)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sandbox_has_modes_and_requirements() {
        for s in Sandbox::ALL {
            assert!(modes_of(s).next().is_some(), "{s:?} has no mode");
            assert!(modes_of(s).next().is_some_and(|m| m.args.is_empty()));
            assert!(REQUIREMENTS.iter().any(|r| r.sandbox == s), "{s:?}");
        }
        for (i, a) in MODES.iter().enumerate() {
            assert!(
                MODES
                    .iter()
                    .skip(i + 1)
                    .all(|b| b.sandbox != a.sandbox || b.name != a.name),
                "duplicate mode {}",
                a.name
            );
        }
    }

    #[test]
    fn every_row_is_well_formed() {
        for r in REQUIREMENTS {
            assert!(!r.any_of.is_empty(), "{}", r.need);
            assert!(r.any_of.iter().all(|a| !a.is_empty()), "{}", r.need);
            for m in r.modes {
                assert!(
                    modes_of(r.sandbox).any(|x| x.name == *m),
                    "{}: unknown mode {m}",
                    r.need
                );
            }
        }
    }

    #[test]
    fn sources_are_public_references() {
        for r in REQUIREMENTS {
            assert!(!r.source.is_empty(), "{}", r.need);
            for part in r.source.split(", ") {
                let part = part.split(" (").next().unwrap_or(part).trim();
                let public = part.starts_with("https://")
                    || part.split_once(':').is_some_and(|(repo, path)| {
                        repo.matches('/').count() == 1 && !path.is_empty()
                    });
                assert!(
                    public,
                    "{}: {part:?} is not owner/repo:path or https",
                    r.need
                );
                assert!(!part.contains("facts") && !part.starts_with('/'), "{part}");
            }
        }
    }
}
