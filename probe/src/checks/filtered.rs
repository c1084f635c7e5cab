//! Syscalls a seccomp profile may refuse, asked with arguments the kernel
//! rejects before any permission check (or, for move_mount, where the
//! permission check passes) (a bad flag, a bad file
//! descriptor, an unknown operation): the kernel then answers EINVAL,
//! EBADF or EOPNOTSUPP, and only a seccomp filter answers EPERM (the
//! `SCMP_ACT_ERRNO` default of containerd's and the Security Profiles
//! Operator's profiles). Nothing is mounted, joined or changed. ENOSYS (a
//! kernel without the syscall, or a profile that says so) counts as
//! allowed: crun falls back to the older mount calls then, and ignores a
//! missing keyring.

use crate::model::Outcome;
use crate::sys::{self, errno_text};

use super::Context;

/// A flag no kernel defines for these calls.
const BAD_FLAG: libc::c_long = 1 << 30;

fn judge(name: &str, why: &str, ret: libc::c_long, errno: i32, ctx: &Context) -> Outcome {
    if ret >= 0 {
        return Outcome::unknown(format!(
            "{name} with invalid arguments succeeded; cannot tell whether seccomp allows it"
        ));
    }
    match errno {
        libc::EPERM => Outcome::fail(format!(
            "{name} is refused before the kernel looks at its arguments (EPERM): a seccomp filter blocks it{}; {why}",
            ctx.seccomp_note()
        )),
        libc::ENOSYS => Outcome::ok(format!(
            "{name}: ENOSYS (not in this kernel, or the profile says so): callers fall back"
        )),
        e => Outcome::ok(format!(
            "{name} reached the kernel ({} for the invalid arguments): seccomp allows it",
            errno_text(e)
        )),
    }
}

fn call(nr: libc::c_long, args: [libc::c_long; 5]) -> (libc::c_long, i32) {
    sys::rejected_syscall(nr, args)
}

const EMPTY: &[u8] = b"\0";

fn empty() -> libc::c_long {
    EMPTY.as_ptr() as libc::c_long
}

/// `seccomp.umount2`: `umount2("", <bad flag>)` → EINVAL.
pub fn umount2(ctx: &Context) -> Outcome {
    let (r, e) = call(libc::SYS_umount2, [empty(), BAD_FLAG, 0, 0, 0]);
    judge(
        "umount2",
        "bubblewrap unmounts the old root with it after pivot_root, podman's storage its layers",
        r,
        e,
        ctx,
    )
}

/// `seccomp.setns`: `setns(-1, 0)` → EBADF.
pub fn setns(ctx: &Context) -> Outcome {
    let (r, e) = call(libc::SYS_setns, [-1, 0, 0, 0, 0]);
    judge(
        "setns",
        "rootless podman joins its user namespace with it (\"cannot set user namespace\")",
        r,
        e,
        ctx,
    )
}

/// `seccomp.keyctl`: an unknown operation → EOPNOTSUPP.
pub fn keyctl(ctx: &Context) -> Outcome {
    let (r, e) = call(libc::SYS_keyctl, [0x7fff_ffff, 0, 0, 0, 0]);
    judge(
        "keyctl",
        "crun creates a session keyring per container (\"create keyring: Operation not permitted\")",
        r,
        e,
        ctx,
    )
}

/// `seccomp.open_tree`: `open_tree(-1, "", <bad flag>)` → EINVAL.
pub fn open_tree(ctx: &Context) -> Outcome {
    let (r, e) = call(libc::SYS_open_tree, [-1, empty(), BAD_FLAG, 0, 0]);
    judge(
        "open_tree",
        "crun mounts /sys with the new mount API",
        r,
        e,
        ctx,
    )
}

/// `seccomp.move_mount` (a helper): `move_mount(-1, "", -1, "", <bad
/// flag>)` → EINVAL, asked in a new user+mount namespace: the kernel checks
/// `may_mount()` before the flags (fs/namespace.c), and a process owns the
/// mount namespace it made.
pub fn helper_move_mount(ctx: &Context) -> Outcome {
    if let Err(o) = super::userns::enter(
        libc::CLONE_NEWUSER | libc::CLONE_NEWNS,
        "unshare(CLONE_NEWUSER|CLONE_NEWNS)",
        ctx,
    ) {
        return o;
    }
    let (r, e) = call(libc::SYS_move_mount, [-1, empty(), -1, empty(), BAD_FLAG]);
    judge(
        "move_mount",
        "crun attaches mounts with the new mount API",
        r,
        e,
        ctx,
    )
}

/// `seccomp.mount_setattr`: `mount_setattr(-1, "", <bad flag>, NULL, 0)` → EINVAL.
pub fn mount_setattr(ctx: &Context) -> Outcome {
    let (r, e) = call(libc::SYS_mount_setattr, [-1, empty(), BAD_FLAG, 0, 0]);
    judge(
        "mount_setattr",
        "crun sets mount attributes (read-only /sys) with it",
        r,
        e,
        ctx,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::ctx_with;
    use crate::model::Status;

    /// This test process runs under no filter that refuses these: each
    /// call reaches the kernel and is rejected for its arguments.
    #[test]
    fn invalid_arguments_reach_the_kernel_without_a_filter() {
        let ctx = ctx_with("Seccomp:\t0\n");
        for (name, f) in [
            ("umount2", umount2 as fn(&Context) -> Outcome),
            ("setns", setns),
            ("keyctl", keyctl),
            ("open_tree", open_tree),
            ("mount_setattr", mount_setattr),
        ] {
            let o = f(&ctx);
            assert_eq!(o.status, Status::Ok, "{name}: {}", o.detail);
            assert!(!o.detail.contains("EPERM"), "{name}: {}", o.detail);
        }
    }

    #[test]
    fn eperm_is_a_filter() {
        let ctx = ctx_with("Seccomp:\t2\nSeccomp_filters:\t1\n");
        let o = judge("setns", "why", -1, libc::EPERM, &ctx);
        assert_eq!(o.status, Status::Fail);
        assert!(
            o.detail.contains("seccomp filter (1 filter(s))"),
            "{}",
            o.detail
        );
    }
}
