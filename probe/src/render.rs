//! The human-readable table (the default output).

use std::fmt::Write as _;

use crate::model::{Report, Verdict};

fn verdict_word(runnable: Option<bool>) -> &'static str {
    match runnable {
        Some(true) => "runnable",
        Some(false) => "NOT RUNNABLE",
        None => "unknown",
    }
}

/// `mode user-namespace; failed: a, b; unknown: c`.
fn why(v: &Verdict) -> String {
    let mut why = Vec::new();
    if v.modes.0.len() > 1 {
        why.push(format!("mode {}", v.mode));
    }
    if !v.failed.is_empty() {
        why.push(format!("failed: {}", v.failed.join(", ")));
    }
    if !v.unknown.is_empty() {
        why.push(format!("unknown: {}", v.unknown.join(", ")));
    }
    why.join("; ")
}

/// The report as a table: checks, then one block per sandbox.
pub fn render_table(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "nested-probe {}  kernel {}",
        report.probe_version,
        report.kernel_release.as_deref().unwrap_or("unknown")
    );
    let width = report
        .checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(out, "\n{:<width$}  {:<7}  DETAIL", "CHECK", "STATUS");
    for c in &report.checks {
        let _ = writeln!(
            out,
            "{:<width$}  {:<7}  {}",
            c.name,
            c.status.as_str(),
            c.detail
        );
    }
    let _ = writeln!(out, "\n{:<10}  {:<12}  WHY", "SANDBOX", "VERDICT");
    for (sandbox, v) in &report.verdicts.0 {
        let line = format!(
            "{:<10}  {:<12}  {}",
            sandbox.name(),
            verdict_word(v.runnable),
            why(v)
        );
        let _ = writeln!(out, "{}", line.trim_end());
        let indent = format!("{:<10}  {:<12}  ", "", "");
        for need in &v.unmet {
            let _ = writeln!(out, "{indent}  needs {need}");
        }
        if !v.runtime_args.is_empty() {
            let _ = writeln!(out, "{indent}  with: {}", v.runtime_args.join(" "));
        }
        for w in &v.warnings {
            let _ = writeln!(out, "{indent}  warning: {w}");
        }
    }
    out
}
