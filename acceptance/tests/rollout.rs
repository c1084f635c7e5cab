//! How changes roll out, through real Terraform against moto:
//! `release_version` pinning (it used to be ignored), `force_update_version`,
//! `update_config` and `node_repair_config` in place, and the plan's warning
//! when a change replaces every node.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use acceptance::nodegroup::{DEFAULT_EXTRA, config, nodegroup, plan_is_empty, workspace};
use acceptance::{Moto, terraforms};

fn describe(moto: &Moto, field: &str) -> serde_json::Value {
    let out = moto
        .boto3(&format!(
            "n = eks.describe_nodegroup(clusterName='prod', nodegroupName='agents')['nodegroup']\nprint(json.dumps(n.get('{field}')))"
        ))
        .unwrap();
    serde_json::from_str(&out).unwrap()
}

/// The params of the node group's last update, as moto recorded them.
fn last_update_params(moto: &Moto) -> String {
    moto.boto3(
        "ids = eks.list_updates(name='prod', nodegroupName='agents')['updateIds']\nu = eks.describe_update(name='prod', updateId=ids[-1], nodegroupName='agents')['update']\nprint(json.dumps(u['params']))",
    )
    .unwrap()
}

fn flat(text: &str) -> String {
    text.replace('│', "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn release_pinning_force_update_config_and_repair() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    let tf = &terraforms().unwrap()[0];
    let al2023 = |extra: &str| {
        nodegroup(&format!("{DEFAULT_EXTRA}{extra}")).replace("\"bottlerocket\"", "\"al2023\"")
    };

    // Create with a pinned release, update_config and repair: EKS gets them.
    let extra = r#"
  kubernetes_version = "1.33"
  release_version    = "1.33.0-20251016"
  update_config      = { max_unavailable_percentage = 50 }
  node_repair_config = { enabled = true }
"#;
    let ws = workspace(tf, &moto, &al2023(extra));
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(
        describe(&moto, "releaseVersion"),
        "1.33.0-20251016",
        "pinned, not the latest"
    );
    assert_eq!(
        describe(&moto, "updateConfig"),
        serde_json::json!({"maxUnavailablePercentage": 50})
    );
    assert_eq!(
        describe(&moto, "nodeRepairConfig"),
        serde_json::json!({"enabled": true})
    );
    let ng = &ws.outputs().unwrap()["ng"]["value"];
    assert_eq!(ng["release_version"], "1.33.0-20251016");
    assert_eq!(ng["update_config"]["max_unavailable_percentage"], 50);
    plan_is_empty(&ws);

    // update_config and repair change in place, without rolling the nodes.
    let extra2 = extra
        .replace("max_unavailable_percentage = 50", "max_unavailable = 2")
        .replace("enabled = true", "enabled = false");
    ws.write("main.tf", &config(&moto.endpoint(), &al2023(&extra2)))
        .unwrap();
    let plan = ws.must(&["plan", "-no-color"]).unwrap();
    assert!(plan.stdout.contains("updated in-place"), "{}", plan.text());
    assert!(
        !plan.text().contains("will be replaced"),
        "no rollout: {}",
        plan.text()
    );
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(
        describe(&moto, "updateConfig"),
        serde_json::json!({"maxUnavailable": 2})
    );
    assert_eq!(
        describe(&moto, "nodeRepairConfig"),
        serde_json::json!({"enabled": false})
    );
    plan_is_empty(&ws);

    // A new pinned release with force: in place, a warning that every node
    // is replaced (at the release_version line), and `force` sent.
    let extra3 = format!(
        "{}  force_update_version = true\n",
        extra2.replace("1.33.0-20251016", "1.33.0-20251108")
    );
    ws.write("main.tf", &config(&moto.endpoint(), &al2023(&extra3)))
        .unwrap();
    let plan = ws.must(&["plan", "-no-color"]).unwrap();
    let text = flat(&plan.text());
    assert!(plan.stdout.contains("updated in-place"), "{text}");
    assert!(!plan.stdout.contains("must be replaced"), "{text}");
    assert!(
        text.contains("Warning: Every node of EKS Node Group (prod:agents) will be replaced"),
        "{text}"
    );
    assert!(
        text.contains("release_version (1.33.0-20251016 → 1.33.0-20251108)")
            && text.contains("up to 2 nodes at a time")
            && text.contains("(force_update_version)"),
        "{text}"
    );
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(describe(&moto, "releaseVersion"), "1.33.0-20251108");
    let params = last_update_params(&moto);
    assert!(params.contains("\"Force\""), "{params}");
    plan_is_empty(&ws);

    // A release for another Kubernetes version is refused at plan.
    let bad = extra3.replace("1.33.0-20251108", "1.32.0-20251108");
    ws.write("main.tf", &config(&moto.endpoint(), &al2023(&bad)))
        .unwrap();
    let r = ws.run(&["plan", "-no-color"]).unwrap();
    assert_ne!(r.code, 0);
    let text = flat(&r.stderr);
    assert!(
        text.contains(
            "al2023 release 1.32.0-20251108 is built for Kubernetes 1.32, but the nodes run 1.33"
        ),
        "{text}"
    );
    assert!(
        text.contains("release_version = \"1.32.0-20251108\""),
        "at the attribute: {text}"
    );

    // Unpinned again: the state keeps the release the nodes run.
    let unpinned = extra3.replace("  release_version    = \"1.33.0-20251108\"\n", "");
    assert_ne!(unpinned, extra3);
    ws.write("main.tf", &config(&moto.endpoint(), &al2023(&unpinned)))
        .unwrap();
    plan_is_empty(&ws);
    ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
}

#[test]
fn a_user_data_change_warns_that_every_node_is_replaced() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    let tf = &terraforms().unwrap()[0];
    let ws = workspace(tf, &moto, &nodegroup(DEFAULT_EXTRA));
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let before = describe(&moto, "releaseVersion");

    // Scaling only: no warning.
    let scaled = DEFAULT_EXTRA.replace("max_size = 3", "max_size = 4");
    ws.write("main.tf", &config(&moto.endpoint(), &nodegroup(&scaled)))
        .unwrap();
    let plan = ws.must(&["plan", "-no-color"]).unwrap();
    assert!(!plan.text().contains("will be replaced"), "{}", plan.text());

    // max_user_namespaces changes the user data: a warning, one node at a
    // time by default, honouring PodDisruptionBudgets.
    let rolled = format!("{DEFAULT_EXTRA}  max_user_namespaces = 131072\n");
    ws.write("main.tf", &config(&moto.endpoint(), &nodegroup(&rolled)))
        .unwrap();
    let plan = ws.must(&["plan", "-no-color"]).unwrap();
    let text = flat(&plan.text());
    assert!(
        text.contains("Every node of EKS Node Group (prod:agents) will be replaced")
            && text.contains("the bootstrap settings (user_data)")
            && text.contains("one node at a time")
            && text.contains("honouring PodDisruptionBudgets"),
        "{text}"
    );
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(
        describe(&moto, "releaseVersion"),
        before,
        "the release stays"
    );
    plan_is_empty(&ws);
}

/// The launch template's IMDS settings and security groups: the defaults
/// written and documented, changes as a new launch template version (a
/// warning that the nodes roll), drift in the template seen by the plan.
#[test]
fn metadata_options_and_security_groups_on_the_launch_template() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    let tf = &terraforms().unwrap()[0];
    let ws = workspace(tf, &moto, &nodegroup(DEFAULT_EXTRA));
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let template = |moto: &Moto| -> serde_json::Value {
        let d = template_data(moto);
        serde_json::json!({"m": d["MetadataOptions"], "sg": d["SecurityGroupIds"]})
    };
    // Defaults: IMDSv2 only, hop limit 2, no security groups of ours.
    let t = template(&moto);
    assert_eq!(t["m"]["HttpTokens"], "required", "{t}");
    assert_eq!(t["m"]["HttpPutResponseHopLimit"], 2, "{t}");
    assert_eq!(t["m"]["HttpEndpoint"], "enabled", "{t}");
    assert_eq!(t["sg"], serde_json::Value::Null, "{t}");
    let ng = &ws.outputs().unwrap()["ng"]["value"];
    assert_eq!(ng["metadata_options"]["http_put_response_hop_limit"], 2);

    // Hop limit 1 and two security groups: in place, a new template
    // version, and the warning.
    let extra = format!(
        "{DEFAULT_EXTRA}  metadata_options = {{ http_put_response_hop_limit = 1 }}\n  security_group_ids = [\"sg-0a1b2c3d\", \"sg-0a1b2c3d4e5f67890\"]\n"
    );
    ws.write("main.tf", &config(&moto.endpoint(), &nodegroup(&extra)))
        .unwrap();
    let plan = ws.must(&["plan", "-no-color"]).unwrap();
    let text = flat(&plan.text());
    assert!(plan.stdout.contains("updated in-place"), "{text}");
    assert!(
        text.contains("Every node of EKS Node Group (prod:agents) will be replaced")
            && text.contains("metadata_options and security_group_ids"),
        "{text}"
    );
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let t = template(&moto);
    assert_eq!(t["m"]["HttpPutResponseHopLimit"], 1, "{t}");
    assert_eq!(t["m"]["HttpTokens"], "required", "the default stays: {t}");
    assert_eq!(
        t["sg"],
        serde_json::json!(["sg-0a1b2c3d", "sg-0a1b2c3d4e5f67890"]),
        "{t}"
    );
    assert_eq!(
        ws.outputs().unwrap()["ng"]["value"]["launch_template_version"],
        2
    );
    plan_is_empty(&ws);

    // Someone points the node group at a template version with IMDSv1
    // allowed: the plan puts IMDSv2 back.
    let (lt, _) = eks_launch_template(&moto);
    moto.boto3(&format!(
        "v = ec2.create_launch_template_version(LaunchTemplateId='{lt}', SourceVersion='2', LaunchTemplateData={{'MetadataOptions': {{'HttpTokens': 'optional', 'HttpPutResponseHopLimit': 1}}}})['LaunchTemplateVersion']['VersionNumber']\neks.update_nodegroup_version(clusterName='prod', nodegroupName='agents', launchTemplate={{'id': '{lt}', 'version': str(v)}})"
    ))
    .unwrap();
    let plan = ws
        .run(&["plan", "-detailed-exitcode", "-no-color"])
        .unwrap();
    assert_eq!(plan.code, 2, "{}", plan.text());
    assert!(
        plan.stdout.contains("http_tokens") && plan.stdout.contains("\"optional\" -> \"required\""),
        "{}",
        plan.text()
    );
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(template(&moto)["m"]["HttpTokens"], "required");
    plan_is_empty(&ws);

    // Values EC2 refuses are refused at plan.
    let bad = format!(
        "{DEFAULT_EXTRA}  metadata_options = {{ http_put_response_hop_limit = 65 }}\n  security_group_ids = [\"sg-nothex\"]\n"
    );
    ws.write("main.tf", &config(&moto.endpoint(), &nodegroup(&bad)))
        .unwrap();
    let r = ws.run(&["plan", "-no-color"]).unwrap();
    assert_ne!(r.code, 0);
    let text = flat(&r.stderr);
    assert!(
        text.contains("the IMDS hop limit is a whole number from 1 to 64"),
        "{text}"
    );
    assert!(
        text.contains("\"sg-nothex\" is not a security group ID"),
        "{text}"
    );
    ws.write("main.tf", &config(&moto.endpoint(), &nodegroup(&extra)))
        .unwrap();
    ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
}

/// The node group's launch template ID and version, as EKS reports them.
fn eks_launch_template(moto: &Moto) -> (String, String) {
    let lt = describe(moto, "launchTemplate");
    (
        lt["id"].as_str().unwrap().to_string(),
        lt["version"].as_str().unwrap().to_string(),
    )
}

/// The data of the node group's launch template version, as EC2 holds it.
fn template_data(moto: &Moto) -> serde_json::Value {
    let (lt, v) = eks_launch_template(moto);
    let out = moto
        .boto3(&format!(
            "d = ec2.describe_launch_template_versions(LaunchTemplateId='{lt}', Versions=['{v}'])['LaunchTemplateVersions'][0]['LaunchTemplateData']\nprint(json.dumps(d))"
        ))
        .unwrap();
    serde_json::from_str(&out).unwrap()
}

/// `block_device` sizes the volume that holds images and pods: Bottlerocket's
/// data volume, Amazon Linux's root, unless `device_name` says otherwise.
#[test]
fn block_device_on_each_familys_container_volume() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    let tf = &terraforms().unwrap()[0];
    let mappings = |moto: &Moto| template_data(moto)["BlockDeviceMappings"].clone();
    let volume = r#"
  block_device = {
    volume_size = 100
    volume_type = "gp3"
    throughput  = 250
    encrypted   = true
    kms_key_id  = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }
"#;
    let ws = workspace(tf, &moto, &nodegroup(&format!("{DEFAULT_EXTRA}{volume}")));
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let m = mappings(&moto);
    assert_eq!(
        m[0]["DeviceName"], "/dev/xvdb",
        "Bottlerocket's data volume: {m}"
    );
    assert_eq!(m[0]["Ebs"]["VolumeSize"], 100, "{m}");
    assert_eq!(m[0]["Ebs"]["VolumeType"], "gp3", "{m}");
    assert_eq!(m[0]["Ebs"]["Throughput"], 250, "{m}");
    assert_eq!(m[0]["Ebs"]["Encrypted"], true, "{m}");
    let ng = &ws.outputs().unwrap()["ng"]["value"];
    assert_eq!(ng["block_device"]["device_name"], "/dev/xvdb");
    plan_is_empty(&ws);

    // A bigger volume: a new template version, and the warning.
    let bigger = volume.replace("volume_size = 100", "volume_size = 200");
    ws.write(
        "main.tf",
        &config(
            &moto.endpoint(),
            &nodegroup(&format!("{DEFAULT_EXTRA}{bigger}")),
        ),
    )
    .unwrap();
    let plan = ws.must(&["plan", "-no-color"]).unwrap();
    let text = flat(&plan.text());
    assert!(plan.stdout.contains("updated in-place"), "{text}");
    assert!(text.contains("The change of block_device"), "{text}");
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(mappings(&moto)[0]["Ebs"]["VolumeSize"], 200);
    plan_is_empty(&ws);

    // Throughput on gp2 is refused at plan, at the attribute.
    let bad = volume.replace("\"gp3\"", "\"gp2\"");
    ws.write(
        "main.tf",
        &config(
            &moto.endpoint(),
            &nodegroup(&format!("{DEFAULT_EXTRA}{bad}")),
        ),
    )
    .unwrap();
    let r = ws.run(&["plan", "-no-color"]).unwrap();
    assert_ne!(r.code, 0);
    let text = flat(&r.stderr);
    assert!(
        text.contains("EC2 takes throughput only for volume_type gp3"),
        "{text}"
    );
    assert!(
        text.contains("throughput = 250"),
        "at the attribute: {text}"
    );
    ws.write(
        "main.tf",
        &config(
            &moto.endpoint(),
            &nodegroup(&format!("{DEFAULT_EXTRA}{bigger}")),
        ),
    )
    .unwrap();
    ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();

    // Amazon Linux: the root volume.
    let al = nodegroup(&format!(
        "{DEFAULT_EXTRA}  block_device = {{ volume_size = 80 }}\n"
    ))
    .replace("\"bottlerocket\"", "\"al2023\"");
    ws.write("main.tf", &config(&moto.endpoint(), &al)).unwrap();
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let m = mappings(&moto);
    assert_eq!(m[0]["DeviceName"], "/dev/xvda", "{m}");
    assert_eq!(m[0]["Ebs"]["VolumeSize"], 80, "{m}");
    assert_eq!(m[0]["Ebs"].get("VolumeType"), None, "the AMI's type: {m}");
    plan_is_empty(&ws);
    ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
}

/// `tag_specifications` tag what EC2 launches for the nodes; a change is a
/// new template version, and the template's tags read back.
#[test]
fn tag_specifications_on_the_launch_template() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    let tf = &terraforms().unwrap()[0];
    // Tags per resource type, without the template's own.
    let specs = |moto: &Moto| -> serde_json::Value {
        let mut by_type = serde_json::Map::new();
        for spec in template_data(moto)["TagSpecifications"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let kind = spec["ResourceType"].as_str().unwrap();
            if kind == "launch-template" {
                continue;
            }
            let tags: serde_json::Map<_, _> = spec["Tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| (t["Key"].as_str().unwrap().to_string(), t["Value"].clone()))
                .collect();
            by_type.insert(kind.to_string(), tags.into());
        }
        by_type.into()
    };
    let extra = format!(
        "{DEFAULT_EXTRA}  tag_specifications = {{\n    instance          = {{ Name = \"agents\" }}\n    network_interface = {{ pool = \"agents\" }}\n  }}\n"
    );
    let ws = workspace(tf, &moto, &nodegroup(&extra));
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(
        specs(&moto),
        serde_json::json!({"instance": {"Name": "agents"}, "network-interface": {"pool": "agents"}})
    );
    plan_is_empty(&ws);

    let changed = extra.replace(
        "network_interface = { pool = \"agents\" }",
        "volume = { backup = \"daily\" }",
    );
    ws.write("main.tf", &config(&moto.endpoint(), &nodegroup(&changed)))
        .unwrap();
    let plan = ws.must(&["plan", "-no-color"]).unwrap();
    let text = flat(&plan.text());
    assert!(text.contains("The change of tag_specifications"), "{text}");
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(
        specs(&moto),
        serde_json::json!({"instance": {"Name": "agents"}, "volume": {"backup": "daily"}})
    );
    assert_eq!(
        ws.outputs().unwrap()["ng"]["value"]["launch_template_version"],
        2
    );
    plan_is_empty(&ws);

    let bad = extra.replace("Name = \"agents\"", "\"aws:cloudformation\" = \"x\"");
    ws.write("main.tf", &config(&moto.endpoint(), &nodegroup(&bad)))
        .unwrap();
    let r = ws.run(&["plan", "-no-color"]).unwrap();
    assert_ne!(r.code, 0, "{}", r.text());
    assert!(r.stderr.contains("Invalid tag key"), "{}", r.text());
    ws.write("main.tf", &config(&moto.endpoint(), &nodegroup(&changed)))
        .unwrap();
    ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
}
