//! The launch template is part of the node group's state, through real
//! Terraform against moto: a template deleted outside Terraform shows in
//! the next plan and is made again in place; a missing template never hides
//! the node group (refresh keeps it, import works without it); and whatever
//! takes a node group out of state deletes the template it owns — a node
//! group deleted outside Terraform, or a destroy cut off by `kill -9`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use acceptance::nodegroup::{
    DEFAULT_EXTRA, alive, config, counted, counts, nodegroup, plan_is_empty, provider_pids,
    template_exists, template_of, workspace,
};
use acceptance::{Moto, Workspace, terraforms};

/// The attributes of `address` in the state, as `terraform show -json` gives them.
fn state_of(ws: &Workspace, address: &str) -> serde_json::Value {
    let r = ws.must(&["show", "-json", "-no-color"]).unwrap();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    v["values"]["root_module"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == address)
        .map(|r| r["values"].clone())
        .unwrap_or_else(|| panic!("{address} not in state: {v}"))
}

/// The user data of launch template `id`, version `version`.
fn user_data(moto: &Moto, id: &str, version: &str) -> String {
    moto.boto3(&format!(
        "import base64\nv = ec2.describe_launch_template_versions(LaunchTemplateId='{id}', Versions=['{version}'])['LaunchTemplateVersions'][0]\nprint(base64.b64decode(v['LaunchTemplateData']['UserData']).decode(), end='')"
    ))
    .unwrap()
}

#[test]
fn a_template_deleted_outside_terraform_is_made_again_in_place() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    let tf = &terraforms().unwrap()[0];
    let ws = workspace(tf, &moto, &counted(3, DEFAULT_EXTRA));
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let (old, _) = template_of(&moto, "agents-1");
    moto.boto3(&format!(
        "ec2.delete_launch_template(LaunchTemplateId='{old}')"
    ))
    .unwrap();
    assert_eq!(counts(&moto), (3, 2));

    // The refresh sees it: one in-place update, of that node group only.
    let plan = ws
        .run(&["plan", "-detailed-exitcode", "-no-color"])
        .unwrap();
    assert_eq!(plan.code, 2, "the plan did not notice:\n{}", plan.text());
    assert!(
        plan.text().contains("Launch template missing"),
        "{}",
        plan.text()
    );
    assert!(plan.text().contains(&old), "{}", plan.text());
    assert!(
        plan.stdout
            .contains("nested_nodegroup.agents[1] will be updated in-place"),
        "{}",
        plan.text()
    );
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{}",
        plan.text()
    );

    // The apply makes it again, with the planned user data, and the node
    // group runs it.
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let (new, version) = template_of(&moto, "agents-1");
    assert_ne!(new, old);
    assert!(template_exists(&moto, &new));
    assert_eq!(counts(&moto), (3, 3));
    let state = state_of(&ws, "nested_nodegroup.agents[1]");
    assert_eq!(state["launch_template_id"], new.as_str());
    assert_eq!(
        user_data(&moto, &new, &version),
        state["user_data"].as_str().unwrap()
    );
    plan_is_empty(&ws);

    // The next settings change (a new version) applies to every group.
    let changed = counted(
        3,
        &format!("{DEFAULT_EXTRA}  metadata_options = {{ http_put_response_hop_limit = 1 }}\n"),
    );
    ws.write("main.tf", &config(&moto.endpoint(), &changed))
        .unwrap();
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(template_of(&moto, "agents-1"), (new, "2".to_string()));
    plan_is_empty(&ws);
    ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(counts(&moto), (0, 0));
}

/// The node group moves to a version made outside Terraform, then the
/// template goes: the refresh that needs the template's content keeps the
/// node group, and an import works without the template.
#[test]
fn a_missing_template_never_hides_the_node_group() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    let tf = &terraforms().unwrap()[0];
    let ws = workspace(tf, &moto, &nodegroup(DEFAULT_EXTRA));
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    moto.boto3(
        r#"
lt = eks.describe_nodegroup(clusterName='prod', nodegroupName='agents')['nodegroup']['launchTemplate']
v = ec2.create_launch_template_version(LaunchTemplateId=lt['id'], SourceVersion=lt['version'], LaunchTemplateData={})['LaunchTemplateVersion']['VersionNumber']
eks.update_nodegroup_version(clusterName='prod', nodegroupName='agents', launchTemplate={'id': lt['id'], 'version': str(v)})
ec2.delete_launch_template(LaunchTemplateId=lt['id'])
"#,
    )
    .unwrap();
    assert_eq!(counts(&moto), (1, 0));

    let refresh = ws
        .must(&["apply", "-refresh-only", "-auto-approve", "-no-color"])
        .unwrap();
    assert!(
        refresh.text().contains("Launch template missing"),
        "{}",
        refresh.text()
    );
    assert!(
        !refresh.text().contains("Node group no longer exists"),
        "{}",
        refresh.text()
    );
    let listed = ws.must(&["state", "list"]).unwrap();
    assert_eq!(listed.stdout.trim(), "nested_nodegroup.agents");
    let plan = ws
        .run(&["plan", "-detailed-exitcode", "-no-color"])
        .unwrap();
    assert_eq!(plan.code, 2, "{}", plan.text());
    assert!(
        plan.stdout
            .contains("nested_nodegroup.agents will be updated in-place"),
        "{}",
        plan.text()
    );

    // Imported without its template: the import says so and works.
    ws.must(&["state", "rm", "nested_nodegroup.agents"])
        .unwrap();
    let import = ws
        .must(&[
            "import",
            "-no-color",
            "nested_nodegroup.agents",
            "prod:agents",
        ])
        .unwrap();
    assert!(
        import.text().contains("Launch template missing"),
        "{}",
        import.text()
    );
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(counts(&moto), (1, 1));
    let (id, _) = template_of(&moto, "agents");
    assert!(template_exists(&moto, &id));
    plan_is_empty(&ws);
    ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(counts(&moto), (0, 0));
}

/// A node group deleted outside Terraform stays in state until an apply
/// deletes its launch template: the plan replaces it, or (without it in
/// the configuration) destroys what is left.
#[test]
fn a_node_group_deleted_outside_terraform_takes_its_template_along() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    let tf = &terraforms().unwrap()[0];
    let ws = workspace(tf, &moto, &counted(2, DEFAULT_EXTRA));
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let (lt1, _) = template_of(&moto, "agents-1");
    moto.boto3("eks.delete_nodegroup(clusterName='prod', nodegroupName='agents-1')")
        .unwrap();
    assert_eq!(counts(&moto), (1, 2));

    let plan = ws.run(&["plan", "-no-color"]).unwrap();
    assert!(
        plan.text().contains("Node group no longer exists"),
        "{}",
        plan.text()
    );
    assert!(plan.text().contains(&lt1), "{}", plan.text());
    assert!(
        plan.stdout
            .contains("nested_nodegroup.agents[1] must be replaced"),
        "{}",
        plan.text()
    );

    // Removed from the configuration: the destroy of what is left deletes
    // the template.
    ws.write(
        "main.tf",
        &config(&moto.endpoint(), &counted(1, DEFAULT_EXTRA)),
    )
    .unwrap();
    let apply = ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert!(apply.stdout.contains("1 destroyed"), "{}", apply.text());
    assert!(!template_exists(&moto, &lt1));
    assert_eq!(counts(&moto), (1, 1));
    plan_is_empty(&ws);

    // Still in the configuration: replaced, the old template deleted.
    let (lt0, _) = template_of(&moto, "agents-0");
    moto.boto3("eks.delete_nodegroup(clusterName='prod', nodegroupName='agents-0')")
        .unwrap();
    let apply = ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert!(
        apply.stdout.contains("1 added, 0 changed, 1 destroyed"),
        "{}",
        apply.text()
    );
    assert!(!template_exists(&moto, &lt0));
    assert_eq!(counts(&moto), (1, 1));
    plan_is_empty(&ws);
    ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(counts(&moto), (0, 0));
}

/// `kill -9` of Terraform while its destroy waits for the node groups to
/// go: they finish going without Terraform, and the next destroy deletes
/// the launch templates they leave.
#[test]
fn kill_9_mid_destroy_leaves_no_template_after_the_next_destroy() {
    // Deleted node groups report DELETING for 40 reads: the destroy waits.
    let moto = Moto::start_with_env(&[("MOTO_NODEGROUP_DELETING_POLLS", "40")]).unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    let tf = &terraforms().unwrap()[0];
    let ws = workspace(tf, &moto, &counted(3, DEFAULT_EXTRA));
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(counts(&moto), (3, 3));
    moto.reset_calls().unwrap();
    let mut child = ws
        .spawn(&["destroy", "-auto-approve", "-no-color"])
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    let providers = loop {
        let deletes = moto.calls().unwrap()["eks:DeleteNodegroup"]
            .as_i64()
            .unwrap_or(0);
        let pids = provider_pids(child.id());
        if deletes == 3 && !pids.is_empty() {
            break pids;
        }
        assert!(
            Instant::now() < deadline,
            "the destroy deleted no node group"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    child.kill().unwrap(); // SIGKILL
    let _ = child.wait();
    let killed = Instant::now();
    while providers.iter().any(|p| alive(*p)) {
        assert!(
            killed.elapsed() < Duration::from_secs(10),
            "the provider outlived Terraform by 10 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(counts(&moto).1, 3, "the templates were not deleted yet");
    // Time passes: EKS finishes deleting the node groups.
    moto.boto3(
        r#"
for n in ['agents-0', 'agents-1', 'agents-2']:
    while True:
        try:
            eks.describe_nodegroup(clusterName='prod', nodegroupName=n)
        except eks.exceptions.ResourceNotFoundException:
            break
"#,
    )
    .unwrap();
    assert_eq!(counts(&moto), (0, 3));

    let r = ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
    assert!(r.stdout.contains("Destroy complete"), "{}", r.text());
    assert_eq!(counts(&moto), (0, 0), "launch templates leaked");
    let listed = ws.must(&["state", "list"]).unwrap();
    assert!(listed.stdout.trim().is_empty(), "{}", listed.text());
}
