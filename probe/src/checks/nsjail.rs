//! Coder Boundary's nsjail jail type, modelled step by step
//! (`coder/boundary:privilege/privilege_linux.go`,
//! `nsjail_manager/nsjail/jail.go`):
//!
//! 1. A non-root agent (euid != 0, `BOUNDARY_PRIV_ESCALATED` not `1`)
//!    re-executes itself as `sudo -E env PATH=$PATH setpriv --reuid U
//!    --regid G --clear-groups --inh-caps +net_admin,+sys_admin
//!    --ambient-caps +net_admin,+sys_admin <itself>`. Root skips this.
//! 2. The jail is `clone(CLONE_NEWNET|CLONE_NEWUSER)` with a 1:1 map of the
//!    current uid/gid, or `CLONE_NEWNET` alone with `--no-user-namespace`.
//!
//! The probe runs step 1 for real (with `sudo -n`, so that it never
//! prompts), with itself as the target: `__check nsjail.caps` checks the
//! capabilities the agent would then hold, and the two jail clones run in
//! that re-executed process, i.e. with the privileges Boundary's jail has.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::json;

use super::helpers::{
    HELPER_SUBCOMMAND, RunError, first_lines, helper_outcome, outcome_line, run_command,
};
use super::uidmap::Privs;
use super::userns::{explain_map_failure, unshare, write_maps};
use super::{Context, yes_no};
use crate::model::{Outcome, Status};
use crate::procfs;

/// Set by Boundary on its re-executed process; then it does not re-execute.
pub const ESCALATED_ENV: &str = "BOUNDARY_PRIV_ESCALATED";

/// The capabilities setpriv raises (inheritable and ambient).
const JAIL_CAPS: [&str; 2] = ["NET_ADMIN", "SYS_ADMIN"];

/// Whether Boundary re-executes through sudo + setpriv.
pub fn needs_reexec(euid: u32, escalated_env: Option<&str>) -> bool {
    euid != 0 && escalated_env != Some("1")
}

/// The privilege step's argv (after `sudo`), with `target` as the program
/// setpriv finally runs.
pub fn reexec_args(
    setpriv: &str,
    path_env: &str,
    uid: u32,
    gid: u32,
    target: &[String],
) -> Vec<String> {
    let mut args: Vec<String> = [
        "-n",
        "-E",
        "env",
        &format!("PATH={path_env}"),
        setpriv,
        "--reuid",
        &uid.to_string(),
        "--regid",
        &gid.to_string(),
        "--clear-groups",
        "--inh-caps",
        "+net_admin,+sys_admin",
        "--ambient-caps",
        "+net_admin,+sys_admin",
    ]
    .map(str::to_string)
    .to_vec();
    args.extend_from_slice(target);
    args
}

/// What the bounding set and NoNewPrivs rule out for the privilege step:
/// sudo needs SETUID and SETGID to become root, setpriv needs NET_ADMIN and
/// SYS_ADMIN to raise them, and NoNewPrivs stops the setuid sudo.
pub fn privilege_problems(privs: Privs) -> Vec<String> {
    let mut why = Vec::new();
    if privs.no_new_privs == Some(true) {
        why.push(
            "NoNewPrivs=1 (allowPrivilegeEscalation: false) keeps the setuid sudo from becoming root".to_string(),
        );
    }
    let missing = |caps: &[&'static str]| -> Vec<&'static str> {
        caps.iter()
            .copied()
            .filter(|c| privs.in_bounding(c) == Some(false))
            .collect()
    };
    let sudo = missing(&["SETUID", "SETGID"]);
    if !sudo.is_empty() {
        why.push(format!(
            "sudo needs SETUID and SETGID in the bounding set to become root (missing: {})",
            sudo.join(", ")
        ));
    }
    let setpriv = missing(&JAIL_CAPS);
    if !setpriv.is_empty() {
        why.push(format!(
            "setpriv raises NET_ADMIN and SYS_ADMIN, which must be in the bounding set (missing: {})",
            setpriv.join(", ")
        ));
    }
    why
}

/// [`privilege_problems`] as one text, or where else to look.
pub fn privilege_diagnosis(privs: Privs) -> String {
    let why = privilege_problems(privs);
    if why.is_empty() {
        "the bounding set and NoNewPrivs allow it: check sudo (setuid root, owned by uid 0) and a NOPASSWD \
         sudoers rule that allows -E (SETENV)"
            .to_string()
    } else {
        why.join("; ")
    }
}

/// A missing sudo or setpriv: `fail` when the bounding set rules the step
/// out anyway, otherwise `unknown` (the probe may run in another image than
/// the agent, e.g. the `FROM scratch` probe image).
pub fn missing_tool(tool: &str, boundary_says: &str, privs: Privs) -> Outcome {
    let problems = privilege_problems(privs);
    let text = format!(
        "{tool} not found in PATH, so the privilege step cannot run here (Boundary stops with \"{boundary_says}\"; \
         the agent's image needs sudo, setpriv and a sudoers rule)"
    );
    if problems.is_empty() {
        Outcome::unknown(format!(
            "{text}; the bounding set and NoNewPrivs would allow it: run the probe in the agent's image"
        ))
    } else {
        Outcome::fail(format!("{text}; and in any image: {}", problems.join("; ")))
    }
}

/// An executable file named `name` in $PATH (Go's `exec.LookPath`).
fn look_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Set when the privilege step itself failed, so that later checks do not
/// run sudo again (the probe is single-threaded; this is a plain cache).
static STEP_FAILED: OnceLock<()> = OnceLock::new();

/// Runs helper `check` in the process Boundary's privilege step starts.
/// When the step itself fails, later calls report `unknown` without
/// running it again.
fn run_escalated(check: &str, ctx: &Context) -> Outcome {
    if STEP_FAILED.get().is_some() {
        return Outcome::unknown(
            "not tested: the privilege step did not work (see nsjail.privileges)",
        );
    }
    match run_privilege_step(check, ctx) {
        Ok(inner) => inner,
        Err(step) => {
            if step.status != Status::Ok {
                let _ = STEP_FAILED.set(());
            }
            step
        }
    }
}

/// `Ok`: the outcome of `check` in the re-executed process; `Err`: the
/// privilege step itself failed (or could not be run).
fn run_privilege_step(check: &str, ctx: &Context) -> Result<Outcome, Outcome> {
    let privs = Privs::of(ctx);
    let Some(sudo) = look_path("sudo") else {
        return Err(missing_tool(
            "sudo",
            "sudo not found in PATH. Please run with sudo or install sudo",
            privs,
        ));
    };
    let Some(setpriv) = look_path("setpriv") else {
        return Err(missing_tool(
            "setpriv",
            "setpriv not found in PATH. Please install util-linux",
            privs,
        ));
    };
    let exe = std::env::current_exe()
        .map_err(|e| Outcome::unknown(format!("cannot find the probe's own path: {e}")))?
        .display()
        .to_string();
    let path_env = std::env::var("PATH").unwrap_or_default();
    let target = [exe, HELPER_SUBCOMMAND.to_string(), check.to_string()];
    let args = reexec_args(
        &setpriv.display().to_string(),
        &path_env,
        ctx.euid,
        ctx.egid,
        &target,
    );
    let shown = format!(
        "sudo -n -E env PATH=… setpriv --reuid {} --regid {} --clear-groups --inh-caps +net_admin,+sys_admin \
         --ambient-caps +net_admin,+sys_admin",
        ctx.euid, ctx.egid
    );
    let mut cmd = Command::new(&sudo);
    cmd.args(&args).env(ESCALATED_ENV, "1");
    match run_command(&mut cmd) {
        Ok(f) => match outcome_line(&f.stdout) {
            Some(mut o) if f.status.success() => {
                o.detail = format!("after `{shown}`: {}", o.detail);
                Ok(o)
            }
            _ => Err(Outcome::fail(format!(
                "the privilege step `{shown}` failed ({}): {}; cause: {}",
                f.status,
                match first_lines(&f.stderr, 3) {
                    s if s.is_empty() => "no message".to_string(),
                    s => s,
                },
                privilege_diagnosis(Privs::of(ctx))
            ))),
        },
        Err(RunError::Spawn(e)) => Err(Outcome::fail(format!(
            "cannot execute {}: {}; cause: {}",
            sudo.display(),
            crate::sys::io_errno_text(&e),
            privilege_diagnosis(Privs::of(ctx))
        ))),
        Err(e) => Err(Outcome::unknown(format!(
            "the privilege step `{shown}`: {e}"
        ))),
    }
}

fn direct_reason(ctx: &Context) -> &'static str {
    if ctx.euid == 0 {
        "euid 0: no re-execution, the container's own capabilities"
    } else {
        "BOUNDARY_PRIV_ESCALATED=1: no re-execution"
    }
}

fn reexec(ctx: &Context) -> bool {
    needs_reexec(ctx.euid, std::env::var(ESCALATED_ENV).ok().as_deref())
}

/// `nsjail.privileges`: the privilege step, run for real.
pub fn privileges(ctx: &Context) -> Outcome {
    if !reexec(ctx) {
        return Outcome::ok(direct_reason(ctx)).with_value(json!({"reexec": false}));
    }
    let o = run_escalated("nsjail.caps", ctx);
    let value = json!({"reexec": true, "escalated": o.value});
    Outcome { value, ..o }
}

/// Runs `check` with the jail's privileges: through the privilege step for
/// a non-root agent, directly for root.
fn with_jail_privileges(check: &str, ctx: &Context) -> Outcome {
    if reexec(ctx) {
        run_escalated(check, ctx)
    } else {
        let mut o = helper_outcome(Command::new("/proc/self/exe").args([HELPER_SUBCOMMAND, check]));
        o.detail = format!("{}: {}", direct_reason(ctx), o.detail);
        o
    }
}

/// `nsjail.jail_userns`: the default jail clone.
pub fn jail_userns(ctx: &Context) -> Outcome {
    with_jail_privileges("nsjail.clone_userns", ctx)
}

/// `nsjail.jail_netns`: the `--no-user-namespace` jail clone.
pub fn jail_netns(ctx: &Context) -> Outcome {
    with_jail_privileges("netns.unshare", ctx)
}

/// The nested helper `nsjail.caps`: the re-executed process must hold
/// NET_ADMIN and SYS_ADMIN effective and ambient.
pub fn helper_caps(ctx: &Context) -> Outcome {
    let Ok(s) = &ctx.status else {
        return Outcome::unknown("cannot read /proc/self/status after the privilege step");
    };
    let has = |mask: Option<u64>, name: &str| {
        procfs::capability_bit(name).and_then(|b| mask.map(|m| m & (1u64 << b) != 0))
    };
    let missing: Vec<&str> = JAIL_CAPS
        .iter()
        .copied()
        .filter(|c| has(s.cap_eff, c) != Some(true) || has(s.cap_amb, c) != Some(true))
        .collect();
    let shown = format!(
        "uid {}, CapEff {:016x}, CapAmb {:016x}",
        ctx.euid,
        s.cap_eff.unwrap_or(0),
        s.cap_amb.unwrap_or(0)
    );
    let value = json!({"cap_eff": format!("{:016x}", s.cap_eff.unwrap_or(0)),
                       "cap_amb": format!("{:016x}", s.cap_amb.unwrap_or(0))});
    if missing.is_empty() {
        Outcome::ok(format!(
            "{shown}: NET_ADMIN and SYS_ADMIN effective and ambient"
        ))
        .with_value(value)
    } else {
        Outcome::fail(format!("{shown}: missing {}", missing.join(", "))).with_value(value)
    }
}

/// The nested helper `nsjail.clone_userns`: a new user + network namespace
/// with the 1:1 map Boundary writes (`uid uid 1`, `gid gid 1`).
pub fn helper_clone_userns(ctx: &Context) -> Outcome {
    if let Err(o) = unshare(
        libc::CLONE_NEWUSER | libc::CLONE_NEWNET,
        "unshare(CLONE_NEWUSER|CLONE_NEWNET)",
        ctx,
    ) {
        return o;
    }
    match write_maps(ctx.euid, ctx.euid, ctx.egid, ctx.egid) {
        Ok(maps) => Outcome::ok(format!(
            "created a user + network namespace with {maps} (SETFCAP effective: {})",
            yes_no(ctx.effective("SETFCAP"))
        )),
        Err((what, e)) => Outcome::fail(format!(
            "created a user + network namespace, but {}",
            explain_map_failure(&what, e, ctx.euid, ctx)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn privs(bounding: u64, nnp: bool) -> Privs {
        Privs {
            bounding: Some(bounding),
            no_new_privs: Some(nnp),
        }
    }

    const NET_ADMIN: u64 = 1 << 12;
    const SYS_ADMIN: u64 = 1 << 21;
    const SETUID_SETGID: u64 = (1 << 7) | (1 << 6);

    #[test]
    fn who_re_executes() {
        assert!(needs_reexec(1000, None));
        assert!(needs_reexec(1000, Some("0")));
        assert!(!needs_reexec(1000, Some("1")));
        assert!(!needs_reexec(0, None));
    }

    #[test]
    fn the_privilege_step_argv_is_boundarys() {
        let a = reexec_args("/usr/bin/setpriv", "/usr/bin", 1000, 1000, &["/x".into()]);
        assert_eq!(
            a.join(" "),
            "-n -E env PATH=/usr/bin /usr/bin/setpriv --reuid 1000 --regid 1000 --clear-groups \
             --inh-caps +net_admin,+sys_admin --ambient-caps +net_admin,+sys_admin /x"
        );
    }

    #[test]
    fn diagnoses_of_the_lab_scenarios() {
        // nj-b1: NET_ADMIN only.
        let b1 = privilege_diagnosis(privs(NET_ADMIN, false));
        assert!(
            b1.contains("SETUID, SETGID") && b1.contains("SYS_ADMIN"),
            "{b1}"
        );
        // nj-b2: NET_ADMIN + SYS_ADMIN: sudo cannot become root.
        let b2 = privilege_diagnosis(privs(NET_ADMIN | SYS_ADMIN, false));
        assert!(b2.contains("sudo needs") && !b2.contains("setpriv"), "{b2}");
        // nj-b9: no SYS_ADMIN: setpriv cannot raise it.
        let b9 = privilege_diagnosis(privs(NET_ADMIN | SETUID_SETGID, false));
        assert!(
            b9.contains("missing: SYS_ADMIN") && !b9.contains("sudo needs"),
            "{b9}"
        );
        // nj-b4: NoNewPrivs.
        let b4 = privilege_diagnosis(privs(NET_ADMIN | SYS_ADMIN | SETUID_SETGID, true));
        assert!(b4.contains("NoNewPrivs"), "{b4}");
        // nj-b3 capabilities: the cause must be elsewhere (sudoers).
        let ok = privilege_diagnosis(privs(NET_ADMIN | SYS_ADMIN | SETUID_SETGID, false));
        assert!(ok.contains("NOPASSWD"), "{ok}");
    }

    #[test]
    fn a_missing_sudo_is_unknown_unless_the_step_is_impossible() {
        let all = privs(NET_ADMIN | SYS_ADMIN | SETUID_SETGID, false);
        let o = missing_tool("sudo", "sudo not found in PATH", all);
        assert_eq!(o.status, Status::Unknown);
        assert!(o.detail.contains("agent's image"), "{}", o.detail);
        let o = missing_tool("sudo", "sudo not found in PATH", privs(NET_ADMIN, false));
        assert_eq!(o.status, Status::Fail);
        assert!(o.detail.contains("in any image"), "{}", o.detail);
    }
}
