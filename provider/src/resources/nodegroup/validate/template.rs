//! The owned launch template's settings, to EC2's rules (the limits
//! hashicorp/aws `aws_launch_template` enforces:
//! `internal/service/ec2/ec2_launch_template.go`).

use super::super::model::{BlockDeviceModel, NodegroupModel, TagSpecificationsModel};
use crate::framework::Diagnostics;
use crate::validate::Limits;

/// The most security groups EC2 allows on a network interface.
const MAX_SECURITY_GROUPS: usize = 16;

/// `block_device`: IOPS and throughput only for the volume types that
/// take them, a KMS key only with encryption (ranges are the attributes'
/// declared rules).
pub fn block_device(m: &NodegroupModel, diags: &mut Diagnostics) {
    let Some(b) = m.block_device.known() else {
        return;
    };
    let at = |p| NodegroupModel::block_device().then(p);
    let volume_type = b.volume_type.as_deref();
    for (k, set, path, takes) in [
        (
            "iops",
            b.iops.known().is_some(),
            BlockDeviceModel::iops(),
            &["gp3", "io1", "io2"][..],
        ),
        (
            "throughput",
            b.throughput.known().is_some(),
            BlockDeviceModel::throughput(),
            &["gp3"][..],
        ),
    ] {
        if set && !b.volume_type.is_unknown() && !volume_type.is_some_and(|t| takes.contains(&t)) {
            diags.error_at(
                at(path),
                format!("{k} needs another volume_type"),
                format!(
                    "EC2 takes {k} only for volume_type {}; this volume is {}. Set volume_type = \"gp3\" or remove {k}.",
                    takes.join(", "),
                    volume_type.map_or("the AMI's type (unset)".to_string(), |t| format!("{t:?}"))
                ),
            );
        }
    }
    if let Some(key) = b.kms_key_id.as_deref() {
        if !key.starts_with("arn:") {
            diags.error_at(
                at(BlockDeviceModel::kms_key_id()),
                "Invalid kms_key_id",
                format!(
                    "{} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>).",
                    crate::validate::quoted(key)
                ),
            );
        }
        if b.encrypted.known() != Some(&true) {
            diags.error_at(
                at(BlockDeviceModel::kms_key_id()),
                "kms_key_id needs encrypted = true",
                "EC2 encrypts with a KMS key only when the volume is encrypted: add encrypted = true.",
            );
        }
    }
}

/// `tag_specifications`: at most 50 tags per resource type (each key and
/// value by the attributes' declared rules).
pub fn tag_specifications(m: &NodegroupModel, l: &Limits, diags: &mut Diagnostics) {
    let Some(specs) = m.tag_specifications.known() else {
        return;
    };
    for (tags, path) in [
        (&specs.instance, TagSpecificationsModel::instance()),
        (&specs.volume, TagSpecificationsModel::volume()),
        (
            &specs.network_interface,
            TagSpecificationsModel::network_interface(),
        ),
    ] {
        let Some(entries) = tags.known() else {
            continue;
        };
        let max = l.eks.tags_per_resource.max as usize;
        if entries.len() > max {
            diags.error_at(
                NodegroupModel::tag_specifications().then(path),
                "Too many tags",
                format!(
                    "{} tags given; EC2 allows at most {max} per resource.",
                    entries.len()
                ),
            );
        }
    }
}

/// At most 16 security groups (each an `sg-` ID by the declared rule).
pub fn security_group_ids(m: &NodegroupModel, diags: &mut Diagnostics) {
    let Some(groups) = m.security_group_ids.known() else {
        return;
    };
    if groups.0.len() > MAX_SECURITY_GROUPS {
        diags.error_at(
            NodegroupModel::security_group_ids(),
            "Too many security groups",
            format!(
                "{} security groups given; EC2 allows at most {MAX_SECURITY_GROUPS} on a node's network interface.",
                groups.0.len()
            ),
        );
    }
}

#[cfg(test)]
mod tests {

    use crate::framework::Value;

    /// The summaries validation gives for `attr = v` (the declared rules,
    /// then the model's checks, as `plan` runs them), sorted.
    fn summaries(attr: &str, v: Value) -> Vec<String> {
        let mut s: Vec<String> = super::super::diagnostics_for(&Value::object([(attr, v)]))
            .iter()
            .map(|x| x.summary.clone())
            .collect();
        s.sort();
        s
    }

    fn sorted<const N: usize>(mut want: [&str; N]) -> [&str; N] {
        want.sort_unstable();
        want
    }

    #[test]
    fn the_hop_limit_is_1_to_64() {
        let m = |n: i64| Value::object([("http_put_response_hop_limit", Value::int(n))]);
        assert!(summaries("metadata_options", m(1)).is_empty());
        assert!(summaries("metadata_options", m(64)).is_empty());
        for bad in [0, 65] {
            assert_eq!(
                summaries("metadata_options", m(bad)),
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
        assert!(summaries("block_device", ok).is_empty());
        let bad = b(vec![
            ("volume_size", Value::int(0)),
            ("volume_type", Value::string("gp2")),
            ("iops", Value::int(4000)),
            ("throughput", Value::int(2000)),
            ("kms_key_id", Value::string("alias/ebs")),
        ]);
        assert_eq!(
            summaries("block_device", bad),
            sorted([
                "Invalid volume_size",
                "iops needs another volume_type",
                "Invalid throughput",
                "throughput needs another volume_type",
                "Invalid kms_key_id",
                "kms_key_id needs encrypted = true",
            ])
        );
    }

    #[test]
    fn tag_specifications_take_tags_ec2_accepts() {
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
        let paths: Vec<String> = super::super::diagnostics_for(&specs)
            .iter()
            .map(|x| x.path.clone().unwrap().to_string())
            .collect();
        assert_eq!(paths, ["tag_specifications.volume[\"aws:reserved\"]"]);
    }

    #[test]
    fn security_groups_are_sg_ids_at_most_16() {
        let set = |ids: Vec<String>| Value::Set(ids.into_iter().map(Value::String).collect());
        let ok = set(vec!["sg-0a1b2c3d".into(), "sg-0a1b2c3d4e5f67890".into()]);
        assert!(summaries("security_group_ids", ok).is_empty());
        let bad = set(vec!["sg-XYZ".into(), "subnet-0a1b2c3d".into()]);
        assert_eq!(
            summaries("security_group_ids", bad),
            ["Invalid security group ID", "Invalid security group ID"]
        );
        let many = set((0..17).map(|i| format!("sg-{i:08x}")).collect());
        assert_eq!(
            summaries("security_group_ids", many),
            ["Too many security groups"]
        );
    }
}
