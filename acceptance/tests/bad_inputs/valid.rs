//! What the bad-input suite starts from: a valid configuration of each
//! schema, what an attribute needs beside it, and a valid value of each
//! attribute (the control its hostile inputs are compared with).

use acceptance::hostile::{Body, Node, Schema, hcl_string};

fn e(s: &str) -> Node {
    Node::Expr(s.to_string())
}

pub fn s(text: &str) -> Node {
    Node::Expr(hcl_string(text))
}

const ARN: &str = "arn:aws:iam::123456789012:role/nodes";
pub const TOML: &str = "[settings.kernel]\nlockdown = \"integrity\"\n";
const PROBE: &str = "ghcr.io/nested-sandbox/nested-probe:0.1.0";

/// A valid configuration of each schema.
pub fn base(schema: &Schema) -> Body {
    let tags = || e("{ \"karpenter.sh/discovery\" = \"demo\" }");
    match schema {
        Schema::Provider => vec![("offline".into(), e("true"))],
        Schema::Resource(_) => vec![
            ("cluster_name".into(), s("prod")),
            ("name".into(), s("agents")),
            ("node_role_arn".into(), s(ARN)),
            ("subnet_ids".into(), e("[\"subnet-0a1b2c3d\"]")),
            ("sandbox".into(), s("nsjail")),
            ("ami_family".into(), s("bottlerocket")),
            ("kubernetes_version".into(), s("1.33")),
            ("instance_types".into(), e("[\"m6i.large\"]")),
        ],
        Schema::DataSource(n) if n == "nested_capability" => vec![
            ("sandbox".into(), s("nsjail")),
            ("platform".into(), s("eks")),
            ("kubernetes_version".into(), s("1.33")),
        ],
        Schema::DataSource(n) if n == "nested_karpenter_pool" => vec![
            ("sandbox".into(), s("nsjail")),
            ("mode".into(), s("karpenter")),
            ("cluster_name".into(), s("demo")),
            ("kubernetes_version".into(), s("1.33")),
            ("role".into(), s("KarpenterNodeRole-demo")),
            ("subnet_selector_tags".into(), tags()),
            ("security_group_selector_tags".into(), tags()),
        ],
        Schema::DataSource(_) => vec![
            ("openshift_version".into(), s("4.20")),
            ("sandbox".into(), s("podman")),
        ],
        Schema::ListResource(_) => vec![("cluster_name".into(), s("prod"))],
        Schema::Function(_) => Vec::new(),
    }
}

/// Attributes an attribute needs beside it to mean something (the platform
/// it is for, the sandbox that uses it).
pub fn context(schema: &Schema, path: &str) -> Body {
    let ds = |n: &str| matches!(schema, Schema::DataSource(x) if x == n);
    let own_nodes = || {
        vec![
            ("platform".into(), s("kubernetes")),
            ("kernel_version".into(), s("6.12")),
            ("container_runtime".into(), s("containerd 2.1")),
        ]
    };
    match path {
        "kernel_version" | "container_runtime" | "oci_runtime" | "seccomp_default"
            if ds("nested_capability") =>
        {
            own_nodes()
        }
        "openshift_version" if ds("nested_capability") => vec![
            ("platform".into(), s("openshift")),
            ("kubernetes_version".into(), e("null")),
        ],
        "ids_per_pod" if ds("nested_capability") => vec![
            ("sandbox".into(), s("podman")),
            ("ami_family".into(), s("al2023")),
        ],
        "ids_per_pod" if ds("nested_karpenter_pool") => {
            vec![("sandbox".into(), s("bubblewrap"))]
        }
        "ids_per_pod" => vec![
            ("sandbox".into(), s("podman")),
            ("ami_family".into(), s("al2023")),
        ],
        "image_type" if ds("nested_capability") => vec![("platform".into(), s("gke"))],
        "os_sku" if ds("nested_capability") => vec![("platform".into(), s("aks"))],
        "bootstrap_extra_settings" if ds("nested_capability") => {
            vec![("ami_family".into(), s("bottlerocket"))]
        }
        "sysctl_daemonset_image" => vec![
            ("mode".into(), s("auto_mode")),
            ("sandbox".into(), s("podman")),
            ("allow_privileged_sysctl_daemonset".into(), e("true")),
        ],
        _ => Vec::new(),
    }
}

/// A parent a nested attribute needs (its required siblings).
pub fn parent(name: &str) -> Node {
    match name {
        "cluster" => Node::Object(vec![
            ("name".into(), s("prod")),
            (
                "api_server_endpoint".into(),
                s("https://ABCDEF.gr7.us-east-1.eks.amazonaws.com"),
            ),
            (
                "certificate_authority".into(),
                s("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t"),
            ),
            ("service_cidr".into(), s("10.100.0.0/16")),
        ]),
        "scaling" => Node::Object(vec![
            ("min_size".into(), e("1")),
            ("max_size".into(), e("2")),
        ]),
        // iops and throughput are for gp3 only; a KMS key for encrypted
        // volumes.
        "block_device" => Node::Object(vec![
            ("volume_type".into(), s("gp3")),
            ("encrypted".into(), e("true")),
        ]),
        "taints" => Node::Objects(vec![vec![
            ("key".into(), s("dedicated")),
            ("effect".into(), s("NoSchedule")),
        ]]),
        _ => Node::Object(Vec::new()),
    }
}

/// A valid value of an attribute (for collections: of one element or map
/// value) and a valid map key.
pub fn good(schema: &Schema, path: &str) -> (&'static str, &'static str) {
    let key = "team";
    let v = match path.rsplit('.').next().unwrap_or(path) {
        "region" => "us-east-1",
        "profile" => "default",
        "eks" | "ec2" | "ssm" | "sts" => "http://127.0.0.1:5000",
        "ami_family" => "bottlerocket",
        "image_type" => "COS_CONTAINERD",
        "os_sku" => "Ubuntu2404",
        "architecture" => "x86_64",
        "seccomp_profile" => "localhost",
        "device_name" => "/dev/xvdb",
        "kms_key_id" => {
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        }
        "volume_type" => "gp3",
        "bootstrap_extra_settings" => TOML,
        "capacity_type" => "ON_DEMAND",
        "cluster_name" => match schema {
            Schema::DataSource(_) => "demo",
            _ => "prod",
        },
        "instance_types" => "m6i.large",
        "kubernetes_version" => "1.33",
        "http_endpoint" | "instance_metadata_tags" => "enabled",
        "http_tokens" => "required",
        "name" if path == "cluster.name" => "prod",
        "name" if matches!(schema, Schema::DataSource(_)) => "pool",
        "name" => "agents",
        "node_role_arn" => ARN,
        "probe_image" | "sysctl_daemonset_image" => PROBE,
        "probe_namespace" => "nested-probe",
        // nested_nodegroup's base is Bottlerocket 1.33.
        "release_version" => "1.52.0-d7ba6a2a",
        "ami_release" => "v1.52.0",
        "ami_variant" => "standard",
        "oci_runtime" => "runc 1.2",
        "sandbox" => match schema {
            Schema::DataSource(n) if n == "nested_openshift_profile" => "podman",
            _ => "nsjail",
        },
        "security_group_ids" => "sg-0a1b2c3d",
        "subnet_ids" => "subnet-0a1b2c3d",
        "key" => "dedicated",
        "value" => "agents",
        "effect" => "NoSchedule",
        "create" | "update" | "delete" => "30m",
        "api_server_endpoint" => "https://ABCDEF.gr7.us-east-1.eks.amazonaws.com",
        "certificate_authority" => "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t",
        "service_cidr" => "10.100.0.0/16",
        "dns_ip" => "10.100.0.10",
        "container_runtime" => "containerd 2.1",
        "kernel_version" => "6.12",
        "openshift_version" => "4.20",
        "platform" => "eks",
        "mode" => "karpenter",
        "ami_version" => "v1.52.0",
        "karpenter_version" => "1.9.0",
        "role" => "KarpenterNodeRole-demo",
        "architectures" => "amd64",
        "capacity_types" => "spot",
        "instance_families" => "m7i",
        "budget_nodes" => "10%",
        "consolidate_after" => "30m",
        "consolidation_policy" => "WhenEmpty",
        "expire_after" => "720h",
        "subnet_selector_tags" | "security_group_selector_tags" => "demo",
        _ => "agents",
    };
    let key = match path {
        "subnet_selector_tags" | "security_group_selector_tags" => "karpenter.sh/discovery",
        _ => key,
    };
    (v, key)
}

/// A valid number of an attribute.
pub fn good_number(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or(path) {
        "iops" => "3000",
        "throughput" => "125",
        "volume_size" => "50",
        "ids_per_pod" => "131072",
        "max_user_namespaces" => "65536",
        "http_put_response_hop_limit" | "imds_hop_limit" => "2",
        "max_size" => "2",
        "max_unavailable_percentage" => "33",
        "max_retries" => "3",
        _ => "1",
    }
}
