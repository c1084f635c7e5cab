//! Values the AWS API, Kubernetes, Karpenter or the kernel would refuse are
//! refused at plan, at their attribute (Terraform quotes the attribute's
//! line under the error), with the rule and the fix — one test per class,
//! through real Terraform. And errors point at the attribute at fault: a
//! Kubernetes version without images at `kubernetes_version`, a missing
//! cluster as a missing cluster (with the region that has it), an endpoint
//! that refuses connections at once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use acceptance::nodegroup::{config, nodegroup};
use acceptance::{Moto, Run, Workspace, free_port, terraforms};

const HEADER: &str = concat!(
    "\n",
    acceptance::required_providers!(),
    r#"provider "nested" {
  offline = true
}
"#
);

/// `body` (after the offline provider) fails `terraform validate` with
/// each `(attribute, text)`: the text in the errors, the attribute's line
/// quoted.
fn refused(body: &str, expect: &[(&str, &str)]) -> Run {
    let tf = &terraforms().unwrap()[0];
    let ws = Workspace::new(tf, &format!("{HEADER}{body}")).unwrap();
    let r = ws.run(&["validate", "-no-color"]).unwrap();
    assert_ne!(r.code, 0, "accepted:\n{}", r.text());
    let text = r.flat();
    for (attr, want) in expect {
        assert!(text.contains(want), "no {want:?} in:\n{}", r.stderr);
        assert!(
            r.quotes_line_of(attr),
            "no error at {attr}'s line:\n{}",
            r.stderr
        );
    }
    assert!(!text.contains("bug in the provider"), "{}", r.stderr);
    r
}

/// `body` passes `terraform validate` (the control for a refusal).
fn accepted(body: &str) {
    let tf = &terraforms().unwrap()[0];
    let ws = Workspace::new(tf, &format!("{HEADER}{body}")).unwrap();
    let r = ws.run(&["validate", "-no-color"]).unwrap();
    assert!(r.ok(), "refused:\n{}", r.text());
}

fn capability(extra: &str) -> String {
    format!(
        r#"
data "nested_capability" "x" {{
  sandbox            = "nsjail"
  platform           = "eks"
  kubernetes_version = "1.33"
{extra}
}}
"#
    )
}

fn pool(extra: &str) -> String {
    format!(
        r#"
data "nested_karpenter_pool" "x" {{
  sandbox                      = "nsjail"
  mode                         = "karpenter"
  cluster_name                 = "demo"
  kubernetes_version           = "1.33"
  role                         = "KarpenterNodeRole-demo"
  subnet_selector_tags         = {{ "karpenter.sh/discovery" = "demo" }}
  security_group_selector_tags = {{ "karpenter.sh/discovery" = "demo" }}
{extra}
}}
"#
    )
}

const CLUSTER: &str = r#"
  ami_family = "bottlerocket"
  cluster = {
    name                  = "prod"
    api_server_endpoint   = "https://ABCDEF.gr7.us-east-1.eks.amazonaws.com"
    certificate_authority = "Q0E="
    service_cidr          = "10.100.0.0/16"
  }
"#;

#[test]
fn cluster_keys_a_node_could_not_join_with_are_refused_at_their_attribute() {
    accepted(&capability(CLUSTER));
    refused(
        &capability(&CLUSTER.replace("name                  = \"prod\"", "name = \"prod/eu\"")),
        &[("name", "\"prod/eu\" is not an EKS cluster name")],
    );
    refused(
        &capability(&CLUSTER.replace("https://ABCDEF.gr7.us-east-1.eks.amazonaws.com", "https://")),
        &[("api_server_endpoint", "\"https://\" has no host")],
    );
    refused(
        &capability(&CLUSTER.replace(
            "https://ABCDEF.gr7.us-east-1.eks.amazonaws.com",
            "http://ABCDEF.eks.amazonaws.com",
        )),
        &[("api_server_endpoint", "is not an https:// URL")],
    );
}

#[test]
fn probe_images_and_namespaces_kubernetes_would_refuse_are_refused() {
    for (block, line) in [
        (
            capability("  probe_image = \"ghcr.io/Nested/Probe:1\""),
            "probe_image",
        ),
        (pool("  probe_image = \"probe image\""), "probe_image"),
        (
            pool("  probe_image = \"ghcr.io/x/probe@sha256:abc\""),
            "probe_image",
        ),
    ] {
        refused(&block, &[(line, "Invalid image reference")]);
    }
    refused(
        &capability("  probe_image = \"ghcr.io/Nested/Probe:1\""),
        &[("probe_image", "has upper-case letters in its repository")],
    );
    refused(
        &capability("  probe_namespace = \"Nested_Probe\""),
        &[("probe_namespace", "is not a DNS-1123 label")],
    );
    refused(
        &pool("  probe_namespace = \"nested-probe\\n\""),
        &[("probe_namespace", "is not a DNS-1123 label")],
    );
    accepted(&capability(
        "  probe_image = \"registry.example.com:5000/team/nested-probe:0.1.0\"\n  probe_namespace = \"sandbox-probes\"",
    ));
}

#[test]
fn an_ami_family_on_eks_auto_mode_is_refused() {
    let auto = |extra: &str| {
        format!(
            "data \"nested_capability\" \"x\" {{\n  sandbox = \"nsjail\"\n  platform = \"eks_auto_mode\"\n  kubernetes_version = \"1.34\"\n{extra}\n}}\n"
        )
    };
    accepted(&auto(""));
    refused(
        &auto("  ami_family = \"bottlerocket\""),
        &[(
            "ami_family",
            "AWS chooses and updates the node image itself",
        )],
    );
}

#[test]
fn podman_on_your_own_nodes_needs_the_container_runtime() {
    let own = |sandbox: &str, extra: &str| {
        format!(
            "data \"nested_capability\" \"x\" {{\n  sandbox = \"{sandbox}\"\n  platform = \"kubernetes\"\n  kubernetes_version = \"1.33\"\n  kernel_version = \"6.12\"\n{extra}\n}}\n"
        )
    };
    let r = refused(&own("podman", ""), &[]);
    let text = r.flat();
    assert!(text.contains("container_runtime is required"), "{text}");
    assert!(
        text.contains("containerd below 1.7 silently ignores it"),
        "{text}"
    );
    accepted(&own("podman", "  container_runtime = \"containerd 2.1\""));
    // landjail does not run in a pod user namespace: nothing to assume.
    accepted(&own("landjail", ""));
    refused(
        &own("podman", "  container_runtime = \"containerd 2.1\\n\""),
        &[("container_runtime", "Invalid container_runtime")],
    );
}

#[test]
fn karpenter_requirements_that_match_no_node_are_refused_with_the_spelling_meant() {
    let r = refused(
        &pool(
            "  requirements = {\n    architectures = [\"x86_64\"]\n    capacity_types = [\"SPOT\", \"ON_DEMAND\"]\n    instance_families = [\"\", \"m7i.large\"]\n  }",
        ),
        &[
            (
                "architectures",
                "Karpenter's kubernetes.io/arch is \"amd64\"; write \"amd64\"",
            ),
            ("capacity_types", "write \"spot\""),
            ("capacity_types", "write \"on-demand\""),
            (
                "instance_families",
                "an empty karpenter.k8s.aws/instance-family matches no node",
            ),
            ("instance_families", "is an instance type, not a family"),
        ],
    );
    // The rows' sources are named.
    assert!(
        r.flat()
            .contains("kubernetes-sigs/karpenter:pkg/apis/v1/labels.go")
    );
    accepted(&pool(
        "  requirements = {\n    architectures = [\"amd64\", \"arm64\"]\n    capacity_types = [\"spot\", \"on-demand\"]\n    instance_families = [\"m7i\", \"c7g\"]\n  }",
    ));
}

#[test]
fn karpenter_labels_taints_names_and_roles_the_apis_refuse_are_refused() {
    refused(
        &pool("  labels = {\n    \"karpenter.sh/nodepool\" = \"x\"\n  }"),
        &[(
            "\"karpenter.sh/nodepool\"",
            "Karpenter sets it on every node itself",
        )],
    );
    refused(
        &pool("  labels = {\n    \"kubernetes.io/zone\" = \"x\"\n  }"),
        &[("\"kubernetes.io/zone\"", "label domain \"kubernetes.io\"")],
    );
    refused(
        &pool("  labels = {\n    \"bad key!\" = \"x\"\n    ok = \"bad value!\"\n  }"),
        &[
            ("\"bad key!\"", "Invalid label key"),
            ("ok", "Invalid label value"),
        ],
    );
    refused(
        &pool("  taints = [\n    {\n      key = \"\"\n      effect = \"NoSchedule\"\n    },\n  ]"),
        &[("key", "the key is empty")],
    );
    refused(
        &pool("").replace(
            "cluster_name                 = \"demo\"",
            "cluster_name = \"\"",
        ),
        &[("cluster_name", "an EKS cluster name must not be empty")],
    );
    refused(
        &pool("").replace(
            "role                         = \"KarpenterNodeRole-demo\"",
            "role = \"arn:aws:iam::123456789012:role/KarpenterNodeRole-demo\"",
        ),
        &[("role", "write \"KarpenterNodeRole-demo\"")],
    );
    refused(
        &pool("").replace(
            "role                         = \"KarpenterNodeRole-demo\"",
            "role = \"KarpenterNodeRole-demo\\n\"",
        ),
        &[("role", "is not an IAM role name")],
    );
    accepted(&pool(
        "  labels = {\n    \"example.com/team\" = \"agents\"\n    \"kubernetes.io/arch\" = \"amd64\"\n    \"node.kubernetes.io/role\" = \"sandbox\"\n  }",
    ));
}

#[test]
fn karpenter_before_v1_is_refused_and_a_landjail_alias_below_the_floor_too() {
    refused(
        &pool("  karpenter_version = \"0.37.0\""),
        &[(
            "karpenter_version",
            "Karpenter 0.37 has only the v1beta1 APIs",
        )],
    );
    accepted(&pool("  karpenter_version = \"1.0.0\""));
    // The promise of the docs (data source `ami_version`: "An alias whose
    // kernel is below the sandbox's floor is an error here").
    let landjail = |v: &str| {
        pool(&format!(
            "  ami_family = \"al2023\"\n  ami_version = \"{v}\""
        ))
        .replace(
            "sandbox                      = \"nsjail\"",
            "sandbox = \"landjail\"",
        )
    };
    refused(
        &landjail("v20250715"),
        &[
            ("ami_version", "al2023 v20250715 on Kubernetes"),
            ("ami_version", "has Linux 6.1"),
            ("ami_version", "pin v20250813 or later"),
        ],
    );
    accepted(&landjail("v20251120"));
}

#[test]
fn provider_endpoints_with_control_characters_are_refused() {
    let provider = |url: &str| {
        format!(
            "{}provider \"nested\" {{\n  alias = \"p\"\n  region = \"us-east-1\"\n  endpoints = {{\n    eks = \"{url}\"\n  }}\n}}\ndata \"nested_openshift_profile\" \"x\" {{\n  provider = nested.p\n  openshift_version = \"4.20\"\n  sandbox = \"podman\"\n}}\n",
            ""
        )
    };
    for (url, why) in [
        ("http://127.0.0.1:5000\\n", "contains a newline"),
        (
            "http://127.0.0.1\\u0000:5000",
            "the control character U+0000",
        ),
        (
            "http://127.0.0.1:5000/\\u001b[31m",
            "the control character U+001B",
        ),
    ] {
        refused(&provider(url), &[("eks", why)]);
    }
}

#[test]
fn a_kubernetes_version_without_images_is_blamed_on_kubernetes_version() {
    // With ami_family given and no family having images for 1.99, the
    // version is at fault, not the family.
    let r = refused(
        &capability("  ami_family = \"bottlerocket\"").replace("\"1.33\"", "\"1.99\""),
        &[(
            "kubernetes_version",
            "No node image for this Kubernetes version",
        )],
    );
    assert!(!r.quotes_line_of("ami_family"), "{}", r.stderr);
    // nested_karpenter_pool, with the family left to its default: at the
    // attribute, not the whole block.
    let r = refused(
        &pool("").replace("\"1.33\"", "\"1.99\""),
        &[(
            "kubernetes_version",
            "No node image for this Kubernetes version",
        )],
    );
    assert!(
        !r.quotes_line_of("data \"nested_karpenter_pool\""),
        "{}",
        r.stderr
    );
    // A family without images for a version another family has: the
    // family is at fault.
    refused(
        &capability("  ami_family = \"al2\""),
        &[("ami_family", "al2")],
    );
}

#[test]
fn list_cluster_names_eks_would_refuse_are_refused_at_validate() {
    let tf = &terraforms().unwrap()[0];
    assert!(tf.at_least(1, 14), "terraform query needs Terraform 1.14");
    let ws = Workspace::new(tf, HEADER).unwrap();
    for (name, why) in [
        ("", "an EKS cluster name must not be empty"),
        ("prod/eu", "\"prod/eu\" is not an EKS cluster name"),
    ] {
        ws.write(
            "pools.tfquery.hcl",
            &format!(
                "list \"nested_nodegroup\" \"pools\" {{\n  provider = nested\n  config {{\n    cluster_name = \"{name}\"\n  }}\n}}\n"
            ),
        )
        .unwrap();
        let r = ws.run(&["validate", "-query", "-no-color"]).unwrap();
        assert_ne!(r.code, 0, "{}", r.text());
        assert!(r.flat().contains(why), "{}", r.stderr);
        assert!(r.quotes_line_of("cluster_name"), "{}", r.stderr);
    }
}

/// The node group of `nodegroup()` with an explicit version, against moto.
fn moto_workspace(moto: &Moto) -> Workspace {
    let tf = &terraforms().unwrap()[0];
    let mut ws = Workspace::new(
        tf,
        &config(
            &moto.endpoint(),
            &nodegroup("  kubernetes_version = \"1.33\""),
        ),
    )
    .unwrap();
    ws.env("AWS_ACCESS_KEY_ID", "testing");
    ws.env("AWS_SECRET_ACCESS_KEY", "testing");
    ws.env("AWS_EC2_METADATA_DISABLED", "true");
    ws
}

#[test]
fn a_missing_cluster_is_said_to_be_missing_and_one_in_another_region_is_a_hint() {
    let moto = Moto::start().unwrap();
    let ws = moto_workspace(&moto);
    // No cluster anywhere: plan cannot tell (it may come in the same
    // apply); apply says the cluster is missing, at cluster_name.
    let r = ws.run(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert_ne!(r.code, 0, "{}", r.text());
    let text = r.flat();
    assert!(text.contains("EKS cluster not found"), "{text}");
    assert!(
        text.contains("There is no EKS cluster \"prod\" in us-east-1"),
        "{text}"
    );
    assert!(
        !text.contains("Node Group (prod:agents) not found"),
        "{text}"
    );
    assert!(r.quotes_line_of("cluster_name"), "{}", r.stderr);

    // The cluster exists in eu-west-1: plan warns, apply names the region.
    moto.boto3(
        "e = boto3.client('eks', endpoint_url=kw['endpoint_url'], region_name='eu-west-1', aws_access_key_id='testing', aws_secret_access_key='testing')\n\
         e.create_cluster(name='prod', version='1.33', roleArn='arn:aws:iam::123456789012:role/eks', resourcesVpcConfig={'subnetIds': ['subnet-1']})",
    )
    .unwrap();
    let r = ws.run(&["plan", "-no-color"]).unwrap();
    assert!(r.ok(), "{}", r.text());
    let text = r.flat();
    assert!(text.contains("EKS cluster in another region"), "{text}");
    assert!(
        text.contains("It exists in eu-west-1: if that is the one, set region = \"eu-west-1\""),
        "{text}"
    );
    let r = ws.run(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert_ne!(r.code, 0, "{}", r.text());
    assert!(r.flat().contains("It exists in eu-west-1"), "{}", r.text());
}

#[test]
fn an_endpoint_that_refuses_connections_is_not_retried() {
    let tf = &terraforms().unwrap()[0];
    let port = free_port().unwrap();
    let endpoint = format!("http://127.0.0.1:{port}");
    // Default retries (25): before, 25 backed-off attempts (about two
    // minutes) preceded the error.
    let body = config(&endpoint, &nodegroup(""));
    let mut ws = Workspace::new(tf, &body).unwrap();
    ws.env("AWS_ACCESS_KEY_ID", "testing");
    ws.env("AWS_SECRET_ACCESS_KEY", "testing");
    ws.env("AWS_EC2_METADATA_DISABLED", "true");
    let log = ws.path().join("provider.log");
    ws.env("TF_LOG_PROVIDER", "DEBUG");
    ws.env("TF_LOG_PATH", log.to_str().unwrap());
    let r = ws.run(&["plan", "-no-color"]).unwrap();
    assert_ne!(r.code, 0, "{}", r.text());
    assert!(
        r.flat()
            .contains(&format!("could not reach {endpoint} (Connection refused")),
        "{}",
        r.text()
    );
    // The provider's own log: the refused attempt is the only one, and it
    // was not retried.
    let log = std::fs::read_to_string(&log).unwrap();
    let refusals = log
        .matches("connection refused by a configured endpoint: nothing listens there, not retried")
        .count();
    assert_eq!(
        refusals,
        1,
        "one attempt, not retried:\n{}",
        &log[log.len().saturating_sub(4000)..]
    );
}
