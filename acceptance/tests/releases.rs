//! Answers for the exact node image, through real Terraform: for each case
//! the image rows of `schemas/capabilities.toml` cite (AL2023's containerd
//! 2 switch per Kubernetes version, Landlock arriving with AL2023 v20250813
//! and Bottlerocket v1.44.0, Bottlerocket's FIPS kernel, the SOCI breakage,
//! EKS Auto Mode's reported images), a pinned older release is refused at
//! the attribute that pins it, naming the release that fixes it, and the
//! current one runs. `nested_nodegroup` judges a pinned `release_version`,
//! and `terraform query` judges each node group by the release EKS reports.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use acceptance::nodegroup::workspace;
use acceptance::{Moto, Workspace, terraforms};
use serde_json::Value;

const OFFLINE: &str = concat!(
    "\n",
    acceptance::required_providers!(),
    r#"provider "nested" {
  offline = true
}
"#
);

fn capability(sandbox: &str, family: &str, k8s: &str, extra: &str) -> String {
    format!(
        r#"{OFFLINE}
data "nested_capability" "x" {{
  sandbox            = "{sandbox}"
  platform           = "eks"
  ami_family         = "{family}"
  kubernetes_version = "{k8s}"
{extra}
}}
output "image" {{ value = data.nested_capability.x.node_image }}
output "warnings" {{ value = data.nested_capability.x.warnings }}
"#
    )
}

/// Plan `body`; it must fail with `expect` at `attr`.
fn refused(ws: &Workspace, body: &str, attr: &str, expect: &[&str]) {
    ws.write("main.tf", body).unwrap();
    let r = ws.run(&["plan", "-no-color"]).unwrap();
    assert_ne!(r.code, 0, "accepted:\n{}", r.text());
    // Terraform wraps long messages: compare with whitespace folded.
    let folded = r.stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    for e in expect {
        assert!(folded.contains(e), "no {e:?} in\n{}", r.stderr);
    }
    assert!(r.quotes_line_of(attr), "not at {attr}:\n{}", r.stderr);
}

/// Apply `body` (data sources only); its outputs.
fn outputs_of(ws: &Workspace, body: &str) -> Value {
    ws.write("main.tf", body).unwrap();
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    ws.outputs().unwrap()
}

#[test]
fn a_pinned_older_release_is_refused_and_the_current_one_runs() {
    let tf = &terraforms().unwrap()[0];
    let ws = Workspace::new(tf, OFFLINE).unwrap();

    // AL2023 1.33 ran containerd 1.7 until v20251016: hostUsers: false
    // pods are refused by the kubelet there.
    refused(
        &ws,
        &capability(
            "bubblewrap",
            "al2023",
            "1.33",
            "  ami_release = \"v20251007\"",
        ),
        "ami_release",
        &[
            "al2023 v20251007 runs containerd 1.7",
            "pin v20251016 or later",
        ],
    );
    // Unpinned: judged on the newest release, which runs, with a warning
    // naming the older releases that do not.
    let out = outputs_of(&ws, &capability("bubblewrap", "al2023", "1.33", ""));
    assert_eq!(out["image"]["value"]["containerd"], "2.1");
    assert_eq!(out["image"]["value"]["release"], Value::Null);
    let warnings = out["warnings"]["value"].to_string();
    assert!(
        warnings.contains("Older node image releases answer differently"),
        "{warnings}"
    );
    // The EKS release_version spelling of a current release.
    let out = outputs_of(
        &ws,
        &capability(
            "bubblewrap",
            "al2023",
            "1.33",
            "  ami_release = \"1.33.5-20251016\"",
        ),
    );
    assert_eq!(out["image"]["value"]["release"], "v20251016");

    // Landlock: AL2023 from v20250813, Bottlerocket from v1.44.0.
    refused(
        &ws,
        &capability(
            "landjail",
            "al2023",
            "1.33",
            "  ami_release = \"v20250807\"",
        ),
        "ami_release",
        &[
            "al2023 v20250807 does not enable Landlock",
            "pin v20250813 or later",
        ],
    );
    let out = outputs_of(
        &ws,
        &capability(
            "landjail",
            "al2023",
            "1.33",
            "  ami_release = \"v20250813\"",
        ),
    );
    assert_eq!(out["image"]["value"]["landlock_enabled"], true);
    refused(
        &ws,
        &capability(
            "landjail",
            "bottlerocket",
            "1.33",
            "  ami_release = \"bottlerocket@v1.43.0\"",
        ),
        "ami_release",
        &["pin v1.44.0 or later"],
    );
    outputs_of(
        &ws,
        &capability(
            "landjail",
            "bottlerocket",
            "1.33",
            "  ami_release = \"v1.44.0\"",
        ),
    );

    // A release older than the data knows, and one of another family.
    refused(
        &ws,
        &capability("nsjail", "al2023", "1.33", "  ami_release = \"v20250101\""),
        "ami_release",
        &["Release older than the provider knows", "from v20250519"],
    );
    refused(
        &ws,
        &capability("nsjail", "al2023", "1.33", "  ami_release = \"v1.52.0\""),
        "ami_release",
        &["Invalid node image release"],
    );
}

#[test]
fn the_variant_decides_the_kernel() {
    let tf = &terraforms().unwrap()[0];
    let ws = Workspace::new(tf, OFFLINE).unwrap();
    // aws-k8s-1.33-fips runs Linux 6.1: Landlock ABI 2, no landjail.
    refused(
        &ws,
        &capability(
            "landjail",
            "bottlerocket",
            "1.33",
            "  ami_variant = \"fips\"",
        ),
        "kubernetes_version",
        &["bottlerocket fips on Kubernetes 1.33 has Linux 6.1"],
    );
    let out = outputs_of(&ws, &capability("landjail", "bottlerocket", "1.33", ""));
    assert_eq!(out["image"]["value"]["kernel"], "6.12");
    let out = outputs_of(
        &ws,
        &capability("nsjail", "bottlerocket", "1.33", "  ami_variant = \"fips\""),
    );
    assert_eq!(out["image"]["value"]["variant"], "fips");
    assert_eq!(out["image"]["value"]["kernel"], "6.1");
    // Bottlerocket has no Neuron images.
    refused(
        &ws,
        &capability(
            "nsjail",
            "bottlerocket",
            "1.33",
            "  ami_variant = \"neuron\"",
        ),
        "ami_variant",
        &["No such image variant"],
    );
    // The SOCI breakage is a warning where a pod user namespace is needed.
    let out = outputs_of(
        &ws,
        &capability(
            "bubblewrap",
            "bottlerocket",
            "1.35",
            "  ami_release = \"v1.61.0\"",
        ),
    );
    assert!(
        out["warnings"]["value"]
            .to_string()
            .contains("bottlerocket#4854"),
        "{}",
        out["warnings"]["value"]
    );
}

#[test]
fn auto_mode_images_are_reported_not_documented() {
    let tf = &terraforms().unwrap()[0];
    let ws = Workspace::new(tf, OFFLINE).unwrap();
    let body = format!(
        r#"{OFFLINE}
data "nested_capability" "x" {{
  sandbox            = "landjail"
  platform           = "eks_auto_mode"
  kubernetes_version = "1.35"
}}
output "image" {{ value = data.nested_capability.x.node_image }}
"#
    );
    let out = outputs_of(&ws, &body);
    assert_eq!(out["image"]["value"]["evidence"], "reported");
}

#[test]
fn karpenter_pool_judges_its_alias_release() {
    let tf = &terraforms().unwrap()[0];
    let ws = Workspace::new(tf, OFFLINE).unwrap();
    let pool = |version: &str| {
        format!(
            r#"{OFFLINE}
data "nested_karpenter_pool" "x" {{
  sandbox              = "landjail"
  mode                 = "karpenter"
  ami_family           = "al2023"
  ami_version          = "{version}"
  kubernetes_version   = "1.33"
  cluster_name         = "prod"
  role                 = "KarpenterNodeRole-prod"
  subnet_selector_tags = {{ "karpenter.sh/discovery" = "prod" }}
  security_group_selector_tags = {{ "karpenter.sh/discovery" = "prod" }}
}}
output "alias" {{ value = data.nested_karpenter_pool.x.ami_alias }}
"#
        )
    };
    refused(
        &ws,
        &pool("v20250807"),
        "ami_version",
        &["does not enable Landlock", "pin v20250813 or later"],
    );
    let out = outputs_of(&ws, &pool("v20250813"));
    assert_eq!(out["alias"]["value"], "al2023@v20250813");
}

#[test]
fn nodegroup_is_judged_by_its_pinned_release_version() {
    let tf = &terraforms().unwrap()[0];
    let ws = Workspace::new(tf, OFFLINE).unwrap();
    let ng = |release: &str| {
        format!(
            r#"{OFFLINE}
resource "nested_nodegroup" "pods" {{
  cluster_name       = "prod"
  name               = "pods"
  node_role_arn      = "arn:aws:iam::123456789012:role/nodes"
  subnet_ids         = ["subnet-0a1b2c3d"]
  sandbox            = "podman"
  ami_family         = "al2023"
  kubernetes_version = "1.33"
  instance_types     = ["m6i.large"]
  release_version    = "{release}"
}}
"#
        )
    };
    refused(
        &ws,
        &ng("1.33.0-20251007"),
        "release_version",
        &["runs containerd 1.7", "pin v20251016 or later"],
    );
    ws.write("main.tf", &ng("1.33.0-20251016")).unwrap();
    let r = ws.run(&["plan", "-no-color"]).unwrap();
    assert!(r.ok(), "{}", r.text());
}

/// `terraform query` over node groups on different releases: each is
/// judged by the release EKS reports for it.
#[test]
fn query_judges_each_node_group_by_the_release_it_runs() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    moto.boto3(
        r#"
def pool(name, release):
    eks.create_nodegroup(clusterName='prod', nodegroupName=name, nodeRole='arn:aws:iam::123456789012:role/nodes',
                         subnets=['subnet-0a1b2c3d'], amiType='AL2023_x86_64_STANDARD', instanceTypes=['m6i.large'],
                         scalingConfig={'minSize': 1, 'maxSize': 2, 'desiredSize': 1}, version='1.33',
                         releaseVersion=release)
pool('old', '1.33.0-20251007')
pool('new', '1.33.0-20251016')
"#,
    )
    .unwrap();
    let tf = terraforms().unwrap().remove(0);
    let ws = workspace(&tf, &moto, "");
    ws.write(
        "pools.tfquery.hcl",
        "list \"nested_nodegroup\" \"pools\" {\n  provider = nested\n  config {\n    cluster_name = \"prod\"\n    sandbox = \"bubblewrap\"\n  }\n}\n",
    )
    .unwrap();
    let r = ws.run(&["query", "-json"]).unwrap();
    assert_eq!(r.code, 0, "{}", r.text());
    let names: Vec<String> = r
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "list_resource_found")
        .map(|v| {
            v["list_resource_found"]["display_name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let old = names.iter().find(|n| n.starts_with("old")).unwrap();
    let new = names.iter().find(|n| n.starts_with("new")).unwrap();
    assert!(
        old.contains("v20251007") && old.ends_with("bubblewrap cannot run"),
        "{old}"
    );
    assert!(!new.ends_with("cannot run"), "{new}");
    assert!(new.contains("v20251016"), "{new}");
}

/// The variant is part of the EKS `amiType`, which no update changes: a new
/// variant replaces the node group (at `ami_variant`), and the new one is
/// created with the variant's amiType.
#[test]
fn a_new_variant_replaces_the_node_group() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    let tf = terraforms().unwrap().remove(0);
    let body = |variant: &str| {
        acceptance::nodegroup::nodegroup(&format!(
            "  scaling = {{ min_size = 1, max_size = 2, desired_size = 1 }}\n  ami_variant = \"{variant}\"\n"
        ))
    };
    let ws = workspace(&tf, &moto, &body("standard"));
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(
        ws.outputs().unwrap()["ng"]["value"]["ami_type"],
        "BOTTLEROCKET_x86_64"
    );
    acceptance::nodegroup::plan_is_empty(&ws);
    ws.write(
        "main.tf",
        &acceptance::nodegroup::config(&moto.endpoint(), &body("fips")),
    )
    .unwrap();
    let plan = ws.must(&["plan", "-no-color"]).unwrap();
    assert!(plan.stdout.contains("must be replaced"), "{}", plan.text());
    assert!(
        plan.stdout.contains("ami_variant") && plan.stdout.contains("# forces replacement"),
        "{}",
        plan.stdout
    );
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(
        ws.outputs().unwrap()["ng"]["value"]["ami_type"],
        "BOTTLEROCKET_x86_64_FIPS"
    );
    ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
}
