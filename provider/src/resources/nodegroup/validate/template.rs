//! The owned launch template's settings, to EC2's rules (the limits
//! hashicorp/aws `aws_launch_template` enforces:
//! `internal/service/ec2/ec2_launch_template.go`).

use crate::framework::{AttributePath, Diagnostics, Value};
use crate::validate::number;

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
