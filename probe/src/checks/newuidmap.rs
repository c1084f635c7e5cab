//! `uidmap.newuidmap`: runs newuidmap/newgidmap exactly as rootless podman
//! does (`newuidmap PID 0 <uid> 1 1 <start> <count> …`) against a child
//! process that holds a fresh user namespace, and reports the helper's own
//! error. The reporting process only starts programs; the namespace
//! belongs to the child (`__check userns.hold`), which exits afterwards.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::helpers::{HELPER_SUBCOMMAND, HELPER_TIMEOUT, RunError, first_lines, run_command};
use super::uidmap::{HelperKind, Plan, Privs, Tool, find_tool, helper_kind, helper_rule};
use super::userns::unshare;
use super::{Context, read};
use crate::model::{Outcome, Status};
use crate::subid;

/// The nested helper `userns.hold`: a new user namespace without maps,
/// kept until the caller closes stdin.
pub fn helper_hold(ctx: &Context) -> Outcome {
    match unshare(libc::CLONE_NEWUSER, "unshare(CLONE_NEWUSER)", ctx) {
        Ok(()) => Outcome::ok("holding a new user namespace"),
        Err(o) => o,
    }
}

/// Why a helper run failed, from what is known about the helper and the
/// process (pure, for the detail text).
pub fn diagnose(
    tool: Tool,
    kind: Option<HelperKind>,
    privs: Privs,
    plan_problems: &[String],
    exec_refused: bool,
) -> String {
    let mut why: Vec<String> = plan_problems.to_vec();
    if let Some(Err(e)) = kind.map(|k| helper_rule(k, tool, privs)) {
        why.push(e);
    }
    if exec_refused && kind == Some(HelperKind::FileCaps) && why.is_empty() {
        why.push(format!(
            "execve refused the helper: its file capability is not in the bounding set ({} missing?)",
            tool.file_cap()
        ));
    }
    if why.is_empty() {
        "no known cause (see the helper's message)".to_string()
    } else {
        why.join("; ")
    }
}

/// One helper's result.
struct HelperRun {
    ok: bool,
    text: String,
    cause: Option<String>,
    value: Value,
}

fn run_tool(tool: Tool, pid: u32, plan: &Plan, privs: Privs) -> HelperRun {
    let args = subid::mapping_args(plan.own_id(tool), plan.ranges(tool));
    let Some(path) = find_tool(tool) else {
        return HelperRun {
            ok: false,
            text: format!(
                "{} not found (podman: \"command required for rootless mode with multiple IDs\")",
                tool.name()
            ),
            cause: None,
            value: json!({"path": null}),
        };
    };
    let kind = helper_kind(&path).ok();
    let shown = format!("{} {pid} {}", path.display(), args.join(" "));
    let value = |ok: bool, error: Option<&str>| {
        json!({"path": path.display().to_string(), "kind": kind.map(HelperKind::as_str),
               "args": args, "ok": ok, "error": error})
    };
    let problems = plan.problems(tool);
    match run_command(Command::new(&path).arg(pid.to_string()).args(&args)) {
        Ok(f) if f.status.success() => HelperRun {
            ok: true,
            text: format!("`{shown}` succeeded"),
            cause: None,
            value: value(true, None),
        },
        Ok(f) => {
            let msg = first_lines(&f.stderr, 2);
            HelperRun {
                ok: false,
                text: format!(
                    "`{shown}` failed ({}): {}",
                    f.status,
                    if msg.is_empty() { "no message" } else { &msg }
                ),
                cause: Some(diagnose(tool, kind, privs, &problems, false)),
                value: value(false, Some(&msg)),
            }
        }
        Err(RunError::Spawn(e)) => {
            let refused = e.raw_os_error() == Some(libc::EPERM);
            let msg = format!("cannot execute it: {}", crate::sys::io_errno_text(&e));
            HelperRun {
                ok: false,
                text: format!("`{shown}`: {msg}"),
                cause: Some(diagnose(tool, kind, privs, &problems, refused)),
                value: value(false, Some(&msg)),
            }
        }
        Err(e) => HelperRun {
            ok: false,
            text: format!("`{shown}`: {e}"),
            cause: None,
            value: value(false, Some(&e.to_string())),
        },
    }
}

/// Closes the holder's stdin and waits for it (killed after the timeout).
fn release(mut child: Child) {
    drop(child.stdin.take());
    let deadline = Instant::now() + HELPER_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return;
            }
        }
    }
}

/// Starts `__check userns.hold` and reads its first line.
fn start_holder() -> Result<Child, Outcome> {
    let mut child = Command::new("/proc/self/exe")
        .args([HELPER_SUBCOMMAND, "userns.hold"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Outcome::unknown(format!("cannot start the user namespace holder: {e}")))?;
    let mut line = String::new();
    let read_ok = child
        .stdout
        .as_mut()
        .map(|out| BufReader::new(out).read_line(&mut line).is_ok())
        .unwrap_or(false);
    let outcome = read_ok
        .then(|| serde_json::from_str::<Outcome>(line.trim()).ok())
        .flatten();
    match outcome {
        Some(o) if o.status == Status::Ok => Ok(child),
        other => {
            release(child);
            Err(Outcome::unknown(format!(
                "cannot test the helpers: no user namespace to map ({})",
                other.map_or_else(|| "the holder printed nothing".to_string(), |o| o.detail)
            )))
        }
    }
}

/// `uidmap.newuidmap`.
pub fn run(ctx: &Context) -> Outcome {
    let plan = match Plan::gather(ctx) {
        Ok(p) => p,
        Err(e) => return Outcome::unknown(e),
    };
    let tools: Vec<Tool> = [Tool::Uid, Tool::Gid]
        .into_iter()
        .filter(|t| !plan.ranges(*t).is_empty())
        .collect();
    if tools.is_empty() {
        return Outcome::fail(
            "not run: no /etc/subuid or /etc/subgid ranges for this user, so podman does not use \
             newuidmap/newgidmap (single-id mapping, see userns.map_root)",
        );
    }
    let holder = match start_holder() {
        Ok(c) => c,
        Err(o) => return o,
    };
    let pid = holder.id();
    let privs = Privs::of(ctx);
    let runs: Vec<(Tool, HelperRun)> = tools
        .iter()
        .map(|t| (*t, run_tool(*t, pid, &plan, privs)))
        .collect();
    let maps = ["uid_map", "gid_map"].map(|f| {
        read(&format!("/proc/{pid}/{f}"))
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    });
    release(holder);
    let mut value = json!({"uid_map": maps[0], "gid_map": maps[1]});
    for (tool, r) in &runs {
        value[tool.name()] = r.value.clone();
    }
    let texts: Vec<&str> = runs.iter().map(|(_, r)| r.text.as_str()).collect();
    let single = match tools.as_slice() {
        [Tool::Uid] => "; no gid ranges: podman maps only the own gid",
        [Tool::Gid] => "; no uid ranges: podman maps only the own uid",
        _ => "",
    };
    if runs.iter().all(|(_, r)| r.ok) {
        Outcome::ok(format!(
            "{} for a child user namespace (uid_map: {}; gid_map: {}){single}",
            texts.join("; "),
            maps[0],
            maps[1]
        ))
        .with_value(value)
    } else {
        let mut causes: Vec<&str> = Vec::new();
        for c in runs.iter().filter_map(|(_, r)| r.cause.as_deref()) {
            if !causes.contains(&c) {
                causes.push(c);
            }
        }
        let cause = if causes.is_empty() {
            String::new()
        } else {
            format!("; cause: {}", causes.join("; "))
        };
        Outcome::fail(format!("{}{cause}", texts.join("; "))).with_value(value)
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

    #[test]
    fn diagnoses_name_the_cause() {
        let p1 = diagnose(
            Tool::Uid,
            Some(HelperKind::SetuidRoot),
            privs(0xa804_25fb, false),
            &[],
            false,
        );
        assert!(p1.contains("CAP_SYS_ADMIN"), "{p1}");
        let p17 = diagnose(
            Tool::Uid,
            Some(HelperKind::FileCaps),
            privs(0xa804_25fb, false),
            &["/etc/subuid range(s) 100000:65536 lie outside".to_string()],
            false,
        );
        assert!(
            p17.contains("outside") && !p17.contains("SYS_ADMIN"),
            "{p17}"
        );
        let p6 = diagnose(
            Tool::Gid,
            Some(HelperKind::FileCaps),
            privs(0, false),
            &[],
            true,
        );
        assert!(p6.contains("SETGID"), "{p6}");
        let none = diagnose(
            Tool::Uid,
            Some(HelperKind::FileCaps),
            privs(u64::MAX, false),
            &[],
            false,
        );
        assert!(none.contains("no known cause"));
    }
}
