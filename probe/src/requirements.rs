//! What each sandbox needs, as data: one row per requirement, each met by
//! any one of its alternatives, each alternative a list of checks that must
//! all be `ok`. Sources are sections of the project's capability facts
//! (`capability-facts.md`) and the upstream files cited there.

use crate::model::{Sandbox, Status, Verdict};

/// One requirement row.
#[derive(Debug, Clone, Copy)]
pub struct Requirement {
    pub sandbox: Sandbox,
    /// What is needed, in words (shown for unmet requirements).
    pub need: &'static str,
    /// Alternatives; the requirement is met when every check of one of
    /// them is `ok`.
    pub any_of: &'static [&'static [&'static str]],
    /// Where the rule comes from.
    pub source: &'static str,
}

pub const REQUIREMENTS: &[Requirement] = &[
    // Coder Agent Firewall, jail type nsjail (Coder's own implementation, not
    // Google's binary): clone(CLONE_NEWNET | CLONE_NEWUSER) with a 1:1 map of
    // the current user, or --no-user-namespace, which needs SYS_ADMIN.
    Requirement {
        sandbox: Sandbox::Nsjail,
        need: "user + network namespace with a 1:1 map of the current user, \
               or --no-user-namespace with SYS_ADMIN",
        any_of: &[
            &["userns.unshare", "userns.map_self", "userns.netns"],
            &["cap.sys_admin", "netns.unshare"],
        ],
        source: "facts §6.1, §1.6; coder/boundary:nsjail_manager/nsjail/jail.go, cli/cli.go, \
                 github.com/coder/boundary/issues/173",
    },
    Requirement {
        sandbox: Sandbox::Nsjail,
        need: "NET_ADMIN for the veth pair and iptables rules",
        any_of: &[&["cap.net_admin"]],
        source: "facts §6.1; coder/coder:docs/ai-coder/agent-firewall/nsjail/k8s.md, \
                 coder/boundary:privilege/privilege_linux.go",
    },
    // landjail: Landlock V4 without best-effort downgrade; no capabilities.
    Requirement {
        sandbox: Sandbox::Landjail,
        need: "Landlock enabled in the active LSM list",
        any_of: &[&["landlock.lsm"]],
        source: "facts §6.3; landlock(7)",
    },
    Requirement {
        sandbox: Sandbox::Landjail,
        need: "Landlock ABI >= 4 (TCP bind/connect rules, kernel >= 6.7)",
        any_of: &[&["landlock.abi"]],
        source: "facts §6.1, §6.3; coder/boundary:landjail/child.go",
    },
    Requirement {
        sandbox: Sandbox::Landjail,
        need: "a Landlock network ruleset can be enforced on a process",
        any_of: &[&["landlock.restrict"]],
        source: "facts §6.1; coder/coder:docs/ai-coder/agent-firewall/landjail.md",
    },
    // Bubblewrap: unprivileged user namespace (mapping uid 0 needs SETFCAP)
    // and a new procfs in its PID namespace (procMount: Unmasked).
    Requirement {
        sandbox: Sandbox::Bubblewrap,
        need: "unprivileged user namespace with a uid/gid map of the current user",
        any_of: &[&["userns.unshare", "userns.map_self"]],
        source: "facts §6.4 (softwarefactory-project.io, 2024-12-09; capabilities(7))",
    },
    Requirement {
        sandbox: Sandbox::Bubblewrap,
        need: "procfs mountable in a new PID namespace (unmasked /proc: \
               procMount: Unmasked with hostUsers: false)",
        any_of: &[&["pidns.proc_mount"]],
        source: "facts §6.4; github.com/containers/bubblewrap/issues/284",
    },
    // Rootless podman (e.g. Dev Spaces).
    Requirement {
        sandbox: Sandbox::Podman,
        need: "user namespace",
        any_of: &[&["userns.unshare"]],
        source: "facts §6.5",
    },
    Requirement {
        sandbox: Sandbox::Podman,
        need: "uid/gid maps: newuidmap/newgidmap (setuid or file caps) with SETUID/SETGID \
               usable (allowPrivilegeEscalation: true), or SETUID+SETGID effective",
        any_of: &[
            &["uidmap.helpers", "cap.setuid", "cap.setgid"],
            &["caps.setid_effective"],
        ],
        source: "facts §6.5; github.com/moby/buildkit/issues/1671",
    },
    Requirement {
        sandbox: Sandbox::Podman,
        need: "/dev/fuse for fuse-overlayfs, or native overlayfs in a user namespace",
        any_of: &[&["dev.fuse"], &["overlay.userns"]],
        source: "facts §6.5",
    },
    Requirement {
        sandbox: Sandbox::Podman,
        need: "procfs mountable in a new PID namespace (procMount: Unmasked)",
        any_of: &[&["pidns.proc_mount"]],
        source: "facts §6.5, §6.4",
    },
];

/// Combines statuses: `Fail` beats `Unknown` beats `Ok`.
fn all_of(statuses: impl Iterator<Item = Status>) -> Status {
    statuses.fold(Status::Ok, |acc, s| match (acc, s) {
        (Status::Fail, _) | (_, Status::Fail) => Status::Fail,
        (Status::Unknown, _) | (_, Status::Unknown) => Status::Unknown,
        _ => Status::Ok,
    })
}

/// Combines alternatives: `Ok` beats `Unknown` beats `Fail`.
fn any_of(statuses: impl Iterator<Item = Status>) -> Status {
    statuses.fold(Status::Fail, |acc, s| match (acc, s) {
        (Status::Ok, _) | (_, Status::Ok) => Status::Ok,
        (Status::Unknown, _) | (_, Status::Unknown) => Status::Unknown,
        _ => Status::Fail,
    })
}

fn push_unique(list: &mut Vec<&'static str>, name: &'static str) {
    if !list.contains(&name) {
        list.push(name);
    }
}

/// The verdict for `sandbox` given a lookup of check statuses. A check the
/// lookup does not know counts as `Unknown`.
pub fn verdict(
    sandbox: Sandbox,
    rows: &[Requirement],
    status_of: impl Fn(&str) -> Option<Status>,
) -> Verdict {
    let status = |name: &str| status_of(name).unwrap_or(Status::Unknown);
    let mut v = Verdict {
        runnable: Some(true),
        failed: Vec::new(),
        unknown: Vec::new(),
        unmet: Vec::new(),
    };
    let mut any_failed = false;
    let mut any_unknown = false;
    for row in rows.iter().filter(|r| r.sandbox == sandbox) {
        let row_status = any_of(
            row.any_of
                .iter()
                .map(|alt| all_of(alt.iter().map(|c| status(c)))),
        );
        if row_status == Status::Ok {
            continue;
        }
        v.unmet.push(row.need);
        match row_status {
            Status::Fail => any_failed = true,
            _ => any_unknown = true,
        }
        for check in row.any_of.iter().flat_map(|alt| alt.iter()) {
            match status(check) {
                Status::Fail => push_unique(&mut v.failed, check),
                Status::Unknown => push_unique(&mut v.unknown, check),
                Status::Ok => {}
            }
        }
    }
    v.runnable = if any_failed {
        Some(false)
    } else if any_unknown {
        None
    } else {
        Some(true)
    };
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn all_checks_with(status: Status) -> HashMap<String, Status> {
        REQUIREMENTS
            .iter()
            .flat_map(|r| r.any_of.iter().flat_map(|a| a.iter()))
            .map(|c| ((*c).to_string(), status))
            .collect()
    }

    #[test]
    fn every_sandbox_has_requirements_and_every_row_a_check() {
        for s in Sandbox::ALL {
            assert!(REQUIREMENTS.iter().any(|r| r.sandbox == s), "{s:?}");
        }
        for r in REQUIREMENTS {
            assert!(!r.any_of.is_empty(), "{}", r.need);
            assert!(r.any_of.iter().all(|a| !a.is_empty()), "{}", r.need);
            assert!(!r.source.is_empty());
        }
    }

    #[test]
    fn all_ok_is_runnable() {
        let m = all_checks_with(Status::Ok);
        for s in Sandbox::ALL {
            let v = verdict(s, REQUIREMENTS, |n| m.get(n).copied());
            assert_eq!(v.runnable, Some(true), "{s:?}");
            assert!(v.failed.is_empty() && v.unknown.is_empty() && v.unmet.is_empty());
        }
    }

    #[test]
    fn unknown_checks_give_a_null_verdict() {
        let m = all_checks_with(Status::Unknown);
        for s in Sandbox::ALL {
            let v = verdict(s, REQUIREMENTS, |n| m.get(n).copied());
            assert_eq!(v.runnable, None, "{s:?}");
            assert!(v.failed.is_empty());
            assert!(!v.unknown.is_empty());
        }
        // A check missing from the report counts as unknown.
        let v = verdict(Sandbox::Landjail, REQUIREMENTS, |_| None);
        assert_eq!(v.runnable, None);
        assert_eq!(
            v.unknown,
            ["landlock.lsm", "landlock.abi", "landlock.restrict"]
        );
    }

    #[test]
    fn a_failure_beats_an_unknown() {
        let mut m = all_checks_with(Status::Ok);
        m.insert("landlock.abi".into(), Status::Fail);
        m.insert("landlock.restrict".into(), Status::Unknown);
        let v = verdict(Sandbox::Landjail, REQUIREMENTS, |n| m.get(n).copied());
        assert_eq!(v.runnable, Some(false));
        assert_eq!(v.failed, ["landlock.abi"]);
        assert_eq!(v.unknown, ["landlock.restrict"]);
        assert_eq!(v.unmet.len(), 2);
    }

    #[test]
    fn nsjail_without_user_namespaces_needs_sys_admin() {
        // Bottlerocket default: max_user_namespaces = 0 → unshare fails.
        let mut m = all_checks_with(Status::Ok);
        m.insert("userns.unshare".into(), Status::Fail);
        m.insert("userns.map_self".into(), Status::Fail);
        m.insert("userns.netns".into(), Status::Fail);
        let with_sys_admin = verdict(Sandbox::Nsjail, REQUIREMENTS, |n| m.get(n).copied());
        assert_eq!(with_sys_admin.runnable, Some(true));

        m.insert("cap.sys_admin".into(), Status::Fail);
        m.insert("netns.unshare".into(), Status::Fail);
        let without = verdict(Sandbox::Nsjail, REQUIREMENTS, |n| m.get(n).copied());
        assert_eq!(without.runnable, Some(false));
        assert_eq!(
            without.failed,
            [
                "userns.unshare",
                "userns.map_self",
                "userns.netns",
                "cap.sys_admin",
                "netns.unshare"
            ]
        );
        assert_eq!(without.unmet.len(), 1);
    }

    #[test]
    fn an_alternative_that_is_unknown_makes_a_failed_row_unknown() {
        let mut m = all_checks_with(Status::Ok);
        m.insert("dev.fuse".into(), Status::Fail);
        m.insert("overlay.userns".into(), Status::Unknown);
        let v = verdict(Sandbox::Podman, REQUIREMENTS, |n| m.get(n).copied());
        assert_eq!(v.runnable, None);
        assert_eq!(v.failed, ["dev.fuse"]);
        assert_eq!(v.unknown, ["overlay.userns"]);

        m.insert("overlay.userns".into(), Status::Ok);
        let v = verdict(Sandbox::Podman, REQUIREMENTS, |n| m.get(n).copied());
        assert_eq!(v.runnable, Some(true));
        assert!(v.failed.is_empty(), "a met row names no failures");
    }

    #[test]
    fn masked_proc_blocks_bubblewrap_and_podman_only() {
        let mut m = all_checks_with(Status::Ok);
        m.insert("pidns.proc_mount".into(), Status::Fail);
        let get = |s| verdict(s, REQUIREMENTS, |n| m.get(n).copied()).runnable;
        assert_eq!(get(Sandbox::Bubblewrap), Some(false));
        assert_eq!(get(Sandbox::Podman), Some(false));
        assert_eq!(get(Sandbox::Nsjail), Some(true));
        assert_eq!(get(Sandbox::Landjail), Some(true));
    }
}
