//! The capability rules engine: given a sandbox and a platform, decide
//! whether it can work, what the node needs and what the pod needs, and
//! explain every decision. The facts are rows with sources in
//! `schemas/capabilities.toml` ([`data`]); the engine ([`engine`]) evaluates
//! them as a list of checks. Pure: no I/O.

pub mod any_version;
mod consistency;
pub mod data;
pub mod engine;
pub mod kinds;
pub mod matrix;
pub mod node_image;
pub mod release;
pub mod seccomp;

pub use data::CapabilityData;
pub use engine::{Decision, Field, Finding, Input, Runtime, decide};
pub use kinds::{
    AmiFamily, Architecture, ImageVariant, NodeImage, PlatformKind, RuntimeKind, SandboxKind,
};
pub use release::{PinnedRelease, Release, ReleaseFormat};

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

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

/// The sandboxes the provider knows, in a fixed order (schemas use it for
/// their allowed values).
pub const SANDBOXES: &[&str] = SandboxKind::NAMES;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_data_is_valid_and_every_row_has_a_source() {
        let data = CapabilityData::embedded().unwrap();
        assert_eq!(data.sandbox_names(), SANDBOXES);
        let (rows, sourced) = data.row_counts();
        assert_eq!(rows, sourced, "every row cites a source");
        assert!(rows > 30);
    }

    #[test]
    fn kernel_floors_follow_from_the_data() {
        let data = CapabilityData::embedded().unwrap();
        let floor = |n: &str| {
            data.kernel_floor(data.sandbox(SandboxKind::parse(n).unwrap()).unwrap())
                .map(|v| v.to_string())
        };
        assert_eq!(floor("nsjail"), None);
        assert_eq!(floor("landjail").as_deref(), Some("6.7"));
        assert_eq!(floor("bubblewrap").as_deref(), Some("6.3"));
        assert_eq!(floor("podman").as_deref(), Some("6.3"));
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

    /// The embedded file with one edit applied: the edit must make it fail.
    fn broken(from: &str, to: &str) -> Result<CapabilityData, CapabilityError> {
        let text = include_str!("../../../schemas/capabilities.toml");
        assert!(text.contains(from), "fixture text {from:?} not in the data");
        CapabilityData::parse(&text.replacen(from, to, 1))
    }

    #[test]
    fn malformed_rows_fail_here_not_for_a_user() {
        // A row without a source.
        assert!(matches!(
            broken(
                "sources = [\"https://docs.aws.amazon.com/eks/latest/APIReference/API_Nodegroup.html (amiType)\"]",
                "sources = []"
            ),
            Err(CapabilityError::Row { .. })
        ));
        // A version that does not parse.
        assert!(matches!(
            broken("kernel = \"6.12\"", "kernel = \"six\""),
            Err(CapabilityError::Data(_))
        ));
        // An unknown field.
        assert!(matches!(
            broken("landlock_enabled = true", "landlock = true"),
            Err(CapabilityError::Data(_))
        ));
        // A misspelt name does not parse: names are enums.
        assert!(matches!(
            broken(
                "sandbox = \"nsjail\"\nplatforms",
                "sandbox = \"nsjale\"\nplatforms"
            ),
            Err(CapabilityError::Data(msg)) if msg.contains("nsjale")
        ));
        // Overlapping image rows: the same family, variant, Kubernetes
        // version and first release.
        assert!(matches!(
            broken(
                "kubernetes = [\"1.36\", \"1.36\"]\nreleases = [\"v20260610\"",
                "kubernetes = [\"1.35\", \"1.36\"]\nreleases = [\"v20250915\""
            ),
            Err(CapabilityError::Row { problem, .. }) if problem.contains("overlaps")
        ));
        // A release in another family's format, and an empty range.
        assert!(matches!(
            broken("releases = [\"v1.66.0\", \"v1.66.0\"]", "releases = [\"v20261012\", \"v1.66.0\"]"),
            Err(CapabilityError::Row { problem, .. }) if problem.contains("not like \"v1.52.0\"")
        ));
        assert!(matches!(
            broken("releases = [\"v20251209\", \"v20260714\"]", "releases = [\"v20260714\", \"v20251209\"]"),
            Err(CapabilityError::Row { problem, .. }) if problem.contains("empty release range")
        ));
        // A variant the family has no amiType for.
        assert!(matches!(
            broken(
                "variants = [\"standard\", \"nvidia\", \"fips\"]\nkubernetes = [\"1.28\", \"1.32\"]\nreleases = [\"v1.15.0\"",
                "variants = [\"standard\", \"neuron\", \"fips\"]\nkubernetes = [\"1.28\", \"1.32\"]\nreleases = [\"v1.15.0\""
            ),
            Err(CapabilityError::Row { problem, .. }) if problem.contains("variant")
        ));
        // An unknown capability.
        assert!(matches!(
            broken(
                "capabilities = [\"SETFCAP\"]",
                "capabilities = [\"SETFCAPS\"]"
            ),
            Err(CapabilityError::Row { .. })
        ));
    }
}
