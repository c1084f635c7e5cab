//! Verdicts from check results: pure functions over the observed facts, so
//! every rule is unit-tested without root.
//!
//! For each mode of a sandbox, the rows of [`REQUIREMENTS`] that apply (to
//! the mode and, through [`When`], to the user) are combined: a row is met
//! when one alternative has only `ok` checks, failed when every alternative
//! has a failed check, unknown otherwise. A mode is not runnable if a row
//! failed, unknown if a row is unknown and none failed, runnable otherwise.
//! The verdict is that of the configured mode; the others are listed in
//! `modes`, and when the configured one is not runnable but another is,
//! that mode's arguments are reported as `runtime_args`.

use serde_json::Value;

use crate::model::{ModeVerdicts, Sandbox, Status, Verdict};
use crate::requirements::{Mode, REQUIREMENTS, Requirement, When, modes_of};

/// What the verdict depends on besides the check statuses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// The effective uid the probe (and so the sandbox) runs as.
    pub euid: u32,
    /// Whether /etc/subuid or /etc/subgid has ranges for the user; `None`
    /// when that could not be read.
    pub subids: Option<bool>,
    /// Values of the environment variables that select modes
    /// ([`Mode::env`]), as the sandbox would see them.
    pub env: Vec<(&'static str, String)>,
}

impl Facts {
    /// The subids fact from the `subid.ranges` check value
    /// (`{"uid": [...], "gid": [...]}`); `None` when the value has no lists.
    pub fn subids_from_value(value: &Value) -> Option<bool> {
        let uid = value.get("uid")?.as_array()?;
        let gid = value.get("gid")?.as_array()?;
        Some(!uid.is_empty() || !gid.is_empty())
    }

    fn applies(&self, when: When) -> Option<bool> {
        let root = self.euid == 0;
        match when {
            When::Always => Some(true),
            When::Root => Some(root),
            When::NonRoot => Some(!root),
            When::NonRootWithSubIds => {
                if root {
                    Some(false)
                } else {
                    self.subids
                }
            }
            When::NonRootWithoutSubIds => {
                if root {
                    Some(false)
                } else {
                    self.subids.map(|s| !s)
                }
            }
        }
    }

    fn env_value(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Go's `strconv.ParseBool`, which Boundary's flag library uses for
/// environment variables; an empty value is false.
pub fn parse_go_bool(text: &str) -> Option<bool> {
    match text {
        "" | "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        _ => None,
    }
}

/// The configured mode of `sandbox`: the first mode whose environment
/// variable is true, else the default. Also returns a warning for a
/// variable that is set but not a boolean.
fn configured_mode(sandbox: Sandbox, facts: &Facts) -> (Option<&'static Mode>, Vec<String>) {
    let mut warnings = Vec::new();
    for mode in modes_of(sandbox) {
        let Some(var) = mode.env else { continue };
        match facts.env_value(var).map(|v| (v, parse_go_bool(v))) {
            Some((_, Some(true))) => return (Some(mode), warnings),
            Some((v, None)) => warnings.push(format!(
                "{var}={v:?} is not a boolean: ignored here, and the sandbox itself refuses to start"
            )),
            _ => {}
        }
    }
    (modes_of(sandbox).next(), warnings)
}

/// Combines statuses: `Fail` beats `Unknown` beats `Ok`.
fn all_of(statuses: impl Iterator<Item = Status>) -> Status {
    statuses.fold(Status::Ok, |acc, s| match (acc, s) {
        (Status::Fail, _) | (_, Status::Fail) => Status::Fail,
        (Status::Unknown, _) | (_, Status::Unknown) => Status::Unknown,
        _ => Status::Ok,
    })
}

/// Combines alternatives: `Ok` beats `Unknown` beats `Fail`.
fn any_of(statuses: impl Iterator<Item = Status>) -> Status {
    statuses.fold(Status::Fail, |acc, s| match (acc, s) {
        (Status::Ok, _) | (_, Status::Ok) => Status::Ok,
        (Status::Unknown, _) | (_, Status::Unknown) => Status::Unknown,
        _ => Status::Fail,
    })
}

fn push_unique<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// The result of one mode.
#[derive(Debug, Default)]
struct ModeResult {
    runnable: Option<bool>,
    failed: Vec<&'static str>,
    unknown: Vec<&'static str>,
    unmet: Vec<&'static str>,
    warnings: Vec<String>,
}

fn evaluate_mode(
    mode: &Mode,
    rows: &[Requirement],
    facts: &Facts,
    status: &impl Fn(&str) -> Status,
) -> ModeResult {
    let mut r = ModeResult::default();
    let (mut any_failed, mut any_unknown) = (false, false);
    let in_mode = |row: &&Requirement| {
        row.sandbox == mode.sandbox && (row.modes.is_empty() || row.modes.contains(&mode.name))
    };
    for row in rows.iter().filter(in_mode) {
        let row_status = match facts.applies(row.when) {
            Some(false) => continue,
            None => {
                if let Some(check) = row.when.deciding_check() {
                    push_unique(&mut r.unknown, check);
                }
                Status::Unknown
            }
            Some(true) => {
                if let Some(w) = row.warning {
                    push_unique(&mut r.warnings, w.to_string());
                }
                any_of(
                    row.any_of
                        .iter()
                        .map(|alt| all_of(alt.iter().map(|c| status(c)))),
                )
            }
        };
        if row_status == Status::Ok {
            continue;
        }
        r.unmet.push(row.need);
        match row_status {
            Status::Fail => any_failed = true,
            _ => any_unknown = true,
        }
        for check in row.any_of.iter().flat_map(|alt| alt.iter()) {
            match status(check) {
                Status::Fail => push_unique(&mut r.failed, check),
                Status::Unknown => push_unique(&mut r.unknown, check),
                Status::Ok => {}
            }
        }
    }
    r.runnable = if any_failed {
        Some(false)
    } else if any_unknown {
        None
    } else {
        Some(true)
    };
    r
}

/// The verdict for `sandbox` given the facts and a lookup of check
/// statuses. A check the lookup does not know counts as `Unknown`.
pub fn verdict(
    sandbox: Sandbox,
    rows: &[Requirement],
    facts: &Facts,
    status_of: impl Fn(&str) -> Option<Status>,
) -> Verdict {
    let status = |name: &str| status_of(name).unwrap_or(Status::Unknown);
    let results: Vec<(&Mode, ModeResult)> = modes_of(sandbox)
        .map(|m| (m, evaluate_mode(m, rows, facts, &status)))
        .collect();
    let (configured, mut warnings) = configured_mode(sandbox, facts);
    let modes = ModeVerdicts(results.iter().map(|(m, r)| (m.name, r.runnable)).collect());
    let Some((mode, chosen)) = results
        .iter()
        .find(|(m, _)| configured.is_some_and(|c| c.name == m.name))
    else {
        return Verdict {
            runnable: None,
            mode: "default",
            failed: Vec::new(),
            unknown: Vec::new(),
            unmet: vec!["a mode of this sandbox (none is defined)"],
            warnings,
            modes,
            runtime_args: Vec::new(),
        };
    };
    for w in &chosen.warnings {
        push_unique(&mut warnings, w.clone());
    }
    let mut runtime_args = Vec::new();
    if chosen.runnable != Some(true)
        && let Some((other, _)) = results
            .iter()
            .find(|(m, r)| m.name != mode.name && r.runnable == Some(true))
    {
        runtime_args = other.args.to_vec();
        warnings.push(format!("runnable in mode {}: {}", other.name, other.how));
    }
    Verdict {
        runnable: chosen.runnable,
        mode: mode.name,
        failed: chosen.failed.clone(),
        unknown: chosen.unknown.clone(),
        unmet: chosen.unmet.clone(),
        warnings,
        modes,
        runtime_args,
    }
}

/// The verdicts of every sandbox, in [`Sandbox::ALL`] order.
pub fn all_verdicts(
    facts: &Facts,
    status_of: impl Fn(&str) -> Option<Status>,
) -> Vec<(Sandbox, Verdict)> {
    Sandbox::ALL
        .into_iter()
        .map(|s| (s, verdict(s, REQUIREMENTS, facts, &status_of)))
        .collect()
}

#[cfg(test)]
#[path = "verdict_tests.rs"]
mod tests;
