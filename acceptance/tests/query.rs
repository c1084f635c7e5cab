//! `terraform query` (Terraform ≥ 1.14) with the list resource
//! `nested_nodegroup` against moto: every node group of a cluster with its
//! identity, a display name saying whether it can run the sandbox and why
//! not, `limit` honoured (ListNodegroups paging stops), errors as
//! diagnostics at the `config` attribute, and `-generate-config-out`
//! writing `import` + `resource` blocks that import (a node group this
//! provider did not create is adopted: its launch template is taken over
//! with a new version) and then plan empty.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use acceptance::nodegroup::{DEFAULT_EXTRA, config, nodegroup, plan_is_empty, workspace};
use acceptance::{Moto, Terraform, Workspace, terraforms};
use serde_json::Value;

/// The project's Terraform, which has `terraform query`.
fn terraform() -> Terraform {
    let tf = terraforms().unwrap().remove(0);
    assert!(tf.at_least(1, 14), "terraform query needs Terraform 1.14");
    tf
}

/// Node groups nested_nodegroup did not create, as eksctl or the console
/// would leave them: a Bottlerocket 1.32 group on a launch template (with a
/// security group, no user data), the same with the sysctl nsjail needs,
/// and an AL2023 group without a launch template.
fn foreign_pools(moto: &Moto) {
    moto.boto3(
        r#"
def pool(name, ami, lt=None):
    kw = dict(clusterName='prod', nodegroupName=name, nodeRole='arn:aws:iam::123456789012:role/nodes',
              subnets=['subnet-0a1b2c3d'], amiType=ami, instanceTypes=['m6i.large'],
              scalingConfig={'minSize': 1, 'maxSize': 2, 'desiredSize': 1}, version='1.32')
    if lt:
        kw['launchTemplate'] = {'id': lt}
    eks.create_nodegroup(**kw)

import base64
bare = ec2.create_launch_template(LaunchTemplateName='legacy', LaunchTemplateData={'SecurityGroupIds': ['sg-0a1b2c3d']})['LaunchTemplate']['LaunchTemplateId']
toml = '[settings.kernel.sysctl]\n"user.max_user_namespaces" = "16384"\n'
ready = ec2.create_launch_template(LaunchTemplateName='ready', LaunchTemplateData={'UserData': base64.b64encode(toml.encode()).decode()})['LaunchTemplate']['LaunchTemplateId']
pool('legacy-br', 'BOTTLEROCKET_x86_64', bare)
pool('ready-br', 'BOTTLEROCKET_x86_64', ready)
pool('plain', 'AL2023_x86_64_STANDARD')
"#,
    )
    .unwrap();
}

fn query_file(extra: &str, config: &str) -> String {
    format!(
        "list \"nested_nodegroup\" \"pools\" {{\n  provider = nested\n{extra}\n  config {{\n{config}\n  }}\n}}\n"
    )
}

/// `terraform query -json`: the results (`list_resource_found`) and every
/// diagnostic message.
fn query_json(ws: &Workspace) -> (Vec<Value>, Vec<Value>, acceptance::Run) {
    let r = ws.run(&["query", "-json"]).unwrap();
    let mut found = Vec::new();
    let mut diags = Vec::new();
    for line in r.stdout.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        match v["type"].as_str() {
            Some("list_resource_found") => found.push(v["list_resource_found"].clone()),
            Some("diagnostic") => diags.push(v["diagnostic"].clone()),
            _ => {}
        }
    }
    (found, diags, r)
}

fn by_name<'a>(found: &'a [Value], name: &str) -> &'a Value {
    found
        .iter()
        .find(|f| f["identity"]["name"] == name)
        .unwrap_or_else(|| panic!("{name} not listed: {found:#?}"))
}

fn calls(moto: &Moto, action: &str) -> i64 {
    moto.calls().unwrap()[action].as_i64().unwrap_or(0)
}

#[test]
fn query_lists_every_pool_with_whether_it_can_run_the_sandbox() {
    // Two names per ListNodegroups page: four node groups are two pages.
    let moto = Moto::start_with_env(&[("MOTO_LIST_NODEGROUPS_PAGE", "2")]).unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    let tf = terraform();
    let ws = workspace(&tf, &moto, &nodegroup(DEFAULT_EXTRA));
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    foreign_pools(&moto);

    ws.write(
        "pools.tfquery.hcl",
        &query_file(
            "  include_resource = true",
            "    cluster_name = \"prod\"\n    sandbox = \"nsjail\"",
        ),
    )
    .unwrap();
    moto.reset_calls().unwrap();
    let (found, diags, r) = query_json(&ws);
    assert_eq!(r.code, 0, "{}", r.text());
    assert_eq!(calls(&moto, "eks:ListNodegroups"), 2, "both pages read");
    // `plain` has no launch template: not importable, so (with states
    // wanted) left out of the results with a warning saying why.
    assert_eq!(found.len(), 3, "{found:#?}");
    let agents = by_name(&found, "agents");
    assert_eq!(
        agents["display_name"],
        "agents — Bottlerocket 1.33 v1.66.0: nsjail can run"
    );
    assert_eq!(agents["identity"]["cluster_name"], "prod");
    assert_eq!(agents["identity"]["region"], "us-east-1");
    assert_eq!(agents["identity"]["account_id"], "123456789012");
    let state = &agents["resource_object"];
    assert_eq!(state["sandbox"], "nsjail");
    assert_eq!(state["labels"]["workload"], "agents");
    assert_eq!(state["sandbox_check"]["can_run"], true);
    let legacy = by_name(&found, "legacy-br");
    assert_eq!(
        legacy["display_name"],
        "legacy-br (not created by nested_nodegroup) — Bottlerocket 1.32 v1.66.0, max_user_namespaces 0: nsjail cannot run"
    );
    let check = &legacy["resource_object"]["sandbox_check"];
    assert_eq!(check["can_run"], false);
    assert!(
        check["reasons"][0]
            .as_str()
            .unwrap()
            .contains("user.max_user_namespaces = 0"),
        "{check}"
    );
    let ready = by_name(&found, "ready-br");
    assert_eq!(ready["resource_object"]["sandbox_check"]["can_run"], true);
    let plain = diags
        .iter()
        .find(|d| d["summary"] == "Node group cannot be adopted: plain")
        .unwrap_or_else(|| panic!("no warning for plain: {diags:#?}"));
    assert_eq!(plain["severity"], "warning");
    let detail = plain["detail"].as_str().unwrap();
    assert!(
        detail.contains("Amazon Linux 2023 1.32 v20261012: nsjail can run"),
        "{detail}"
    );
    assert!(detail.contains("`removed`"), "{detail}");

    // Another sandbox, no states: `plain` is listed too (identity only),
    // and each is checked for landjail (kernel 6.7; Bottlerocket 1.32 has 6.1).
    ws.write(
        "pools.tfquery.hcl",
        &query_file(
            "",
            "    cluster_name = \"prod\"\n    sandbox = \"landjail\"",
        ),
    )
    .unwrap();
    let (found, _, r) = query_json(&ws);
    assert_eq!(r.code, 0, "{}", r.text());
    assert_eq!(found.len(), 4, "{found:#?}");
    assert!(found.iter().all(|f| f["resource_object"].is_null()));
    let legacy = by_name(&found, "legacy-br")["display_name"]
        .as_str()
        .unwrap();
    assert!(legacy.ends_with("landjail cannot run"), "{legacy}");

    // `limit`: two results, and the second page is never asked for.
    ws.write(
        "pools.tfquery.hcl",
        &query_file("  limit = 2", "    cluster_name = \"prod\""),
    )
    .unwrap();
    moto.reset_calls().unwrap();
    let (found, _, r) = query_json(&ws);
    assert_eq!(r.code, 0, "{}", r.text());
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(calls(&moto, "eks:ListNodegroups"), 1);
    // Without `sandbox`, a node group this provider created is checked for
    // its own.
    let agents = by_name(&found, "agents");
    assert_eq!(
        agents["display_name"],
        "agents — Bottlerocket 1.33 v1.66.0: nsjail can run"
    );

    // The Registry example, as written: one line per result.
    let example = acceptance::repo_root()
        .join("examples/list-resources/nested_nodegroup/list-resource.tfquery.hcl");
    std::fs::copy(example, ws.path().join("pools.tfquery.hcl")).unwrap();
    let r = ws.must(&["query", "-no-color"]).unwrap();
    eprintln!("{}", r.stdout);
    assert!(
        r.stdout
            .contains("list.nested_nodegroup.pools   account_id=123456789012,cluster_name=prod,name=agents,region=us-east-1"),
        "{}",
        r.text()
    );
    assert!(
        r.stdout
            .contains("max_user_namespaces 0: nsjail cannot run"),
        "{}",
        r.text()
    );
    ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
}

#[test]
fn generated_config_imports_adopts_and_then_plans_clean() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    let tf = terraform();
    // A node group made by another state (with settings of its own), which
    // then forgot it.
    let own = format!(
        "{DEFAULT_EXTRA}  bootstrap_extra_settings = \"[settings.kubernetes]\\nmax-pods = 58\\n\"\n"
    );
    let creator = workspace(&tf, &moto, &nodegroup(&own));
    creator
        .must(&["apply", "-auto-approve", "-no-color"])
        .unwrap();
    creator
        .must(&["state", "rm", "nested_nodegroup.agents"])
        .unwrap();
    foreign_pools(&moto);

    // Only the provider block: the query writes the rest.
    let ws = workspace(&tf, &moto, "");
    ws.write(
        "pools.tfquery.hcl",
        &query_file("", "    cluster_name = \"prod\"\n    sandbox = \"nsjail\""),
    )
    .unwrap();
    let r = ws
        .must(&["query", "-no-color", "-generate-config-out=generated.tf"])
        .unwrap();
    eprintln!("{}", r.stdout);
    let generated = std::fs::read_to_string(ws.path().join("generated.tf")).unwrap();
    eprintln!("{generated}");
    assert_eq!(generated.matches("import {").count(), 3, "{generated}");
    assert_eq!(
        generated.matches("resource \"nested_nodegroup\"").count(),
        3
    );
    assert!(!generated.contains("\"plain\""), "{generated}");
    // The creator's own settings are read back from the launch template.
    assert!(generated.contains("max-pods = 58"), "{generated}");

    // The node group nested_nodegroup created is taken over from the
    // creator's resource instance (its tag changes, nothing else); the two
    // it did not create are adopted: one in-place update each takes their
    // launch templates over.
    let plan = ws.must(&["plan", "-no-color"]).unwrap();
    assert!(
        plan.stdout
            .contains("Plan: 3 to import, 0 to add, 3 to change, 0 to destroy."),
        "{}",
        plan.text()
    );
    assert!(
        plan.stdout
            .contains("Adopting a node group nested_nodegroup did not create")
            || plan
                .stderr
                .contains("Adopting a node group nested_nodegroup did not create"),
        "{}",
        plan.text()
    );
    assert!(
        plan.text().contains("Warning: Adopting the node group"),
        "{}",
        plan.text()
    );
    let apply = ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert!(
        apply.stdout.contains("3 imported, 0 added, 3 changed"),
        "{}",
        apply.text()
    );
    plan_is_empty(&ws);

    // The adopted template's new version keeps its security group and
    // holds the sysctl; the node group carries this instance's tags.
    let out = moto
        .boto3(
            r#"
import base64
ng = eks.describe_nodegroup(clusterName='prod', nodegroupName='legacy-br')['nodegroup']
lt = ng['launchTemplate']
v = ec2.describe_launch_template_versions(LaunchTemplateId=lt['id'], Versions=[lt['version']])['LaunchTemplateVersions'][0]['LaunchTemplateData']
print(json.dumps({'version': lt['version'], 'sg': v.get('SecurityGroupIds'), 'user_data': base64.b64decode(v['UserData']).decode(), 'tags': ng['tags']}))
"#,
        )
        .unwrap();
    let got: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(got["version"], "2", "{got}");
    assert_eq!(got["sg"][0], "sg-0a1b2c3d", "{got}");
    assert!(
        got["user_data"]
            .as_str()
            .unwrap()
            .contains("\"user.max_user_namespaces\" = \"65536\""),
        "{got}"
    );
    assert_eq!(got["tags"]["nested.dev/sandbox"], "nsjail");
    // `ready-br` already had what nsjail needs: its user data stayed the
    // `bootstrap_extra_settings` (with its own max_user_namespaces), so no
    // new version was needed.
    assert!(
        generated.contains("max_user_namespaces      = 16384"),
        "{generated}"
    );
    let ready = moto
        .boto3("print(eks.describe_nodegroup(clusterName='prod', nodegroupName='ready-br')['nodegroup']['launchTemplate']['version'])")
        .unwrap();
    assert_eq!(ready.trim(), "1");
    assert_eq!(
        got["tags"]["nested.dev/instance"].as_str().unwrap().len(),
        32
    );

    // Destroy: the node groups go; the adopted templates (someone else's)
    // stay, the one nested_nodegroup made goes.
    ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
    let out = moto
        .boto3(
            "print(sorted(eks.list_nodegroups(clusterName='prod')['nodegroups']), sorted(t['LaunchTemplateName'] for t in ec2.describe_launch_templates()['LaunchTemplates']))",
        )
        .unwrap();
    assert_eq!(out.trim(), "['plain'] ['legacy', 'ready']", "{out}");
}

#[test]
fn errors_are_diagnostics_at_the_config_attribute() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    foreign_pools(&moto);
    let tf = terraform();
    let ws = workspace(&tf, &moto, "");

    // A cluster that does not exist.
    ws.write(
        "pools.tfquery.hcl",
        &query_file("", "    cluster_name = \"staging\""),
    )
    .unwrap();
    let r = ws.run(&["query", "-no-color"]).unwrap();
    assert_ne!(r.code, 0, "{}", r.text());
    assert!(
        r.stderr.contains("Cannot list the cluster's node groups"),
        "{}",
        r.text()
    );
    assert!(
        r.stderr.contains("cluster_name = \"staging\""),
        "{}",
        r.text()
    );

    // A sandbox the provider does not know, at its attribute.
    ws.write(
        "pools.tfquery.hcl",
        &query_file("", "    cluster_name = \"prod\"\n    sandbox = \"Nsjail\""),
    )
    .unwrap();
    let r = ws.run(&["query", "-no-color"]).unwrap();
    assert_ne!(r.code, 0, "{}", r.text());
    assert!(r.stderr.contains("sandbox = \"Nsjail\""), "{}", r.text());

    // Offline, there is nothing to list.
    let offline = ws.path().join("main.tf");
    let text = std::fs::read_to_string(&offline).unwrap();
    ws.write(
        "main.tf",
        &text.replace(
            "region      = \"us-east-1\"",
            "region      = \"us-east-1\"\n  offline     = true",
        ),
    )
    .unwrap();
    ws.write(
        "pools.tfquery.hcl",
        &query_file("", "    cluster_name = \"prod\""),
    )
    .unwrap();
    let r = ws.run(&["query", "-no-color"]).unwrap();
    assert_ne!(r.code, 0, "{}", r.text());
    assert!(r.stderr.contains("The provider is offline"), "{}", r.text());

    // A node group without a launch template is refused by import, with
    // the way to migrate.
    let plain = nodegroup(DEFAULT_EXTRA).replace("agents", "plain");
    ws.write("main.tf", &config(&moto.endpoint(), &plain))
        .unwrap();
    let r = ws
        .run(&[
            "import",
            "-no-color",
            "nested_nodegroup.plain",
            "prod:plain",
        ])
        .unwrap();
    assert_ne!(r.code, 0, "{}", r.text());
    assert!(
        r.stderr.contains("Node group cannot be adopted"),
        "{}",
        r.text()
    );
    assert!(r.stderr.contains("`removed`"), "{}", r.text());
}

/// `legacy-br` (from [`foreign_pools`]) as a `nested_nodegroup`.
const LEGACY: &str = r#"
resource "nested_nodegroup" "legacy" {
  cluster_name       = "prod"
  name               = "legacy-br"
  node_role_arn      = "arn:aws:iam::123456789012:role/nodes"
  subnet_ids         = ["subnet-0a1b2c3d"]
  sandbox            = "nsjail"
  ami_family         = "bottlerocket"
  kubernetes_version = "1.32"
  instance_types     = ["m6i.large"]
  scaling            = { min_size = 1, max_size = 2, desired_size = 1 }
}
"#;

/// Two states import the same node group to adopt it: the first to apply
/// owns it; the other drops it from state at its next refresh and leaves it
/// untouched (two states never share one node group).
#[test]
fn an_adoption_applied_elsewhere_first_wins_and_the_other_state_lets_go() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    foreign_pools(&moto);
    let tf = terraform();
    let first = workspace(&tf, &moto, LEGACY);
    let second = workspace(&tf, &moto, LEGACY);
    for ws in [&first, &second] {
        let r = ws
            .must(&[
                "import",
                "-no-color",
                "nested_nodegroup.legacy",
                "prod:legacy-br",
            ])
            .unwrap();
        assert!(
            r.stdout
                .contains("Adopting a node group nested_nodegroup did not create")
                || r.stderr
                    .contains("Adopting a node group nested_nodegroup did not create"),
            "{}",
            r.text()
        );
    }
    first
        .must(&["apply", "-auto-approve", "-no-color"])
        .unwrap();
    plan_is_empty(&first);
    let versions = || {
        moto.boto3("print(len(ec2.describe_launch_template_versions(LaunchTemplateName='legacy')['LaunchTemplateVersions']))")
            .unwrap()
            .trim()
            .to_string()
    };
    assert_eq!(versions(), "2");

    // The second state's refresh lets go of it, saying why, and never
    // touches it.
    let r = second
        .must(&["apply", "-refresh-only", "-auto-approve", "-no-color"])
        .unwrap();
    assert!(
        r.text().contains("Node group adopted elsewhere"),
        "{}",
        r.text()
    );
    let listed = second.must(&["state", "list"]).unwrap();
    assert!(listed.stdout.trim().is_empty(), "{}", listed.text());
    assert_eq!(versions(), "2");
    plan_is_empty(&first);

    // Replaced (another subnet): the node group goes, its launch template
    // stays (it was someone else's), and the new node group gets its own.
    let moved = LEGACY
        .replace(
            "\"subnet-0a1b2c3d\"",
            "\"subnet-0a1b2c3d\", \"subnet-4e5f6a7b\"",
        )
        .replace("\"1.32\"", "\"1.33\"");
    first
        .write("main.tf", &config(&moto.endpoint(), &moved))
        .unwrap();
    let r = first
        .must(&["apply", "-auto-approve", "-no-color"])
        .unwrap();
    assert!(
        r.stdout.contains("1 added, 0 changed, 1 destroyed"),
        "{}",
        r.text()
    );
    assert_eq!(versions(), "2", "the adopted launch template was deleted");
    let template = moto
        .boto3("print(eks.describe_nodegroup(clusterName='prod', nodegroupName='legacy-br')['nodegroup']['launchTemplate']['name'])")
        .unwrap();
    assert_ne!(template.trim(), "legacy");
    plan_is_empty(&first);
    first
        .must(&["destroy", "-auto-approve", "-no-color"])
        .unwrap();
    assert_eq!(versions(), "2");
}
