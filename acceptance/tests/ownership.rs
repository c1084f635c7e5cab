//! One resource instance, one node group: two states or two resources never
//! share a node group, a name that exists and is not ours is refused with
//! the import command, a state can always be destroyed, and a create cut off
//! by `kill -9` of Terraform is neither continued nor lost.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use acceptance::Workspace;
use acceptance::nodegroup::{
    DEFAULT_EXTRA, FaultProxy, alive, config, count_of, counted, counts, nodegroup, plan_is_empty,
    provider_pids, template_exists, template_of, workspace,
};
use acceptance::{Moto, terraforms};

fn labels(moto: &Moto, name: &str) -> serde_json::Value {
    let out = moto
        .boto3(&format!(
            "print(json.dumps(eks.describe_nodegroup(clusterName='prod', nodegroupName='{name}')['nodegroup']['labels']))"
        ))
        .unwrap();
    serde_json::from_str(&out).unwrap()
}

#[test]
fn a_second_state_with_the_same_name_is_refused_and_the_first_is_untouched() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    let tf = &terraforms().unwrap()[0];
    let first = workspace(tf, &moto, &nodegroup(DEFAULT_EXTRA));
    first
        .must(&["apply", "-auto-approve", "-no-color"])
        .unwrap();
    assert_eq!(labels(&moto, "agents")["workload"], "agents");

    let second_body = nodegroup(
        "\n  scaling = { min_size = 1, max_size = 3, desired_size = 2 }\n  labels  = { \"workload\" = \"B\" }\n",
    );
    let second = workspace(tf, &moto, &second_body);
    let r = second
        .run(&["apply", "-auto-approve", "-no-color"])
        .unwrap();
    assert_ne!(r.code, 0, "{}", r.text());
    assert!(
        r.stderr.contains("Node group already exists"),
        "{}",
        r.text()
    );
    assert!(
        r.stderr.contains("terraform import") && r.stderr.contains("prod:agents"),
        "{}",
        r.text()
    );
    assert_eq!(
        counts(&moto),
        (1, 1),
        "the second state's launch template was removed"
    );
    // Nothing of the first state's changed, and destroying the second state
    // leaves the first's node group alone.
    assert_eq!(labels(&moto, "agents")["workload"], "agents");
    second
        .must(&["destroy", "-auto-approve", "-no-color"])
        .unwrap();
    assert_eq!(counts(&moto), (1, 1));
    assert_eq!(labels(&moto, "agents")["workload"], "agents");
    plan_is_empty(&first);
    first
        .must(&["destroy", "-auto-approve", "-no-color"])
        .unwrap();
    assert_eq!(counts(&moto), (0, 0));
}

/// The `nested.dev/instance` tag of node group `name` (cluster `prod`) and
/// of its launch template.
fn owner_tags(moto: &Moto, name: &str) -> (String, String) {
    let out = moto
        .boto3(&format!(
            "ng = eks.describe_nodegroup(clusterName='prod', nodegroupName='{name}')['nodegroup']\nlt = ec2.describe_launch_templates(LaunchTemplateIds=[ng['launchTemplate']['id']])['LaunchTemplates'][0]\nprint(ng['tags']['nested.dev/instance'], {{t['Key']: t['Value'] for t in lt['Tags']}}['nested.dev/instance'])"
        ))
        .unwrap();
    let mut parts = out.split_whitespace().map(String::from);
    (parts.next().unwrap(), parts.next().unwrap())
}

/// State A creates a node group; state C (another working directory)
/// imports it. The import never makes two owners: until C applies, C
/// deletes nothing of it; C's plan shows the takeover; after C applies, A's
/// next plan says it lost the node group and A's destroy leaves it alone.
#[test]
fn an_import_in_another_state_takes_the_node_group_over_and_the_first_lets_go() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    let tf = &terraforms().unwrap()[0];
    let a = workspace(tf, &moto, &nodegroup(DEFAULT_EXTRA));
    a.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let (a_owner, _) = owner_tags(&moto, "agents");
    let c = workspace(tf, &moto, &nodegroup(DEFAULT_EXTRA));
    let import = [
        "import",
        "-no-color",
        "nested_nodegroup.agents",
        "prod:agents",
    ];
    let r = c.must(&import).unwrap();
    assert!(
        r.text()
            .contains("Importing a node group another resource instance created"),
        "{}",
        r.text()
    );
    assert!(r.text().contains("`removed"), "{}", r.text());

    // Imported, not applied: C's destroy deletes nothing; A is untouched.
    let r = c.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
    assert!(
        r.text().contains("Node group left to its owner"),
        "{}",
        r.text()
    );
    assert_eq!(counts(&moto), (1, 1));
    assert_eq!(
        owner_tags(&moto, "agents"),
        (a_owner.clone(), a_owner.clone())
    );
    plan_is_empty(&a);

    // Imported, not applied, then replaced (a subnet change, or `-replace`):
    // the replacement deletes nothing of A's and cannot create over it.
    let moved = nodegroup(DEFAULT_EXTRA).replace("subnet-4e5f6a7b", "subnet-9c8d7e6f");
    for (body, args) in [
        (moved.as_str(), vec!["apply", "-auto-approve", "-no-color"]),
        (
            nodegroup(DEFAULT_EXTRA).as_str(),
            vec![
                "apply",
                "-replace=nested_nodegroup.agents",
                "-auto-approve",
                "-no-color",
            ],
        ),
    ] {
        c.must(&import).unwrap();
        c.write("main.tf", &config(&moto.endpoint(), body)).unwrap();
        let r = c.run(&args).unwrap();
        assert_ne!(r.code, 0, "{}", r.text());
        assert!(
            r.text().contains("Node group left to its owner"),
            "{}",
            r.text()
        );
        assert!(
            r.stderr.contains("Node group already exists"),
            "{}",
            r.text()
        );
        assert_eq!(counts(&moto), (1, 1));
        assert_eq!(
            owner_tags(&moto, "agents"),
            (a_owner.clone(), a_owner.clone())
        );
        plan_is_empty(&a);
    }
    c.write(
        "main.tf",
        &config(&moto.endpoint(), &nodegroup(DEFAULT_EXTRA)),
    )
    .unwrap();

    // Imported again, and by a third state D too: the plan shows the
    // takeover, the first apply makes it.
    c.must(&import).unwrap();
    let d = workspace(tf, &moto, &nodegroup(DEFAULT_EXTRA));
    d.must(&import).unwrap();
    let plan = c.run(&["plan", "-detailed-exitcode", "-no-color"]).unwrap();
    assert_eq!(
        plan.code,
        2,
        "the takeover is not in the plan:\n{}",
        plan.text()
    );
    assert!(
        plan.stdout
            .contains("nested_nodegroup.agents will be updated in-place"),
        "{}",
        plan.text()
    );
    assert!(
        plan.stdout.contains("nested.dev/instance"),
        "{}",
        plan.text()
    );
    assert!(
        plan.text()
            .contains("Taking over a node group another resource instance created"),
        "{}",
        plan.text()
    );
    c.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let (ng_owner, lt_owner) = owner_tags(&moto, "agents");
    assert_ne!(ng_owner, a_owner, "the node group is still A's");
    assert_eq!(lt_owner, ng_owner, "the launch template did not move along");
    plan_is_empty(&c);

    // D imported it from A too, but C took it first: D's apply (even one
    // that skips the refresh) changes nothing, and D's refresh lets go.
    let r = d
        .run(&["apply", "-refresh=false", "-auto-approve", "-no-color"])
        .unwrap();
    assert_ne!(r.code, 0, "{}", r.text());
    assert!(
        r.stderr.contains("Node group taken over elsewhere"),
        "{}",
        r.text()
    );
    assert_eq!(owner_tags(&moto, "agents"), (ng_owner.clone(), lt_owner));
    let r = d
        .must(&["apply", "-refresh-only", "-auto-approve", "-no-color"])
        .unwrap();
    assert!(
        r.text().contains("Node group adopted elsewhere"),
        "{}",
        r.text()
    );
    let listed = d.must(&["state", "list"]).unwrap();
    assert!(listed.stdout.trim().is_empty(), "{}", listed.text());
    d.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(counts(&moto), (1, 1));
    plan_is_empty(&c);

    // A's next plan says it lost the node group; A never destroys it.
    let plan = a.run(&["plan", "-no-color"]).unwrap();
    assert!(
        plan.text()
            .contains("Node group taken over by another resource instance"),
        "{}",
        plan.text()
    );
    assert!(!plan.stdout.contains("destroyed"), "{}", plan.text());
    a.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(counts(&moto), (1, 1));
    let listed = a.must(&["state", "list"]).unwrap();
    assert!(listed.stdout.trim().is_empty(), "{}", listed.text());
    plan_is_empty(&c);
    c.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(counts(&moto), (0, 0));
}

/// A's node group is deleted outside Terraform and state B creates one of
/// the same name: A's refresh keeps its resource (its launch template is
/// still A's), A's apply deletes that template only and refuses to create
/// over B's node group, which is left alone with its template.
#[test]
fn a_node_group_made_again_elsewhere_is_left_alone_and_only_our_template_goes() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    let tf = &terraforms().unwrap()[0];
    let a = workspace(tf, &moto, &nodegroup(DEFAULT_EXTRA));
    a.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let (a_lt, _) = template_of(&moto, "agents");
    moto.boto3("eks.delete_nodegroup(clusterName='prod', nodegroupName='agents')")
        .unwrap();
    let b = workspace(tf, &moto, &nodegroup(DEFAULT_EXTRA));
    b.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let (b_lt, _) = template_of(&moto, "agents");
    let b_owner = owner_tags(&moto, "agents");
    assert_ne!(a_lt, b_lt);
    assert_eq!(counts(&moto), (1, 2));

    let plan = a.run(&["plan", "-no-color"]).unwrap();
    assert!(
        plan.text().contains("Node group no longer exists")
            && plan.text().contains("not the one this resource"),
        "{}",
        plan.text()
    );
    assert!(plan.text().contains(&a_lt), "{}", plan.text());
    assert!(
        plan.stdout
            .contains("nested_nodegroup.agents must be replaced"),
        "{}",
        plan.text()
    );
    // The replacement deletes A's template, then refuses to create over B's
    // node group, with the way out.
    let r = a.run(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert_ne!(r.code, 0, "{}", r.text());
    assert!(
        r.stderr.contains("Node group already exists"),
        "{}",
        r.text()
    );
    assert!(!template_exists(&moto, &a_lt), "A's template leaked");
    assert!(template_exists(&moto, &b_lt), "B's template was deleted");
    assert_eq!(counts(&moto), (1, 1), "B's node group was deleted");
    assert_eq!(owner_tags(&moto, "agents"), b_owner);
    let listed = a.must(&["state", "list"]).unwrap();
    assert!(listed.stdout.trim().is_empty(), "{}", listed.text());
    plan_is_empty(&b);
    b.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(counts(&moto), (0, 0));
}

/// A `nested.dev/instance` tag that no resource instance wrote (edited by
/// hand, here with a character wider than a byte) names no owner: the
/// import neither fails nor claims to take it from someone.
#[test]
fn an_import_of_a_node_group_with_a_hand_written_owner_tag() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    let tf = &terraforms().unwrap()[0];
    let a = workspace(tf, &moto, &nodegroup(DEFAULT_EXTRA));
    a.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    a.must(&["state", "rm", "nested_nodegroup.agents"]).unwrap();
    moto.boto3(
        r#"
ng = eks.describe_nodegroup(clusterName='prod', nodegroupName='agents')['nodegroup']
eks.tag_resource(resourceArn=ng['nodegroupArn'], tags={'nested.dev/instance': 'aaaaaaaaaaaééé'})
"#,
    )
    .unwrap();
    let c = workspace(tf, &moto, &nodegroup(DEFAULT_EXTRA));
    let r = c
        .run(&[
            "import",
            "-no-color",
            "nested_nodegroup.agents",
            "prod:agents",
        ])
        .unwrap();
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        !r.text()
            .contains("Importing a node group another resource instance created"),
        "{}",
        r.text()
    );
    c.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(counts(&moto), (0, 0));
}

#[test]
fn two_resources_with_the_same_node_group_are_refused_at_plan() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    let tf = &terraforms().unwrap()[0];
    let twice = count_of(2, DEFAULT_EXTRA);
    let ws = workspace(tf, &moto, &twice);
    let r = ws.run(&["plan", "-no-color"]).unwrap();
    assert_ne!(r.code, 0, "{}", r.text());
    assert!(
        r.stderr.contains("Node group planned twice"),
        "{}",
        r.text()
    );
    assert!(r.stderr.contains("count.index"), "{}", r.text());
    // With distinct names the same configuration plans and applies.
    let fixed = counted(2, DEFAULT_EXTRA);
    ws.write("main.tf", &config(&moto.endpoint(), &fixed))
        .unwrap();
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(counts(&moto), (2, 2));
    plan_is_empty(&ws);
    ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(counts(&moto), (0, 0));
}

/// A label set back and forth: each change is applied, not answered from
/// an earlier update with the same idempotency token.
#[test]
fn a_change_made_twice_is_applied_twice() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    let tf = &terraforms().unwrap()[0];
    let with = |v: &str| {
        nodegroup(&format!(
            "\n  scaling = {{ min_size = 1, max_size = 3, desired_size = 2 }}\n  labels  = {{ \"workload\" = \"{v}\" }}\n"
        ))
    };
    let ws = workspace(tf, &moto, &with("a"));
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    for v in ["b", "a", "b"] {
        ws.write("main.tf", &config(&moto.endpoint(), &with(v)))
            .unwrap();
        ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
        assert_eq!(labels(&moto, "agents")["workload"], v);
        plan_is_empty(&ws);
    }
    ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
}

/// A state whose identifiers no node group can have (edited by hand, or
/// written by a buggy version) is still destroyable.
#[test]
fn a_state_with_impossible_identifiers_can_be_destroyed() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    let tf = &terraforms().unwrap()[0];
    let ws = workspace(tf, &moto, &nodegroup(DEFAULT_EXTRA));
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let path = ws.path().join("terraform.tfstate");
    let mut state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let attrs = &mut state["resources"][0]["instances"][0]["attributes"];
    attrs["name"] = "agents pool!/é".into();
    attrs["id"] = "prod:agents pool!/é".into();
    attrs["launch_template_id"] = "not-a-template".into();
    state["serial"] = (state["serial"].as_i64().unwrap() + 1).into();
    std::fs::write(&path, state.to_string()).unwrap();
    let r = ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
    assert!(r.stdout.contains("Destroy complete"), "{}", r.text());
    let listed = ws.run(&["state", "list"]).unwrap();
    assert!(listed.stdout.trim().is_empty(), "{}", listed.text());
}

/// `kill -9` of Terraform while a create waits: the provider notices within
/// seconds and exits, creates nothing more, and the next apply in the same
/// working directory adopts the node group the cut-off create made.
#[test]
fn kill_9_of_terraform_stops_the_provider_and_the_next_apply_converges() {
    let moto = Moto::start_with_env(&[("MOTO_NODEGROUP_CREATING_POLLS", "4")]).unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    let tf = &terraforms().unwrap()[0];
    let body = counted(3, DEFAULT_EXTRA);
    let ws = workspace(tf, &moto, &body);
    // One create at a time: exactly one is in flight when Terraform dies.
    let mut child = ws
        .spawn(&["apply", "-auto-approve", "-no-color", "-parallelism=1"])
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    let providers = loop {
        let pids = provider_pids(child.id());
        if counts(&moto).0 == 1 && !pids.is_empty() {
            break pids;
        }
        assert!(Instant::now() < deadline, "no node group was created");
        std::thread::sleep(Duration::from_millis(100));
    };
    child.kill().unwrap(); // SIGKILL
    let killed = Instant::now();
    let _ = child.wait();
    while providers.iter().any(|p| alive(*p)) {
        assert!(
            killed.elapsed() < Duration::from_secs(10),
            "the provider outlived Terraform by 10 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let gone_after = killed.elapsed();
    eprintln!("provider exited {gone_after:?} after kill -9 of Terraform");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        counts(&moto).0,
        1,
        "no node group was created after Terraform was killed"
    );

    // The next apply adopts the cut-off create and creates the rest.
    let r = ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert!(r.stdout.contains("Apply complete"), "{}", r.text());
    assert_eq!(counts(&moto), (3, 3), "one group and one template each");
    plan_is_empty(&ws);
    let leftovers = ws.path().join(".terraform/nested-provider/inflight");
    let left = std::fs::read_dir(&leftovers).map_or(0, |d| d.count());
    assert_eq!(left, 0, "no in-flight record is left");
    ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
    assert_eq!(counts(&moto), (0, 0));
}

/// `kill -9` of Terraform while creates are still on their way to
/// CreateNodegroup (a slow network): none of them creates a node group after
/// the kill, and the next apply converges.
#[test]
fn kill_9_before_the_node_groups_exist_creates_none_after_it() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    let proxy = FaultProxy::start(&moto, 0.0, 1, 1500);
    let tf = &terraforms().unwrap()[0];
    let body = counted(3, DEFAULT_EXTRA);
    let proxied = proxy.endpoint();
    let mut ws = Workspace::new(tf, &config(&proxied, &body)).unwrap();
    ws.env("AWS_ACCESS_KEY_ID", "testing");
    ws.env("AWS_SECRET_ACCESS_KEY", "testing");
    ws.env("AWS_EC2_METADATA_DISABLED", "true");
    let mut child = ws.spawn(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    // The first launch template exists: creates are under way, no node group yet.
    let providers = loop {
        let pids = provider_pids(child.id());
        let (groups, templates) = counts(&moto);
        assert_eq!(groups, 0, "a node group appeared before the kill");
        if templates >= 1 && !pids.is_empty() {
            break pids;
        }
        assert!(Instant::now() < deadline, "no launch template was created");
        std::thread::sleep(Duration::from_millis(50));
    };
    child.kill().unwrap();
    let killed = Instant::now();
    let _ = child.wait();
    while providers.iter().any(|p| alive(*p)) {
        assert!(
            killed.elapsed() < Duration::from_secs(10),
            "the provider outlived Terraform by 10 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "provider exited {:?} after kill -9 of Terraform",
        killed.elapsed()
    );
    // Anything still in the proxy has arrived by now.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(
        counts(&moto).0,
        0,
        "a node group was created after Terraform was killed"
    );
    drop(proxy);

    let direct = workspace(tf, &moto, &body);
    std::fs::remove_file(direct.path().join("main.tf")).unwrap();
    for entry in std::fs::read_dir(ws.path()).unwrap() {
        let entry = entry.unwrap();
        let to = direct.path().join(entry.file_name());
        if entry.file_name() != "cli.tfrc" {
            let _ = std::process::Command::new("cp")
                .arg("-a")
                .arg(entry.path())
                .arg(&to)
                .status();
        }
    }
    direct
        .write("main.tf", &config(&moto.endpoint(), &body))
        .unwrap();
    direct
        .must(&["apply", "-auto-approve", "-no-color"])
        .unwrap();
    assert_eq!(
        counts(&moto),
        (3, 3),
        "nothing left over from the killed apply"
    );
    plan_is_empty(&direct);
    direct
        .must(&["destroy", "-auto-approve", "-no-color"])
        .unwrap();
    assert_eq!(counts(&moto), (0, 0));
}
