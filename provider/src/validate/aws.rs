//! AWS identifiers and tags, checked to the rules of the API they go to:
//! EKS cluster and node group names, IAM role ARNs, subnet IDs, tags.

use std::collections::BTreeMap;

use super::limits::{Limit, Limits};
use super::quoted;

fn length(s: &str, what: &str, limit: &Limit) -> Result<(), String> {
    let n = s.chars().count() as u64;
    if n == 0 && limit.min > 0 {
        return Err(format!("{what} must not be empty"));
    }
    if n < limit.min {
        return Err(format!(
            "{} is {n} characters long; {what} needs at least {}",
            quoted(s),
            limit.min
        ));
    }
    if n > limit.max {
        return Err(format!(
            "{} is {n} characters long; {what} may have at most {}",
            quoted(s),
            limit.max
        ));
    }
    Ok(())
}

/// EKS names (clusters, node groups): a letter or digit, then letters,
/// digits, `-` and `_`.
fn eks_name(s: &str, what: &str, limit: &Limit) -> Result<(), String> {
    length(s, what, limit)?;
    let mut chars = s.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !(first_ok && rest_ok) {
        return Err(format!(
            "{} is not {what}: it must start with a letter or digit and contain only letters, digits, \"-\" and \"_\" (e.g. \"agents-pool\")",
            quoted(s)
        ));
    }
    Ok(())
}

pub fn cluster_name(s: &str, l: &Limits) -> Result<(), String> {
    eks_name(s, "an EKS cluster name", &l.eks.cluster_name)
}

pub fn nodegroup_name(s: &str, l: &Limits) -> Result<(), String> {
    eks_name(s, "an EKS node group name", &l.eks.nodegroup_name)
}

/// AWS partitions an ARN may name.
const PARTITIONS: [&str; 8] = [
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// `arn:PARTITION:iam::ACCOUNT:role/[path/]name`.
pub fn iam_role_arn(s: &str) -> Result<(), String> {
    let fix = "use the ARN of the IAM role the nodes run as, e.g. \"arn:aws:iam::123456789012:role/eks-nodes\" (aws_iam_role.nodes.arn)";
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" {
        return Err(format!("{} is not an ARN; {fix}", quoted(s)));
    }
    let (partition, service, region, account, resource) =
        (parts[1], parts[2], parts[3], parts[4], parts[5]);
    if !PARTITIONS.contains(&partition) {
        return Err(format!(
            "{} names the unknown partition {partition:?}; {fix}",
            quoted(s)
        ));
    }
    if service != "iam" || !resource.starts_with("role/") {
        return Err(format!(
            "{} is not an IAM role ARN (it names {service}:{}); {fix}",
            quoted(s),
            resource.split('/').next().unwrap_or_default()
        ));
    }
    if !region.is_empty() {
        return Err(format!(
            "{} has a region, but IAM ARNs have none; {fix}",
            quoted(s)
        ));
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{} does not name a 12-digit account; {fix}",
            quoted(s)
        ));
    }
    let name = resource.rsplit('/').next().unwrap_or_default();
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if !name_ok {
        return Err(format!(
            "{} does not end in a valid role name (1-64 of letters, digits and +=,.@_-); {fix}",
            quoted(s)
        ));
    }
    Ok(())
}

/// An IAM role's name (not its ARN): 1-64 of letters, digits and
/// `+=,.@_-`.
pub fn iam_role_name(s: &str, l: &Limits) -> Result<(), String> {
    let fix = "use the role's name, e.g. \"eks-nodes\" (aws_iam_role.nodes.name)";
    if s.starts_with("arn:") {
        let name = s.rsplit(['/', ':']).next().unwrap_or_default();
        return Err(format!(
            "{} is an ARN, but this takes the IAM role's name: write {:?} (aws_iam_role.nodes.name, not .arn)",
            quoted(s),
            if name.is_empty() { "eks-nodes" } else { name }
        ));
    }
    length(s, "an IAM role name", &l.iam.role_name).map_err(|e| format!("{e}; {fix}"))?;
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
    {
        return Err(format!(
            "{} is not an IAM role name: letters, digits and + = , . @ _ - only; {fix}",
            quoted(s)
        ));
    }
    Ok(())
}

/// `subnet-` and 8 or 17 hexadecimal digits.
pub fn subnet_id(s: &str) -> Result<(), String> {
    let ok = s.strip_prefix("subnet-").is_some_and(|hex| {
        (hex.len() == 8 || hex.len() == 17)
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not a subnet ID (\"subnet-\" and 8 or 17 hexadecimal digits, e.g. \"subnet-0a1b2c3d4e5f67890\")",
            quoted(s)
        ))
    }
}

/// Characters AWS tagging allows: letters, digits, spaces and `+-=._:/@`.
fn tag_chars_ok(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_alphanumeric() || c == ' ' || "+-=._:/@".contains(c))
}

pub fn tag_key(k: &str, l: &Limits) -> Result<(), String> {
    length(k, "a tag key", &l.eks.tag_key)?;
    if k.to_ascii_lowercase().starts_with("aws:") {
        return Err(format!(
            "{} starts with \"aws:\", which AWS reserves for its own tags; choose another key",
            quoted(k)
        ));
    }
    if !tag_chars_ok(k) {
        return Err(format!(
            "{} may contain only letters, digits, spaces and + - = . _ : / @",
            quoted(k)
        ));
    }
    Ok(())
}

pub fn tag_value(v: &str, l: &Limits) -> Result<(), String> {
    if v.chars().count() as u64 > l.eks.tag_value.max {
        return Err(format!(
            "{} is {} characters long; tag values may have at most {}",
            quoted(v),
            v.chars().count(),
            l.eks.tag_value.max
        ));
    }
    if !tag_chars_ok(v) {
        return Err(format!(
            "{} may contain only letters, digits, spaces and + - = . _ : / @",
            quoted(v)
        ));
    }
    Ok(())
}

/// The total number of tags on the node group: the resource's own, the
/// provider's `default_tags` and the provider's bookkeeping tags.
pub fn tag_count(
    own: &BTreeMap<String, String>,
    default_tags: &BTreeMap<String, String>,
    bookkeeping: usize,
    l: &Limits,
) -> Result<(), String> {
    let merged = default_tags
        .keys()
        .chain(own.keys())
        .collect::<std::collections::BTreeSet<_>>();
    let total = merged.len() + bookkeeping;
    let max = l.eks.tags_per_resource.max as usize;
    if total > max {
        return Err(format!(
            "the node group would carry {total} tags ({} of yours, {} from default_tags, {bookkeeping} the provider keeps), but EKS allows at most {max}",
            own.len(),
            default_tags
                .keys()
                .filter(|k| !own.contains_key(*k))
                .count()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l() -> &'static Limits {
        Limits::embedded().unwrap()
    }

    #[test]
    fn eks_names() {
        assert!(nodegroup_name("agents", l()).is_ok());
        assert!(nodegroup_name("agents_pool-2", l()).is_ok());
        for bad in ["", "agents pool!/é", "-agents", "_x"] {
            assert!(nodegroup_name(bad, l()).is_err(), "{bad:?}");
        }
        assert!(nodegroup_name(&"a".repeat(63), l()).is_ok());
        assert!(
            nodegroup_name(&"a".repeat(64), l())
                .unwrap_err()
                .contains("at most 63")
        );
        assert!(cluster_name("", l()).unwrap_err().contains("empty"));
        assert!(cluster_name(&"c".repeat(100), l()).is_ok());
        assert!(cluster_name(&"c".repeat(101), l()).is_err());
    }

    #[test]
    fn role_arns() {
        assert!(iam_role_arn("arn:aws:iam::123456789012:role/nodes").is_ok());
        assert!(iam_role_arn("arn:aws-us-gov:iam::123456789012:role/path/to/nodes").is_ok());
        for bad in [
            "eks-nodes",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::123456789012:user/bob",
            "arn:aws:iam::12345:role/x",
            "arn:aws:iam:us-east-1:123456789012:role/x",
            "arn:aws:iam::123456789012:role/",
        ] {
            let e = iam_role_arn(bad).unwrap_err();
            assert!(e.contains("e.g. \"arn:aws:iam::"), "{bad}: {e}");
        }
    }

    #[test]
    fn role_names() {
        assert!(iam_role_name("eks-nodes", l()).is_ok());
        assert!(iam_role_name("a+=,.@_-1", l()).is_ok());
        let e = iam_role_name("arn:aws:iam::123456789012:role/path/eks-nodes", l()).unwrap_err();
        assert!(e.contains("write \"eks-nodes\""), "{e}");
        for bad in ["", "eks nodes", "eks-nodes\n", "a/b", &"r".repeat(65)] {
            assert!(iam_role_name(bad, l()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn subnets_and_tags() {
        assert!(subnet_id("subnet-0a1b2c3d").is_ok());
        assert!(subnet_id("subnet-0a1b2c3d4e5f67890").is_ok());
        assert!(subnet_id("subnet-xyz").is_err());
        assert!(subnet_id("sg-0a1b2c3d").is_err());
        assert!(tag_key("team", l()).is_ok());
        assert!(tag_key("AWS:owner", l()).unwrap_err().contains("reserves"));
        assert!(tag_key("", l()).is_err());
        assert!(tag_value(&"v".repeat(257), l()).is_err());
        let own: BTreeMap<String, String> =
            (0..48).map(|i| (format!("k{i}"), String::new())).collect();
        let defaults = BTreeMap::from([("team".to_string(), "x".to_string())]);
        assert!(tag_count(&own, &defaults, 1, l()).is_ok());
        assert!(
            tag_count(&own, &defaults, 3, l())
                .unwrap_err()
                .contains("at most 50")
        );
    }
}
