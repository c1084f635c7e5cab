//! `nested-probe`: runs inside a pod and reports whether nsjail, landjail,
//! bubblewrap and rootless podman can run there, and why not. See README.md.

pub mod checks;
pub mod model;
pub mod procfs;
mod render;
pub mod requirements;
pub mod subid;
mod sys;
pub mod verdict;

use std::io::{self, Write};

use crate::checks::{Context, HELPER_SUBCOMMAND};
use crate::model::{Report, Sandbox, Status, Verdicts};
use crate::requirements::MODES;
use crate::verdict::{Facts, all_verdicts};

pub use crate::render::render_table;

/// Exit code: the report was produced / the selected sandbox can run.
pub const EXIT_OK: i32 = 0;
/// Exit code: the selected sandbox cannot run (or its verdict is unknown).
pub const EXIT_NOT_RUNNABLE: i32 = 1;
/// Exit code: the probe itself failed (bad arguments, cannot write output).
pub const EXIT_PROBE_ERROR: i32 = 2;

pub const USAGE: &str = "\
usage: nested-probe [--json] [--sandbox nsjail|landjail|bubblewrap|podman]

Reports whether each nested sandbox can run in this container, and why not.

  --json            print the report as JSON instead of a table
  --sandbox NAME    exit 0 if NAME can run here, 1 if not or unknown
  -h, --help        this text
  -V, --version     print the version

Exit codes: 0 report produced (or the selected sandbox can run),
1 the selected sandbox cannot run or its verdict is unknown, 2 probe error.
";

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("{0}")]
    Usage(String),
    #[error("cannot encode the report: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot write the report: {0}")]
    Output(#[from] io::Error),
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cli {
    Report {
        json: bool,
        sandbox: Option<Sandbox>,
    },
    Helper(String),
    Help,
    Version,
}

/// Parses the arguments after the program name.
pub fn parse_args(args: &[String]) -> Result<Cli, ProbeError> {
    if args.first().map(String::as_str) == Some(HELPER_SUBCOMMAND) {
        return match args {
            [_, name] => Ok(Cli::Helper(name.clone())),
            _ => Err(ProbeError::Usage(format!(
                "{HELPER_SUBCOMMAND} takes exactly one check name"
            ))),
        };
    }
    let mut json = false;
    let mut sandbox = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let sandbox_name = match arg.as_str() {
            "--json" => {
                json = true;
                continue;
            }
            "-h" | "--help" => return Ok(Cli::Help),
            "-V" | "--version" => return Ok(Cli::Version),
            "--sandbox" => it
                .next()
                .ok_or_else(|| ProbeError::Usage("--sandbox needs a value".into()))?
                .as_str(),
            other => match other.strip_prefix("--sandbox=") {
                Some(v) => v,
                None => return Err(ProbeError::Usage(format!("unknown argument {other:?}"))),
            },
        };
        if sandbox.is_some() {
            return Err(ProbeError::Usage("--sandbox given more than once".into()));
        }
        sandbox = Some(Sandbox::from_name(sandbox_name).ok_or_else(|| {
            ProbeError::Usage(format!(
                "unknown sandbox {sandbox_name:?} (expected one of: {})",
                Sandbox::ALL.map(Sandbox::name).join(", ")
            ))
        })?);
    }
    Ok(Cli::Report { json, sandbox })
}

/// Runs every check and derives the verdicts.
pub fn build_report() -> Report {
    let ctx = Context::gather();
    let checks = checks::run_all(&ctx);
    let kernel_release = checks
        .iter()
        .find(|c| c.name == "kernel.release" && c.status == Status::Ok)
        .and_then(|c| c.value.as_str().map(str::to_string));
    let mut report = Report {
        probe_version: env!("CARGO_PKG_VERSION"),
        kernel_release,
        checks,
        verdicts: Verdicts(Vec::new()),
    };
    let facts = Facts {
        euid: ctx.euid,
        subids: report
            .check("subid.ranges")
            .and_then(|c| Facts::subids_from_value(&c.value)),
        env: MODES
            .iter()
            .filter_map(|m| m.env)
            .filter_map(|var| std::env::var(var).ok().map(|v| (var, v)))
            .collect(),
    };
    report.verdicts = Verdicts(all_verdicts(&facts, |n| report.check(n).map(|c| c.status)));
    report
}

/// The program: returns the process exit code.
pub fn run(args: &[String]) -> i32 {
    match run_inner(args) {
        Ok(code) => code,
        Err(ProbeError::Usage(msg)) => {
            eprintln!("nested-probe: {msg}\n\n{USAGE}");
            EXIT_PROBE_ERROR
        }
        Err(e) => {
            eprintln!("nested-probe: {e}");
            EXIT_PROBE_ERROR
        }
    }
}

fn run_inner(args: &[String]) -> Result<i32, ProbeError> {
    let (json, sandbox) = match parse_args(args)? {
        Cli::Helper(name) => return Ok(checks::helper_main(&name)),
        Cli::Help => {
            print_out(USAGE)?;
            return Ok(EXIT_OK);
        }
        Cli::Version => {
            print_out(&format!("nested-probe {}\n", env!("CARGO_PKG_VERSION")))?;
            return Ok(EXIT_OK);
        }
        Cli::Report { json, sandbox } => (json, sandbox),
    };
    let report = build_report();
    let text = if json {
        let mut t = serde_json::to_string_pretty(&report)?;
        t.push('\n');
        t
    } else {
        render_table(&report)
    };
    print_out(&text)?;
    Ok(match sandbox {
        None => EXIT_OK,
        Some(s) => match report.verdicts.get(s).and_then(|v| v.runnable) {
            Some(true) => EXIT_OK,
            _ => EXIT_NOT_RUNNABLE,
        },
    })
}

fn print_out(text: &str) -> Result<(), ProbeError> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn parses_arguments() {
        assert_eq!(
            parse_args(&args(&[])).ok(),
            Some(Cli::Report {
                json: false,
                sandbox: None
            })
        );
        assert_eq!(
            parse_args(&args(&["--json", "--sandbox", "podman"])).ok(),
            Some(Cli::Report {
                json: true,
                sandbox: Some(Sandbox::Podman)
            })
        );
        assert_eq!(
            parse_args(&args(&["--sandbox=landjail"])).ok(),
            Some(Cli::Report {
                json: false,
                sandbox: Some(Sandbox::Landjail)
            })
        );
        assert_eq!(
            parse_args(&args(&["--help", "--bogus"])).ok(),
            Some(Cli::Help)
        );
        assert_eq!(
            parse_args(&args(&["__check", "userns.unshare"])).ok(),
            Some(Cli::Helper("userns.unshare".into()))
        );
    }

    #[test]
    fn rejects_bad_arguments() {
        for bad in [
            &["--sandbox"][..],
            &["--sandbox", "docker"],
            &["--sandbox=nsjail", "--sandbox", "podman"],
            &["--frobnicate"],
            &["__check"],
            &["__check", "a", "b"],
        ] {
            assert!(
                matches!(parse_args(&args(bad)), Err(ProbeError::Usage(_))),
                "{bad:?}"
            );
        }
    }
}
