//! How the node group rolls out changes: `release_version` and
//! `update_config`, to the rules of the EKS API (the limits hashicorp/aws
//! `aws_eks_node_group` enforces: `internal/service/eks/node_group.go`).

use crate::framework::{AttributePath, Diagnostics, Value};
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

pub fn release_version(config: &Value, diags: &mut Diagnostics) {
    let Some(r) = config
        .attr("release_version")
        .filter(|v| v.is_wholly_known())
        .and_then(Value::as_str)
    else {
        return;
    };
    if !release_shape(r) {
        diags.error_at(
            AttributePath::attr("release_version"),
            "Invalid release_version",
            format!(
                "{} is not a node image release: EKS names them <major>.<minor>.<patch>-<build>, e.g. \"1.33.0-20250704\" (Amazon Linux) or \"1.42.0-7c3e9198\" (Bottlerocket). Leave it unset for the latest.",
                crate::validate::quoted(r)
            ),
        );
    }
}

/// `update_config`: exactly one of `max_unavailable` (nodes) and
/// `max_unavailable_percentage`, each a whole number from 1 to 100.
pub fn update_config(config: &Value, diags: &mut Diagnostics) {
    let Some(uc) = config
        .attr("update_config")
        .filter(|v| !v.is_null() && !v.is_unknown())
    else {
        return;
    };
    let path = || AttributePath::attr("update_config");
    let mut set = 0;
    let mut unknown = false;
    for k in ["max_unavailable", "max_unavailable_percentage"] {
        match uc.attr(k) {
            Some(Value::Number(n)) => {
                set += 1;
                if let Err(e) = number::whole_in_range(n, 1, 100) {
                    diags.error_at(
                        path().then_attr(k),
                        format!("Invalid {k}"),
                        format!("{e}: {k} is a whole number from 1 to 100."),
                    );
                }
            }
            Some(v) if v.is_unknown() => unknown = true,
            _ => {}
        }
    }
    if set != 1 && !(unknown && set == 0) {
        diags.error_at(
            path(),
            "Invalid update_config",
            "Set exactly one of max_unavailable (a number of nodes) and max_unavailable_percentage (a share of the nodes), e.g. update_config = { max_unavailable = 1 }.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(f: fn(&Value, &mut Diagnostics), attr: &str, v: Value) -> Vec<String> {
        let mut d = Diagnostics::new();
        f(&Value::object([(attr, v)]), &mut d);
        d.iter()
            .map(|x| format!("{}: {}", x.path.clone().unwrap(), x.summary))
            .collect()
    }

    #[test]
    fn release_versions_have_the_eks_shape() {
        for ok in ["1.33.0-20250704", "1.42.0-7c3e9198", "1.29.3-20240202"] {
            assert!(check(release_version, "release_version", Value::string(ok)).is_empty());
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
                check(release_version, "release_version", Value::string(bad)),
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
        assert!(check(update_config, "update_config", ok).is_empty());
        let ok = uc(&[("max_unavailable_percentage", Value::int(100))]);
        assert!(check(update_config, "update_config", ok).is_empty());
        let both = uc(&[
            ("max_unavailable", Value::int(1)),
            ("max_unavailable_percentage", Value::int(10)),
        ]);
        assert_eq!(
            check(update_config, "update_config", both),
            ["update_config: Invalid update_config"]
        );
        let none = uc(&[]);
        assert_eq!(
            check(update_config, "update_config", none),
            ["update_config: Invalid update_config"]
        );
        for bad in [Value::int(0), Value::int(101)] {
            assert_eq!(
                check(
                    update_config,
                    "update_config",
                    uc(&[("max_unavailable", bad)])
                ),
                ["update_config.max_unavailable: Invalid max_unavailable"]
            );
        }
        let later = uc(&[("max_unavailable", Value::unknown())]);
        assert!(check(update_config, "update_config", later).is_empty());
    }
}
