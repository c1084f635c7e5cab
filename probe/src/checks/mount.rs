//! Mounts in new namespaces: procfs in a new PID namespace, devpts,
//! overlayfs, and `pivot_root`. Every helper makes its mounts private first
//! and they die with it.

use std::ffi::c_ulong;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde_json::json;

use super::userns::{best_effort_self_map, enter, explain_map_failure, write_maps};
use super::{Context, yes_no};
use crate::model::Outcome;
use crate::procfs;
use crate::sys::{self, ChildEnd, Errno, errno_text};

/// Directories a helper may cover with a scratch tmpfs, in order (bwrap
/// uses /tmp).
const SCRATCH_DIRS: [&str; 5] = ["/tmp", "/mnt", "/run", "/var/tmp", "/dev/shm"];

fn make_mounts_private() -> Result<(), Outcome> {
    sys::mount(
        "none",
        Path::new("/"),
        None,
        libc::MS_REC | libc::MS_PRIVATE,
        None,
    )
    .map_err(|e| {
        Outcome::unknown(format!(
            "could not make the helper's mounts private ({}); did not mount anything",
            errno_text(e)
        ))
    })
}

/// Mounts a private tmpfs over the first existing scratch directory.
fn scratch_tmpfs(flags: c_ulong, data: Option<&str>) -> Result<PathBuf, Outcome> {
    let mut errors = Vec::new();
    for dir in SCRATCH_DIRS
        .map(Path::new)
        .into_iter()
        .filter(|d| d.is_dir())
    {
        match sys::mount("tmpfs", dir, Some("tmpfs"), flags, data) {
            Ok(()) => return Ok(dir.to_path_buf()),
            Err(e) => errors.push(format!("{}: {}", dir.display(), errno_text(e))),
        }
    }
    Err(Outcome::unknown(format!(
        "could not mount a scratch tmpfs in the helper's mount namespace ({})",
        errors.join("; ")
    )))
}

/// `proc.overmounts`: mounts below /proc (runtime masks and read-only paths).
pub fn proc_overmounts(ctx: &Context) -> Outcome {
    match &ctx.mounts {
        Ok(m) => {
            let over = procfs::proc_overmounts(m);
            if over.is_empty() {
                Outcome::ok("no mounts below /proc (unmasked)").with_value(json!([]))
            } else {
                Outcome::fail(format!(
                    "{} mount(s) below /proc (masked or read-only paths, procMount: Default): {}",
                    over.len(),
                    over.join(", ")
                ))
                .with_value(json!(over))
            }
        }
        Err(e) => Outcome::unknown(e.clone()),
    }
}

fn mount_proc_as_pid1(ctx: &Context) -> Outcome {
    if let Err(o) = make_mounts_private() {
        return o;
    }
    let flags: c_ulong = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
    match sys::mount("proc", Path::new("/proc"), Some("proc"), flags, None) {
        Ok(()) => {
            let me = fs::read_link("/proc/self")
                .map(|p| p.display().to_string())
                .unwrap_or_else(|e| format!("unreadable: {e}"));
            // getpid() is the pid in the new PID namespace (1, or 2 when the
            // namespaces were made by clone and this is its child): the new
            // procfs shows it, the pod's /proc would show another number.
            let mine = std::process::id().to_string();
            if me == mine {
                Outcome::ok(format!(
                    "mounted a new procfs in a new PID namespace (/proc/self -> {me})"
                ))
            } else {
                Outcome::unknown(format!(
                    "procfs mounted, but /proc/self is {me}, not this process's {mine}"
                ))
            }
        }
        Err(libc::EPERM) => {
            let over = match &ctx.mounts {
                Ok(m) => match procfs::proc_overmounts(m) {
                    o if o.is_empty() => String::new(),
                    o => format!("; mounts below /proc: {}", o.join(", ")),
                },
                Err(_) => String::new(),
            };
            Outcome::fail(format!(
                "mount(\"proc\") in a new user+mount+PID namespace failed: {}: the kernel refuses a new procfs \
                 while the existing /proc has masked or read-only overmounts (needs procMount: Unmasked \
                 with hostUsers: false){over}",
                errno_text(libc::EPERM)
            ))
        }
        Err(e) => Outcome::fail(format!(
            "mount(\"proc\") in a new user+mount+PID namespace failed: {}",
            errno_text(e)
        )),
    }
}

/// `pidns.proc_mount`: a forked PID 1 of a new user+mount+PID namespace
/// mounts a fresh procfs.
pub fn helper_proc_mount(ctx: &Context) -> Outcome {
    if let Err(o) = enter(
        libc::CLONE_NEWUSER | libc::CLONE_NEWNS | libc::CLONE_NEWPID,
        "unshare(CLONE_NEWUSER|CLONE_NEWNS|CLONE_NEWPID)",
        ctx,
    ) {
        return o;
    }
    let map_note = best_effort_self_map(ctx);
    let (mut reader, mut writer) = match io::pipe() {
        Ok(p) => p,
        Err(e) => return Outcome::unknown(format!("cannot create a pipe: {e}")),
    };
    let ctx_child = ctx.clone();
    // The forked child is PID 1 of the new PID namespace; it keeps the
    // capabilities this process holds in its new user namespace (no execve).
    let ended = sys::fork_and_wait(move || {
        let outcome = mount_proc_as_pid1(&ctx_child);
        match serde_json::to_writer(&mut writer, &outcome) {
            Ok(()) => 0,
            Err(_) => 3,
        }
    });
    let mut text = String::new();
    let _ = reader.read_to_string(&mut text);
    match ended {
        Ok(ChildEnd::Exited(0)) => match serde_json::from_str::<Outcome>(&text) {
            Ok(mut o) => {
                o.detail.push_str(&map_note);
                o
            }
            Err(e) => Outcome::unknown(format!("PID 1 child sent no readable result: {e}")),
        },
        Ok(end) => Outcome::unknown(format!("PID 1 child ended with {end:?}")),
        Err(e) => Outcome::unknown(format!("cannot fork the PID 1 child: {}", errno_text(e))),
    }
}

/// Why `pivot_root` failed although the helper holds CAP_SYS_ADMIN over
/// its own mount namespace.
pub fn explain_pivot_root(e: Errno, ctx: &Context) -> String {
    let why = match e {
        libc::EPERM => format!(
            ": refused although this process owns its mount namespace, so by a seccomp filter (containerd's and \
             moby's RuntimeDefault never allow pivot_root, even with SYS_ADMIN: bwrap then fails with \
             \"bwrap: pivot_root: Operation not permitted\"; use seccompProfile Unconfined or a Localhost \
             profile) or an LSM (SYS_ADMIN in bounding: {}){}",
            yes_no(ctx.bounding("SYS_ADMIN")),
            ctx.seccomp_note()
        ),
        libc::ENOSYS => format!(": syscall not available{}", ctx.seccomp_note()),
        libc::EINVAL => {
            ": the current root is not a mount point or has shared propagation".to_string()
        }
        _ => String::new(),
    };
    format!(
        "pivot_root in a new user+mount namespace failed: {}{why}",
        errno_text(e)
    )
}

/// `mount.pivot_root`: what bwrap does to enter its new root: a tmpfs over
/// /tmp, then `pivot_root(".", ".")` into it.
pub fn helper_pivot_root(ctx: &Context) -> Outcome {
    if let Err(o) = enter(
        libc::CLONE_NEWUSER | libc::CLONE_NEWNS,
        "unshare(CLONE_NEWUSER|CLONE_NEWNS)",
        ctx,
    ) {
        return o;
    }
    let map_note = best_effort_self_map(ctx);
    if let Err(o) = make_mounts_private() {
        return o;
    }
    let root = match scratch_tmpfs(libc::MS_NODEV | libc::MS_NOSUID, Some("size=64k,mode=0755")) {
        Ok(r) => r,
        Err(o) => return o,
    };
    if let Err(e) = std::env::set_current_dir(&root) {
        return Outcome::unknown(format!(
            "cannot chdir to the scratch tmpfs {}: {e}",
            root.display()
        ));
    }
    match sys::pivot_root(Path::new("."), Path::new(".")) {
        Ok(()) => Outcome::ok(format!(
            "pivot_root into a tmpfs in a new user+mount namespace{map_note}"
        )),
        Err(e) => Outcome::fail(format!("{}{map_note}", explain_pivot_root(e, ctx))),
    }
}

/// `devpts.mount`: a new devpts instance in a new user+mount namespace.
pub fn helper_devpts_mount(ctx: &Context) -> Outcome {
    if let Err(o) = enter(
        libc::CLONE_NEWUSER | libc::CLONE_NEWNS,
        "unshare(CLONE_NEWUSER|CLONE_NEWNS)",
        ctx,
    ) {
        return o;
    }
    let map_note = best_effort_self_map(ctx);
    if let Err(o) = make_mounts_private() {
        return o;
    }
    let target = Path::new("/dev/pts");
    if !target.is_dir() {
        return Outcome::unknown("no /dev/pts directory to mount a new devpts instance on");
    }
    match sys::mount(
        "devpts",
        target,
        Some("devpts"),
        libc::MS_NOSUID | libc::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=620"),
    ) {
        Ok(()) => Outcome::ok(format!(
            "mounted a new devpts instance in a user namespace{map_note}"
        )),
        Err(e) => Outcome::fail(format!(
            "mount(\"devpts\", newinstance) in a new user+mount namespace failed: {}{map_note}",
            errno_text(e)
        )),
    }
}

/// `overlay.userns`: native rootless overlayfs (retried with `userxattr`).
pub fn helper_overlay_mount(ctx: &Context) -> Outcome {
    if let Err(o) = enter(
        libc::CLONE_NEWUSER | libc::CLONE_NEWNS,
        "unshare(CLONE_NEWUSER|CLONE_NEWNS)",
        ctx,
    ) {
        return o;
    }
    // Creating overlay's work directory needs a mapped uid.
    if let Err((what, e)) = write_maps(ctx.euid, ctx.euid, ctx.egid, ctx.egid) {
        return Outcome::unknown(format!(
            "could not map the current user, which the overlay test needs: {}",
            explain_map_failure(&what, e, ctx.euid, ctx)
        ));
    }
    if let Err(o) = make_mounts_private() {
        return o;
    }
    let scratch = match scratch_tmpfs(0, Some("size=1m,mode=0700")) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let sub = |n: &str| -> PathBuf { scratch.join(n) };
    for d in ["lower", "upper", "work", "merged"] {
        if let Err(e) = fs::create_dir(sub(d)) {
            return Outcome::unknown(format!("cannot create {}: {e}", sub(d).display()));
        }
    }
    let options = format!(
        "lowerdir={},upperdir={},workdir={}",
        sub("lower").display(),
        sub("upper").display(),
        sub("work").display()
    );
    let merged = sub("merged");
    let first = sys::mount("overlay", &merged, Some("overlay"), 0, Some(&options));
    let result = match first {
        Err(libc::EINVAL) => sys::mount(
            "overlay",
            &merged,
            Some("overlay"),
            0,
            Some(&format!("{options},userxattr")),
        )
        .map(|()| " with userxattr"),
        other => other.map(|()| ""),
    };
    match result {
        Ok(how) => Outcome::ok(format!(
            "mounted overlayfs in a user namespace{how} (native rootless overlay, kernel >= 5.11)"
        )),
        Err(e) => Outcome::fail(format!(
            "mount(\"overlay\") in a new user+mount namespace failed: {}",
            errno_text(e)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::ctx_with;

    #[test]
    fn proc_overmounts_from_mountinfo() {
        let mut c = ctx_with("");
        c.mounts = Ok(procfs::parse_mountinfo(
            "1 0 0:1 / /proc rw - proc proc rw\n2 1 0:2 /null /proc/kcore rw - tmpfs tmpfs rw\n",
        ));
        let o = proc_overmounts(&c);
        assert_eq!(o.status, crate::model::Status::Fail);
        assert_eq!(o.value, json!(["/proc/kcore"]));
        c.mounts = Err("unreadable".into());
        assert_eq!(proc_overmounts(&c).status, crate::model::Status::Unknown);
    }

    #[test]
    fn pivot_root_refusal_names_runtime_default() {
        let c = ctx_with("CapBnd:\t0000000000200000\nSeccomp:\t2\nSeccomp_filters:\t1\n");
        let t = explain_pivot_root(libc::EPERM, &c);
        assert!(
            t.contains("RuntimeDefault") && t.contains("SYS_ADMIN in bounding: yes"),
            "{t}"
        );
        assert!(t.contains("1 filter(s)"), "{t}");
        assert!(explain_pivot_root(libc::EINVAL, &c).contains("mount point"));
    }
}
