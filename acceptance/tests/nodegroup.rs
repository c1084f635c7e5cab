//! `nested_nodegroup` for real: Terraform → provider → AWS SDK → moto.
//! Lifecycle, import (ID, import block, identity), in-place updates,
//! replacement, drift, destroy, faults and interruption.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use acceptance::nodegroup::{
    DEFAULT_EXTRA, FaultProxy, config, counted, counts, nodegroup, plan_is_empty, workspace,
};
use acceptance::{Moto, REQUIRED_PROVIDERS, Workspace, terraforms};

#[test]
fn create_replan_update_replace_destroy() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    let tf = &terraforms().unwrap()[0];
    let ws = workspace(tf, &moto, &nodegroup(DEFAULT_EXTRA));

    // Create.
    let apply = ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert!(apply.stdout.contains("1 added"), "{}", apply.text());
    let ng = &ws.outputs().unwrap()["ng"]["value"];
    assert_eq!(ng["id"], "prod:agents");
    assert_eq!(ng["status"], "ACTIVE");
    let probe = ng["probe_manifest"].as_str().unwrap();
    assert!(
        probe.contains("eks.amazonaws.com/nodegroup: \"agents\""),
        "{probe}"
    );
    assert!(probe.contains("- \"nsjail\""), "{probe}");
    assert_eq!(ng["ami_type"], "BOTTLEROCKET_x86_64");
    assert_eq!(
        ng["kubernetes_version"], "1.33",
        "defaults to the cluster's version"
    );
    assert_eq!(ng["launch_template_version"], 1);
    assert!(
        ng["release_version"].as_str().unwrap().starts_with("1."),
        "{ng}"
    );
    assert!(
        ng["user_data"]
            .as_str()
            .unwrap()
            .contains("\"user.max_user_namespaces\" = \"65536\"")
    );
    assert_eq!(
        ng["tags"],
        serde_json::Value::Null,
        "default_tags are not shown as own tags"
    );
    assert_eq!(counts(&moto), (1, 1));
    let lt_user_data = moto
        .boto3(&format!("import base64\nv = ec2.describe_launch_template_versions(LaunchTemplateId='{}')['LaunchTemplateVersions'][0]\nprint(base64.b64decode(v['LaunchTemplateData']['UserData']).decode())", ng["launch_template_id"].as_str().unwrap()))
        .unwrap();
    assert!(
        lt_user_data.starts_with("[settings.kernel.sysctl]"),
        "{lt_user_data}"
    );

    // Second plan: empty.
    plan_is_empty(&ws);

    // In place: scaling and labels → UpdateNodegroupConfig, no replacement.
    ws.write(
        "main.tf",
        &config(
            &moto.endpoint(),
            &nodegroup(
                r#"
  scaling = { min_size = 1, max_size = 5, desired_size = 3 }
  labels  = { "workload" = "agents", "tier" = "gold" }
"#,
            ),
        ),
    )
    .unwrap();
    let plan = ws.must(&["plan", "-no-color"]).unwrap();
    assert!(plan.stdout.contains("updated in-place"), "{}", plan.text());
    assert!(!plan.stdout.contains("must be replaced"), "{}", plan.text());
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let aws = moto
        .boto3("n = eks.describe_nodegroup(clusterName='prod', nodegroupName='agents')['nodegroup']\nprint(json.dumps([n['scalingConfig'], n['labels']]))")
        .unwrap();
    let aws: serde_json::Value = serde_json::from_str(&aws).unwrap();
    assert_eq!(aws[0]["maxSize"], 5);
    assert_eq!(aws[1]["tier"], "gold");
    plan_is_empty(&ws);

    // User data change → new launch template version, in place.
    ws.write(
        "main.tf",
        &config(
            &moto.endpoint(),
            &nodegroup(
                r#"
  scaling = { min_size = 1, max_size = 5, desired_size = 3 }
  labels  = { "workload" = "agents", "tier" = "gold" }
  max_user_namespaces = 131072
"#,
            ),
        ),
    )
    .unwrap();
    let plan = ws.must(&["plan", "-no-color"]).unwrap();
    assert!(plan.stdout.contains("updated in-place"), "{}", plan.text());
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let ng = &ws.outputs().unwrap()["ng"]["value"];
    assert_eq!(ng["launch_template_version"], 2);
    assert!(ng["user_data"].as_str().unwrap().contains("\"131072\""));
    assert_eq!(counts(&moto), (1, 1));
    plan_is_empty(&ws);

    // Replacement: instance types.
    ws.write(
        "main.tf",
        &config(
            &moto.endpoint(),
            &nodegroup(
                r#"
  scaling = { min_size = 1, max_size = 5, desired_size = 3 }
  labels  = { "workload" = "agents", "tier" = "gold" }
  max_user_namespaces = 131072
"#,
            )
            .replace("m6i.large", "m6i.xlarge"),
        ),
    )
    .unwrap();
    let plan = ws.must(&["plan", "-no-color"]).unwrap();
    assert!(plan.stdout.contains("must be replaced"), "{}", plan.text());
    assert!(plan.stdout.contains("instance_types"), "{}", plan.text());
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(
        counts(&moto),
        (1, 1),
        "replacement leaves one group and one template"
    );
    plan_is_empty(&ws);

    // Destroy: nothing left in moto.
    ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(counts(&moto), (0, 0));
}

#[test]
fn drift_disappears_and_out_of_band_scaling() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.34").unwrap();
    let tf = &terraforms().unwrap()[0];
    let ws = workspace(tf, &moto, &nodegroup(DEFAULT_EXTRA));
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();

    // Someone scales it by hand: the plan shows it and puts it back.
    moto.boto3("eks.update_nodegroup_config(clusterName='prod', nodegroupName='agents', scalingConfig={'minSize': 1, 'maxSize': 3, 'desiredSize': 3})").unwrap();
    let plan = ws
        .run(&["plan", "-detailed-exitcode", "-no-color"])
        .unwrap();
    assert_eq!(plan.code, 2, "{}", plan.text());
    assert!(plan.stdout.contains("desired_size"), "{}", plan.text());
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    plan_is_empty(&ws);

    // With manage_desired_size = false the provider leaves desired size alone.
    let body = nodegroup(
        "\n  scaling = { min_size = 1, max_size = 3 }\n  labels  = { \"workload\" = \"agents\" }\n  manage_desired_size = false\n",
    );
    ws.write("main.tf", &config(&moto.endpoint(), &body))
        .unwrap();
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    moto.boto3("eks.update_nodegroup_config(clusterName='prod', nodegroupName='agents', scalingConfig={'minSize': 1, 'maxSize': 3, 'desiredSize': 3})").unwrap();
    // The refreshed desired size (3) reaches state and the `ng` output, but
    // the resource itself plans no change: nothing fights the autoscaler.
    let plan = ws
        .run(&["plan", "-detailed-exitcode", "-no-color"])
        .unwrap();
    assert!(
        !plan.stdout.contains("will be updated") && !plan.stdout.contains("must be replaced"),
        "{}",
        plan.text()
    );
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let desired = moto
        .boto3("print(eks.describe_nodegroup(clusterName='prod', nodegroupName='agents')['nodegroup']['scalingConfig']['desiredSize'])")
        .unwrap();
    assert_eq!(
        desired.trim(),
        "3",
        "the apply left the autoscaler's size alone"
    );
    plan_is_empty(&ws);

    // Deleted out of band: replaced, with a warning; its launch template
    // is deleted on the way.
    moto.boto3("eks.delete_nodegroup(clusterName='prod', nodegroupName='agents')")
        .unwrap();
    let plan = ws.run(&["plan", "-no-color"]).unwrap();
    assert!(plan.stdout.contains("must be replaced"), "{}", plan.text());
    assert!(
        plan.text().contains("Node group no longer exists"),
        "{}",
        plan.text()
    );
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(counts(&moto), (1, 1));
    plan_is_empty(&ws);
    ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(counts(&moto), (0, 0));
}

#[test]
fn import_by_id_by_block_and_by_identity_plans_clean() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    for tf in terraforms().unwrap() {
        // Create with one workspace, forget it, import into another.
        let creator = workspace(&tf, &moto, &nodegroup(DEFAULT_EXTRA));
        creator
            .must(&["apply", "-auto-approve", "-no-color"])
            .unwrap();
        creator
            .must(&["state", "rm", "nested_nodegroup.agents"])
            .unwrap();

        let ws = workspace(&tf, &moto, &nodegroup(DEFAULT_EXTRA));
        ws.must(&[
            "import",
            "-no-color",
            "nested_nodegroup.agents",
            "prod:agents",
        ])
        .unwrap();
        // Created by another resource instance (the creator's): the first
        // apply takes it over, changing nothing else.
        let plan = ws.run(&["plan", "-no-color"]).unwrap();
        assert!(
            plan.stdout
                .contains("Plan: 0 to add, 1 to change, 0 to destroy."),
            "{}",
            plan.text()
        );
        ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
        plan_is_empty(&ws);
        ws.must(&["state", "rm", "nested_nodegroup.agents"])
            .unwrap();

        let with_block = format!(
            "{}\nimport {{\n  to = nested_nodegroup.agents\n  id = \"prod:agents\"\n}}\n",
            nodegroup(DEFAULT_EXTRA)
        );
        ws.write("main.tf", &config(&moto.endpoint(), &with_block))
            .unwrap();
        let apply = ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
        assert!(apply.stdout.contains("1 imported"), "{}", apply.text());
        plan_is_empty(&ws);

        if tf.at_least(1, 12) {
            ws.must(&["state", "rm", "nested_nodegroup.agents"])
                .unwrap();
            // An identity for another account or region is refused, naming it.
            for (field, value, summary) in [
                (
                    "account_id",
                    "999999999999",
                    "Identity is for another account",
                ),
                ("region", "eu-west-1", "Identity is for another region"),
            ] {
                let wrong = format!(
                    "{}\nimport {{\n  to = nested_nodegroup.agents\n  identity = {{\n    cluster_name = \"prod\"\n    name = \"agents\"\n    {field} = \"{value}\"\n  }}\n}}\n",
                    nodegroup(DEFAULT_EXTRA)
                );
                ws.write("main.tf", &config(&moto.endpoint(), &wrong))
                    .unwrap();
                let refused = ws.run(&["plan", "-no-color"]).unwrap();
                assert_ne!(refused.code, 0, "{}", refused.text());
                assert!(refused.stderr.contains(summary), "{}", refused.text());
            }
            // An identity whose names no EKS name can be is refused, naming
            // the part at fault.
            for (cluster, name, part) in [
                ("prod", "agents pool", "the node group name part"),
                ("my cluster", "agents", "the cluster name part"),
            ] {
                let bad = format!(
                    "{}\nimport {{\n  to = nested_nodegroup.agents\n  identity = {{\n    cluster_name = \"{cluster}\"\n    name = \"{name}\"\n  }}\n}}\n",
                    nodegroup(DEFAULT_EXTRA)
                );
                ws.write("main.tf", &config(&moto.endpoint(), &bad))
                    .unwrap();
                let refused = ws.run(&["plan", "-no-color"]).unwrap();
                assert_ne!(refused.code, 0, "{}", refused.text());
                assert!(
                    refused.stderr.contains("Invalid import identity"),
                    "{}",
                    refused.text()
                );
                assert!(refused.stderr.contains(part), "{}", refused.text());
            }
            let with_identity = format!(
                "{}\nimport {{\n  to = nested_nodegroup.agents\n  identity = {{\n    cluster_name = \"prod\"\n    name = \"agents\"\n  }}\n}}\n",
                nodegroup(DEFAULT_EXTRA)
            );
            ws.write("main.tf", &config(&moto.endpoint(), &with_identity))
                .unwrap();
            let apply = ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
            assert!(apply.stdout.contains("1 imported"), "{}", apply.text());
            plan_is_empty(&ws);
        }

        // IDs that name no node group are refused by the provider, naming
        // the format (into a configuration that has the address).
        let fresh = workspace(&tf, &moto, &nodegroup(DEFAULT_EXTRA));
        for (id, why) in [
            ("no-colon", "is not two names joined by one `:`"),
            ("prod:agents pool", "the node group name part"),
            ("prod cluster:agents", "the cluster name part"),
            ("prod:a:b", "is not two names joined by one `:`"),
        ] {
            let bad = fresh
                .run(&["import", "-no-color", "nested_nodegroup.agents", id])
                .unwrap();
            assert_ne!(bad.code, 0);
            assert!(bad.stderr.contains("Invalid import ID"), "{}", bad.text());
            assert!(bad.stderr.contains(why), "{}", bad.text());
            assert!(bad.stderr.contains("`cluster_name:name`"), "{}", bad.text());
        }
        ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
        assert_eq!(counts(&moto), (0, 0));
    }
}

#[test]
fn plan_errors_point_at_the_attribute() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.31").unwrap();
    let tf = &terraforms().unwrap()[0];
    let body = nodegroup(DEFAULT_EXTRA).replace("\"nsjail\"", "\"landjail\"");
    let ws = workspace(tf, &moto, &body);
    let r = ws.run(&["plan", "-no-color"]).unwrap();
    assert_ne!(r.code, 0);
    // The cluster runs 1.31 (kernel 6.1): landjail needs 1.33.
    assert!(r.stderr.contains("Landlock ABI too old"), "{}", r.text());
    assert!(
        r.stderr.contains("kubernetes_version to \"1.33\""),
        "{}",
        r.text()
    );

    let body = nodegroup(&format!(
        "{DEFAULT_EXTRA}  kubernetes_version = \"1.33\"\n  bootstrap_extra_settings = \"[settings.kernel.sysctl]\\n\\\"user.max_user_namespaces\\\" = \\\"0\\\"\\n\"\n"
    ));
    ws.write("main.tf", &config(&moto.endpoint(), &body))
        .unwrap();
    let r = ws.run(&["plan", "-no-color"]).unwrap();
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("Bootstrap settings cannot be used"),
        "{}",
        r.text()
    );
    assert!(
        r.stderr.contains("bootstrap_extra_settings"),
        "{}",
        r.text()
    );
    // The cluster runs 1.31: EKS creates node groups only at that version.
    assert!(
        r.stderr
            .contains("Node group version differs from the cluster's")
            && r.stderr.contains("prod runs 1.31"),
        "{}",
        r.text()
    );
    assert_eq!(counts(&moto), (0, 0), "nothing was created");
}

#[test]
fn offline_plans_without_aws_and_refuses_apply() {
    let tf = &terraforms().unwrap()[0];
    let body = format!(
        r#"
{REQUIRED_PROVIDERS}provider "nested" {{
  offline = true
}}
{}
"#,
        nodegroup(&format!("{DEFAULT_EXTRA}  kubernetes_version = \"1.33\"\n"))
    );
    let ws = Workspace::new(tf, &body).unwrap();
    let plan = ws.must(&["plan", "-no-color"]).unwrap();
    assert!(
        plan.stdout.contains("BOTTLEROCKET_x86_64"),
        "{}",
        plan.text()
    );
    let apply = ws.run(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert_ne!(apply.code, 0);
    assert!(apply.stderr.contains("offline = true"), "{}", apply.text());
}

/// A proxy answering 30% of calls with 429/500 itself: the SDK's retries
/// carry the apply through, with no duplicate node group or launch template.
#[test]
fn faults_on_the_wire_still_converge_without_duplicates() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    let proxy = FaultProxy::start(&moto, 0.3, 7, 0);
    let tf = &terraforms().unwrap()[0];
    let proxied = proxy.endpoint();
    let mut ws = Workspace::new(tf, &config(&proxied, &nodegroup(DEFAULT_EXTRA))).unwrap();
    ws.env("AWS_ACCESS_KEY_ID", "testing");
    ws.env("AWS_SECRET_ACCESS_KEY", "testing");
    ws.env("AWS_EC2_METADATA_DISABLED", "true");
    let apply = ws.run(&["apply", "-auto-approve", "-no-color"]).unwrap();
    eprintln!("fault proxy: {}", proxy.stats());
    assert!(apply.ok(), "{}", apply.text());
    assert_eq!(counts(&moto), (1, 1), "no duplicates, no orphans");
    let replan = ws
        .run(&["plan", "-detailed-exitcode", "-no-color"])
        .unwrap();
    assert_eq!(replan.code, 0, "{}", replan.text());
    let destroy = ws.run(&["destroy", "-auto-approve", "-no-color"]).unwrap();
    assert!(destroy.ok(), "{}", destroy.text());
    assert_eq!(counts(&moto), (0, 0));
}

/// 30 node groups through a proxy failing 30% of calls, with the provider's
/// default retry settings: apply, refresh and destroy all converge.
#[test]
fn thirty_groups_at_30_percent_faults_converge_with_default_retries() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    let proxy = FaultProxy::start(&moto, 0.3, 11, 0);
    let tf = &terraforms().unwrap()[0];
    let body = counted(30, DEFAULT_EXTRA);
    let proxied = proxy.endpoint();
    let mut ws = Workspace::new(tf, &config(&proxied, &body)).unwrap();
    ws.env("AWS_ACCESS_KEY_ID", "testing");
    ws.env("AWS_SECRET_ACCESS_KEY", "testing");
    ws.env("AWS_EC2_METADATA_DISABLED", "true");
    let apply = ws.run(&["apply", "-auto-approve", "-no-color"]).unwrap();
    eprintln!(
        "apply of 30 groups at 30% faults took {:?}; proxy: {}",
        apply.took,
        proxy.stats()
    );
    assert!(apply.ok(), "{}", apply.text());
    assert_eq!(counts(&moto), (30, 30), "no duplicates, no orphans");
    for _ in 0..3 {
        let replan = ws
            .run(&["plan", "-detailed-exitcode", "-no-color"])
            .unwrap();
        assert_eq!(replan.code, 0, "{}", replan.text());
    }
    let destroy = ws.run(&["destroy", "-auto-approve", "-no-color"]).unwrap();
    eprintln!("destroy took {:?}; proxy: {}", destroy.took, proxy.stats());
    assert!(destroy.ok(), "{}", destroy.text());
    assert_eq!(counts(&moto), (0, 0));
}

/// Ctrl-C while the provider waits for ACTIVE: Terraform sends
/// StopProvider, the ID is already in state (tainted), and the next apply
/// converges to exactly one node group and one launch template.
#[test]
fn interrupted_create_converges_on_the_next_apply() {
    let moto = Moto::start_with_env(&[("MOTO_NODEGROUP_CREATING_POLLS", "6")]).unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    let tf = &terraforms().unwrap()[0];
    let ws = workspace(tf, &moto, &nodegroup(DEFAULT_EXTRA));
    let mut child = ws.spawn(&["apply", "-auto-approve", "-no-color"]).unwrap();
    // Wait until the node group exists (CREATING), then interrupt.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (groups, _) = counts(&moto);
        if groups == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "node group never created"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "the interrupted apply must fail");

    let apply = ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert!(apply.stdout.contains("Apply complete"), "{}", apply.text());
    assert_eq!(counts(&moto), (1, 1));
    plan_is_empty(&ws);
    ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(counts(&moto), (0, 0));
}
