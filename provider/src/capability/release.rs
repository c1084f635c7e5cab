//! Node image releases: how a family numbers them and how a user may write
//! one. Amazon Linux EKS AMIs are dated (`v20251016`; EKS's
//! `releaseVersion` is `1.33.5-20251016`), Bottlerocket releases are
//! versions (`v1.52.0`; EKS's `releaseVersion` is `1.52.0-d7ba6a2a`). The
//! format is data (the family row's `release_format`), so nothing here
//! names a family.

use std::cmp::Ordering;
use std::fmt;

use serde::Deserialize;

use super::Version;

/// How a family numbers its node image releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseFormat {
    /// `vYYYYMMDD`.
    Date,
    /// `vMAJOR.MINOR.PATCH`.
    Version,
}

/// One node image release, ordered within its family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Release {
    Date(u32),
    Version(Version),
}

impl Ord for Release {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Release::Date(a), Release::Date(b)) => a.cmp(b),
            (Release::Version(a), Release::Version(b)) => a.cmp(b),
            // Never compared across families; a fixed order keeps Ord total.
            (Release::Date(_), Release::Version(_)) => Ordering::Less,
            (Release::Version(_), Release::Date(_)) => Ordering::Greater,
        }
    }
}
impl PartialOrd for Release {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Release::Date(d) => write!(f, "v{d:08}"),
            Release::Version(v) => write!(f, "v{}.{}.{}", v.major, v.minor, v.patch),
        }
    }
}

/// A release as the user wrote it, understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinnedRelease {
    pub release: Release,
    /// The Kubernetes version an EKS `releaseVersion` names
    /// (`1.33.5-20251016` → 1.33).
    pub kubernetes: Option<Version>,
    /// The family an alias names (`bottlerocket@v1.52.0` → `bottlerocket`).
    pub alias_family: Option<String>,
}

impl ReleaseFormat {
    /// An example release, for messages.
    pub fn example(self) -> &'static str {
        match self {
            ReleaseFormat::Date => "v20251016",
            ReleaseFormat::Version => "v1.52.0",
        }
    }

    /// The bare release (`v20251016`, `20251016`, `v1.52.0`, `1.52.0`).
    pub fn parse_bare(self, text: &str) -> Option<Release> {
        let body = text.strip_prefix('v').unwrap_or(text);
        match self {
            ReleaseFormat::Date => {
                let ok = body.len() == 8 && body.bytes().all(|b| b.is_ascii_digit());
                let d: u32 = body.parse().ok().filter(|_| ok)?;
                let (month, day) = ((d / 100) % 100, d % 100);
                ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some(Release::Date(d))
            }
            ReleaseFormat::Version => {
                let v: Version = body.parse().ok()?;
                (body.split('.').count() == 3).then_some(Release::Version(v))
            }
        }
    }

    /// Every spelling a user may pin: the bare release, an EKS
    /// `releaseVersion` (`1.33.5-20251016`, `1.52.0-d7ba6a2a`), or a
    /// Karpenter alias (`al2023@v20251016`, `bottlerocket@v1.52.0`).
    /// `Ok(None)` for `latest`.
    pub fn parse_pin(self, text: &str) -> Result<Option<PinnedRelease>, String> {
        let bad = || {
            format!(
                "{} is not a node image release: write \"latest\", a release such as {:?}, an EKS release_version, or an alias such as \"<family>@{}\"",
                shown(text),
                self.example(),
                self.example()
            )
        };
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (alias_family, rest) = match text.split_once('@') {
            Some((fam, rest))
                if !fam.is_empty() && fam.bytes().all(|b| b.is_ascii_alphanumeric()) =>
            {
                (Some(fam.to_string()), rest)
            }
            Some(_) => return Err(bad()),
            None => (None, text),
        };
        if rest == "latest" {
            return Ok(None);
        }
        if let Some(release) = self.parse_bare(rest) {
            return Ok(Some(PinnedRelease {
                release,
                kubernetes: None,
                alias_family,
            }));
        }
        if alias_family.is_some() {
            return Err(bad());
        }
        // EKS releaseVersion: `<k8s>.<patch>-<date>` or `<version>-<commit>`.
        let (head, tail) = rest.split_once('-').ok_or_else(bad)?;
        match self {
            ReleaseFormat::Date => {
                let release = self.parse_bare(tail).ok_or_else(bad)?;
                let k8s: Version = head.parse().map_err(|_| bad())?;
                Ok(Some(PinnedRelease {
                    release,
                    kubernetes: Some(Version { patch: 0, ..k8s }),
                    alias_family: None,
                }))
            }
            ReleaseFormat::Version => {
                let commit_like = !tail.is_empty()
                    && tail.len() <= 40
                    && tail.bytes().all(|b| b.is_ascii_hexdigit());
                let release = self
                    .parse_bare(head)
                    .filter(|_| commit_like)
                    .ok_or_else(bad)?;
                Ok(Some(PinnedRelease {
                    release,
                    kubernetes: None,
                    alias_family: None,
                }))
            }
        }
    }
}

/// `text` quoted for a message, cut after 64 characters.
pub(crate) fn shown(text: &str) -> String {
    let n = text.chars().count();
    if n <= 64 {
        format!("{text:?}")
    } else {
        let head: String = text.chars().take(64).collect();
        format!("{head:?}… ({n} characters)")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn pin(f: ReleaseFormat, s: &str) -> PinnedRelease {
        f.parse_pin(s).unwrap().unwrap()
    }

    #[test]
    fn dated_releases_in_every_spelling() {
        let d = ReleaseFormat::Date;
        for s in [
            "v20251016",
            "20251016",
            "al2023@v20251016",
            "1.33.5-20251016",
        ] {
            assert_eq!(pin(d, s).release, Release::Date(20251016), "{s}");
        }
        assert_eq!(
            pin(d, "1.33.5-20251016").kubernetes,
            Some("1.33".parse().unwrap())
        );
        assert_eq!(
            pin(d, "al2023@v20251016").alias_family.as_deref(),
            Some("al2023")
        );
        assert_eq!(d.parse_pin("latest").unwrap(), None);
        assert_eq!(d.parse_pin("al2023@latest").unwrap(), None);
        for bad in [
            "v2025101",
            "v20251316",
            "v1.52.0",
            "1.33-abc",
            "@v20251016",
            "x y@v20251016",
            "",
        ] {
            assert!(d.parse_pin(bad).is_err(), "{bad}");
        }
        assert_eq!(Release::Date(20251016).to_string(), "v20251016");
    }

    #[test]
    fn versioned_releases_in_every_spelling() {
        let v = ReleaseFormat::Version;
        for s in [
            "v1.52.0",
            "1.52.0",
            "bottlerocket@v1.52.0",
            "1.52.0-d7ba6a2a",
        ] {
            assert_eq!(pin(v, s).release.to_string(), "v1.52.0", "{s}");
        }
        for bad in [
            "v1.52",
            "v20251016",
            "1.52.0-zzz",
            "1.52.0-",
            "bottlerocket@1.52.0-d7ba6a2a",
            "v1.52.0\n",
            " v1.52.0",
        ] {
            assert!(v.parse_pin(bad).is_err(), "{bad}");
        }
        assert!(pin(v, "v1.9.0").release < pin(v, "v1.44.0").release);
        let huge = format!("v1.52.0{}", "a".repeat(1 << 20));
        assert!(v.parse_pin(&huge).unwrap_err().len() < 400);
    }
}
