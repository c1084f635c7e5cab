//! GKE and AKS through real Terraform: every sandbox on every node image
//! the provider knows for GKE Standard, GKE Autopilot and AKS (Kubernetes
//! 1.34) plans with the answer its sources give — the expected values are
//! written here from those sources (COS and AKS node image notes, GKE's and
//! AKS's documents), not from the provider's data — and every refusal names
//! the attribute at fault and the fix. The example plans and shows the node
//! pool outputs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use acceptance::{Workspace, repo_root, terraforms};

/// What a combination gets.
#[derive(Clone, Copy)]
enum Expect {
    /// Plans; the output checks below say what it carries.
    Runs,
    /// Refused at `attr` with a message containing each of `says`.
    Refused {
        attr: &'static str,
        says: &'static [&'static str],
    },
}

use Expect::{Refused, Runs};

/// (platform, node image setting, image, sandbox, expected), on 1.34.
const CASES: &[(&str, &str, &str, &str, Expect)] = &[
    // GKE 1.34 runs cos-125: COS-6.12.55, containerd 2.1.3; GKE Standard
    // applies no seccomp profile by default.
    ("gke", "image_type", "COS_CONTAINERD", "nsjail", Runs),
    ("gke", "image_type", "COS_CONTAINERD", "landjail", Runs),
    ("gke", "image_type", "COS_CONTAINERD", "bubblewrap", Runs),
    ("gke", "image_type", "COS_CONTAINERD", "podman", Runs),
    // Autopilot: capability allowlist without SYS_ADMIN; Baseline policy
    // (no Unconfined seccomp) over RuntimeDefault, which stops namespace
    // creation without SYS_ADMIN.
    (
        "gke_autopilot",
        "image_type",
        "COS_CONTAINERD",
        "nsjail",
        Refused {
            attr: "platform",
            says: &["nsjail cannot run on GKE Autopilot", "SYS_ADMIN"],
        },
    ),
    (
        "gke_autopilot",
        "image_type",
        "COS_CONTAINERD",
        "landjail",
        Runs,
    ),
    (
        "gke_autopilot",
        "image_type",
        "COS_CONTAINERD",
        "bubblewrap",
        Refused {
            attr: "platform",
            says: &["does not admit seccompProfile Unconfined"],
        },
    ),
    (
        "gke_autopilot",
        "image_type",
        "COS_CONTAINERD",
        "podman",
        Refused {
            attr: "platform",
            says: &["does not admit seccompProfile Unconfined"],
        },
    ),
    // Azure Linux 3 (kernel 6.6.143.1-1.azl3, containerd 2.0 on 1.34).
    ("aks", "os_sku", "AzureLinux", "nsjail", Runs),
    (
        "aks",
        "os_sku",
        "AzureLinux",
        "landjail",
        Refused {
            attr: "os_sku",
            says: &["Linux 6.6", "os_sku \"Ubuntu2404\""],
        },
    ),
    ("aks", "os_sku", "AzureLinux", "bubblewrap", Runs),
    ("aks", "os_sku", "AzureLinux", "podman", Runs),
    ("aks", "os_sku", "AzureLinux3", "bubblewrap", Runs),
    (
        "aks",
        "os_sku",
        "AzureLinux3",
        "landjail",
        Refused {
            attr: "os_sku",
            says: &["Linux 6.6"],
        },
    ),
    // Ubuntu 22.04 (5.15.0-1116-azure, containerd 1.7), the "Ubuntu" SKU up
    // to 1.34.
    ("aks", "os_sku", "Ubuntu2204", "nsjail", Runs),
    (
        "aks",
        "os_sku",
        "Ubuntu2204",
        "landjail",
        Refused {
            attr: "os_sku",
            says: &["Linux 5.15"],
        },
    ),
    (
        "aks",
        "os_sku",
        "Ubuntu2204",
        "bubblewrap",
        Refused {
            attr: "os_sku",
            says: &["containerd 1.7", "os_sku \"AzureLinux\""],
        },
    ),
    (
        "aks",
        "os_sku",
        "Ubuntu",
        "podman",
        Refused {
            attr: "os_sku",
            says: &["containerd 1.7"],
        },
    ),
    ("aks", "os_sku", "Ubuntu", "nsjail", Runs),
    // Ubuntu 24.04 (6.8.0-1059-azure, containerd 2.0).
    ("aks", "os_sku", "Ubuntu2404", "nsjail", Runs),
    ("aks", "os_sku", "Ubuntu2404", "landjail", Runs),
    ("aks", "os_sku", "Ubuntu2404", "bubblewrap", Runs),
    ("aks", "os_sku", "Ubuntu2404", "podman", Runs),
];

fn data_source(name: &str, platform: &str, setting: &str, image: &str, sandbox: &str) -> String {
    format!(
        r#"
data "nested_capability" "{name}" {{
  sandbox            = "{sandbox}"
  platform           = "{platform}"
  kubernetes_version = "1.34"
  {setting} = "{image}"
}}

output "{name}" {{
  value = data.nested_capability.{name}
}}
"#
    )
}

fn header() -> String {
    format!("{}\n", acceptance::required_providers!())
}

fn name_of(platform: &str, image: &str, sandbox: &str) -> String {
    format!("{platform}_{}_{sandbox}", image.to_ascii_lowercase())
}

#[test]
fn every_sandbox_on_every_gke_and_aks_node_image_plans_with_its_answer() {
    let tf = &terraforms().unwrap()[0];
    // Everything that runs, in one configuration.
    let mut config = header();
    for (platform, setting, image, sandbox, expect) in CASES {
        if matches!(expect, Runs) {
            config.push_str(&data_source(
                &name_of(platform, image, sandbox),
                platform,
                setting,
                image,
                sandbox,
            ));
        }
    }
    let ws = Workspace::new(tf, &config).unwrap();
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let out = ws.outputs().unwrap();
    let get = |platform: &str, image: &str, sandbox: &str| {
        out[name_of(platform, image, sandbox)]["value"].clone()
    };
    for (platform, _, image, sandbox, expect) in CASES {
        if !matches!(expect, Runs) {
            continue;
        }
        let v = get(platform, image, sandbox);
        // The node image's row is a reason, with its sources.
        let reasons = v["reasons"].to_string();
        let canonical = if *image == "AzureLinux3" {
            "AzureLinux"
        } else {
            image
        };
        assert!(
            reasons.contains(&format!("node image {canonical} ("))
                || reasons.contains(&format!("node image {image} (")),
            "{platform} {image} {sandbox}: {reasons}"
        );
        if platform.starts_with("gke") {
            assert_eq!(v["gke_node_pool"]["image_type"], "COS_CONTAINERD");
            assert_eq!(v["aks_node_pool"], serde_json::Value::Null);
            assert_eq!(v["kernel_version"], "6.12", "cos-125");
        } else {
            assert_eq!(v["aks_node_pool"]["os_sku"], *image);
            assert_eq!(v["os_sku"], *image);
            assert_eq!(v["gke_node_pool"], serde_json::Value::Null);
        }
    }
    // GKE Standard: no seccomp profile by default, so bubblewrap's pod names
    // none; pod user namespaces from 1.33 (containerd 2.0).
    let bwrap = get("gke", "COS_CONTAINERD", "bubblewrap");
    assert_eq!(bwrap["pod_spec_object"]["hostUsers"], false);
    assert_eq!(
        bwrap["container_security_context_object"].get("seccompProfile"),
        None
    );
    assert_eq!(bwrap["gke_node_pool"]["min_kubernetes_version"], "1.33");
    assert_eq!(
        bwrap["gke_node_pool"]["labels"]["sandbox.nested.dev/bubblewrap"],
        "true"
    );
    // landjail on GKE: Linux ≥ 6.7 from cos-125 (GKE 1.34); Landlock in
    // COS's LSM list is stated nowhere, so a warning says to check.
    let landjail = get("gke", "COS_CONTAINERD", "landjail");
    assert_eq!(landjail["gke_node_pool"]["min_kubernetes_version"], "1.34");
    assert!(
        landjail["warnings"]
            .to_string()
            .contains("Landlock support unknown")
    );
    // Autopilot runs every pod under RuntimeDefault: landjail names it and
    // meets restricted.
    let auto = get("gke_autopilot", "COS_CONTAINERD", "landjail");
    assert_eq!(
        auto["container_security_context_object"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    assert_eq!(auto["pod_security_level"], "restricted");
    // Ubuntu 24.04: containerd's default AppArmor profile denies mount, and
    // the unprivileged-userns restriction stops an unconfined bwrap: the
    // container names Unconfined, the node-prep DaemonSet sets the sysctl
    // to 0 and removes the pool's startup taint.
    let ubuntu = get("aks", "Ubuntu2404", "bubblewrap");
    assert_eq!(
        ubuntu["container_security_context_object"]["appArmorProfile"]["type"],
        "Unconfined"
    );
    assert_eq!(
        ubuntu["sysctls"]["kernel.apparmor_restrict_unprivileged_userns"],
        "0"
    );
    assert_eq!(
        ubuntu["aks_node_pool"]["node_taints"],
        serde_json::json!(["nested.dev/user-namespaces-pending=true:NoSchedule"])
    );
    let prep = ubuntu["node_prep_manifest"].as_str().unwrap();
    let docs: Vec<serde_json::Value> = prep
        .split("---\n")
        .map(|d| acceptance::yaml_to_json(d).unwrap())
        .collect();
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "DaemonSet"
        ]
    );
    let ds = &docs[3];
    let spec = &ds["spec"]["template"]["spec"];
    assert_eq!(
        spec["nodeSelector"]["sandbox.nested.dev/bubblewrap"],
        "true"
    );
    assert_eq!(spec["containers"][0]["securityContext"]["privileged"], true);
    let script = spec["containers"][0]["command"][2].as_str().unwrap();
    assert!(
        script.contains("echo 0 > /proc/sys/kernel/apparmor_restrict_unprivileged_userns"),
        "{script}"
    );
    assert!(
        script.contains("nested.dev/user-namespaces-pending:NoSchedule-"),
        "{script}"
    );
    assert!(
        ubuntu["warnings"]
            .to_string()
            .contains("privileged DaemonSet")
    );
    // Azure Linux: no such restriction, no DaemonSet, no taint.
    let azl = get("aks", "AzureLinux", "bubblewrap");
    assert_eq!(azl["node_prep_manifest"], serde_json::Value::Null);
    assert_eq!(azl["aks_node_pool"]["node_taints"], serde_json::json!([]));
    assert_eq!(azl["aks_node_pool"]["min_orchestrator_version"], "1.33");
    // A second plan changes nothing.
    let again = ws
        .run(&["plan", "-detailed-exitcode", "-no-color"])
        .unwrap();
    assert_eq!(again.code, 0, "{}", again.text());

    // Each refusal on its own, at its attribute.
    for (platform, setting, image, sandbox, expect) in CASES {
        let Refused { attr, says } = expect else {
            continue;
        };
        let config = header()
            + &data_source(
                &name_of(platform, image, sandbox),
                platform,
                setting,
                image,
                sandbox,
            );
        let ws = Workspace::new(tf, &config).unwrap();
        let r = ws.run(&["plan", "-no-color"]).unwrap();
        assert_ne!(
            r.code,
            0,
            "{platform} {image} {sandbox} planned:\n{}",
            r.text()
        );
        let text = r.flat();
        for s in *says {
            assert!(
                text.contains(s),
                "{platform} {image} {sandbox}: {s:?} missing in {text}"
            );
        }
        assert!(
            r.quotes_line_of(attr),
            "{platform} {image} {sandbox}: not at {attr}:\n{}",
            r.stderr
        );
    }
}

#[test]
fn a_node_image_setting_of_the_other_cloud_is_refused_at_its_attribute() {
    let tf = &terraforms().unwrap()[0];
    let config = header()
        + r#"
data "nested_capability" "x" {
  sandbox            = "nsjail"
  platform           = "aks"
  kubernetes_version = "1.34"
  image_type         = "COS_CONTAINERD"
}
"#;
    let ws = Workspace::new(tf, &config).unwrap();
    let r = ws.run(&["plan", "-no-color"]).unwrap();
    assert_ne!(r.code, 0, "{}", r.text());
    let text = r.flat();
    assert!(
        text.contains("image_type needs platform \"gke\" or \"gke_autopilot\""),
        "{text}"
    );
    assert!(r.quotes_line_of("image_type"), "{}", r.stderr);
}

#[test]
fn the_gke_and_aks_example_plans_and_shows_the_node_pools() {
    let tf = &terraforms().unwrap()[0];
    let ws = Workspace::from_example(tf, &repo_root().join("examples/gke-aks-node-pools")).unwrap();
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let out = ws.outputs().unwrap();
    assert_eq!(
        out["gke_node_pool"]["value"]["image_type"],
        "COS_CONTAINERD"
    );
    assert_eq!(
        out["gke_node_pool"]["value"]["min_kubernetes_version"],
        "1.34"
    );
    assert_eq!(out["aks_node_pool"]["value"]["os_sku"], "Ubuntu2404");
    assert!(
        out["aks_node_prep_manifest"]["value"]
            .as_str()
            .unwrap()
            .contains("kind: \"DaemonSet\"")
    );
    assert_eq!(
        out["azure_linux_node_pool"]["value"]["node_taints"],
        serde_json::json!([])
    );
}
