//! `tags_all` through real Terraform against moto: the provider's
//! `default_tags` with the resource's `tags` on top, out-of-band tags shown
//! and removed, and a change of `default_tags` applied to the node group.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use acceptance::nodegroup::{DEFAULT_EXTRA, config, nodegroup, plan_is_empty, workspace};
use acceptance::{Moto, terraforms};

fn aws_tags(moto: &Moto) -> serde_json::Value {
    let out = moto
        .boto3("n = eks.describe_nodegroup(clusterName='prod', nodegroupName='agents')['nodegroup']\nprint(json.dumps({k: v for k, v in n['tags'].items() if not k.startswith('nested.dev/')}))")
        .unwrap();
    serde_json::from_str(&out).unwrap()
}

#[test]
fn tags_all_is_default_tags_with_tags_on_top() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    let tf = &terraforms().unwrap()[0];
    // config() sets default_tags = { team = "platform" }.
    let extra = format!("{DEFAULT_EXTRA}  tags = {{ team = \"agents\", cost = \"ci\" }}\n");
    let ws = workspace(tf, &moto, &nodegroup(&extra));
    let plan = ws.must(&["plan", "-no-color"]).unwrap();
    assert!(
        plan.stdout.contains("tags_all"),
        "known at plan: {}",
        plan.text()
    );
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let ng = &ws.outputs().unwrap()["ng"]["value"];
    let want = serde_json::json!({"team": "agents", "cost": "ci"});
    assert_eq!(ng["tags_all"], want, "the resource's tag wins");
    assert_eq!(aws_tags(&moto), want);
    plan_is_empty(&ws);

    // A tag added outside Terraform: shown in tags_all, removed by apply.
    let arn = ng["arn"].as_str().unwrap();
    moto.boto3(&format!(
        "eks.tag_resource(resourceArn='{arn}', tags={{'owner': 'someone'}})"
    ))
    .unwrap();
    let plan = ws
        .run(&["plan", "-detailed-exitcode", "-no-color"])
        .unwrap();
    assert_eq!(plan.code, 2, "{}", plan.text());
    assert!(plan.stdout.contains("\"owner\""), "{}", plan.text());
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(aws_tags(&moto), want);
    plan_is_empty(&ws);

    // A new default tag reaches the node group.
    let body = nodegroup(&format!("{DEFAULT_EXTRA}  tags = {{ cost = \"ci\" }}\n"));
    let cfg = config(&moto.endpoint(), &body).replace(
        "default_tags = { team = \"platform\" }",
        "default_tags = { team = \"platform\", env = \"prod\" }",
    );
    ws.write("main.tf", &cfg).unwrap();
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(
        aws_tags(&moto),
        serde_json::json!({"team": "platform", "env": "prod", "cost": "ci"})
    );
    assert_eq!(
        ws.outputs().unwrap()["ng"]["value"]["tags_all"],
        serde_json::json!({"team": "platform", "env": "prod", "cost": "ci"})
    );
    plan_is_empty(&ws);
    ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
}
