//! The checks. Each is a row of [`CHECKS`]: either it runs in the reporting
//! process (reads files, harmless syscalls), or it changes namespaces or
//! restricts itself and therefore runs in a helper process: the probe
//! re-executes `/proc/self/exe __check NAME`, the helper performs the one
//! check and prints its [`Outcome`] as one JSON line. The reporting process
//! never changes its own namespaces.

use std::ffi::c_ulong;
use std::fs;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::model::{Check, Outcome, Status};
use crate::procfs::{self, MountEntry, ProcStatus};
use crate::sys::{self, ChildEnd, Errno, errno_text};

/// How long one helper may take before it is killed and reported unknown.
const HELPER_TIMEOUT: Duration = Duration::from_secs(10);

/// The name of the hidden subcommand that runs one helper check.
pub const HELPER_SUBCOMMAND: &str = "__check";

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

    fn seccomp_note(&self) -> String {
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

    fn effective(&self, name: &str) -> Option<bool> {
        let bit = procfs::capability_bit(name)?;
        self.status.as_ref().ok()?.effective(bit)
    }

    fn setfcap_effective(&self) -> Option<bool> {
        self.effective("SETFCAP")
    }

    fn sys_admin_effective(&self) -> Option<bool> {
        self.effective("SYS_ADMIN")
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

/// Every check, in report order.
pub const CHECKS: &[CheckSpec] = &[
    CheckSpec {
        name: "kernel.release",
        run: Run::InProcess(kernel_release),
    },
    CheckSpec {
        name: "userns.current",
        run: Run::InProcess(userns_current),
    },
    CheckSpec {
        name: "userns.sysctl",
        run: Run::InProcess(userns_sysctl),
    },
    CheckSpec {
        name: "userns.unshare",
        run: Run::Helper(helper_userns_unshare),
    },
    CheckSpec {
        name: "userns.map_self",
        run: Run::Helper(helper_map_self),
    },
    CheckSpec {
        name: "userns.map_root",
        run: Run::Helper(helper_map_root),
    },
    CheckSpec {
        name: "userns.netns",
        run: Run::Helper(helper_userns_netns),
    },
    CheckSpec {
        name: "netns.unshare",
        run: Run::Helper(helper_netns_unshare),
    },
    CheckSpec {
        name: "proc.overmounts",
        run: Run::InProcess(proc_overmounts),
    },
    CheckSpec {
        name: "pidns.proc_mount",
        run: Run::Helper(helper_proc_mount),
    },
    CheckSpec {
        name: "devpts.mount",
        run: Run::Helper(helper_devpts_mount),
    },
    CheckSpec {
        name: "overlay.userns",
        run: Run::Helper(helper_overlay_mount),
    },
    CheckSpec {
        name: "landlock.abi",
        run: Run::InProcess(landlock_abi),
    },
    CheckSpec {
        name: "landlock.lsm",
        run: Run::InProcess(landlock_lsm),
    },
    CheckSpec {
        name: "landlock.restrict",
        run: Run::Helper(helper_landlock_restrict),
    },
    CheckSpec {
        name: "seccomp.mode",
        run: Run::InProcess(seccomp_mode),
    },
    CheckSpec {
        name: "caps.effective",
        run: Run::InProcess(caps_effective),
    },
    CheckSpec {
        name: "caps.bounding",
        run: Run::InProcess(caps_bounding),
    },
    CheckSpec {
        name: "cap.net_admin",
        run: Run::InProcess(cap_net_admin),
    },
    CheckSpec {
        name: "cap.sys_admin",
        run: Run::InProcess(cap_sys_admin),
    },
    CheckSpec {
        name: "cap.setuid",
        run: Run::InProcess(cap_setuid),
    },
    CheckSpec {
        name: "cap.setgid",
        run: Run::InProcess(cap_setgid),
    },
    CheckSpec {
        name: "cap.setfcap",
        run: Run::InProcess(cap_setfcap),
    },
    CheckSpec {
        name: "caps.setid_effective",
        run: Run::InProcess(caps_setid_effective),
    },
    CheckSpec {
        name: "no_new_privs",
        run: Run::InProcess(no_new_privs),
    },
    CheckSpec {
        name: "uidmap.helpers",
        run: Run::InProcess(uidmap_helpers),
    },
    CheckSpec {
        name: "cgroup.v2",
        run: Run::InProcess(cgroup_v2),
    },
    CheckSpec {
        name: "cgroup.delegation",
        run: Run::InProcess(cgroup_delegation),
    },
    CheckSpec {
        name: "selinux",
        run: Run::InProcess(selinux),
    },
    CheckSpec {
        name: "apparmor",
        run: Run::InProcess(apparmor),
    },
    CheckSpec {
        name: "dev.fuse",
        run: Run::InProcess(dev_fuse),
    },
    CheckSpec {
        name: "dev.net_tun",
        run: Run::InProcess(dev_net_tun),
    },
];

/// Runs every check of [`CHECKS`].
pub fn run_all(ctx: &Context) -> Vec<Check> {
    CHECKS
        .iter()
        .map(|spec| {
            let outcome = match spec.run {
                Run::InProcess(f) => f(ctx),
                Run::Helper(_) => run_helper(spec.name),
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

/// Runs one helper check in a child process and reads its outcome.
fn run_helper(name: &str) -> Outcome {
    let spawned = Command::new("/proc/self/exe")
        .arg(HELPER_SUBCOMMAND)
        .arg(name)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            return Outcome::unknown(format!(
                "cannot re-execute /proc/self/exe for the helper: {e}"
            ));
        }
    };
    let deadline = Instant::now() + HELPER_TIMEOUT;
    let exit = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Outcome::unknown(format!(
                    "helper did not finish within {}s",
                    HELPER_TIMEOUT.as_secs()
                ));
            }
            Err(e) => return Outcome::unknown(format!("cannot wait for the helper: {e}")),
        }
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut stdout);
    }
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    match stdout
        .lines()
        .find_map(|l| serde_json::from_str::<Outcome>(l).ok())
    {
        Some(outcome) if exit.success() => outcome,
        _ => Outcome::unknown(format!(
            "helper ended with {exit} without a result{}",
            if stderr.trim().is_empty() {
                String::new()
            } else {
                format!(": {}", stderr.trim())
            }
        )),
    }
}

/// Entry point of `nested-probe __check NAME`: runs one helper check and
/// prints its outcome as one JSON line. Returns the exit code.
pub fn helper_main(name: &str) -> i32 {
    let Some(f) = CHECKS.iter().find_map(|s| match s.run {
        Run::Helper(f) if s.name == name => Some(f),
        _ => None,
    }) else {
        eprintln!("nested-probe: no helper check named {name:?}");
        return 2;
    };
    let outcome = match sys::single_threaded() {
        // unshare(CLONE_NEWUSER) fails with EINVAL in a multithreaded process.
        Some(true) => f(&Context::gather()),
        Some(false) => Outcome::unknown("helper process is not single-threaded"),
        None => {
            Outcome::unknown("cannot read /proc/self/task to verify the helper is single-threaded")
        }
    };
    match serde_json::to_string(&outcome) {
        Ok(line) => {
            let mut out = io::stdout().lock();
            if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                return 2;
            }
            0
        }
        Err(e) => {
            eprintln!("nested-probe: cannot encode the helper result: {e}");
            2
        }
    }
}

fn read(path: &str) -> io::Result<String> {
    fs::read_to_string(path)
}

fn io_text(path: &str, e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(errno) => format!("{path}: {}", errno_text(errno)),
        None => format!("{path}: {e}"),
    }
}

fn is_not_found(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound
}

// ---------------------------------------------------------------- kernel

fn kernel_release(_: &Context) -> Outcome {
    match read("/proc/sys/kernel/osrelease") {
        Ok(r) => {
            let r = r.trim().to_string();
            Outcome::ok(r.clone()).with_value(json!(r))
        }
        Err(e) => match sys::uname_release() {
            Some(r) => Outcome::ok(format!(
                "{r} (from uname; {})",
                io_text("/proc/sys/kernel/osrelease", &e)
            ))
            .with_value(json!(r)),
            None => Outcome::unknown(io_text("/proc/sys/kernel/osrelease", &e)),
        },
    }
}

// ---------------------------------------------------------------- user namespaces

fn userns_current(_: &Context) -> Outcome {
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

fn userns_sysctl(_: &Context) -> Outcome {
    const PATH: &str = "/proc/sys/user/max_user_namespaces";
    match read(PATH) {
        Ok(t) => match t.trim().parse::<u64>() {
            Ok(0) => Outcome::fail(
                "user.max_user_namespaces = 0: user namespaces are disabled (the Bottlerocket default)",
            )
            .with_value(json!(0)),
            Ok(n) => Outcome::ok(format!("user.max_user_namespaces = {n}")).with_value(json!(n)),
            Err(_) => Outcome::unknown(format!("cannot parse {PATH}: {:?}", t.trim())),
        },
        Err(e) => Outcome::unknown(io_text(PATH, &e)),
    }
}

fn explain_unshare(what: &str, flags: i32, e: Errno, ctx: &Context) -> String {
    let with_userns = flags & libc::CLONE_NEWUSER != 0;
    let why = match e {
        libc::ENOSPC | libc::EUSERS => {
            "user.max_user_namespaces (or the nesting limit of 32) reached; 0 disables user namespaces".to_string()
        }
        libc::EPERM if with_userns => format!(
            "refused: by a seccomp filter (RuntimeDefault blocks unshare without SYS_ADMIN) or an LSM/sysctl \
             restriction on unprivileged user namespaces{}",
            ctx.seccomp_note()
        ),
        libc::EPERM => format!(
            "refused: without a user namespace this needs SYS_ADMIN (effective: {}), and seccomp may block it{}",
            match ctx.sys_admin_effective() {
                Some(true) => "yes",
                Some(false) => "no",
                None => "unknown",
            },
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

fn unshare(flags: i32, what: &str, ctx: &Context) -> Result<(), Outcome> {
    sys::unshare(flags).map_err(|e| Outcome::fail(explain_unshare(what, flags, e, ctx)))
}

fn helper_userns_unshare(ctx: &Context) -> Outcome {
    match unshare(libc::CLONE_NEWUSER, "unshare(CLONE_NEWUSER)", ctx) {
        Ok(()) => Outcome::ok("unshare(CLONE_NEWUSER) created a user namespace"),
        Err(o) => o,
    }
}

fn helper_userns_netns(ctx: &Context) -> Outcome {
    match unshare(
        libc::CLONE_NEWUSER | libc::CLONE_NEWNET,
        "unshare(CLONE_NEWUSER|CLONE_NEWNET)",
        ctx,
    ) {
        Ok(()) => Outcome::ok("created a network namespace inside a new user namespace"),
        Err(o) => o,
    }
}

fn helper_netns_unshare(ctx: &Context) -> Outcome {
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
fn write_maps(
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

fn explain_map_failure(what: &str, e: Errno, uid_outside: u32, ctx: &Context) -> String {
    let mut text = format!("{what} failed: {}", errno_text(e));
    if e == libc::EPERM && uid_outside == 0 && what.contains("uid_map") {
        text.push_str(&format!(
            ": mapping uid 0 of the parent namespace needs CAP_SETFCAP since Linux 5.12 (SETFCAP effective: {})",
            match ctx.setfcap_effective() {
                Some(true) => "yes",
                Some(false) => "no",
                None => "unknown",
            }
        ));
    }
    text
}

fn map_check(ctx: &Context, uid_inside: u32, gid_inside: u32) -> Outcome {
    if let Err(o) = unshare(libc::CLONE_NEWUSER, "unshare(CLONE_NEWUSER)", ctx) {
        return o;
    }
    match write_maps(uid_inside, ctx.euid, gid_inside, ctx.egid) {
        Ok(maps) => Outcome::ok(format!("wrote {maps}")),
        Err((what, e)) => Outcome::fail(explain_map_failure(&what, e, ctx.euid, ctx)),
    }
}

fn helper_map_self(ctx: &Context) -> Outcome {
    map_check(ctx, ctx.euid, ctx.egid)
}

fn helper_map_root(ctx: &Context) -> Outcome {
    map_check(ctx, 0, 0)
}

/// After unsharing a user namespace (and others): write the 1:1 map of the
/// current user if possible. Returns a note for the detail text.
fn best_effort_self_map(ctx: &Context) -> String {
    match write_maps(ctx.euid, ctx.euid, ctx.egid, ctx.egid) {
        Ok(maps) => format!(" (with {maps})"),
        Err((what, e)) => format!(
            " (without uid/gid maps: {})",
            explain_map_failure(&what, e, ctx.euid, ctx)
        ),
    }
}

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

// ---------------------------------------------------------------- /proc, devpts, overlay

fn proc_overmounts(ctx: &Context) -> Outcome {
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
            if me == "1" {
                Outcome::ok(
                    "mounted a new procfs as PID 1 of a new PID namespace (/proc/self -> 1)",
                )
            } else {
                Outcome::unknown(format!("procfs mounted, but /proc/self is {me}, not 1"))
            }
        }
        Err(libc::EPERM) => {
            let over = match &ctx.mounts {
                Ok(m) => {
                    let over = procfs::proc_overmounts(m);
                    if over.is_empty() {
                        String::new()
                    } else {
                        format!("; mounts below /proc: {}", over.join(", "))
                    }
                }
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

fn helper_proc_mount(ctx: &Context) -> Outcome {
    if let Err(o) = unshare(
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

fn helper_devpts_mount(ctx: &Context) -> Outcome {
    if let Err(o) = unshare(
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

fn helper_overlay_mount(ctx: &Context) -> Outcome {
    if let Err(o) = unshare(
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
    // A private tmpfs as scratch space, over the first existing directory.
    let mut scratch = None;
    let mut errors = Vec::new();
    for dir in ["/tmp", "/mnt", "/run", "/var/tmp", "/dev/shm"] {
        let dir = Path::new(dir);
        if !dir.is_dir() {
            continue;
        }
        match sys::mount("tmpfs", dir, Some("tmpfs"), 0, Some("size=1m,mode=0700")) {
            Ok(()) => {
                scratch = Some(dir.to_path_buf());
                break;
            }
            Err(e) => errors.push(format!("{}: {}", dir.display(), errno_text(e))),
        }
    }
    let Some(scratch) = scratch else {
        return Outcome::unknown(format!(
            "could not mount a scratch tmpfs in the helper's mount namespace ({})",
            errors.join("; ")
        ));
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

// ---------------------------------------------------------------- Landlock

fn explain_landlock_error(e: Errno) -> String {
    match e {
        libc::EOPNOTSUPP => format!(
            "{}: Landlock is built into the kernel but not enabled (not in the lsm= boot list)",
            errno_text(e)
        ),
        libc::ENOSYS => format!(
            "{}: Landlock is not built into this kernel, or the syscall is filtered",
            errno_text(e)
        ),
        _ => format!("landlock_create_ruleset refused: {}", errno_text(e)),
    }
}

fn landlock_abi(_: &Context) -> Outcome {
    match sys::landlock_abi_version() {
        Ok(v) if v >= 4 => {
            Outcome::ok(format!("Landlock ABI {v} (network rules need >= 4)")).with_value(json!(v))
        }
        Ok(v) => Outcome::fail(format!(
            "Landlock ABI {v} < 4: no TCP bind/connect rules (needs kernel >= 6.7)"
        ))
        .with_value(json!(v)),
        Err(e) => Outcome::fail(explain_landlock_error(e)),
    }
}

fn landlock_lsm(_: &Context) -> Outcome {
    const LSM: &str = "/sys/kernel/security/lsm";
    let listed = read(LSM).map(|t| procfs::parse_lsm_list(&t));
    let list_note = match &listed {
        Ok(l) => format!("{LSM}: {}", l.join(",")),
        Err(e) => format!(
            "{} (securityfs not mounted or not readable)",
            io_text(LSM, e)
        ),
    };
    let value = listed.as_ref().map_or(Value::Null, |l| json!(l));
    let in_list = listed
        .as_ref()
        .ok()
        .map(|l| l.iter().any(|m| m == "landlock"));
    match (sys::landlock_abi_version(), in_list) {
        (Ok(v), _) => Outcome::ok(format!(
            "active: landlock_create_ruleset answers ABI {v}; {list_note}"
        )),
        (Err(libc::EOPNOTSUPP), _) => Outcome::fail(format!(
            "{}; {list_note}",
            explain_landlock_error(libc::EOPNOTSUPP)
        )),
        (Err(e), Some(true)) => Outcome::unknown(format!(
            "listed as active, but {}; {list_note}",
            explain_landlock_error(e)
        )),
        (Err(e), Some(false)) => Outcome::fail(format!(
            "not in the active LSM list; {}; {list_note}",
            explain_landlock_error(e)
        )),
        (Err(libc::ENOSYS), None) => Outcome::fail(format!(
            "{}; {list_note}",
            explain_landlock_error(libc::ENOSYS)
        )),
        (Err(e), None) => Outcome::unknown(format!("{}; {list_note}", explain_landlock_error(e))),
    }
    .with_value(value)
}

fn helper_landlock_restrict(_: &Context) -> Outcome {
    // A listener before the restriction gives connect() a real target, so
    // that EACCES can only come from Landlock (not ECONNREFUSED).
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).ok();
    let port = listener
        .as_ref()
        .and_then(|l| l.local_addr().ok())
        .map(|a| a.port());
    let handled = sys::LANDLOCK_ACCESS_NET_BIND_TCP | sys::LANDLOCK_ACCESS_NET_CONNECT_TCP;
    if let Err(step) = sys::landlock_restrict_self_net(handled) {
        return Outcome::fail(match step {
            sys::LandlockStep::CreateRuleset(libc::EINVAL) => format!(
                "creating a ruleset with TCP network rules failed: {}: the kernel has no Landlock network rules (ABI < 4)",
                errno_text(libc::EINVAL)
            ),
            sys::LandlockStep::CreateRuleset(e) => explain_landlock_error(e),
            sys::LandlockStep::NoNewPrivs(e) => {
                format!("prctl(PR_SET_NO_NEW_PRIVS) failed: {}", errno_text(e))
            }
            sys::LandlockStep::RestrictSelf(e) => {
                format!("landlock_restrict_self failed: {}", errno_text(e))
            }
        });
    }
    let denied = |e: &io::Error| e.raw_os_error() == Some(libc::EACCES);
    match port {
        Some(port) => {
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
                Err(e) if denied(&e) => Outcome::ok(format!(
                    "restricted a process with a Landlock ruleset handling TCP bind/connect; connect to {addr} \
                     was then denied with EACCES"
                )),
                Ok(_) => Outcome::fail(format!(
                    "ruleset applied, but connect to {addr} was not blocked"
                )),
                Err(e) => Outcome::unknown(format!(
                    "ruleset applied, but connect to {addr} failed with {e} instead of EACCES"
                )),
            }
        }
        None => match TcpListener::bind((Ipv4Addr::LOCALHOST, 0)) {
            Err(e) if denied(&e) => Outcome::ok(
                "restricted a process with a Landlock ruleset handling TCP bind/connect; bind was then denied with EACCES",
            ),
            Ok(_) => Outcome::fail("ruleset applied, but bind was not blocked"),
            Err(e) => Outcome::unknown(format!(
                "ruleset applied, but bind failed with {e} instead of EACCES"
            )),
        },
    }
}

// ---------------------------------------------------------------- seccomp, capabilities

fn status_or_unknown(ctx: &Context) -> Result<&ProcStatus, Outcome> {
    ctx.status.as_ref().map_err(|e| Outcome::unknown(e.clone()))
}

fn seccomp_mode(ctx: &Context) -> Outcome {
    let s = match status_or_unknown(ctx) {
        Ok(s) => s,
        Err(o) => return o,
    };
    match s.seccomp {
        Some(mode) => {
            let filters = s
                .seccomp_filters
                .map_or_else(String::new, |n| format!(", {n} filter(s)"));
            Outcome::ok(format!(
                "mode {mode} ({}){filters}",
                procfs::seccomp_mode_name(mode)
            ))
            .with_value(json!({"mode": mode, "filters": s.seccomp_filters}))
        }
        None => Outcome::unknown(
            "no Seccomp field in /proc/self/status (kernel without CONFIG_SECCOMP?)",
        ),
    }
}

fn cap_set(ctx: &Context, field: &str, mask: fn(&ProcStatus) -> Option<u64>) -> Outcome {
    let s = match status_or_unknown(ctx) {
        Ok(s) => s,
        Err(o) => return o,
    };
    match mask(s) {
        Some(m) => {
            let names = procfs::capability_names(m);
            let missing: Vec<&str> = procfs::CAPABILITY_NAMES
                .iter()
                .copied()
                .filter(|n| !names.iter().any(|have| have == n))
                .collect();
            // Short for the table: list whichever side is smaller.
            let shown = if names.is_empty() {
                "(none)".to_string()
            } else if missing.len() < names.len() {
                format!(
                    "{} capabilities, all known ones except {}",
                    names.len(),
                    if missing.is_empty() {
                        "none".to_string()
                    } else {
                        missing.join(",")
                    }
                )
            } else {
                names.join(",")
            };
            Outcome::ok(format!("{field} {m:016x}: {shown}"))
                .with_value(json!({"hex": format!("{m:016x}"), "names": names}))
        }
        None => Outcome::unknown(format!("no {field} field in /proc/self/status")),
    }
}

fn caps_effective(ctx: &Context) -> Outcome {
    cap_set(ctx, "CapEff", |s| s.cap_eff)
}

fn caps_bounding(ctx: &Context) -> Outcome {
    cap_set(ctx, "CapBnd", |s| s.cap_bnd)
}

/// Whether the process can use capability `name`: effective now, or in the
/// bounding set with NoNewPrivs off, so a setuid or file-capability helper
/// (sudo + setpriv as Coder's nsjail does, newuidmap) can obtain it.
fn cap_usable(ctx: &Context, name: &str) -> Outcome {
    let s = match status_or_unknown(ctx) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let Some(bit) = procfs::capability_bit(name) else {
        return Outcome::unknown(format!("unknown capability {name}"));
    };
    let (eff, bnd, nnp) = (s.effective(bit), s.bounding(bit), s.no_new_privs);
    let value = json!({"effective": eff, "bounding": bnd});
    match (eff, bnd, nnp) {
        (Some(true), _, _) => Outcome::ok(format!("{name} is effective")),
        (Some(false), Some(true), Some(false)) => Outcome::ok(format!(
            "{name} is not effective but in the bounding set with NoNewPrivs=0: obtainable through a setuid or \
             file-capability helper (sudo/setpriv, newuidmap)"
        )),
        (Some(false), Some(true), Some(true)) => Outcome::fail(format!(
            "{name} is only in the bounding set and NoNewPrivs=1 (allowPrivilegeEscalation: false) keeps helpers \
             from obtaining it"
        )),
        (Some(false), Some(false), _) => Outcome::fail(format!(
            "{name} is not in the bounding set (add it under securityContext.capabilities.add)"
        )),
        _ => Outcome::unknown(format!("CapEff/CapBnd/NoNewPrivs incomplete in /proc/self/status for {name}")),
    }
    .with_value(value)
}

fn cap_net_admin(ctx: &Context) -> Outcome {
    cap_usable(ctx, "NET_ADMIN")
}

fn cap_sys_admin(ctx: &Context) -> Outcome {
    cap_usable(ctx, "SYS_ADMIN")
}

fn cap_setuid(ctx: &Context) -> Outcome {
    cap_usable(ctx, "SETUID")
}

fn cap_setgid(ctx: &Context) -> Outcome {
    cap_usable(ctx, "SETGID")
}

fn cap_setfcap(ctx: &Context) -> Outcome {
    cap_usable(ctx, "SETFCAP")
}

/// SETUID and SETGID both effective: the process (e.g. root in a
/// `hostUsers: false` pod) can write multi-id maps for its children itself,
/// without newuidmap/newgidmap.
fn caps_setid_effective(ctx: &Context) -> Outcome {
    let s = match status_or_unknown(ctx) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let bits = ["SETUID", "SETGID"].map(|n| procfs::capability_bit(n).and_then(|b| s.effective(b)));
    match bits {
        [Some(true), Some(true)] => Outcome::ok(
            "SETUID and SETGID are effective: can write uid/gid maps for child namespaces itself",
        ),
        [Some(_), Some(_)] => Outcome::fail(format!(
            "not both effective (SETUID: {}, SETGID: {}): uid/gid ranges need newuidmap/newgidmap",
            bits[0] == Some(true),
            bits[1] == Some(true)
        )),
        _ => Outcome::unknown("no CapEff field in /proc/self/status"),
    }
}

fn no_new_privs(ctx: &Context) -> Outcome {
    let s = match status_or_unknown(ctx) {
        Ok(s) => s,
        Err(o) => return o,
    };
    match s.no_new_privs {
        Some(false) => Outcome::ok("NoNewPrivs: 0 (privilege escalation through setuid/file capabilities possible)")
            .with_value(json!(false)),
        Some(true) => Outcome::fail(
            "NoNewPrivs: 1 (allowPrivilegeEscalation: false): setuid and file-capability helpers gain nothing",
        )
        .with_value(json!(true)),
        None => Outcome::unknown("no NoNewPrivs field in /proc/self/status"),
    }
}

/// Directories searched for newuidmap/newgidmap: $PATH, then the usual ones.
fn search_path() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    for d in ["/usr/local/bin", "/usr/bin", "/usr/sbin", "/bin", "/sbin"] {
        let d = PathBuf::from(d);
        if !dirs.contains(&d) {
            dirs.push(d);
        }
    }
    dirs
}

/// `Ok(Some(how))` privileged helper, `Ok(None)` present but unprivileged,
/// `Err` not found / unreadable.
fn helper_privilege(path: &Path) -> Result<Option<&'static str>, String> {
    let meta = fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.permissions().mode() & 0o4000 != 0 && meta.uid() == 0 {
        return Ok(Some("setuid root"));
    }
    match sys::has_file_caps(path) {
        Ok(true) => Ok(Some("file capabilities")),
        Ok(false) => Ok(None),
        Err(e) => Err(format!(
            "{}: reading security.capability: {}",
            path.display(),
            errno_text(e)
        )),
    }
}

fn uidmap_helpers(ctx: &Context) -> Outcome {
    let dirs = search_path();
    let mut found = Vec::new();
    let mut missing = Vec::new();
    let mut unprivileged = Vec::new();
    let mut unreadable = Vec::new();
    for tool in ["newuidmap", "newgidmap"] {
        match dirs.iter().map(|d| d.join(tool)).find(|p| p.is_file()) {
            None => missing.push(tool),
            Some(path) => match helper_privilege(&path) {
                Ok(Some(how)) => found.push(format!("{} ({how})", path.display())),
                Ok(None) => unprivileged.push(path.display().to_string()),
                Err(e) => unreadable.push(e),
            },
        }
    }
    let nnp = ctx.status.as_ref().ok().and_then(|s| s.no_new_privs);
    if !missing.is_empty() {
        Outcome::fail(format!(
            "{} not found in PATH or the usual directories (package uidmap / shadow-utils)",
            missing.join(" and ")
        ))
    } else if !unprivileged.is_empty() {
        Outcome::fail(format!(
            "{} neither setuid root nor with file capabilities",
            unprivileged.join(" and ")
        ))
    } else if !unreadable.is_empty() {
        Outcome::unknown(unreadable.join("; "))
    } else if nnp == Some(true) && ctx.euid != 0 {
        Outcome::fail(format!(
            "{} present, but NoNewPrivs=1 (allowPrivilegeEscalation: false) stops them from gaining privileges",
            found.join(", ")
        ))
    } else {
        Outcome::ok(found.join(", "))
    }
}

// ---------------------------------------------------------------- cgroups, LSMs, devices

const CGROUP_ROOT: &str = "/sys/fs/cgroup";

fn cgroup_v2(ctx: &Context) -> Outcome {
    let controllers = format!("{CGROUP_ROOT}/cgroup.controllers");
    match read(&controllers) {
        Ok(t) => {
            let list = procfs::parse_controllers(&t);
            Outcome::ok(format!(
                "unified cgroup v2 at {CGROUP_ROOT}; controllers: {}",
                if list.is_empty() {
                    "(none)".to_string()
                } else {
                    list.join(" ")
                }
            ))
            .with_value(json!(list))
        }
        Err(e) if is_not_found(&e) => match &ctx.mounts {
            Ok(m) => {
                let at_root = procfs::fstypes_at(m, CGROUP_ROOT);
                let unified = procfs::fstypes_at(m, &format!("{CGROUP_ROOT}/unified"));
                if at_root.is_empty() {
                    Outcome::fail(format!("no cgroup filesystem mounted at {CGROUP_ROOT}"))
                } else if unified.contains(&"cgroup2") {
                    Outcome::fail(format!(
                        "hybrid hierarchy: cgroup v1 controllers under {CGROUP_ROOT}, cgroup2 only at \
                         {CGROUP_ROOT}/unified"
                    ))
                } else if at_root.contains(&"cgroup2") {
                    Outcome::unknown(format!(
                        "cgroup2 mounted at {CGROUP_ROOT} but {controllers} is missing"
                    ))
                } else {
                    Outcome::fail(format!(
                        "cgroup v1 ({CGROUP_ROOT} is {})",
                        at_root.join(", ")
                    ))
                }
            }
            Err(me) => Outcome::unknown(format!("{}; {me}", io_text(&controllers, &e))),
        },
        Err(e) => Outcome::unknown(io_text(&controllers, &e)),
    }
}

fn cgroup_delegation(ctx: &Context) -> Outcome {
    let v2 = cgroup_v2(ctx);
    if v2.status != Status::Ok {
        return Outcome {
            status: v2.status,
            detail: format!("no usable unified hierarchy: {}", v2.detail),
            value: Value::Null,
        };
    }
    let own = match read("/proc/self/cgroup") {
        Ok(t) => procfs::parse_cgroup_v2_path(&t),
        Err(e) => return Outcome::unknown(io_text("/proc/self/cgroup", &e)),
    };
    let Some(own) = own else {
        return Outcome::unknown("no \"0::\" line in /proc/self/cgroup");
    };
    let root = Path::new(CGROUP_ROOT);
    let candidate = root.join(own.trim_start_matches('/'));
    let (dir, note) = if candidate.is_dir() {
        (candidate, String::new())
    } else {
        (
            root.to_path_buf(),
            format!(
                " (own cgroup {own} is not visible below {CGROUP_ROOT}; checked the mount root)"
            ),
        )
    };
    let mut problems = Vec::new();
    for path in [
        dir.clone(),
        dir.join("cgroup.procs"),
        dir.join("cgroup.subtree_control"),
    ] {
        if let Err(e) = sys::writable(&path) {
            problems.push(format!("{}: {}", path.display(), errno_text(e)));
        }
    }
    let value = json!({"path": dir.display().to_string()});
    if problems.is_empty() {
        Outcome::ok(format!(
            "{} and its cgroup.procs/cgroup.subtree_control are writable{note}",
            dir.display()
        ))
        .with_value(value)
    } else {
        Outcome::fail(format!("not writable: {}{note}", problems.join("; "))).with_value(value)
    }
}

fn selinux(_: &Context) -> Outcome {
    const ENFORCE: &str = "/sys/fs/selinux/enforce";
    match read(ENFORCE) {
        Ok(t) => {
            let state = match t.trim() {
                "1" => "enforcing",
                "0" => "permissive",
                _ => {
                    return Outcome::unknown(format!(
                        "unexpected content of {ENFORCE}: {:?}",
                        t.trim()
                    ));
                }
            };
            let context = read("/proc/self/attr/current")
                .map(|c| c.trim_end_matches(['\0', '\n']).to_string())
                .ok();
            Outcome::ok(format!(
                "{state}{}",
                context
                    .as_deref()
                    .map_or_else(String::new, |c| format!("; process context {c}"))
            ))
            .with_value(json!({"state": state, "context": context}))
        }
        Err(e) if is_not_found(&e) && !Path::new("/sys/fs/selinux").exists() => {
            Outcome::ok("not present (no /sys/fs/selinux)").with_value(json!({"state": "absent"}))
        }
        Err(e) => Outcome::unknown(io_text(ENFORCE, &e)),
    }
}

fn apparmor(_: &Context) -> Outcome {
    const ENABLED: &str = "/sys/module/apparmor/parameters/enabled";
    const RESTRICT: &str = "/proc/sys/kernel/apparmor_restrict_unprivileged_userns";
    let restrict = read(RESTRICT).ok().map(|t| t.trim().to_string());
    let restrict_note = restrict.as_deref().map_or_else(String::new, |r| {
        format!("; kernel.apparmor_restrict_unprivileged_userns = {r}")
    });
    match read(ENABLED) {
        Ok(t) => {
            let enabled = t.trim() == "Y";
            let profile = read("/proc/self/attr/apparmor/current")
                .map(|c| c.trim_end_matches(['\0', '\n']).to_string())
                .ok();
            Outcome::ok(format!(
                "{}{}{restrict_note}",
                if enabled { "enabled" } else { "built but disabled" },
                profile.as_deref().map_or_else(String::new, |p| format!("; profile {p}"))
            ))
            .with_value(json!({"enabled": enabled, "profile": profile, "restrict_unprivileged_userns": restrict}))
        }
        Err(e) if is_not_found(&e) && Path::new("/sys/module").is_dir() && !Path::new("/sys/module/apparmor").exists() => {
            Outcome::ok(format!("not present (no /sys/module/apparmor){restrict_note}"))
                .with_value(json!({"enabled": false, "profile": null, "restrict_unprivileged_userns": restrict}))
        }
        Err(e) => Outcome::unknown(io_text(ENABLED, &e)),
    }
}

fn open_device(path: &str, purpose: &str) -> Outcome {
    match fs::OpenOptions::new().read(true).write(true).open(path) {
        Ok(_) => Outcome::ok(format!("{path} exists and opens read-write")),
        Err(e) if is_not_found(&e) => Outcome::fail(format!(
            "{path} does not exist in the container ({purpose})"
        )),
        Err(e) => Outcome::fail(format!(
            "{path} exists but cannot be opened read-write: {} ({purpose})",
            e.raw_os_error().map_or_else(|| e.to_string(), errno_text)
        )),
    }
}

fn dev_fuse(_: &Context) -> Outcome {
    open_device("/dev/fuse", "fuse-overlayfs needs it")
}

fn dev_net_tun(_: &Context) -> Outcome {
    open_device("/dev/net/tun", "pasta/slirp4netns need it")
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
        }
    }

    fn ctx_with(status: &str) -> Context {
        Context {
            status: Ok(procfs::parse_status(status)),
            mounts: Ok(vec![]),
            euid: 1000,
            egid: 1000,
        }
    }

    #[test]
    fn capability_usability_rules() {
        // NET_ADMIN (bit 12) effective.
        let c = ctx_with("CapEff:\t0000000000001000\nCapBnd:\t0000000000001000\nNoNewPrivs:\t1\n");
        assert_eq!(cap_net_admin(&c).status, Status::Ok);
        // Bounding only, escalation allowed.
        let c = ctx_with("CapEff:\t0000000000000000\nCapBnd:\t0000000000001000\nNoNewPrivs:\t0\n");
        assert_eq!(cap_net_admin(&c).status, Status::Ok);
        // Bounding only, NoNewPrivs set.
        let c = ctx_with("CapEff:\t0000000000000000\nCapBnd:\t0000000000001000\nNoNewPrivs:\t1\n");
        assert_eq!(cap_net_admin(&c).status, Status::Fail);
        // Not in the bounding set.
        let c = ctx_with("CapEff:\t0000000000000000\nCapBnd:\t0000000000000000\nNoNewPrivs:\t0\n");
        let o = cap_net_admin(&c);
        assert_eq!(o.status, Status::Fail);
        assert!(o.detail.contains("capabilities.add"), "{}", o.detail);
        // Fields missing: unknown, never ok.
        let c = ctx_with("Name:\tx\n");
        assert_eq!(cap_net_admin(&c).status, Status::Unknown);
        let c = Context {
            status: Err("nope".into()),
            ..ctx_with("")
        };
        assert_eq!(cap_sys_admin(&c).status, Status::Unknown);
        assert_eq!(seccomp_mode(&c).status, Status::Unknown);
        assert_eq!(no_new_privs(&c).status, Status::Unknown);
    }

    #[test]
    fn seccomp_and_no_new_privs_from_status() {
        let c = ctx_with("NoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t3\n");
        let s = seccomp_mode(&c);
        assert_eq!(s.status, Status::Ok);
        assert_eq!(s.value, json!({"mode": 2, "filters": 3}));
        assert_eq!(no_new_privs(&c).status, Status::Fail);
        assert!(c.seccomp_note().contains("3 filter"));
    }

    #[test]
    fn proc_overmounts_from_mountinfo() {
        let mut c = ctx_with("");
        c.mounts = Ok(procfs::parse_mountinfo(
            "1 0 0:1 / /proc rw - proc proc rw\n2 1 0:2 /null /proc/kcore rw - tmpfs tmpfs rw\n",
        ));
        let o = proc_overmounts(&c);
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.value, json!(["/proc/kcore"]));
        c.mounts = Err("unreadable".into());
        assert_eq!(proc_overmounts(&c).status, Status::Unknown);
    }

    #[test]
    fn setfcap_hint_only_for_root_maps() {
        let c = ctx_with("CapEff:\t0000000000000000\n");
        let t = explain_map_failure("writing uid_map \"0 0 1\"", libc::EPERM, 0, &c);
        assert!(t.contains("CAP_SETFCAP"), "{t}");
        assert!(t.contains("SETFCAP effective: no"), "{t}");
        let t = explain_map_failure("writing uid_map \"0 1000 1\"", libc::EPERM, 1000, &c);
        assert!(!t.contains("CAP_SETFCAP"), "{t}");
    }
}
