//! `nested_capability` as the integration point for the real hashicorp/aws
//! provider (3.39.0, installed by `terraform init` from the filesystem
//! mirror the set-up lays out) on moto: `examples/with-hashicorp-aws`
//! applies (`aws_launch_template` + `aws_eks_node_group` fed by the data
//! source), the launch templates moto holds carry what the sandboxes need,
//! a second plan is empty and destroy removes everything.
//!
//! hashicorp/aws 3.39.0 accepts only `AL2_x86_64`, `AL2_x86_64_GPU` and
//! `AL2_ARM_64` as `ami_type` (no `CUSTOM`, no `BOTTLEROCKET_*`, no
//! `AL2023_*`: checked below), so the example takes the custom-AMI path:
//! the launch template names the AMI, `ami_type` is omitted, and the data
//! source's opt-in `cluster` writes the cluster keys.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use acceptance::aws::{AWS_PROVIDER_VERSION, mirror_has_this_platform, use_mirror};
use acceptance::{Moto, Workspace, repo_root, terraforms, yaml_to_json};

fn workspace(moto: &Moto) -> Workspace {
    let tf = &terraforms().unwrap()[0];
    let mut ws =
        Workspace::from_example(tf, &repo_root().join("examples/with-hashicorp-aws")).unwrap();
    use_mirror(&ws).unwrap();
    ws.env("TF_VAR_aws_endpoint", &moto.endpoint());
    ws.env("AWS_ACCESS_KEY_ID", "testing");
    ws.env("AWS_SECRET_ACCESS_KEY", "testing");
    ws.env("AWS_DEFAULT_REGION", "us-east-1");
    let init = ws.must(&["init", "-input=false", "-no-color"]).unwrap();
    assert!(
        init.stdout
            .contains(&format!("Installed hashicorp/aws v{AWS_PROVIDER_VERSION}")),
        "{}",
        init.text()
    );
    ws
}

/// The decoded user data of a launch template's latest version, its image
/// and the node group using it, as moto holds them.
fn at_moto(moto: &Moto, template_id: &str, nodegroup: &str) -> serde_json::Value {
    let out = moto
        .boto3(&format!(
            r#"
import base64, tomllib, email
v = ec2.describe_launch_template_versions(LaunchTemplateId='{template_id}', Versions=['$Latest'])['LaunchTemplateVersions'][0]
data = v['LaunchTemplateData']
text = base64.b64decode(data['UserData']).decode()
out = dict(user_data=text, image_id=data.get('ImageId'), version=v['VersionNumber'])
if text.startswith('MIME-Version'):
    msg = email.message_from_string(text)
    out['parts'] = [dict(content_type=p.get_content_type(), body=p.get_payload()) for p in msg.get_payload()]
else:
    out['toml'] = tomllib.loads(text)
ng = eks.describe_nodegroup(clusterName='prod', nodegroupName='{nodegroup}')['nodegroup']
out['nodegroup'] = dict(amiType=ng.get('amiType'), launchTemplate=ng.get('launchTemplate'), labels=ng.get('labels'), remoteAccess=ng.get('remoteAccess'))
print(json.dumps(out))
"#
        ))
        .unwrap();
    serde_json::from_str(&out).unwrap()
}

#[test]
fn hashicorp_aws_3_39_node_groups_get_the_sandboxes_user_data_and_replan_clean() {
    if !mirror_has_this_platform() {
        return acceptance::cannot_run(&format!(
            "the mirror holds hashicorp/aws {AWS_PROVIDER_VERSION} for linux_amd64 only"
        ));
    }
    let moto = Moto::start().unwrap();
    let ws = workspace(&moto);

    moto.reset_calls().unwrap();
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let calls = moto.calls().unwrap();
    eprintln!("AWS calls at moto during apply: {calls}");
    for (call, n) in [
        ("eks:CreateCluster", 1),
        ("eks:CreateNodegroup", 2),
        ("ec2:CreateLaunchTemplate", 2),
        ("iam:CreateRole", 2),
    ] {
        assert_eq!(calls[call], n, "{call} in {calls}");
    }
    assert!(calls["ssm:GetParameter"].as_u64().unwrap() >= 2, "{calls}");

    let out = ws.outputs().unwrap();
    let csc = &out["agents_container_security_context"]["value"];
    assert_eq!(
        csc["capabilities"]["add"],
        serde_json::json!(["NET_ADMIN", "SETGID", "SETUID", "SYS_ADMIN"])
    );
    assert_eq!(
        out["builders_devices"]["value"],
        serde_json::json!(["/dev/net/tun"])
    );

    // Bottlerocket: the TOML as moto holds it.
    let lt = out["agents_launch_template_id"]["value"].as_str().unwrap();
    let agents = at_moto(&moto, lt, "agents");
    eprintln!(
        "agents user data at moto:\n{}",
        agents["user_data"].as_str().unwrap()
    );
    let s = &agents["toml"]["settings"];
    assert_eq!(s["kernel"]["sysctl"]["user.max_user_namespaces"], "65536");
    let k = &s["kubernetes"];
    assert_eq!(k["cluster-name"], "prod");
    assert!(k["api-server"].as_str().unwrap().starts_with("https://"));
    assert!(!k["cluster-certificate"].as_str().unwrap().is_empty());
    assert_eq!(k["node-labels"]["sandbox.nested.dev/nsjail"], "true");
    assert_eq!(k["max-pods"], 58, "the user's own setting is kept");
    assert!(
        agents["user_data"]
            .as_str()
            .unwrap()
            .contains("# our pool's own settings")
    );
    assert!(
        agents["image_id"].as_str().unwrap().starts_with("ami-"),
        "{agents}"
    );
    let ng = &agents["nodegroup"];
    assert_eq!(ng["amiType"], "CUSTOM");
    assert_eq!(ng["launchTemplate"]["id"], lt);
    assert_eq!(ng["labels"]["sandbox.nested.dev/nsjail"], "true");
    assert!(ng["remoteAccess"].is_null(), "{ng}");

    // AL2023: the MIME document, its NodeConfig part.
    let lt = out["builders_launch_template_id"]["value"]
        .as_str()
        .unwrap();
    let builders = at_moto(&moto, lt, "builders");
    eprintln!(
        "builders user data at moto:\n{}",
        builders["user_data"].as_str().unwrap()
    );
    let parts = builders["parts"].as_array().unwrap();
    let nodeconfig = parts
        .iter()
        .find(|p| p["content_type"] == "application/node.eks.aws")
        .unwrap();
    let nc = yaml_to_json(nodeconfig["body"].as_str().unwrap()).unwrap();
    assert_eq!(nc["kind"], "NodeConfig");
    let c = &nc["spec"]["cluster"];
    assert_eq!(c["name"], "prod");
    assert!(
        c["apiServerEndpoint"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    assert!(!c["certificateAuthority"].as_str().unwrap().is_empty());
    assert!(c["cidr"].as_str().unwrap().contains('/'), "{c}");
    assert_eq!(
        nc["spec"]["kubelet"]["config"]["userNamespaces"]["idsPerPod"],
        131072
    );
    assert_eq!(
        nc["spec"]["kubelet"]["flags"],
        serde_json::json!(["--node-labels=sandbox.nested.dev/podman=true"])
    );
    assert_eq!(builders["nodegroup"]["amiType"], "CUSTOM");

    // Nothing to change, with no ignore_changes in the configuration.
    moto.reset_calls().unwrap();
    let again = ws
        .run(&["plan", "-detailed-exitcode", "-no-color"])
        .unwrap();
    assert_eq!(again.code, 0, "second plan not empty\n{}", again.text());
    eprintln!(
        "AWS calls at moto during the second plan: {}",
        moto.calls().unwrap()
    );

    // A change of your own settings: a new launch template version, which
    // the node group moves to in place (UpdateNodegroupVersion).
    let arn_before = moto
        .boto3("print(eks.describe_nodegroup(clusterName='prod', nodegroupName='agents')['nodegroup']['nodegroupArn'])")
        .unwrap();
    moto.reset_calls().unwrap();
    let changed = ws
        .must(&[
            "apply",
            "-auto-approve",
            "-no-color",
            "-var",
            "agents_max_pods=110",
        ])
        .unwrap();
    assert!(
        changed.stdout.contains("0 added, 2 changed, 0 destroyed"),
        "{}",
        changed.text()
    );
    let calls = moto.calls().unwrap();
    eprintln!("AWS calls at moto during the user data change: {calls}");
    assert_eq!(calls["ec2:CreateLaunchTemplateVersion"], 1, "{calls}");
    assert_eq!(calls["eks:UpdateNodegroupVersion"], 1, "{calls}");
    let lt = out["agents_launch_template_id"]["value"].as_str().unwrap();
    let agents = at_moto(&moto, lt, "agents");
    assert_eq!(agents["version"], 2);
    assert_eq!(agents["toml"]["settings"]["kubernetes"]["max-pods"], 110);
    assert_eq!(
        agents["toml"]["settings"]["kernel"]["sysctl"]["user.max_user_namespaces"],
        "65536"
    );
    assert_eq!(agents["nodegroup"]["launchTemplate"]["version"], "2");
    let arn_after = moto
        .boto3("print(eks.describe_nodegroup(clusterName='prod', nodegroupName='agents')['nodegroup']['nodegroupArn'])")
        .unwrap();
    assert_eq!(arn_before, arn_after, "the node group was replaced");
    let again = ws
        .run(&[
            "plan",
            "-detailed-exitcode",
            "-no-color",
            "-var",
            "agents_max_pods=110",
        ])
        .unwrap();
    assert_eq!(
        again.code,
        0,
        "plan after the change not empty\n{}",
        again.text()
    );

    moto.reset_calls().unwrap();
    ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
    eprintln!(
        "AWS calls at moto during destroy: {}",
        moto.calls().unwrap()
    );
    let left = moto
        .boto3(
            "print(json.dumps(dict(nodegroups=eks.list_nodegroups(clusterName='prod')['nodegroups'] if 'prod' in eks.list_clusters()['clusters'] else [], clusters=eks.list_clusters()['clusters'], templates=[t['LaunchTemplateId'] for t in ec2.describe_launch_templates()['LaunchTemplates']])))",
        )
        .unwrap();
    let left: serde_json::Value = serde_json::from_str(&left).unwrap();
    assert_eq!(
        left,
        serde_json::json!({"nodegroups": [], "clusters": [], "templates": []})
    );
}

/// What 3.39.0 validates `ami_type` against, for the guide's version
/// table: the provider's own `ami_type` outputs other than AL2's are not
/// in it.
#[test]
fn hashicorp_aws_3_39_refuses_the_bottlerocket_and_al2023_ami_types() {
    if !mirror_has_this_platform() {
        return acceptance::cannot_run(&format!(
            "the mirror holds hashicorp/aws {AWS_PROVIDER_VERSION} for linux_amd64 only"
        ));
    }
    let tf = &terraforms().unwrap()[0];
    let config = |ami_type: &str| {
        format!(
            r#"
terraform {{
  required_providers {{
    aws = {{ source = "hashicorp/aws", version = "{AWS_PROVIDER_VERSION}" }}
  }}
}}
provider "aws" {{
  region                      = "us-east-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}}
resource "aws_eks_node_group" "x" {{
  cluster_name    = "prod"
  node_group_name = "x"
  node_role_arn   = "arn:aws:iam::123456789012:role/nodes"
  subnet_ids      = ["subnet-1"]
  ami_type        = "{ami_type}"
  scaling_config {{
    min_size     = 1
    max_size     = 1
    desired_size = 1
  }}
}}
"#
        )
    };
    let ws = Workspace::new(tf, &config("AL2_x86_64")).unwrap();
    use_mirror(&ws).unwrap();
    ws.must(&["init", "-input=false", "-no-color"]).unwrap();
    let ok = ws.run(&["validate", "-no-color"]).unwrap();
    assert!(ok.ok(), "{}", ok.text());
    for ami_type in [
        "BOTTLEROCKET_x86_64",
        "BOTTLEROCKET_ARM_64",
        "AL2023_x86_64_STANDARD",
        "AL2023_ARM_64_STANDARD",
        "CUSTOM",
    ] {
        ws.write("main.tf", &config(ami_type)).unwrap();
        let r = ws.run(&["validate", "-no-color"]).unwrap();
        assert!(!r.ok(), "{ami_type} accepted\n{}", r.text());
        let e = r.stderr.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            e.contains("expected ami_type to be one of [AL2_x86_64 AL2_x86_64_GPU AL2_ARM_64]"),
            "{e}"
        );
    }
}

/// terraform-aws-modules/eks's managed node group inputs, declared with
/// the module's types (its `cloudinit_pre_nodeadm` is a list of objects
/// with optional `content_type`, `filename`, `merge_type`): the data
/// source's outputs convert into them unchanged, as
/// `examples/with-terraform-aws-modules-eks` passes them.
#[test]
fn terraform_aws_modules_eks_inputs_take_the_outputs_as_they_are() {
    let tf = &terraforms().unwrap()[0];
    let ws = Workspace::new(
        tf,
        r#"
terraform {
  required_providers {
    nested = { source = "nested-sandbox/nested" }
  }
}
provider "nested" {
  offline = true
}
data "nested_capability" "agents" {
  sandbox            = "nsjail"
  platform           = "eks"
  kubernetes_version = "1.35"
  ami_family         = "bottlerocket"
  bootstrap_extra_settings = "[settings.kubernetes]\nmax-pods = 58\n"
}
data "nested_capability" "builders" {
  sandbox            = "podman"
  platform           = "eks"
  kubernetes_version = "1.35"
  ami_family         = "al2023"
  ids_per_pod        = 131072
}
module "agents" {
  source               = "./node_group"
  ami_type             = data.nested_capability.agents.ami_type
  labels               = data.nested_capability.agents.node_labels
  bootstrap_extra_args = data.nested_capability.agents.user_data
}
module "builders" {
  source                = "./node_group"
  ami_type              = data.nested_capability.builders.ami_type
  labels                = data.nested_capability.builders.node_labels
  cloudinit_pre_nodeadm = data.nested_capability.builders.cloudinit_parts
}
output "agents" { value = module.agents }
output "builders" { value = module.builders }
"#,
    )
    .unwrap();
    std::fs::create_dir_all(ws.path().join("node_group")).unwrap();
    ws.write(
        "node_group/main.tf",
        r#"
variable "ami_type" {
  type = string
}
variable "labels" {
  type    = map(string)
  default = null
}
variable "bootstrap_extra_args" {
  type     = string
  default  = ""
  nullable = false
}
variable "cloudinit_pre_nodeadm" {
  type = list(object({
    content      = string
    content_type = optional(string)
    filename     = optional(string)
    merge_type   = optional(string)
  }))
  default  = []
  nullable = false
}
output "ami_type" { value = var.ami_type }
output "bootstrap_extra_args" { value = var.bootstrap_extra_args }
output "cloudinit_pre_nodeadm" { value = var.cloudinit_pre_nodeadm }
"#,
    )
    .unwrap();
    ws.must(&["init", "-input=false", "-no-color"]).unwrap();
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let out = ws.outputs().unwrap();
    let agents = &out["agents"]["value"];
    assert_eq!(agents["ami_type"], "BOTTLEROCKET_x86_64");
    let toml = agents["bootstrap_extra_args"].as_str().unwrap();
    assert!(toml.contains("max-pods = 58"), "{toml}");
    assert!(
        toml.contains("\"user.max_user_namespaces\" = \"65536\""),
        "{toml}"
    );
    let builders = &out["builders"]["value"];
    assert_eq!(builders["ami_type"], "AL2023_x86_64_STANDARD");
    let parts = builders["cloudinit_pre_nodeadm"].as_array().unwrap();
    assert_eq!(parts.len(), 1, "{parts:?}");
    assert_eq!(parts[0]["content_type"], "application/node.eks.aws");
    assert!(
        parts[0]["content"]
            .as_str()
            .unwrap()
            .contains("idsPerPod: 131072")
    );
    assert!(parts[0]["filename"].is_null());
}
