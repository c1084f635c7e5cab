//! Helper processes: `nested-probe __check NAME` runs one check in a fresh
//! process and prints its outcome as one JSON line; the reporting process
//! waits for it with a timeout. Nested helpers ([`NESTED`]) are not in the
//! report: other checks start them (a user namespace for newuidmap to map,
//! the process Boundary's sudo + setpriv step starts).

use std::io::{self, Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::{CHECKS, Context, Run, newuidmap, nsjail};
use crate::model::Outcome;
use crate::sys;

/// The name of the hidden subcommand that runs one helper check.
pub const HELPER_SUBCOMMAND: &str = "__check";

/// How long one helper or external program may take before it is killed
/// and the check reported unknown.
pub const HELPER_TIMEOUT: Duration = Duration::from_secs(10);

/// A helper that other checks start; not a row of the report.
pub struct Nested {
    pub name: &'static str,
    pub run: fn(&Context) -> Outcome,
    /// After printing an `ok` outcome, wait until stdin is closed (keeps the
    /// process, and so its namespaces, alive for the caller).
    pub hold: bool,
}

/// The nested helpers.
pub const NESTED: &[Nested] = &[
    Nested {
        name: "userns.hold",
        run: newuidmap::helper_hold,
        hold: true,
    },
    Nested {
        name: "nsjail.caps",
        run: nsjail::helper_caps,
        hold: false,
    },
    Nested {
        name: "nsjail.clone_userns",
        run: nsjail::helper_clone_userns,
        hold: false,
    },
];

/// How a started program ended.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Why a program gave no [`Finished`].
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot start it: {}", sys::io_errno_text(.0))]
    Spawn(io::Error),
    #[error("it did not finish within {}s", HELPER_TIMEOUT.as_secs())]
    Timeout,
    #[error("cannot wait for it: {0}")]
    Wait(io::Error),
}

/// Starts `cmd` with stdin from /dev/null and captured output, and waits at
/// most [`HELPER_TIMEOUT`]; a program still running then is killed.
pub fn run_command(cmd: &mut Command) -> Result<Finished, RunError> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(RunError::Spawn)?;
    let deadline = Instant::now() + HELPER_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(RunError::Timeout);
            }
            Err(e) => return Err(RunError::Wait(e)),
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
    Ok(Finished {
        status,
        stdout,
        stderr,
    })
}

/// The first outcome line a helper printed.
pub fn outcome_line(stdout: &str) -> Option<Outcome> {
    stdout
        .lines()
        .find_map(|l| serde_json::from_str::<Outcome>(l).ok())
}

/// At most `n` non-empty lines of a program's stderr, joined with ` / `.
pub fn first_lines(text: &str, n: usize) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(n)
        .collect::<Vec<_>>()
        .join(" / ")
}

/// The outcome of a helper run by `cmd` (`... __check NAME`).
pub fn helper_outcome(cmd: &mut Command) -> Outcome {
    match run_command(cmd) {
        Err(e) => Outcome::unknown(format!("helper: {e}")),
        Ok(f) => match outcome_line(&f.stdout) {
            Some(outcome) if f.status.success() => outcome,
            _ => Outcome::unknown(format!(
                "helper ended with {} without a result{}",
                f.status,
                match first_lines(&f.stderr, 3) {
                    s if s.is_empty() => String::new(),
                    s => format!(": {s}"),
                }
            )),
        },
    }
}

/// Runs helper check `name` in a child process and reads its outcome.
pub fn run_helper(name: &str) -> Outcome {
    helper_outcome(Command::new("/proc/self/exe").args([HELPER_SUBCOMMAND, name]))
}

/// A helper's function and whether it holds (see [`Nested::hold`]).
type Found = (fn(&Context) -> Outcome, bool);

fn find(name: &str) -> Option<Found> {
    CHECKS
        .iter()
        .find_map(|s| match s.run {
            Run::Helper(f) if s.name == name => Some((f, false)),
            _ => None,
        })
        .or_else(|| {
            NESTED
                .iter()
                .find(|n| n.name == name)
                .map(|n| (n.run, n.hold))
        })
}

/// Entry point of `nested-probe __check NAME`: runs one helper check and
/// prints its outcome as one JSON line. Returns the exit code.
pub fn helper_main(name: &str) -> i32 {
    let Some((f, hold)) = find(name) else {
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
    let line = match serde_json::to_string(&outcome) {
        Ok(line) => line,
        Err(e) => {
            eprintln!("nested-probe: cannot encode the helper result: {e}");
            return 2;
        }
    };
    {
        let mut out = io::stdout().lock();
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            return 2;
        }
    }
    if hold && outcome.status == crate::model::Status::Ok {
        // Keep the namespaces alive until the caller closes our stdin.
        let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_lines_and_stderr_excerpts() {
        let out = "noise\n{\"status\":\"fail\",\"detail\":\"x\",\"value\":null}\n";
        assert_eq!(outcome_line(out).map(|o| o.detail), Some("x".to_string()));
        assert!(outcome_line("nothing").is_none());
        assert_eq!(first_lines("\n a \n\nb\nc\nd\n", 3), "a / b / c");
        assert_eq!(first_lines("", 2), "");
    }

    #[test]
    fn every_helper_name_resolves() {
        for spec in CHECKS {
            if let Run::Helper(_) = spec.run {
                assert!(find(spec.name).is_some(), "{}", spec.name);
            }
        }
        for n in NESTED {
            assert!(find(n.name).is_some(), "{}", n.name);
        }
        assert!(
            find("kernel.release").is_none(),
            "in-process checks are not helpers"
        );
    }
}
