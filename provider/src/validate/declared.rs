//! The rules schemas declare on their attributes ([`Validator`]s): each
//! wraps one check of this module's siblings, so a rule is written once and
//! enforced by the framework at the path of every attribute that declares
//! it. Details end with the fix.

use crate::framework::Number;
use crate::framework::schema::{Reach, Validator};

use super::{
    Limits, aws, cluster, duration, ebs, image, instance_type, kubernetes, number, url, version,
};

/// Run `check` with the embedded limits.
fn with_limits(check: impl FnOnce(&Limits) -> Result<(), String>) -> Result<(), String> {
    match Limits::embedded() {
        Ok(l) => check(l),
        Err(e) => Err(format!(
            "{e}; this is a bug in the provider, please report it"
        )),
    }
}

fn sentence(r: Result<(), String>) -> Result<(), String> {
    r.map_err(|e| format!("{e}."))
}

fn eks_cluster_name(s: &str) -> Result<(), String> {
    sentence(with_limits(|l| aws::cluster_name(s, l)))
}

fn iam_role_name(s: &str) -> Result<(), String> {
    sentence(with_limits(|l| aws::iam_role_name(s, l)))
}

fn namespace(s: &str) -> Result<(), String> {
    sentence(with_limits(|l| kubernetes::dns_label(s, l)))
}

fn image_reference(s: &str) -> Result<(), String> {
    sentence(image::reference(s))
}

fn kubernetes_minor(s: &str) -> Result<(), String> {
    sentence(version::kubernetes_minor(s).map(|_| ()))
}

fn kernel_release(s: &str) -> Result<(), String> {
    sentence(version::dotted(s, "6.12").map(|_| ()))
}

fn openshift_release(s: &str) -> Result<(), String> {
    sentence(version::dotted(s, "4.20").map(|_| ()))
}

fn karpenter_release(s: &str) -> Result<(), String> {
    sentence(version::dotted(s, "1.9.0").map(|_| ()))
}

fn profile_name(s: &str) -> Result<(), String> {
    if s.chars().any(char::is_control) || s.trim() != s || s.is_empty() {
        return Err(format!(
            "{} is not a profile name: a name from the [profile …] sections of your AWS config file, without spaces around it or control characters (e.g. \"prod\"); remove `profile` to use the default credential chain.",
            super::quoted(s)
        ));
    }
    Ok(())
}

fn tag_key(s: &str) -> Result<(), String> {
    sentence(with_limits(|l| aws::tag_key(s, l)))
}

fn tag_value(s: &str) -> Result<(), String> {
    sentence(with_limits(|l| aws::tag_value(s, l)))
}

fn certificate_authority(s: &str) -> Result<(), String> {
    sentence(with_limits(|l| cluster::certificate_authority(s, l)))
}

fn cidr(s: &str) -> Result<(), String> {
    sentence(cluster::cidr(s))
}

fn ip(s: &str) -> Result<(), String> {
    sentence(cluster::ip(s))
}

fn container_runtime(s: &str) -> Result<(), String> {
    let shown = super::quoted(s);
    let fix = "write the runtime and its version separated by one space, e.g. \"containerd 2.1\" or \"cri-o 1.33\"";
    let Some((name, v)) = s.split_once(' ') else {
        return Err(format!("{shown} is not \"<runtime> <version>\"; {fix}."));
    };
    if name.is_empty() || name.chars().any(|c| !c.is_ascii_alphanumeric() && c != '-') {
        return Err(format!(
            "{shown} does not start with a runtime's name; {fix}."
        ));
    }
    version::dotted(v, "2.1")
        .map(|_| ())
        .map_err(|_| format!("{shown} does not end in a version such as 2.1; {fix}."))
}

/// A cluster's CA data, base64 on one line (`cluster.certificate_authority`).
pub const CERTIFICATE_AUTHORITY: Validator =
    Validator::text("Invalid certificate authority", certificate_authority);

/// A CIDR (`cluster.service_cidr`).
pub const SERVICE_CIDR: Validator = Validator::text("Invalid service CIDR", cidr);

/// An IP address (`cluster.dns_ip`).
pub const IP_ADDRESS: Validator = Validator::text("Invalid IP address", ip);

/// `"<runtime> <version>"` (`container_runtime`); which runtimes exist is
/// the capability data's.
pub const CONTAINER_RUNTIME: Validator =
    Validator::text("Invalid container_runtime", container_runtime);

fn device_name(s: &str) -> Result<(), String> {
    sentence(ebs::device_name(s))
}

fn kms_key_id(s: &str) -> Result<(), String> {
    sentence(with_limits(|l| ebs::kms_key_id(s, l)))
}

/// An EBS device name (`block_device.device_name`).
pub const DEVICE_NAME: Validator = Validator::text("Invalid device name", device_name);

/// A KMS key identifier (`block_device.kms_key_id`).
pub const KMS_KEY: Validator = Validator::text("Invalid KMS key", kms_key_id);

/// An AWS profile name (the provider's `profile`).
pub const PROFILE: Validator = Validator::text("Invalid AWS profile name", profile_name);

/// An AWS tag key, for each key of a map of tags.
pub const TAG_KEYS: Validator = Validator::text("Invalid tag key", tag_key).each(Reach::Keys);

/// An AWS tag value, for each value of a map of tags.
pub const TAG_VALUES: Validator =
    Validator::text("Invalid tag value", tag_value).each(Reach::Values);

/// An EKS cluster's name (`cluster_name`, `cluster.name`).
pub const EKS_CLUSTER_NAME: Validator = Validator::text("Invalid cluster name", eks_cluster_name);

/// An IAM role's name, not its ARN (a node class's `role`).
pub const IAM_ROLE_NAME: Validator = Validator::text("Invalid role", iam_role_name);

/// A Kubernetes namespace (`probe_namespace`).
pub const NAMESPACE: Validator = Validator::text("Invalid namespace", namespace);

/// A container image reference (`probe_image`, `sysctl_daemonset_image`).
pub const IMAGE: Validator = Validator::text("Invalid image reference", image_reference);

/// An endpoint URL the provider calls (`endpoints.*`).
pub const ENDPOINT_URL: Validator = Validator::text("Invalid endpoint URL", url::endpoint);

/// A cluster's API server URL (`cluster.api_server_endpoint`).
pub const API_SERVER_URL: Validator =
    Validator::text("Invalid API server endpoint", url::api_server);

/// A Kubernetes minor version, `"1.33"` (`kubernetes_version`).
pub const KUBERNETES_VERSION: Validator =
    Validator::text("Invalid kubernetes_version", kubernetes_minor);

/// A kernel release, `"6.12"` (`kernel_version` as an input).
pub const KERNEL_VERSION: Validator = Validator::text("Invalid kernel_version", kernel_release);

/// An OpenShift release, `"4.20"`.
pub const OPENSHIFT_VERSION: Validator =
    Validator::text("Invalid openshift_version", openshift_release);

/// A Karpenter release, `"1.9.0"`.
pub const KARPENTER_VERSION: Validator =
    Validator::text("Invalid karpenter_version", karpenter_release);

fn label_key(s: &str) -> Result<(), String> {
    sentence(with_limits(|l| kubernetes::qualified_name(s, l)))
}

fn label_value(s: &str) -> Result<(), String> {
    sentence(with_limits(|l| kubernetes::label_value(s, l)))
}

/// A Kubernetes label key, for each key of a map of labels.
pub const LABEL_KEYS: Validator = Validator::text("Invalid label key", label_key).each(Reach::Keys);

/// A Kubernetes label value, for each value of a map of labels.
pub const LABEL_VALUES: Validator =
    Validator::text("Invalid label value", label_value).each(Reach::Values);

/// A taint's key.
pub const TAINT_KEY: Validator = Validator::text("Invalid taint key", label_key);

/// A taint's value.
pub const TAINT_VALUE: Validator = Validator::text("Invalid taint value", label_value);

// The node group's rules (EKS's and EC2's limits, which are tighter than
// Kubernetes' in places): each declared on its attribute of
// `nested_nodegroup`.

fn nodegroup_name(s: &str) -> Result<(), String> {
    sentence(with_limits(|l| aws::nodegroup_name(s, l)))
}

fn iam_role_arn(s: &str) -> Result<(), String> {
    sentence(aws::iam_role_arn(s))
}

fn subnet_id(s: &str) -> Result<(), String> {
    sentence(aws::subnet_id(s))
}

/// EKS's own length limits, which are tighter than Kubernetes' for keys
/// with a prefix.
fn eks_length(s: &str, what: &str, max: u64) -> Result<(), String> {
    let n = s.chars().count() as u64;
    if n > max {
        Err(format!(
            "{} is {n} characters long; EKS accepts {what} of at most {max} characters",
            super::quoted(s)
        ))
    } else {
        Ok(())
    }
}

fn eks_label_key(s: &str) -> Result<(), String> {
    sentence(with_limits(|l| {
        kubernetes::qualified_name(s, l)
            .and_then(|()| eks_length(s, "label keys", l.eks.label_key.max))
    }))
}

fn eks_label_value(s: &str) -> Result<(), String> {
    sentence(with_limits(|l| {
        kubernetes::label_value(s, l)
            .and_then(|()| eks_length(s, "label values", l.eks.label_value.max))
            .and_then(|()| {
                if s.is_empty() && l.eks.label_value.min > 0 {
                    Err("EKS does not accept empty label values; give the label a value".into())
                } else {
                    Ok(())
                }
            })
    }))
}

fn eks_taint_key(s: &str) -> Result<(), String> {
    sentence(with_limits(|l| {
        kubernetes::qualified_name(s, l)
            .and_then(|()| eks_length(s, "taint keys", l.eks.taint_key.max))
    }))
}

fn eks_taint_value(s: &str) -> Result<(), String> {
    sentence(with_limits(|l| {
        kubernetes::label_value(s, l)
            .and_then(|()| eks_length(s, "taint values", l.eks.taint_value.max))
    }))
}

fn unreserved_tag_key(k: &str) -> Result<(), String> {
    if k.starts_with("nested.dev/") {
        return Err(format!(
            "{} starts with \"nested.dev/\", which the provider uses to track what it owns; choose another key.",
            super::quoted(k)
        ));
    }
    Ok(())
}

fn instance_type(s: &str) -> Result<(), String> {
    sentence(with_limits(|l| instance_type::parse(s, l).map(|_| ())))
}

fn timeout(s: &str) -> Result<(), String> {
    sentence(duration::parse(s).map(|_| ()))
}

fn max_user_namespaces(n: &Number) -> Result<(), String> {
    with_limits(|l| {
        let lo = 1;
        let hi = i64::try_from(l.linux.max_user_namespaces.max).unwrap_or(i64::MAX);
        number::whole_in_range(n, lo, hi).map(|_| ()).map_err(|e| {
            format!(
                "{e}: user.max_user_namespaces is a whole number from {lo} to {hi} (the kernel's INT_MAX), e.g. 65536."
            )
        })
    })
}

fn ids_per_pod(n: &Number) -> Result<(), String> {
    number::whole_in_range(n, 65536, i64::from(u32::MAX))
        .map(|_| ())
        .map_err(|e| format!("{e}: ids_per_pod is a multiple of 65536, e.g. 131072."))
}

/// A count of nodes from `lo` (or the limit data's minimum) to EKS's most.
fn nodes(n: &Number, k: &str, lo: Option<i64>) -> Result<(), String> {
    with_limits(|l| {
        let m = &l.eks.max_size;
        let lo = lo.unwrap_or_else(|| i64::try_from(m.min).unwrap_or(1));
        let hi = i64::try_from(m.max).unwrap_or(i64::MAX);
        number::whole_in_range(n, lo, hi)
            .map(|_| ())
            .map_err(|e| format!("{e}: {k} is a whole number of nodes from {lo} to {hi}."))
    })
}

fn in_range(n: &Number, k: &str, lo: i64, hi: i64, unit: &str) -> Result<(), String> {
    number::whole_in_range(n, lo, hi)
        .map(|_| ())
        .map_err(|e| format!("{e}: {k} is a whole number of {unit} from {lo} to {hi}."))
}

fn security_group_id(s: &str) -> Result<(), String> {
    let ok = s.strip_prefix("sg-").is_some_and(|hex| {
        (hex.len() == 8 || hex.len() == 17)
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not a security group ID (\"sg-\" and 8 or 17 hexadecimal digits, e.g. \"sg-0a1b2c3d4e5f67890\").",
            super::quoted(s)
        ))
    }
}

/// An EKS node group's name (`name`).
pub const NODEGROUP_NAME: Validator = Validator::text("Invalid node group name", nodegroup_name);

/// An IAM role's ARN (`node_role_arn`).
pub const IAM_ROLE_ARN: Validator = Validator::text("Invalid node role ARN", iam_role_arn);

/// A subnet ID, for each element (`subnet_ids`).
pub const SUBNET_IDS: Validator =
    Validator::text("Invalid subnet ID", subnet_id).each(Reach::Elements);

/// A label key as EKS takes it, for each key of a map of labels.
pub const EKS_LABEL_KEYS: Validator =
    Validator::text("Invalid label key", eks_label_key).each(Reach::Keys);

/// A label value as EKS takes it (not empty), for each value.
pub const EKS_LABEL_VALUES: Validator =
    Validator::text("Invalid label value", eks_label_value).each(Reach::Values);

/// A node group taint's key, as EKS takes it.
pub const EKS_TAINT_KEY: Validator = Validator::text("Invalid taint key", eks_taint_key);

/// A node group taint's value, as EKS takes it.
pub const EKS_TAINT_VALUE: Validator = Validator::text("Invalid taint value", eks_taint_value);

/// A tag key the provider does not keep for itself, for each key.
pub const UNRESERVED_TAG_KEYS: Validator =
    Validator::text("Reserved tag key", unreserved_tag_key).each(Reach::Keys);

/// An EC2 instance type, for each element (`instance_types`).
pub const INSTANCE_TYPES: Validator =
    Validator::text("Invalid instance type", instance_type).each(Reach::Elements);

/// A duration such as `"30m"` (`timeouts.*`).
pub const TIMEOUT: Validator = Validator::text("Invalid timeout", timeout);

/// `user.max_user_namespaces`: 1 to the kernel's INT_MAX.
pub const MAX_USER_NAMESPACES: Validator =
    Validator::number("Invalid max_user_namespaces", max_user_namespaces);

/// Ids per pod on a node group: whole, from 65536.
pub const NODEGROUP_IDS_PER_POD: Validator = Validator::number("Invalid ids_per_pod", ids_per_pod);

/// `scaling.min_size`.
pub const MIN_SIZE: Validator =
    Validator::number("Invalid min_size", |n| nodes(n, "min_size", Some(0)));

/// `scaling.max_size`.
pub const MAX_SIZE: Validator =
    Validator::number("Invalid max_size", |n| nodes(n, "max_size", None));

/// `scaling.desired_size`.
pub const DESIRED_SIZE: Validator = Validator::number("Invalid desired_size", |n| {
    nodes(n, "desired_size", Some(0))
});

/// The IMDS hop limit.
pub const HOP_LIMIT: Validator = Validator::number("Invalid http_put_response_hop_limit", |n| {
    number::whole_in_range(n, 1, 64)
        .map(|_| ())
        .map_err(|e| format!("{e}: the IMDS hop limit is a whole number from 1 to 64."))
});

/// `block_device.volume_size`.
pub const VOLUME_SIZE: Validator = Validator::number("Invalid volume_size", |n| {
    in_range(n, "volume_size", 1, 65536, "GiB")
});

/// `block_device.iops`.
pub const IOPS: Validator = Validator::number("Invalid iops", |n| {
    in_range(n, "iops", 100, 256_000, "IOPS")
});

/// `block_device.throughput`.
pub const THROUGHPUT: Validator = Validator::number("Invalid throughput", |n| {
    in_range(n, "throughput", 125, 1000, "MiB/s")
});

/// A security group ID, for each element (`security_group_ids`).
pub const SECURITY_GROUP_IDS: Validator =
    Validator::text("Invalid security group ID", security_group_id).each(Reach::Elements);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::schema::{Attribute, Schema, validate_declared};
    use crate::framework::{Diagnostics, Value};

    #[test]
    fn declared_rules_refuse_at_the_path_with_the_rule() {
        let s = Schema::new("t")
            .attribute(
                Attribute::string("probe_namespace")
                    .optional()
                    .validate(NAMESPACE),
            )
            .attribute(
                Attribute::string_map("labels")
                    .optional()
                    .validate(LABEL_KEYS)
                    .validate(LABEL_VALUES),
            );
        let cfg = Value::object([
            ("probe_namespace", Value::string("Nested_Probe")),
            (
                "labels",
                Value::Map(
                    [
                        ("bad key!".to_string(), Value::string("ok")),
                        ("ok".to_string(), Value::string("bad value!")),
                    ]
                    .into(),
                ),
            ),
        ]);
        let mut d = Diagnostics::new();
        validate_declared(&s.block, &cfg, &mut d);
        let got: Vec<(String, &str)> = d
            .iter()
            .map(|x| (x.path.clone().unwrap().to_string(), x.summary.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("probe_namespace".to_string(), "Invalid namespace"),
                ("labels[\"bad key!\"]".to_string(), "Invalid label key"),
                ("labels[\"ok\"]".to_string(), "Invalid label value"),
            ]
        );
        assert!(d.0[0].detail.contains("DNS-1123"), "{}", d.0[0].detail);
        assert!(d.0[0].detail.ends_with('.'));
    }

    #[test]
    fn unknown_and_null_values_wait() {
        let s =
            Schema::new("t").attribute(Attribute::string("probe_image").optional().validate(IMAGE));
        for v in [Value::Null, Value::unknown()] {
            let mut d = Diagnostics::new();
            validate_declared(&s.block, &Value::object([("probe_image", v)]), &mut d);
            assert!(d.is_empty());
        }
    }
}
