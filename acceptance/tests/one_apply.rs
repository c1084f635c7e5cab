//! One apply creating the cluster and the node group: the cluster does not
//! exist at plan (`cluster_name = aws_eks_cluster.this.name`), so the plan
//! leaves the Kubernetes version unknown, still refuses what no version
//! could run, and the apply reads the version from the cluster it created.
//! The cluster is made by a `terraform_data` whose `local-exec` creates it
//! in moto, as `aws_eks_cluster` would in the same apply.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use acceptance::nodegroup::{DEFAULT_EXTRA, config, nodegroup, plan_is_empty, workspace};
use acceptance::{Moto, terraforms, venv};

/// A `terraform_data.cluster` that creates EKS cluster `prod` (1.34) in
/// moto when applied, and the node group `extra` names it through.
fn cluster_and_pool(moto: &Moto, cluster_name: &str, extra: &str) -> String {
    let python = venv().unwrap().join("bin/python");
    let script = format!(
        "import boto3; boto3.client('eks', endpoint_url='{}', region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing').create_cluster(name='prod', version='1.34', roleArn='arn:aws:iam::123456789012:role/eks', resourcesVpcConfig={{'subnetIds': ['subnet-1']}})",
        moto.endpoint()
    );
    let cluster = format!(
        r#"
resource "terraform_data" "cluster" {{
  input = {{ name = "prod" }}
  provisioner "local-exec" {{
    command = "{} -c \"{}\""
  }}
}}
"#,
        python.display(),
        script.replace('"', "\\\"")
    );
    let pool = nodegroup(extra).replace(
        "cluster_name       = \"prod\"",
        &format!("cluster_name       = {cluster_name}"),
    );
    format!("{cluster}{pool}")
}

#[test]
fn the_cluster_and_its_node_group_in_one_apply() {
    let moto = Moto::start().unwrap();
    let tf = &terraforms().unwrap()[0];
    let body = cluster_and_pool(&moto, "terraform_data.cluster.output.name", DEFAULT_EXTRA);
    let ws = workspace(tf, &moto, &body);

    let plan = ws.must(&["plan", "-no-color", "-out=tfplan"]).unwrap();
    assert!(plan.stdout.contains("2 to add"), "{}", plan.text());
    assert!(
        plan.stdout
            .contains("kubernetes_version         = (known after apply)"),
        "{}",
        plan.text()
    );
    assert!(!plan.text().contains("not found"), "{}", plan.text());

    ws.must(&["apply", "-no-color", "tfplan"]).unwrap();
    let ng = &ws.outputs().unwrap()["ng"]["value"];
    assert_eq!(ng["kubernetes_version"], "1.34", "the cluster's version");
    assert_eq!(ng["status"], "ACTIVE");
    assert!(
        ng["user_data"]
            .as_str()
            .unwrap()
            .contains("\"user.max_user_namespaces\" = \"65536\""),
        "{ng}"
    );
    let version = moto
        .boto3("print(eks.describe_nodegroup(clusterName='prod', nodegroupName='agents')['nodegroup']['version'])")
        .unwrap();
    assert_eq!(version.trim(), "1.34");
    plan_is_empty(&ws);
    ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
}

#[test]
fn without_the_cluster_plan_still_refuses_what_no_version_can_run() {
    let moto = Moto::start().unwrap();
    let tf = &terraforms().unwrap()[0];
    // nsjail runs without a pod user namespace at every Kubernetes version,
    // so ids_per_pod is wrong whatever the cluster's version turns out to be.
    let extra = format!("{DEFAULT_EXTRA}  ids_per_pod = 65536\n");
    for cluster_name in [
        // Known at plan, the cluster not yet created.
        "terraform_data.cluster.output.name",
        // Unknown at plan.
        "terraform_data.cluster.id == \"\" ? \"other\" : \"prod\"",
    ] {
        let ws = workspace(tf, &moto, &cluster_and_pool(&moto, cluster_name, &extra));
        let r = ws.run(&["plan", "-no-color"]).unwrap();
        assert_ne!(r.code, 0, "{cluster_name}: {}", r.text());
        assert!(
            r.stderr.contains("ids_per_pod needs a pod user namespace"),
            "{cluster_name}: {}",
            r.text()
        );
        assert!(
            r.stderr
                .lines()
                .any(|l| l.contains(": ") && l.contains("ids_per_pod = 65536")),
            "{cluster_name}: not at the attribute: {}",
            r.text()
        );
        assert!(!r.text().contains("not found"), "{}", r.text());

        // Without the contradiction the same configuration plans.
        ws.write(
            "main.tf",
            &config(
                &moto.endpoint(),
                &cluster_and_pool(&moto, cluster_name, DEFAULT_EXTRA),
            ),
        )
        .unwrap();
        let ok = ws.run(&["plan", "-no-color"]).unwrap();
        assert!(ok.ok(), "{cluster_name}: {}", ok.text());
    }
    let created = moto
        .boto3("print(len(eks.list_clusters()['clusters']))")
        .unwrap();
    assert_eq!(created.trim(), "0", "plan created nothing");
}
