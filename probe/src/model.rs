//! The report's data types and their JSON shape (documented in README.md).

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// Result of one check, from the sandboxes' point of view: `Ok` means the
/// feature is available (or, for purely informational checks, that the
/// value could be read); `Unknown` means the check could not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Fail,
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Fail => "fail",
            Status::Unknown => "unknown",
        }
    }
}

/// What a check found. Also the line a `__check` helper prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub status: Status,
    pub detail: String,
    #[serde(default)]
    pub value: Value,
}

impl Outcome {
    pub fn ok(detail: impl Into<String>) -> Self {
        Self::new(Status::Ok, detail)
    }
    pub fn fail(detail: impl Into<String>) -> Self {
        Self::new(Status::Fail, detail)
    }
    pub fn unknown(detail: impl Into<String>) -> Self {
        Self::new(Status::Unknown, detail)
    }
    fn new(status: Status, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
            value: Value::Null,
        }
    }
    #[must_use]
    pub fn with_value(mut self, value: Value) -> Self {
        self.value = value;
        self
    }
}

/// One entry of `checks` in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
    pub value: Value,
}

/// The sandboxes the probe judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sandbox {
    Nsjail,
    Landjail,
    Bubblewrap,
    Podman,
}

impl Sandbox {
    pub const ALL: [Sandbox; 4] = [
        Sandbox::Nsjail,
        Sandbox::Landjail,
        Sandbox::Bubblewrap,
        Sandbox::Podman,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Sandbox::Nsjail => "nsjail",
            Sandbox::Landjail => "landjail",
            Sandbox::Bubblewrap => "bubblewrap",
            Sandbox::Podman => "podman",
        }
    }

    pub fn from_name(name: &str) -> Option<Sandbox> {
        Sandbox::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// The verdict for one sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// `true` runnable, `false` not, `null` unknown (a required check is
    /// unknown and none failed). Judged for [`Verdict::mode`].
    pub runnable: Option<bool>,
    /// The mode judged: the sandbox's default, or the one its own
    /// configuration selects (`BOUNDARY_NO_USER_NAMESPACE=true` for nsjail).
    pub mode: &'static str,
    /// Failed checks of the unmet requirements.
    pub failed: Vec<&'static str>,
    /// Unknown checks of the requirements not known to be met.
    pub unknown: Vec<&'static str>,
    /// The requirements (by their `need` text) that are not met or unknown.
    pub unmet: Vec<&'static str>,
    /// Caveats that do not change `runnable` (e.g. podman's single-id map).
    pub warnings: Vec<String>,
    /// Every mode of the sandbox with its own `runnable`.
    pub modes: ModeVerdicts,
    /// When `mode` is not runnable but another mode is: the arguments that
    /// select that mode (e.g. `--no-user-namespace`, `--uts=host`); empty
    /// otherwise.
    pub runtime_args: Vec<&'static str>,
}

/// `runnable` per mode, serialized as a map in the order of the mode table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModeVerdicts(pub Vec<(&'static str, Option<bool>)>);

impl ModeVerdicts {
    /// The `runnable` of mode `name`, if the sandbox has that mode.
    pub fn get(&self, name: &str) -> Option<Option<bool>> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, r)| *r)
    }
}

impl Serialize for ModeVerdicts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, runnable) in &self.0 {
            map.serialize_entry(name, runnable)?;
        }
        map.end()
    }
}

/// Verdicts in the fixed order of [`Sandbox::ALL`], serialized as a map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdicts(pub Vec<(Sandbox, Verdict)>);

impl Verdicts {
    pub fn get(&self, sandbox: Sandbox) -> Option<&Verdict> {
        self.0.iter().find(|(s, _)| *s == sandbox).map(|(_, v)| v)
    }
}

impl Serialize for Verdicts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (sandbox, verdict) in &self.0 {
            map.serialize_entry(sandbox.name(), verdict)?;
        }
        map.end()
    }
}

/// The whole report (`--json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub probe_version: &'static str,
    pub kernel_release: Option<String>,
    pub checks: Vec<Check>,
    pub verdicts: Verdicts,
}

impl Report {
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }
}
