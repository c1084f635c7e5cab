//! Rendered documents under independent parsers, and the renderers as users
//! reach them through real Terraform: provider functions, `user_data` and
//! `nested_openshift_profile`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use acceptance::{Workspace, repo_root, terraforms, venv};

const HEADER: &str = concat!("\n", acceptance::required_providers!(), r##""##);

#[test]
fn python_parsers_reread_every_rendered_document() {
    let python = venv().unwrap().join("bin/python");
    let out = std::process::Command::new(python)
        .arg(repo_root().join("acceptance/tools/check_rendered.py"))
        .arg(repo_root().join("provider/tests/golden"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let n: usize = text
        .trim()
        .strip_prefix("checked ")
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(n >= 10, "{text}");
}

#[test]
fn functions_render_and_merge_bottlerocket_toml() {
    for tf in terraforms().unwrap() {
        if !tf.at_least(1, 8) {
            continue;
        }
        let config = format!(
            r##"{HEADER}
output "settings" {{
  value = provider::nested::bottlerocket_settings({{
    kernel = {{ sysctl = {{ "user.max_user_namespaces" = "65536" }} }}
    kubernetes = {{ ids-per-pod = 131072 }}
  }})
}}
output "merged" {{
  value = provider::nested::merge_bottlerocket_toml(
    "# team defaults\n[settings.kubernetes]\nmax-pods = 40 # small nodes\n",
    "[settings.kubernetes]\nmax-pods = 58\n"
  )
}}
output "floor" {{
  value = provider::nested::kernel_floor("landjail")
}}
"##
        );
        let ws = Workspace::new(&tf, &config).unwrap();
        ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
        let out = ws.outputs().unwrap();
        assert_eq!(
            out["settings"]["value"],
            "[settings.kernel.sysctl]\n\"user.max_user_namespaces\" = \"65536\"\n\n[settings.kubernetes]\nids-per-pod = 131072\n"
        );
        assert_eq!(
            out["merged"]["value"],
            "# team defaults\n[settings.kubernetes]\nmax-pods = 58 # small nodes\n"
        );
        assert_eq!(out["floor"]["value"], "6.7");

        ws.write(
            "main.tf",
            &format!(
                r##"{HEADER}
output "bad" {{
  value = provider::nested::merge_bottlerocket_toml("[a]\nb = 1\n", "[a.b]\nc = 2\n")
}}
"##
            ),
        )
        .unwrap();
        let r = ws.run(&["plan", "-no-color"]).unwrap();
        assert_ne!(r.code, 0);
        assert!(r.stderr.contains("a.b"), "{}", r.text());
    }
}

#[test]
fn capability_user_data_is_the_bottlerocket_toml() {
    let tf = &terraforms().unwrap()[0];
    let ws = Workspace::new(
        tf,
        &format!(
            r##"{HEADER}
data "nested_capability" "br" {{
  sandbox            = "nsjail"
  platform           = "eks"
  kubernetes_version = "1.33"
  ami_family         = "bottlerocket"
}}
data "nested_capability" "al" {{
  sandbox            = "podman"
  platform           = "eks"
  kubernetes_version = "1.34"
  ami_family         = "al2023"
  ids_per_pod        = 131072
}}
output "bottlerocket" {{ value = data.nested_capability.br.user_data }}
output "al2023" {{ value = data.nested_capability.al.user_data }}
"##
        ),
    )
    .unwrap();
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let out = ws.outputs().unwrap();
    let golden = |n: &str| {
        std::fs::read_to_string(repo_root().join("provider/tests/golden").join(n)).unwrap()
    };
    assert_eq!(
        out["bottlerocket"]["value"],
        golden("coder-nsjail-bottlerocket.toml")
    );
    assert_eq!(out["al2023"]["value"], golden("podman-al2023.mime"));
}

#[test]
fn openshift_profile_for_podman_on_4_19_and_4_20() {
    let tf = &terraforms().unwrap()[0];
    let ws = Workspace::new(
        tf,
        &format!(
            r##"{HEADER}
data "nested_openshift_profile" "old" {{
  openshift_version = "4.19"
  sandbox           = "podman"
}}
data "nested_openshift_profile" "new" {{
  openshift_version = "4.20"
  sandbox           = "podman"
  dev_spaces        = true
}}
output "old" {{ value = data.nested_openshift_profile.old }}
output "new" {{ value = data.nested_openshift_profile.new }}
"##
        ),
    )
    .unwrap();
    let apply = ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    assert!(
        apply.stdout.contains("CANNOT BE UNDONE"),
        "{}",
        apply.text()
    );
    let out = ws.outputs().unwrap();
    let old = &out["old"]["value"];
    assert_eq!(old["upgrade_blocking"], true);
    assert!(
        old["feature_gate_manifest"]
            .as_str()
            .unwrap()
            .contains("CustomNoUpgrade")
    );
    assert_eq!(
        old["pod_annotations"]["openshift.io/required-scc"],
        "nested-podman"
    );
    let new = &out["new"]["value"];
    assert_eq!(new["upgrade_blocking"], false);
    assert_eq!(new["feature_gate_manifest"], "");
    assert_eq!(
        new["pod_annotations"]["openshift.io/required-scc"],
        "nested-container"
    );
    assert_eq!(
        new["checluster_patch"],
        r#"{"spec":{"devEnvironments":{"disableContainerRunCapabilities":false}}}"#
    );
    let again = ws
        .run(&["plan", "-detailed-exitcode", "-no-color"])
        .unwrap();
    assert_eq!(again.code, 0, "{}", again.text());

    ws.write(
        "main.tf",
        &format!(
            r##"{HEADER}
data "nested_openshift_profile" "x" {{
  openshift_version = "4.16"
  sandbox           = "podman"
}}
"##
        ),
    )
    .unwrap();
    let r = ws.run(&["plan", "-no-color"]).unwrap();
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("4.17 or later"), "{}", r.text());
}
