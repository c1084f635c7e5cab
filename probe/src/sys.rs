//! Thin safe wrappers around the few syscalls that `std` does not offer.
//!
//! This is the only module of the crate allowed to use `unsafe`. Every block
//! carries a `SAFETY:` comment. Nothing here changes the namespaces of the
//! calling process on its own: the namespace-changing wrappers (`unshare`,
//! `mount`, `pivot_root`, `sethostname`, the Landlock self-restriction) are
//! only called from the hidden `__check` helper process, never from the
//! process that prints the report.
#![allow(unsafe_code)]

use std::ffi::{CString, c_int, c_ulong};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// A raw `errno` value.
pub type Errno = i32;

/// `LANDLOCK_CREATE_RULESET_VERSION` from `<linux/landlock.h>`.
const LANDLOCK_CREATE_RULESET_VERSION: u32 = 1 << 0;
/// `LANDLOCK_ACCESS_NET_BIND_TCP` (ABI 4).
pub const LANDLOCK_ACCESS_NET_BIND_TCP: u64 = 1 << 0;
/// `LANDLOCK_ACCESS_NET_CONNECT_TCP` (ABI 4).
pub const LANDLOCK_ACCESS_NET_CONNECT_TCP: u64 = 1 << 1;

/// `struct landlock_ruleset_attr` as of ABI 4 (the kernel accepts this size
/// from ABI 4 on; newer fields such as `scoped` are optional).
#[repr(C)]
struct LandlockRulesetAttr {
    handled_access_fs: u64,
    handled_access_net: u64,
}

fn last_errno() -> Errno {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

fn c_path(path: &Path) -> Result<CString, Errno> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| libc::EINVAL)
}

fn c_str(s: &str) -> Result<CString, Errno> {
    CString::new(s).map_err(|_| libc::EINVAL)
}

/// The effective user id of this process.
pub fn euid() -> u32 {
    // SAFETY: geteuid(2) takes no arguments, touches no memory of ours and
    // cannot fail.
    unsafe { libc::geteuid() }
}

/// The effective group id of this process.
pub fn egid() -> u32 {
    // SAFETY: getegid(2) takes no arguments, touches no memory of ours and
    // cannot fail.
    unsafe { libc::getegid() }
}

/// `uname(2)` release string, used only when /proc/sys/kernel/osrelease is
/// not readable.
pub fn uname_release() -> Option<String> {
    // SAFETY: utsname is a plain C struct of fixed-size char arrays, for
    // which all-zero bytes are a valid value.
    let mut buf: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `buf` is a valid, writable utsname that outlives the call.
    let rc = unsafe { libc::uname(&mut buf) };
    if rc != 0 {
        return None;
    }
    let bytes: Vec<u8> = buf
        .release
        .iter()
        .take_while(|c| **c != 0)
        .map(|c| *c as u8)
        .collect();
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// `unshare(2)`. Only ever called in the `__check` helper process.
pub fn unshare(flags: c_int) -> Result<(), Errno> {
    // SAFETY: unshare(2) takes flags only, touches no memory of ours. The
    // caller runs in a single-threaded helper process (see
    // `single_threaded`) whose namespaces are thrown away when it exits.
    let rc = unsafe { libc::unshare(flags) };
    if rc == 0 { Ok(()) } else { Err(last_errno()) }
}

/// `clone(2)` with namespace flags, used like `fork`: returns `Ok(())` in
/// the child, which is in the new namespaces and goes on with the caller's
/// code; the parent waits for it and exits with its status, never
/// returning. This is how bubblewrap (and Go's `SysProcAttr.Cloneflags`)
/// create namespaces, and a seccomp profile may allow it where `unshare`
/// is refused. Refuses (EINVAL) unless the process is single-threaded.
pub fn clone_into(flags: c_int) -> Result<(), Errno> {
    if single_threaded() != Some(true) {
        return Err(libc::EINVAL);
    }
    let _ = io::stdout().flush();
    // SAFETY: raw clone(2) without a new stack behaves as fork(2) (the child
    // continues on a copy of this stack); the process is single-threaded
    // (checked above), so no lock is held elsewhere. The x86_64 and arm64
    // argument order is (flags, stack, parent_tid, child_tid, tls); none of
    // the pointer arguments is used without CLONE_*TID/SETTLS.
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone,
            libc::c_long::from(flags | libc::SIGCHLD),
            0 as libc::c_long,
            0 as libc::c_long,
            0 as libc::c_long,
            0 as libc::c_long,
        )
    };
    if pid < 0 {
        return Err(last_errno());
    }
    if pid == 0 {
        return Ok(());
    }
    let pid = pid as libc::pid_t;
    let mut status: c_int = 0;
    loop {
        // SAFETY: `status` is a valid, writable c_int; `pid` is our child.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        if rc == pid {
            break;
        }
        if last_errno() != libc::EINTR {
            break;
        }
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    // SAFETY: the child reported for this process; nothing is left to do.
    unsafe { libc::_exit(code) }
}

/// A raw syscall whose arguments the kernel rejects before it reads any
/// memory or changes anything (checks/filtered.rs): its return value and
/// errno.
pub fn rejected_syscall(nr: libc::c_long, args: [libc::c_long; 5]) -> (libc::c_long, Errno) {
    // SAFETY: the callers pass null or a pointer to a static NUL-terminated
    // string, and a flag, descriptor or operation the kernel refuses first;
    // nothing of ours is written.
    let ret = unsafe { libc::syscall(nr, args[0], args[1], args[2], args[3], args[4]) };
    (ret, if ret < 0 { last_errno() } else { 0 })
}

/// `mount(2)`. Only ever called in a helper process that has its own mount
/// namespace.
pub fn mount(
    source: &str,
    target: &Path,
    fstype: Option<&str>,
    flags: c_ulong,
    data: Option<&str>,
) -> Result<(), Errno> {
    let source = c_str(source)?;
    let target = c_path(target)?;
    let fstype = fstype.map(c_str).transpose()?;
    let data = data.map(c_str).transpose()?;
    // SAFETY: every pointer is either null (allowed by mount(2) for fstype
    // and data) or points to a NUL-terminated CString that lives until the
    // end of this function.
    let rc = unsafe {
        libc::mount(
            source.as_ptr(),
            target.as_ptr(),
            fstype.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            flags,
            data.as_ref()
                .map_or(std::ptr::null(), |s| s.as_ptr().cast::<libc::c_void>()),
        )
    };
    if rc == 0 { Ok(()) } else { Err(last_errno()) }
}

/// `pivot_root(2)`. Only ever called in a helper process that has its own
/// mount namespace (its root is thrown away with it).
pub fn pivot_root(new_root: &Path, put_old: &Path) -> Result<(), Errno> {
    let new_root = c_path(new_root)?;
    let put_old = c_path(put_old)?;
    // SAFETY: both pointers are NUL-terminated CStrings alive for the call;
    // pivot_root(2) only reads them. libc has no wrapper, hence syscall(2).
    let rc = unsafe { libc::syscall(libc::SYS_pivot_root, new_root.as_ptr(), put_old.as_ptr()) };
    if rc == 0 { Ok(()) } else { Err(last_errno()) }
}

/// `sethostname(2)`. Only ever called in a helper process that has its own
/// UTS namespace.
pub fn sethostname(name: &str) -> Result<(), Errno> {
    // SAFETY: the pointer and length describe the bytes of `name`, which
    // outlives the call; sethostname(2) only reads them (no NUL needed).
    let rc = unsafe { libc::sethostname(name.as_ptr().cast::<libc::c_char>(), name.len()) };
    if rc == 0 { Ok(()) } else { Err(last_errno()) }
}

/// `faccessat(AT_FDCWD, path, W_OK, AT_EACCESS)`: would the effective ids
/// and capabilities allow writing `path`? Reports `EROFS` for read-only
/// mounts even for root.
pub fn writable(path: &Path) -> Result<(), Errno> {
    let path = c_path(path)?;
    // SAFETY: `path` is a NUL-terminated CString alive for the call;
    // faccessat only reads it.
    let rc =
        unsafe { libc::faccessat(libc::AT_FDCWD, path.as_ptr(), libc::W_OK, libc::AT_EACCESS) };
    if rc == 0 { Ok(()) } else { Err(last_errno()) }
}

/// Whether `path` carries file capabilities (`security.capability` xattr).
pub fn has_file_caps(path: &Path) -> Result<bool, Errno> {
    let path = c_path(path)?;
    let name = c_str("security.capability")?;
    // SAFETY: both strings are NUL-terminated and alive for the call; a null
    // value pointer with size 0 asks getxattr(2) only for the value's size
    // and writes nothing.
    let rc = unsafe { libc::getxattr(path.as_ptr(), name.as_ptr(), std::ptr::null_mut(), 0) };
    if rc > 0 {
        return Ok(true);
    }
    if rc == 0 {
        return Ok(false);
    }
    match last_errno() {
        libc::ENODATA | libc::EOPNOTSUPP => Ok(false),
        e => Err(e),
    }
}

/// `landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)`:
/// the highest Landlock ABI the running kernel supports. `EOPNOTSUPP` means
/// built but not enabled in the LSM list, `ENOSYS` not built (or filtered).
pub fn landlock_abi_version() -> Result<i64, Errno> {
    // SAFETY: with a null attr pointer and size 0 the kernel reads no memory
    // of ours; it only returns the ABI version (or an error). No file
    // descriptor is created.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<LandlockRulesetAttr>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if rc >= 0 { Ok(rc) } else { Err(last_errno()) }
}

/// The step of a Landlock self-restriction that failed, with its errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LandlockStep {
    CreateRuleset(Errno),
    NoNewPrivs(Errno),
    RestrictSelf(Errno),
}

/// Restricts the calling process (irreversibly) with a ruleset that handles
/// the given network accesses and allows none of them, as landjail does with
/// Landlock ABI 4. Only ever called in the `__check` helper process.
pub fn landlock_restrict_self_net(handled_access_net: u64) -> Result<(), LandlockStep> {
    let attr = LandlockRulesetAttr {
        handled_access_fs: 0,
        handled_access_net,
    };
    // SAFETY: `attr` is a properly initialised repr(C) struct that lives
    // across the call, and we pass its exact size; the kernel only reads it.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            &attr as *const LandlockRulesetAttr,
            std::mem::size_of::<LandlockRulesetAttr>(),
            0u32,
        )
    };
    if fd < 0 {
        return Err(LandlockStep::CreateRuleset(last_errno()));
    }
    let fd = c_int::try_from(fd).map_err(|_| LandlockStep::CreateRuleset(libc::EBADF))?;
    let result = (|| {
        // SAFETY: PR_SET_NO_NEW_PRIVS takes integer arguments only.
        let rc = unsafe {
            libc::prctl(
                libc::PR_SET_NO_NEW_PRIVS,
                1 as c_ulong,
                0 as c_ulong,
                0 as c_ulong,
                0 as c_ulong,
            )
        };
        if rc != 0 {
            return Err(LandlockStep::NoNewPrivs(last_errno()));
        }
        // SAFETY: `fd` is the ruleset descriptor just returned by the kernel;
        // flags must be 0. Integer arguments only.
        let rc = unsafe { libc::syscall(libc::SYS_landlock_restrict_self, fd, 0u32) };
        if rc != 0 {
            return Err(LandlockStep::RestrictSelf(last_errno()));
        }
        Ok(())
    })();
    // SAFETY: `fd` is owned by us, not wrapped in any other owner, and not
    // used after this point.
    unsafe { libc::close(fd) };
    result
}

/// How a forked child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildEnd {
    Exited(i32),
    Signaled(i32),
}

/// Whether this process has exactly one thread (`/proc/self/task`).
pub fn single_threaded() -> Option<bool> {
    let entries = std::fs::read_dir("/proc/self/task").ok()?;
    Some(entries.count() == 1)
}

/// Forks, runs `child` in the child process, which then exits with the
/// returned code (101 if it panicked), and waits for it. Refuses (EINVAL)
/// unless the process is single-threaded. Used by the helper to get a
/// process that is PID 1 of a new PID namespace without an `execve`, which
/// would drop the capabilities the helper holds in its new user namespace
/// when no uid map could be written.
pub fn fork_and_wait(child: impl FnOnce() -> i32) -> Result<ChildEnd, Errno> {
    if single_threaded() != Some(true) {
        return Err(libc::EINVAL);
    }
    // Nothing buffered may be duplicated into the child.
    let _ = io::stdout().flush();
    // SAFETY: the process is single-threaded (checked above), so no lock can
    // be held by another thread at the time of the fork; the child runs
    // ordinary Rust code and leaves through `_exit` without returning into
    // the caller's stack frames.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(last_errno());
    }
    if pid == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(101);
        let _ = io::stdout().flush();
        // SAFETY: _exit(2) ends the child immediately; no Rust destructors of
        // the parent's state run in the child, which is what we want.
        unsafe { libc::_exit(code) };
    }
    let mut status: c_int = 0;
    loop {
        // SAFETY: `status` is a valid, writable c_int alive for the call;
        // `pid` is our own child.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        if rc == pid {
            break;
        }
        let e = last_errno();
        if e != libc::EINTR {
            return Err(e);
        }
    }
    if libc::WIFEXITED(status) {
        Ok(ChildEnd::Exited(libc::WEXITSTATUS(status)))
    } else {
        Ok(ChildEnd::Signaled(libc::WTERMSIG(status)))
    }
}

/// [`errno_text`] of an I/O error's errno, or its own text.
pub fn io_errno_text(e: &io::Error) -> String {
    e.raw_os_error().map_or_else(|| e.to_string(), errno_text)
}

/// `EPERM (Operation not permitted)` for a raw errno.
pub fn errno_text(e: Errno) -> String {
    let name = match e {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::ENXIO => "ENXIO",
        libc::E2BIG => "E2BIG",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::ENODEV => "ENODEV",
        libc::ENOTDIR => "ENOTDIR",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::EROFS => "EROFS",
        libc::ENOSYS => "ENOSYS",
        libc::ENODATA => "ENODATA",
        libc::EUSERS => "EUSERS",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::ENETUNREACH => "ENETUNREACH",
        libc::ETIMEDOUT => "ETIMEDOUT",
        _ => "",
    };
    let message = io::Error::from_raw_os_error(e).to_string();
    let message = message
        .split(" (os error")
        .next()
        .unwrap_or(message.as_str())
        .to_string();
    if name.is_empty() {
        format!("errno {e} ({message})")
    } else {
        format!("{name} ({message})")
    }
}
