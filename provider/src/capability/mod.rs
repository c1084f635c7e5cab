//! The capability rules engine's data: facts about sandboxes, kept as rows
//! with sources in `schemas/capabilities.toml` and embedded at build time.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::Deserialize;

/// The embedded capability data.
const CAPABILITIES_TOML: &str = include_str!("../../../schemas/capabilities.toml");

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum CapabilityError {
    /// The embedded data file does not parse.
    #[error("schemas/capabilities.toml does not parse: {0}")]
    Data(String),
    /// A row breaks a rule of the data file.
    #[error("schemas/capabilities.toml row {row}: {problem}")]
    Row { row: String, problem: String },
    /// A version string does not parse.
    #[error("{0:?} is not a version like \"6.7\" or \"6.12.37\"")]
    Version(String),
}

/// A kernel (or other dotted) version, ordered numerically: 6.12 > 6.7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl FromStr for Version {
    type Err = CapabilityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || CapabilityError::Version(s.to_string());
        let mut parts = s.trim().split('.');
        let mut next = |required: bool| -> Result<u32, CapabilityError> {
            match parts.next() {
                Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                    p.parse().map_err(|_| bad())
                }
                None if !required => Ok(0),
                _ => Err(bad()),
            }
        };
        let v = Version {
            major: next(true)?,
            minor: next(true)?,
            patch: next(false)?,
        };
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(v)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch).cmp(&(other.major, other.minor, other.patch))
    }
}
impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.patch == 0 {
            write!(f, "{}.{}", self.major, self.minor)
        } else {
            write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawData {
    sandbox: Vec<RawSandbox>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSandbox {
    name: String,
    title: String,
    kernel_floor: Option<String>,
    reason: String,
    sources: Vec<String>,
}

/// One sandbox and what it needs from the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sandbox {
    pub name: String,
    pub title: String,
    pub kernel_floor: Option<Version>,
    pub reason: String,
    pub sources: Vec<String>,
}

/// The parsed, validated capability data.
#[derive(Debug)]
pub struct CapabilityData {
    pub sandboxes: Vec<Sandbox>,
}

impl CapabilityData {
    /// Parse and validate a data document.
    pub fn parse(text: &str) -> Result<Self, CapabilityError> {
        let raw: RawData =
            toml::from_str(text).map_err(|e| CapabilityError::Data(e.to_string()))?;
        let mut sandboxes = Vec::with_capacity(raw.sandbox.len());
        for s in raw.sandbox {
            let row = |problem: &str| CapabilityError::Row {
                row: format!("sandbox {:?}", s.name),
                problem: problem.to_string(),
            };
            if s.sources.iter().all(|x| x.trim().is_empty()) {
                return Err(row("has no source"));
            }
            if s.reason.trim().is_empty() {
                return Err(row("has no reason"));
            }
            if sandboxes.iter().any(|x: &Sandbox| x.name == s.name) {
                return Err(row("is listed twice"));
            }
            let kernel_floor = s.kernel_floor.as_deref().map(str::parse).transpose()?;
            sandboxes.push(Sandbox {
                name: s.name,
                title: s.title,
                kernel_floor,
                reason: s.reason,
                sources: s.sources,
            });
        }
        Ok(Self { sandboxes })
    }

    /// The embedded data, parsed once per process.
    pub fn embedded() -> Result<&'static CapabilityData, CapabilityError> {
        static DATA: OnceLock<Result<CapabilityData, CapabilityError>> = OnceLock::new();
        DATA.get_or_init(|| CapabilityData::parse(CAPABILITIES_TOML))
            .as_ref()
            .map_err(Clone::clone)
    }

    pub fn sandbox(&self, name: &str) -> Option<&Sandbox> {
        self.sandboxes.iter().find(|s| s.name == name)
    }

    pub fn sandbox_names(&self) -> Vec<&str> {
        self.sandboxes.iter().map(|s| s.name.as_str()).collect()
    }
}

/// The sandboxes the provider knows, in a fixed order (schemas use it for
/// their allowed values).
pub const SANDBOXES: [&str; 4] = ["nsjail", "landjail", "bubblewrap", "podman"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_data_is_valid_and_every_row_has_a_source() {
        let data = CapabilityData::embedded().unwrap();
        assert_eq!(data.sandbox_names(), SANDBOXES);
        for s in &data.sandboxes {
            assert!(!s.sources.is_empty(), "{}", s.name);
        }
    }

    #[test]
    fn versions_order_numerically_and_parse_strictly() {
        let v = |s: &str| s.parse::<Version>().unwrap();
        assert!(v("6.12") > v("6.7"));
        assert!(v("6.1.100") < v("6.3"));
        assert_eq!(v("6.7").to_string(), "6.7");
        assert_eq!(v("6.12.37").to_string(), "6.12.37");
        for bad in ["", "6", "6.x", "6.7.1.2", "v6.7", "6..7", " "] {
            assert!(bad.parse::<Version>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn malformed_rows_fail_here_not_for_a_user() {
        let no_source = r#"
            [[sandbox]]
            name = "x"
            title = "t"
            reason = "r"
            sources = []
        "#;
        assert!(matches!(
            CapabilityData::parse(no_source),
            Err(CapabilityError::Row { .. })
        ));
        let bad_version = r#"
            [[sandbox]]
            name = "x"
            title = "t"
            kernel_floor = "six"
            reason = "r"
            sources = ["s"]
        "#;
        assert_eq!(
            CapabilityData::parse(bad_version).unwrap_err(),
            CapabilityError::Version("six".into())
        );
        let unknown_field = r#"
            [[sandbox]]
            name = "x"
            title = "t"
            reason = "r"
            sources = ["s"]
            colour = "blue"
        "#;
        assert!(matches!(
            CapabilityData::parse(unknown_field),
            Err(CapabilityError::Data(_))
        ));
    }
}
