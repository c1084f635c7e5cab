//! User, network and UTS namespaces: the sysctl, `unshare`, writing uid/gid
//! maps, and `sethostname` in a new UTS namespace.

use std::fs;
use std::io;

use serde_json::json;

use super::{Context, io_text, is_not_found, read, yes_no};
use crate::model::Outcome;
use crate::procfs;
use crate::sys::{self, Errno, errno_text};

/// The kernel's (and a new user namespace's) default and maximum for
/// `user.max_user_namespaces`: INT_MAX.
const SYSCTL_MAX: u64 = 2_147_483_647;

/// Whether /proc/self/uid_map shows a user namespace other than the
/// initial one; `None` when unreadable.
fn in_user_namespace() -> Option<bool> {
    let map = procfs::parse_id_map(&read("/proc/self/uid_map").ok()?)?;
    Some(!procfs::is_initial_user_namespace(&map))
}

/// `userns.current`: the uid map of this process.
pub fn current(_: &Context) -> Outcome {
    let text = match read("/proc/self/uid_map") {
        Ok(t) => t,
        Err(e) => return Outcome::unknown(io_text("/proc/self/uid_map", &e)),
    };
    let Some(map) = procfs::parse_id_map(&text) else {
        return Outcome::unknown(format!(
            "cannot parse /proc/self/uid_map: {:?}",
            text.trim()
        ));
    };
    let shown = map
        .iter()
        .map(|l| format!("{} {} {}", l.inside, l.outside, l.count))
        .collect::<Vec<_>>()
        .join(", ");
    if procfs::is_initial_user_namespace(&map) {
        Outcome::ok(format!("not in a user namespace (uid_map {shown})")).with_value(json!(false))
    } else {
        Outcome::ok(format!("runs in a user namespace (uid_map {shown})")).with_value(json!(true))
    }
}

/// The detail text of `userns.sysctl` for a positive value.
pub fn sysctl_text(n: u64, in_userns: Option<bool>) -> String {
    match in_userns {
        Some(true) => format!(
            "user.max_user_namespaces = {n} as seen from this user namespace{}: inside a hostUsers: false \
             pod this is the pod namespace's own limit (INT_MAX by default), not the node's, so it does not \
             show that user namespaces can be created; userns.unshare decides",
            if n == SYSCTL_MAX { " (INT_MAX)" } else { "" }
        ),
        _ => format!(
            "user.max_user_namespaces = {n}: > 0 is necessary, not sufficient (seccomp, LSMs and the \
             limits of ancestor namespaces also decide); userns.unshare decides"
        ),
    }
}

/// `userns.sysctl`: /proc/sys/user/max_user_namespaces.
pub fn sysctl(_: &Context) -> Outcome {
    const PATH: &str = "/proc/sys/user/max_user_namespaces";
    match read(PATH) {
        Ok(t) => match t.trim().parse::<u64>() {
            Ok(0) => Outcome::fail(
                "user.max_user_namespaces = 0: user namespaces are disabled here (the Bottlerocket default)",
            )
            .with_value(json!(0)),
            Ok(n) => Outcome::ok(sysctl_text(n, in_user_namespace())).with_value(json!(n)),
            Err(_) => Outcome::unknown(format!("cannot parse {PATH}: {:?}", t.trim())),
        },
        Err(e) => Outcome::unknown(io_text(PATH, &e)),
    }
}

/// Why `unshare(flags)` failed, in words.
pub fn explain_unshare(what: &str, flags: i32, e: Errno, ctx: &Context) -> String {
    let with_userns = flags & libc::CLONE_NEWUSER != 0;
    let why = match e {
        libc::ENOSPC | libc::EUSERS => "user.max_user_namespaces reached in this or an ancestor user namespace \
             (the node's value is not visible from inside a hostUsers: false pod), or the nesting limit of 32; \
             0 disables user namespaces"
            .to_string(),
        libc::EPERM if with_userns => format!(
            "refused: by a seccomp filter (containerd's RuntimeDefault blocks namespace creation without \
             SYS_ADMIN in the bounding set) or an LSM/sysctl restriction on unprivileged user namespaces{}",
            ctx.seccomp_note()
        ),
        libc::EPERM => format!(
            "refused: without a user namespace this needs SYS_ADMIN (effective: {}), and seccomp may block it{}",
            yes_no(ctx.effective("SYS_ADMIN")),
            ctx.seccomp_note()
        ),
        libc::EINVAL => "invalid: the process is multithreaded or chrooted".to_string(),
        libc::ENOSYS => format!("syscall not available{}", ctx.seccomp_note()),
        _ => String::new(),
    };
    if why.is_empty() {
        format!("{what} failed: {}", errno_text(e))
    } else {
        format!("{what} failed: {}: {why}", errno_text(e))
    }
}

/// `unshare(flags)`, or a failed outcome that explains why not.
pub fn unshare(flags: i32, what: &str, ctx: &Context) -> Result<(), Outcome> {
    sys::unshare(flags).map_err(|e| Outcome::fail(explain_unshare(what, flags, e, ctx)))
}

/// New namespaces for the rest of a check: `unshare(flags)`, or where that
/// is refused with EPERM (a seccomp profile that allows only clone, as
/// bubblewrap uses it), the same flags by `clone`, the check going on in
/// the child. What the check then tests (mount, pivot_root, a uid map) does
/// not depend on how the namespaces were made.
pub fn enter(flags: i32, what: &str, ctx: &Context) -> Result<(), Outcome> {
    match sys::unshare(flags) {
        Ok(()) => Ok(()),
        Err(libc::EPERM) if sys::clone_into(flags).is_ok() => Ok(()),
        Err(e) => Err(Outcome::fail(explain_unshare(what, flags, e, ctx))),
    }
}

/// `userns.clone`: `clone(CLONE_NEWUSER|CLONE_NEWNS)`, as bubblewrap
/// creates its namespaces (containerd's RuntimeDefault allows clone only
/// without namespace flags unless SYS_ADMIN is held).
pub fn helper_clone(ctx: &Context) -> Outcome {
    const WHAT: &str = "clone(CLONE_NEWUSER|CLONE_NEWNS)";
    match sys::clone_into(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) {
        Ok(()) => Outcome::ok(format!("{WHAT} created a user and mount namespace")),
        Err(e) => Outcome::fail(explain_unshare(
            WHAT,
            libc::CLONE_NEWUSER | libc::CLONE_NEWNS,
            e,
            ctx,
        )),
    }
}

pub fn helper_unshare(ctx: &Context) -> Outcome {
    match unshare(libc::CLONE_NEWUSER, "unshare(CLONE_NEWUSER)", ctx) {
        Ok(()) => Outcome::ok("unshare(CLONE_NEWUSER) created a user namespace"),
        Err(o) => o,
    }
}

pub fn helper_userns_netns(ctx: &Context) -> Outcome {
    match unshare(
        libc::CLONE_NEWUSER | libc::CLONE_NEWNET,
        "unshare(CLONE_NEWUSER|CLONE_NEWNET)",
        ctx,
    ) {
        Ok(()) => Outcome::ok("created a network namespace inside a new user namespace"),
        Err(o) => o,
    }
}

pub fn helper_netns_unshare(ctx: &Context) -> Outcome {
    match unshare(
        libc::CLONE_NEWNET,
        "unshare(CLONE_NEWNET) without a user namespace",
        ctx,
    ) {
        Ok(()) => {
            Outcome::ok("created a network namespace without a user namespace (needs SYS_ADMIN)")
        }
        Err(o) => o,
    }
}

/// Writes `setgroups` = deny and one-line uid/gid maps for the current
/// process, which has just unshared its user namespace.
pub fn write_maps(
    uid_inside: u32,
    uid_outside: u32,
    gid_inside: u32,
    gid_outside: u32,
) -> Result<String, (String, Errno)> {
    let err = |what: &str, e: io::Error| (what.to_string(), e.raw_os_error().unwrap_or(libc::EIO));
    match fs::write("/proc/self/setgroups", "deny") {
        Ok(()) => {}
        // Kernels before 3.19 have no setgroups file.
        Err(e) if is_not_found(&e) => {}
        Err(e) => return Err(err("writing \"deny\" to /proc/self/setgroups", e)),
    }
    let uid_line = format!("{uid_inside} {uid_outside} 1");
    let gid_line = format!("{gid_inside} {gid_outside} 1");
    fs::write("/proc/self/uid_map", &uid_line)
        .map_err(|e| err(&format!("writing uid_map \"{uid_line}\""), e))?;
    fs::write("/proc/self/gid_map", &gid_line)
        .map_err(|e| err(&format!("writing gid_map \"{gid_line}\""), e))?;
    Ok(format!("uid_map \"{uid_line}\", gid_map \"{gid_line}\""))
}

/// Why writing a map failed; mapping uid 0 of the parent needs SETFCAP.
pub fn explain_map_failure(what: &str, e: Errno, uid_outside: u32, ctx: &Context) -> String {
    let mut text = format!("{what} failed: {}", errno_text(e));
    if e == libc::EPERM && uid_outside == 0 && what.contains("uid_map") {
        text.push_str(&format!(
            ": mapping uid 0 of the parent namespace needs CAP_SETFCAP since Linux 5.12 (SETFCAP effective: {})",
            yes_no(ctx.effective("SETFCAP"))
        ));
    }
    text
}

fn map_check(ctx: &Context, uid_inside: u32, gid_inside: u32) -> Outcome {
    if let Err(o) = enter(libc::CLONE_NEWUSER, "unshare(CLONE_NEWUSER)", ctx) {
        return o;
    }
    match write_maps(uid_inside, ctx.euid, gid_inside, ctx.egid) {
        Ok(maps) => Outcome::ok(format!("wrote {maps}")),
        Err((what, e)) => Outcome::fail(explain_map_failure(&what, e, ctx.euid, ctx)),
    }
}

/// `userns.map_self`: the 1:1 map bubblewrap and Boundary write.
pub fn helper_map_self(ctx: &Context) -> Outcome {
    map_check(ctx, ctx.euid, ctx.egid)
}

/// `userns.map_root`: `0 <euid> 1`, podman's single-id map.
pub fn helper_map_root(ctx: &Context) -> Outcome {
    map_check(ctx, 0, 0)
}

/// After unsharing a user namespace (and others): write the 1:1 map of the
/// current user if possible. Returns a note for the detail text.
pub fn best_effort_self_map(ctx: &Context) -> String {
    match write_maps(ctx.euid, ctx.euid, ctx.egid, ctx.egid) {
        Ok(maps) => format!(" (with {maps})"),
        Err((what, e)) => format!(
            " (without uid/gid maps: {})",
            explain_map_failure(&what, e, ctx.euid, ctx)
        ),
    }
}

/// Why `sethostname` failed in a new user+UTS namespace.
pub fn explain_sethostname(e: Errno, ctx: &Context) -> String {
    let why = match e {
        libc::EPERM => format!(
            ": refused although this process owns the new UTS namespace, so by a seccomp filter: CRI-O's and \
             containers-common's profile allows it only with SYS_ADMIN in the bounding set (SYS_ADMIN in \
             bounding: {}); `podman run` then fails with \"crun: sethostname: Operation not permitted\" unless \
             it shares the pod's UTS namespace (--uts=host){}",
            yes_no(ctx.bounding("SYS_ADMIN")),
            ctx.seccomp_note()
        ),
        libc::ENOSYS => format!(": syscall not available{}", ctx.seccomp_note()),
        _ => String::new(),
    };
    format!(
        "sethostname in a new user+UTS namespace failed: {}{why}",
        errno_text(e)
    )
}

/// `uts.sethostname`: what an OCI runtime does for a nested container.
pub fn helper_sethostname(ctx: &Context) -> Outcome {
    if let Err(o) = enter(
        libc::CLONE_NEWUSER | libc::CLONE_NEWUTS,
        "unshare(CLONE_NEWUSER|CLONE_NEWUTS)",
        ctx,
    ) {
        return o;
    }
    let map_note = best_effort_self_map(ctx);
    match sys::sethostname("nested-probe") {
        Ok(()) => Outcome::ok(format!(
            "set the host name in a new user+UTS namespace{map_note}"
        )),
        Err(e) => Outcome::fail(format!("{}{map_note}", explain_sethostname(e, ctx))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::ctx_with;

    #[test]
    fn setfcap_hint_only_for_root_maps() {
        let c = ctx_with("CapEff:\t0000000000000000\n");
        let t = explain_map_failure("writing uid_map \"0 0 1\"", libc::EPERM, 0, &c);
        assert!(t.contains("CAP_SETFCAP"), "{t}");
        assert!(t.contains("SETFCAP effective: no"), "{t}");
        let t = explain_map_failure("writing uid_map \"0 1000 1\"", libc::EPERM, 1000, &c);
        assert!(!t.contains("CAP_SETFCAP"), "{t}");
    }

    #[test]
    fn the_sysctl_alone_never_proves_user_namespaces() {
        let pod = sysctl_text(SYSCTL_MAX, Some(true));
        assert!(
            pod.contains("INT_MAX") && pod.contains("not the node's"),
            "{pod}"
        );
        assert!(pod.contains("userns.unshare decides"), "{pod}");
        let node = sysctl_text(65536, Some(false));
        assert!(node.contains("not sufficient") && node.contains("userns.unshare decides"));
    }

    #[test]
    fn unshare_and_sethostname_explanations() {
        let c = ctx_with("Seccomp:\t2\nSeccomp_filters:\t1\nCapBnd:\t0000000000000000\n");
        let t = explain_unshare(
            "unshare(CLONE_NEWUSER)",
            libc::CLONE_NEWUSER,
            libc::ENOSPC,
            &c,
        );
        assert!(t.contains("ancestor"), "{t}");
        let t = explain_unshare("x", libc::CLONE_NEWUSER, libc::EPERM, &c);
        assert!(t.contains("seccomp") && t.contains("1 filter"), "{t}");
        let t = explain_sethostname(libc::EPERM, &c);
        assert!(
            t.contains("--uts=host") && t.contains("SYS_ADMIN in bounding: no"),
            "{t}"
        );
    }
}
