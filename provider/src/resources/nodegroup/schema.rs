//! The `nested_nodegroup` schema and its identity schema.

use crate::capability::engine::DEFAULT_MAX_USER_NAMESPACES;
use crate::capability::{AmiFamily, Architecture, ImageVariant, SANDBOXES};
use crate::framework::{Attribute, Nesting, Schema, Type, Value};
use crate::validate::declared;

/// Attributes whose change replaces the node group (EKS cannot change them
/// in place).
pub const REPLACE_ON_CHANGE: [&str; 9] = [
    "cluster_name",
    "name",
    "node_role_arn",
    "subnet_ids",
    "instance_types",
    "capacity_type",
    "architecture",
    "ami_family",
    "ami_variant",
];

pub const DEFAULT_TIMEOUT: &str = "60m";

/// `tag_specifications` attributes and the EC2 resource type each tags.
pub const TAG_SPECIFICATION_TYPES: [(&str, &str); 3] = [
    ("instance", "instance"),
    ("volume", "volume"),
    ("network_interface", "network-interface"),
];

/// EBS volume types (EC2 `VolumeType`).
pub const VOLUME_TYPES: &[&str] = &["gp3", "gp2", "io1", "io2", "st1", "sc1", "standard"];

pub fn schema() -> Schema {
    Schema::new(
        "An EKS managed node group prepared for a nested sandbox: the provider decides the \
         AMI family, renders the bootstrap settings (Bottlerocket TOML or AL2023 nodeadm) into \
         a launch template it owns, creates the node group, and outputs the pod security \
         context the sandbox needs.",
    )
    .attribute(
        Attribute::string("id")
            .computed()
            .description("`cluster_name:name`."),
    )
    .attribute(
        Attribute::string("cluster_name").validate(declared::EKS_CLUSTER_NAME)
            .required()
            .requires_replace()
            .description("Name of the EKS cluster."),
    )
    .attribute(
        Attribute::string("name").validate(declared::NODEGROUP_NAME)
            .required()
            .requires_replace()
            .description("Name of the node group (unique in the cluster)."),
    )
    .attribute(
        Attribute::string("node_role_arn").validate(declared::IAM_ROLE_ARN)
            .required()
            .requires_replace()
            .description("ARN of the IAM role the nodes use."),
    )
    .attribute(
        Attribute::string_set("subnet_ids").validate(declared::SUBNET_IDS)
            .required()
            .requires_replace()
            .description("Subnets the nodes are placed in."),
    )
    .attribute(
        Attribute::string("sandbox")
            .required()
            .one_of(SANDBOXES)
            .description(
                "The sandbox the pods run: `nsjail`, `landjail`, `bubblewrap` or `podman`. \
                 Changing it rolls a new launch template version.",
            ),
    )
    .attribute(
        Attribute::string("ami_family")
            .optional()
            .computed()
            .one_of(AmiFamily::NAMES)
            .requires_replace()
            .description(
                "`bottlerocket`, `al2023` or `al2`. When omitted the provider picks the first \
                 of al2023, bottlerocket, al2 that can run the sandbox. Changing it replaces \
                 the node group.",
            ),
    )
    .attribute(Attribute::string("kubernetes_version").validate(declared::KUBERNETES_VERSION).optional().computed().description(
        "Kubernetes version of the nodes, e.g. `\"1.33\"`. Defaults to the cluster's, read \
         at apply when the same apply creates the cluster; \
         `aws_eks_cluster.this.version` lets every check run at plan. Changing it upgrades \
         the node group in place.",
    ))
    .attribute(
        Attribute::string("ami_variant")
            .default_value(ImageVariant::default().as_str())
            .one_of(ImageVariant::NAMES)
            .requires_replace()
            .description(
                "The node image variant, which with `ami_family` and `architecture` makes the \
                 EKS `amiType`: `standard` (default), `nvidia`, `neuron` (AL2023 x86_64), \
                 `fips` or `nvidia_fips` (Bottlerocket). The decision is judged on that \
                 variant's kernel and runtime (Bottlerocket's `aws-k8s-1.33-fips` runs Linux \
                 6.1: no landjail there). Changing it replaces the node group.",
            ),
    )
    .attribute(
        Attribute::string("architecture")
            .default_value(Architecture::default().as_str())
            .one_of(Architecture::NAMES)
            .requires_replace()
            .description("`x86_64` (default) or `arm64`."),
    )
    .attribute(
        Attribute::string_list("instance_types").validate(declared::INSTANCE_TYPES)
            .optional()
            .computed()
            .requires_replace()
            .description("EC2 instance types. Defaults to EKS's choice, read back after create."),
    )
    .attribute(
        Attribute::string("capacity_type")
            .default_value("ON_DEMAND")
            .one_of(&["ON_DEMAND", "SPOT"])
            .requires_replace()
            .description("`ON_DEMAND` (default) or `SPOT`."),
    )
    .attribute(
        Attribute::nested(
            "scaling",
            Nesting::Single,
            vec![
                Attribute::number("min_size").validate(declared::MIN_SIZE).required().description("Minimum nodes."),
                Attribute::number("max_size").validate(declared::MAX_SIZE).required().description("Maximum nodes."),
                Attribute::number("desired_size").validate(declared::DESIRED_SIZE).optional().computed().description(
                    "Desired nodes. Leave it unset with `manage_desired_size = false` so an \
                     autoscaler owns it.",
                ),
            ],
        )
        .default_value(Value::object(
            ["min_size", "max_size", "desired_size"].map(|k| (k, Value::int(1))),
        ))
        .description("Node counts. Defaults to 1/1/1. Changes apply in place."),
    )
    .attribute(
        Attribute::nested(
            "update_config",
            Nesting::Single,
            vec![
                Attribute::number("max_unavailable").validate(super::validate::MAX_UNAVAILABLE).optional().description(
                    "Most nodes unavailable at once during a rollout, 1 to 100.",
                ),
                Attribute::number("max_unavailable_percentage").validate(super::validate::MAX_UNAVAILABLE_PERCENTAGE).optional().description(
                    "Most nodes unavailable at once during a rollout, as a percentage (1 to 100).",
                ),
            ],
        )
        .optional()
        .computed()
        .description(
            "How EKS rolls out a new launch template version, `release_version` or \
             `kubernetes_version`: exactly one of `max_unavailable` and \
             `max_unavailable_percentage`. Unset, EKS's (one node at a time) and whatever the \
             node group has. Changes apply in place (UpdateNodegroupConfig).",
        ),
    )
    .attribute(
        Attribute::nested(
            "node_repair_config",
            Nesting::Single,
            vec![Attribute::bool("enabled").default_value(false).description(
                "Whether EKS replaces nodes that report unhealthy. Defaults to `false`.",
            )],
        )
        .optional()
        .computed()
        .description(
            "EKS node auto repair. Unset, what the node group has (off unless enabled). \
             Changes apply in place (UpdateNodegroupConfig).",
        ),
    )
    .attribute(Attribute::bool("manage_desired_size").default_value(true).description(
        "When `false`, the provider never changes `desired_size` after create, so it does not \
         fight a cluster autoscaler. Defaults to `true`.",
    ))
    .attribute(
        Attribute::string_map("labels").validate(declared::EKS_LABEL_KEYS).validate(declared::EKS_LABEL_VALUES)
            .optional()
            .description("Kubernetes labels for the nodes. Changes apply in place."),
    )
    .attribute(
        Attribute::nested(
            "taints",
            Nesting::List,
            vec![
                Attribute::string("key").validate(declared::EKS_TAINT_KEY).required().description("Taint key."),
                Attribute::string("value").validate(declared::EKS_TAINT_VALUE).optional().description("Taint value."),
                Attribute::string("effect")
                    .required()
                    .one_of(&["NoSchedule", "PreferNoSchedule", "NoExecute"])
                    .description("`NoSchedule`, `PreferNoSchedule` or `NoExecute`."),
            ],
        )
        .optional()
        .description("Kubernetes taints for the nodes. Changes apply in place."),
    )
    .attribute(Attribute::bool("run_as_root").default_value(false).description(
        "Whether the sandbox's process runs as uid 0 in its container (default `false`: a \
         non-root user). It decides the capabilities, as in `nested_capability`. Changes \
         apply to the pod outputs only.",
    ))
    .attribute(Attribute::number("ids_per_pod").validate(declared::NODEGROUP_IDS_PER_POD).optional().description(
        "The kubelet's `userNamespaces.idsPerPod` (a multiple of 65536) for sandboxes in a \
         pod user namespace, e.g. `131072` for rootless podman whose nested images own ids \
         above 64535. Rendered into the bootstrap settings: changing it rolls the nodes.",
    ))
    .attribute(
        Attribute::number("max_user_namespaces").validate(declared::MAX_USER_NAMESPACES)
            .default_value(DEFAULT_MAX_USER_NAMESPACES as i64)
            .description(
                "Value for `user.max_user_namespaces` where the image ships 0 (Bottlerocket) \
                 and the sandbox needs user namespaces. Defaults to 65536.",
            ),
    )
    .attribute(Attribute::string("bootstrap_extra_settings").optional().description(
        "Your own bootstrap settings, merged by the provider: Bottlerocket TOML (your keys, \
         order and comments are kept; a key that contradicts what the sandbox needs is an \
         error, in any spelling of a sysctl key) or an Amazon Linux MIME multipart document / \
         shell script / nodeadm NodeConfig (your parts come first, in order, with their \
         headers; a part that sets a sysctl or kubelet setting the sandbox needs to another \
         value, however it is written, is an error; what the provider cannot evaluate, e.g. \
         a computed value or `eval`, is a warning).",
    ))
    .attribute(
        Attribute::nested(
            "metadata_options",
            Nesting::Single,
            vec![
                Attribute::string("http_endpoint")
                    .default_value("enabled")
                    .one_of(&["enabled", "disabled"])
                    .description("`enabled` (default) or `disabled`: whether the nodes' IMDS answers."),
                Attribute::string("http_tokens")
                    .default_value("required")
                    .one_of(&["required", "optional"])
                    .description("`required` (default: IMDSv2 only) or `optional` (IMDSv1 too)."),
                Attribute::number("http_put_response_hop_limit").validate(declared::HOP_LIMIT)
                    .default_value(2)
                    .description(
                        "Network hops an IMDSv2 token travels, 1 to 64. Default 2, so pods reach \
                         IMDS through the pod network; 1 keeps pods (not host-network ones) out.",
                    ),
                Attribute::string("instance_metadata_tags")
                    .default_value("disabled")
                    .one_of(&["enabled", "disabled"])
                    .description("`disabled` (default) or `enabled`: instance tags in IMDS."),
            ],
        )
        .default_value(Value::object([
            ("http_endpoint", Value::string("enabled")),
            ("http_tokens", Value::string("required")),
            ("http_put_response_hop_limit", Value::int(2)),
            ("instance_metadata_tags", Value::string("disabled")),
        ]))
        .description(
            "Instance metadata service (IMDS) of the nodes, in the launch template. Defaults: \
             IMDSv2 only (`http_tokens = \"required\"`), hop limit 2, endpoint enabled, no \
             instance tags. A change is a new launch template version: it rolls the nodes.",
        ),
    )
    .attribute(
        Attribute::nested(
            "block_device",
            Nesting::Single,
            vec![
                Attribute::string("device_name").optional().computed().validate(declared::DEVICE_NAME).description(
                    "Defaults to the volume that holds images and pods: `/dev/xvdb` (the data \
                     volume) on Bottlerocket, `/dev/xvda` (the root volume) on Amazon Linux.",
                ),
                Attribute::number("volume_size").validate(declared::VOLUME_SIZE).optional().description("Size in GiB."),
                Attribute::string("volume_type")
                    .optional()
                    .one_of(VOLUME_TYPES)
                    .description("`gp3`, `gp2`, `io1`, `io2`, `st1`, `sc1` or `standard`."),
                Attribute::number("iops").validate(declared::IOPS)
                    .optional()
                    .description("Provisioned IOPS (`gp3`, `io1`, `io2` only)."),
                Attribute::number("throughput").validate(declared::THROUGHPUT)
                    .optional()
                    .description("Throughput in MiB/s, 125 to 1000 (`gp3` only)."),
                Attribute::bool("encrypted").optional().description("Encrypt the volume."),
                Attribute::string("kms_key_id").optional().validate(declared::KMS_KEY).description(
                    "The KMS key that encrypts the volume: key ARN, key ID, alias (`alias/…`) \
                     or alias ARN (needs `encrypted = true`).",
                ),
            ],
        )
        .optional()
        .description(
            "The EBS volume for container images and pod data, in the launch template (what \
             `disk_size` is to `aws_eks_node_group`). Settings left out are the AMI's. A \
             change is a new launch template version: it rolls the nodes.",
        ),
    )
    .attribute(
        Attribute::nested(
            "tag_specifications",
            Nesting::Single,
            TAG_SPECIFICATION_TYPES
                .iter()
                .map(|(attr, ec2)| {
                    Attribute::string_map(attr).validate(declared::TAG_KEYS).validate(declared::TAG_VALUES).optional().description(&format!(
                        "Tags for each `{ec2}` EC2 launches for the nodes."
                    ))
                })
                .collect(),
        )
        .optional()
        .description(
            "Tags EC2 puts on the nodes' instances, volumes and network interfaces, in the \
             launch template (as `aws_launch_template`'s `tag_specifications`; the provider's \
             `default_tags` are not added to them). A change is a new launch template \
             version: it rolls the nodes.",
        ),
    )
    .attribute(Attribute::string_set("security_group_ids").validate(declared::SECURITY_GROUP_IDS).optional().description(
        "Security groups of the nodes, in the launch template (`sg-…`, at most 16). Unset, EKS \
         gives the nodes the cluster security group. Set, the nodes get exactly these and EKS \
         adds no other: include the cluster security group \
         (`aws_eks_cluster.this.vpc_config[0].cluster_security_group_id`) unless yours allow \
         the traffic between nodes and control plane. A change is a new launch template \
         version: it rolls the nodes.",
    ))
    .attribute(
        Attribute::string_map("tags").validate(declared::TAG_KEYS).validate(declared::TAG_VALUES).validate(declared::UNRESERVED_TAG_KEYS)
            .optional()
            .description("Tags for the node group and its launch template (on top of the provider's `default_tags`)."),
    )
    .attribute(Attribute::string_map("tags_all").computed().description(
        "Every tag of the node group: the provider's `default_tags` with `tags` on top. A tag \
         added outside Terraform shows here and is removed by the next apply.",
    ))
    .attribute(
        Attribute::nested(
            "timeouts",
            Nesting::Single,
            ["create", "update", "delete"]
                .iter()
                .map(|op| {
                    Attribute::string(op).validate(declared::TIMEOUT).optional().description(&format!(
                        "How long {op} may wait, e.g. `\"30m\"` or `\"1h30m\"`. Defaults to `{DEFAULT_TIMEOUT}`."
                    ))
                })
                .collect(),
        )
        .optional()
        .description("Time limits for waiting on EKS."),
    )
    .attribute(Attribute::string("arn").computed().description("ARN of the node group."))
    .attribute(Attribute::string("status").computed().description("EKS status, e.g. `ACTIVE`."))
    .attribute(Attribute::string("ami_type").computed().description("The EKS `amiType`."))
    .attribute(Attribute::string("release_version").validate(super::validate::RELEASE_VERSION).optional().computed().description(
        "Node image release, e.g. `\"1.33.0-20250704\"` (Amazon Linux: the Kubernetes version \
         and the build date) or `\"1.42.0-7c3e9198\"` (Bottlerocket: its own version). Unset, \
         the latest release of the family's public SSM parameter at create, kept until \
         `kubernetes_version` changes (then the latest again). Set, the nodes run that \
         release: changing it rolls the nodes in place (UpdateNodegroupVersion).",
    ))
    .attribute(Attribute::bool("force_update_version").optional().description(
        "When `true`, a rollout (new `release_version`, `kubernetes_version` or launch template \
         version) evicts pods even where a PodDisruptionBudget forbids it, instead of failing \
         the update (`force` of UpdateNodegroupVersion). Defaults to `false`.",
    ))
    .attribute(Attribute::string("kernel_version").computed().description("Kernel series of the node image."))
    .attribute(Attribute::string("launch_template_id").computed().description("The launch template this resource owns."))
    .attribute(Attribute::number("launch_template_version").computed().description(
        "The launch template version the node group uses (a number, never `$Latest`).",
    ))
    .attribute(Attribute::string("user_data").computed().description(
        "The bootstrap document in the launch template (Bottlerocket TOML or Amazon Linux MIME).",
    ))
    .attributes(crate::outputs::DecisionOutputs::schema_attributes())
    .attribute(Attribute::string("probe_image").optional().validate(declared::IMAGE).description(&format!(
        "Image of `nested-probe` for `probe_manifest`; default \
         `{}`. Point it at your own registry mirror, \
         or at your sandbox's image with `/nested-probe` copied in: the probe judges what \
         the image provides (`image_needs`) only in the image it runs in.",
        crate::render::probe::DEFAULT_PROBE_IMAGE
    )))
    .attribute(Attribute::string("probe_namespace").optional().validate(declared::NAMESPACE).description(
        "Namespace of the `probe_manifest` Job; default `nested-probe`. The manifest says \
         which Pod Security label it needs.",
    ))
    .attribute(Attribute::string("probe_manifest").computed().description(
        "A Kubernetes Job (YAML) that runs `nested-probe --sandbox <sandbox>` on a node of this \
         pool (node selector `eks.amazonaws.com/nodegroup`, tolerations for `taints`) with \
         `pod_spec` and the security contexts above: `kubectl apply` it once the pool is \
         ACTIVE; the Job succeeds only when the sandbox can run there.",
    ))
    .attribute(
        Attribute::nested(
            "sandbox_check",
            Nesting::Single,
            vec![
                Attribute::string("sandbox")
                    .computed()
                    .description("The sandbox checked."),
                Attribute::bool("can_run")
                    .computed()
                    .description("Whether the nodes, as they are, can run it."),
                Attribute::string_list("reasons")
                    .computed()
                    .description("Why not (empty when they can)."),
            ],
        )
        .computed()
        .description(
            "Set in `terraform query` results (list resource `nested_nodegroup`): whether the \
             node group, as AWS reports it (AMI family, Kubernetes version, the settings in its \
             launch template's user data), can run the list's `sandbox` (else its own), and \
             why not. Null in a resource's own state: plan refuses a sandbox its nodes cannot \
             run.",
        ),
    )
}

pub fn identity_schema() -> Schema {
    Schema::new("Identity of an EKS node group.")
        .attribute(
            Attribute::string("account_id")
                .optional()
                .description("AWS account ID."),
        )
        .attribute(
            Attribute::string("region")
                .optional()
                .description("AWS region."),
        )
        .attribute(
            Attribute::string("cluster_name")
                .required()
                .description("EKS cluster name."),
        )
        .attribute(
            Attribute::string("name")
                .required()
                .description("Node group name."),
        )
}

/// The object type of one taint.
pub fn taint_type() -> Type {
    Type::object([
        ("key", Type::String),
        ("value", Type::String),
        ("effect", Type::String),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the schema (and so the docs) says replaces the node group is
    /// what the plan replaces it for.
    #[test]
    fn replace_on_change_is_what_the_schema_declares() {
        let mut declared: Vec<String> = schema()
            .block
            .attributes
            .iter()
            .filter(|a| a.requires_replace)
            .map(|a| a.name.clone())
            .collect();
        declared.sort();
        let mut planned: Vec<String> = REPLACE_ON_CHANGE.iter().map(|s| s.to_string()).collect();
        planned.sort();
        assert_eq!(declared, planned);
    }
}
