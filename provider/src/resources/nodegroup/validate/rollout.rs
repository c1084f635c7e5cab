//! How the node group rolls out changes: `release_version` and
//! `update_config`, to the rules of the EKS API (the limits hashicorp/aws
//! `aws_eks_node_group` enforces: `internal/service/eks/node_group.go`).

use super::super::model::NodegroupModel;
use crate::framework::schema::Validator;
use crate::framework::{Diagnostics, Number};
use crate::validate::number;

/// A node image release as EKS names them: `<x>.<y>.<z>-<build>`.
fn release_shape(s: &str) -> bool {
    let Some((version, build)) = s.split_once('-') else {
        return false;
    };
    let parts: Vec<&str> = version.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && parts.iter().all(|p| p.len() <= 10)
        // A date (Amazon Linux, `20250704`) or a commit ID (Bottlerocket,
        // `7c3e9198`): a full Git hash is the longest.
        && (1..=40).contains(&build.len())
        && build.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn release_version_rule(r: &str) -> Result<(), String> {
    if release_shape(r) {
        return Ok(());
    }
    Err(format!(
        "{} is not a node image release: EKS names them <major>.<minor>.<patch>-<build>, e.g. \"1.33.0-20250704\" (Amazon Linux) or \"1.42.0-7c3e9198\" (Bottlerocket). Leave it unset for the latest.",
        crate::validate::quoted(r)
    ))
}

/// A node image release as EKS names it (`release_version`).
pub const RELEASE_VERSION: Validator =
    Validator::text("Invalid release_version", release_version_rule);

fn percent(n: &Number, k: &str) -> Result<(), String> {
    number::whole_in_range(n, 1, 100)
        .map(|_| ())
        .map_err(|e| format!("{e}: {k} is a whole number from 1 to 100."))
}

/// `update_config.max_unavailable`: 1 to 100 nodes.
pub const MAX_UNAVAILABLE: Validator =
    Validator::number("Invalid max_unavailable", |n| percent(n, "max_unavailable"));

/// `update_config.max_unavailable_percentage`: 1 to 100 %.
pub const MAX_UNAVAILABLE_PERCENTAGE: Validator =
    Validator::number("Invalid max_unavailable_percentage", |n| {
        percent(n, "max_unavailable_percentage")
    });

/// `update_config`: exactly one of `max_unavailable` (nodes) and
/// `max_unavailable_percentage` (each in range by its declared rule).
pub fn update_config(m: &NodegroupModel, diags: &mut Diagnostics) {
    let Some(uc) = m.update_config.known() else {
        return;
    };
    let bounds = [&uc.max_unavailable, &uc.max_unavailable_percentage];
    let set = bounds.iter().filter(|b| b.known().is_some()).count();
    let unknown = bounds.iter().any(|b| b.is_unknown());
    if set != 1 && !(unknown && set == 0) {
        diags.error_at(
            NodegroupModel::update_config(),
            "Invalid update_config",
            "Set exactly one of max_unavailable (a number of nodes) and max_unavailable_percentage (a share of the nodes), e.g. update_config = { max_unavailable = 1 }.",
        );
    }
}

#[cfg(test)]
mod tests {

    use crate::framework::Value;

    /// What validation says about `attr = v`: the declared rules and the
    /// model's checks, as `plan` runs them.
    fn check(attr: &str, v: Value) -> Vec<String> {
        super::super::diagnostics_for(&Value::object([(attr, v)]))
            .iter()
            .map(|x| format!("{}: {}", x.path.clone().unwrap(), x.summary))
            .collect()
    }

    #[test]
    fn release_versions_have_the_eks_shape() {
        for ok in ["1.33.0-20250704", "1.42.0-7c3e9198", "1.29.3-20240202"] {
            assert!(check("release_version", Value::string(ok)).is_empty());
        }
        for bad in [
            "latest",
            "1.33",
            "1.33.0",
            "1.33.0-",
            "v1.33.0-2025",
            "1.33.0-2025 07",
        ] {
            assert_eq!(
                check("release_version", Value::string(bad)),
                ["release_version: Invalid release_version"],
                "{bad}"
            );
        }
    }

    #[test]
    fn update_config_takes_exactly_one_bound_from_1_to_100() {
        let uc = |pairs: &[(&str, Value)]| Value::object(pairs.iter().cloned());
        let ok = uc(&[
            ("max_unavailable", Value::int(2)),
            ("max_unavailable_percentage", Value::Null),
        ]);
        assert!(check("update_config", ok).is_empty());
        let ok = uc(&[("max_unavailable_percentage", Value::int(100))]);
        assert!(check("update_config", ok).is_empty());
        let both = uc(&[
            ("max_unavailable", Value::int(1)),
            ("max_unavailable_percentage", Value::int(10)),
        ]);
        assert_eq!(
            check("update_config", both),
            ["update_config: Invalid update_config"]
        );
        let none = uc(&[]);
        assert_eq!(
            check("update_config", none),
            ["update_config: Invalid update_config"]
        );
        for bad in [Value::int(0), Value::int(101)] {
            assert_eq!(
                check("update_config", uc(&[("max_unavailable", bad)])),
                ["update_config.max_unavailable: Invalid max_unavailable"]
            );
        }
        let later = uc(&[("max_unavailable", Value::unknown())]);
        assert!(check("update_config", later).is_empty());
    }
}
