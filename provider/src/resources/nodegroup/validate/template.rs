//! The owned launch template's settings, to EC2's rules (the limits
//! hashicorp/aws `aws_launch_template` enforces:
//! `internal/service/ec2/ec2_launch_template.go`).

use super::super::schema::TAG_SPECIFICATION_TYPES;
use crate::framework::{AttributePath, Diagnostics, Value};
use crate::validate::{Limits, aws, number};

/// The most security groups EC2 allows on a network interface.
const MAX_SECURITY_GROUPS: usize = 16;

pub fn metadata_options(config: &Value, diags: &mut Diagnostics) {
    let Some(Value::Number(n)) = config
        .attr("metadata_options")
        .and_then(|m| m.attr("http_put_response_hop_limit"))
    else {
        return;
    };
    if let Err(e) = number::whole_in_range(n, 1, 64) {
        diags.error_at(
            AttributePath::attr("metadata_options").then_attr("http_put_response_hop_limit"),
            "Invalid http_put_response_hop_limit",
            format!("{e}: the IMDS hop limit is a whole number from 1 to 64."),
        );
    }
}

/// `block_device`: whole numbers in EC2's ranges, IOPS and throughput only
/// for the volume types that take them, a KMS key only with encryption.
pub fn block_device(config: &Value, diags: &mut Diagnostics) {
    let Some(b) = config
        .attr("block_device")
        .filter(|v| !v.is_null() && !v.is_unknown())
    else {
        return;
    };
    let at = |k: &str| AttributePath::attr("block_device").then_attr(k);
    let volume_type = b.attr("volume_type").and_then(Value::as_str);
    let type_unknown = b.attr("volume_type").is_some_and(Value::is_unknown);
    for (k, lo, hi, unit) in [
        ("volume_size", 1, 65536, "GiB"),
        ("iops", 100, 256_000, "IOPS"),
        ("throughput", 125, 1000, "MiB/s"),
    ] {
        let Some(Value::Number(n)) = b.attr(k) else {
            continue;
        };
        if let Err(e) = number::whole_in_range(n, lo, hi) {
            diags.error_at(
                at(k),
                format!("Invalid {k}"),
                format!("{e}: {k} is a whole number of {unit} from {lo} to {hi}."),
            );
        }
        let takes: &[&str] = match k {
            "iops" => &["gp3", "io1", "io2"],
            "throughput" => &["gp3"],
            _ => continue,
        };
        if !type_unknown && !volume_type.is_some_and(|t| takes.contains(&t)) {
            diags.error_at(
                at(k),
                format!("{k} needs another volume_type"),
                format!(
                    "EC2 takes {k} only for volume_type {}; this volume is {}. Set volume_type = \"gp3\" or remove {k}.",
                    takes.join(", "),
                    volume_type.map_or("the AMI's type (unset)".to_string(), |t| format!("{t:?}"))
                ),
            );
        }
    }
    if let Some(key) = b.attr("kms_key_id").and_then(Value::as_str) {
        if !key.starts_with("arn:") {
            diags.error_at(
                at("kms_key_id"),
                "Invalid kms_key_id",
                format!(
                    "{} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>).",
                    crate::validate::quoted(key)
                ),
            );
        }
        if b.attr("encrypted") != Some(&Value::Bool(true)) {
            diags.error_at(
                at("kms_key_id"),
                "kms_key_id needs encrypted = true",
                "EC2 encrypts with a KMS key only when the volume is encrypted: add encrypted = true.",
            );
        }
    }
}

/// `tag_specifications`: tag keys and values EC2 accepts, at most 50 per
/// resource type.
pub fn tag_specifications(config: &Value, l: &Limits, diags: &mut Diagnostics) {
    let Some(specs) = config
        .attr("tag_specifications")
        .filter(|v| !v.is_null() && !v.is_unknown())
    else {
        return;
    };
    for (attr, _) in TAG_SPECIFICATION_TYPES {
        let Some(entries) = specs.attr(attr).and_then(Value::as_entries) else {
            continue;
        };
        let path = AttributePath::attr("tag_specifications").then_attr(attr);
        let max = l.eks.tags_per_resource.max as usize;
        if entries.len() > max {
            diags.error_at(
                path.clone(),
                "Too many tags",
                format!(
                    "{} tags given; EC2 allows at most {max} per resource.",
                    entries.len()
                ),
            );
        }
        for (k, v) in entries {
            if let Err(e) = aws::tag_key(k, l) {
                diags.error_at(path.clone().then_key(k), "Invalid tag key", format!("{e}."));
            }
            if let Some(value) = v.as_str()
                && let Err(e) = aws::tag_value(value, l)
            {
                diags.error_at(
                    path.clone().then_key(k),
                    "Invalid tag value",
                    format!("{e}."),
                );
            }
        }
    }
}

/// `sg-` and 8 or 17 hexadecimal digits.
fn security_group_id(s: &str) -> bool {
    s.strip_prefix("sg-").is_some_and(|hex| {
        (hex.len() == 8 || hex.len() == 17)
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

pub fn security_group_ids(config: &Value, diags: &mut Diagnostics) {
    let Some(groups) = config
        .attr("security_group_ids")
        .and_then(Value::as_elements)
    else {
        return;
    };
    let path = || AttributePath::attr("security_group_ids");
    if groups.len() > MAX_SECURITY_GROUPS {
        diags.error_at(
            path(),
            "Too many security groups",
            format!(
                "{} security groups given; EC2 allows at most {MAX_SECURITY_GROUPS} on a node's network interface.",
                groups.len()
            ),
        );
    }
    for g in groups.iter().filter_map(Value::as_str) {
        if !security_group_id(g) {
            diags.error_at(
                path(),
                "Invalid security group ID",
                format!(
                    "{} is not a security group ID (\"sg-\" and 8 or 17 hexadecimal digits, e.g. \"sg-0a1b2c3d4e5f67890\").",
                    crate::validate::quoted(g)
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summaries(f: fn(&Value, &mut Diagnostics), attr: &str, v: Value) -> Vec<String> {
        let mut d = Diagnostics::new();
        f(&Value::object([(attr, v)]), &mut d);
        d.iter().map(|x| x.summary.clone()).collect()
    }

    #[test]
    fn the_hop_limit_is_1_to_64() {
        let m = |n: i64| Value::object([("http_put_response_hop_limit", Value::int(n))]);
        assert!(summaries(metadata_options, "metadata_options", m(1)).is_empty());
        assert!(summaries(metadata_options, "metadata_options", m(64)).is_empty());
        for bad in [0, 65] {
            assert_eq!(
                summaries(metadata_options, "metadata_options", m(bad)),
                ["Invalid http_put_response_hop_limit"]
            );
        }
    }

    #[test]
    fn block_device_settings_follow_ec2s_rules() {
        let b = |pairs: Vec<(&str, Value)>| Value::object(pairs);
        let ok = b(vec![
            ("volume_size", Value::int(100)),
            ("volume_type", Value::string("gp3")),
            ("iops", Value::int(4000)),
            ("throughput", Value::int(250)),
            ("encrypted", Value::Bool(true)),
            (
                "kms_key_id",
                Value::string("arn:aws:kms:us-east-1:123456789012:key/abc"),
            ),
        ]);
        assert!(summaries(block_device, "block_device", ok).is_empty());
        let bad = b(vec![
            ("volume_size", Value::int(0)),
            ("volume_type", Value::string("gp2")),
            ("iops", Value::int(4000)),
            ("throughput", Value::int(2000)),
            ("kms_key_id", Value::string("alias/ebs")),
        ]);
        assert_eq!(
            summaries(block_device, "block_device", bad),
            [
                "Invalid volume_size",
                "iops needs another volume_type",
                "Invalid throughput",
                "throughput needs another volume_type",
                "Invalid kms_key_id",
                "kms_key_id needs encrypted = true",
            ]
        );
    }

    #[test]
    fn tag_specifications_take_tags_ec2_accepts() {
        let l = Limits::embedded().unwrap();
        let specs = Value::object([(
            "tag_specifications",
            Value::object([(
                "volume",
                Value::Map(
                    [
                        ("ok".to_string(), Value::string("v")),
                        ("aws:reserved".to_string(), Value::string("v")),
                    ]
                    .into(),
                ),
            )]),
        )]);
        let mut d = Diagnostics::new();
        tag_specifications(&specs, l, &mut d);
        let paths: Vec<String> = d
            .iter()
            .map(|x| x.path.clone().unwrap().to_string())
            .collect();
        assert_eq!(paths, ["tag_specifications.volume[\"aws:reserved\"]"]);
    }

    #[test]
    fn security_groups_are_sg_ids_at_most_16() {
        let set = |ids: Vec<String>| Value::Set(ids.into_iter().map(Value::String).collect());
        let ok = set(vec!["sg-0a1b2c3d".into(), "sg-0a1b2c3d4e5f67890".into()]);
        assert!(summaries(security_group_ids, "security_group_ids", ok).is_empty());
        let bad = set(vec!["sg-XYZ".into(), "subnet-0a1b2c3d".into()]);
        assert_eq!(
            summaries(security_group_ids, "security_group_ids", bad),
            ["Invalid security group ID", "Invalid security group ID"]
        );
        let many = set((0..17).map(|i| format!("sg-{i:08x}")).collect());
        assert_eq!(
            summaries(security_group_ids, "security_group_ids", many),
            ["Too many security groups"]
        );
    }
}
