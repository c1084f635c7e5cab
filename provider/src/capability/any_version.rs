//! Checks for an input whose Kubernetes version is not known yet (a cluster
//! created in the same apply): the errors that hold at every Kubernetes
//! version the data has node images for. They do not depend on the version,
//! so plan can report them now; the rest waits for the version.

use super::engine::{Finding, Input, decide};
use super::kinds::AmiFamily;
use super::{CapabilityData, CapabilityError, Version};

/// Every Kubernetes minor version with a node image of `family` (of any
/// family when `None`), lowest first.
pub fn kubernetes_versions(data: &CapabilityData, family: Option<AmiFamily>) -> Vec<Version> {
    let mut versions: Vec<Version> = data
        .image
        .iter()
        .filter(|i| family.is_none_or(|f| i.family == f))
        .flat_map(|i| {
            let [lo, hi] = i.kubernetes;
            (lo.minor..=hi.minor).map(move |minor| Version {
                major: lo.major,
                minor,
                patch: 0,
            })
        })
        .collect();
    versions.sort();
    versions.dedup();
    versions
}

/// What `check` finds at every version of [`kubernetes_versions`] of
/// `family`, in the order of the first version. Empty as soon as one
/// version finds nothing, or when the findings differ between versions.
pub fn common_to_every_version<T: PartialEq>(
    data: &CapabilityData,
    family: Option<AmiFamily>,
    mut check: impl FnMut(Version) -> Vec<T>,
) -> Vec<T> {
    let mut common: Option<Vec<T>> = None;
    for version in kubernetes_versions(data, family) {
        let found = check(version);
        let kept: Vec<T> = match common.take() {
            None => found,
            Some(so_far) => so_far.into_iter().filter(|f| found.contains(f)).collect(),
        };
        if kept.is_empty() {
            return kept;
        }
        common = Some(kept);
    }
    common.unwrap_or_default()
}

/// The error findings `decide` returns for `input` at every Kubernetes
/// version of its family (its own `kubernetes_version` is ignored).
pub fn errors_at_every_version(
    data: &CapabilityData,
    input: &Input,
) -> Result<Vec<Finding>, CapabilityError> {
    let family = input.ami_family.as_deref().and_then(AmiFamily::parse);
    let mut failure = None;
    let common = common_to_every_version(data, family, |version| {
        let mut at = input.clone();
        at.kubernetes_version = Some(version);
        match decide(data, &at) {
            Ok(d) => d.findings.into_iter().filter(|f| f.error).collect(),
            Err(e) => {
                failure = Some(e);
                Vec::new()
            }
        }
    });
    match failure {
        Some(e) => Err(e),
        None => Ok(common),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> &'static CapabilityData {
        CapabilityData::embedded().unwrap()
    }

    #[test]
    fn versions_cover_the_family_images_only() {
        let all = kubernetes_versions(data(), None);
        let br = kubernetes_versions(data(), Some(AmiFamily::Bottlerocket));
        assert!(!br.is_empty());
        assert!(br.iter().all(|v| all.contains(v)));
        assert!(all.windows(2).all(|w| w[0] < w[1]), "sorted, no duplicates");
        let (lo, hi) = data().family_range(AmiFamily::Bottlerocket).unwrap();
        assert_eq!((br[0], br[br.len() - 1]), (lo, hi));
    }

    #[test]
    fn a_combination_that_works_at_some_version_has_no_errors() {
        let mut i = Input::new("nsjail", "eks");
        i.ami_family = Some("bottlerocket".into());
        assert!(errors_at_every_version(data(), &i).unwrap().is_empty());
    }

    #[test]
    fn an_error_independent_of_the_version_is_found_without_one() {
        // A family EKS Auto Mode does not run is wrong at every version.
        let mut i = Input::new("nsjail", "eks_auto_mode");
        i.ami_family = Some("al2023".into());
        let errors = errors_at_every_version(data(), &i).unwrap();
        assert!(!errors.is_empty());
        assert!(errors.iter().all(|f| f.error));
        assert!(
            errors
                .iter()
                .all(|f| f.summary != "kubernetes_version is required"),
            "{errors:?}"
        );
    }

    #[test]
    fn findings_that_differ_between_versions_are_not_common() {
        let mut calls = 0;
        let found = common_to_every_version(data(), None, |v| {
            calls += 1;
            vec![format!("1.{}", v.minor)]
        });
        assert!(found.is_empty());
        assert_eq!(calls, 2, "stops at the first version that disagrees");
        let found = common_to_every_version(data(), None, |v| {
            if v.minor % 2 == 0 {
                vec!["a", "b"]
            } else {
                vec!["b"]
            }
        });
        assert_eq!(found, ["b"]);
    }
}
