//! Unit tests of `nested_capability`: what a user sees for given inputs.

use super::*;
use crate::framework::StopToken;
use crate::framework::schema::apply_defaults;

fn config(pairs: &[(&str, &str)]) -> Value {
    let schema = schema();
    let mut attrs: std::collections::BTreeMap<String, Value> = schema
        .block
        .attributes
        .iter()
        .map(|a| (a.name.clone(), Value::Null))
        .collect();
    for (k, v) in pairs {
        attrs.insert((*k).to_string(), Value::string(*v));
    }
    let mut v = Value::Object(attrs);
    apply_defaults(&schema.block.attributes, &mut v);
    v
}

async fn read(pairs: &[(&str, &str)]) -> ReadDataResponse {
    read_config(config(pairs)).await
}

async fn read_config(config: Value) -> ReadDataResponse {
    CapabilityDataSource
        .read(ReadDataRequest {
            config,
            provider: None,
            stop: StopToken::never(),
        })
        .await
}

fn cluster(cidr: &str) -> Value {
    Value::object([
        ("name", Value::string("prod")),
        (
            "api_server_endpoint",
            Value::string("https://ABC.gr7.us-east-1.eks.amazonaws.com"),
        ),
        ("certificate_authority", Value::string("Q0FEQVRB")),
        ("service_cidr", Value::string(cidr)),
        ("dns_ip", Value::Null),
    ])
}

fn text<'a>(s: &'a Value, name: &str) -> &'a str {
    s.attr(name).and_then(Value::as_str).unwrap_or_default()
}

const NSJAIL_BR: &[(&str, &str)] = &[
    ("sandbox", "nsjail"),
    ("platform", "eks"),
    ("kubernetes_version", "1.33"),
    ("ami_family", "bottlerocket"),
];

const PODMAN_AL2023: &[(&str, &str)] = &[
    ("sandbox", "podman"),
    ("platform", "eks"),
    ("kubernetes_version", "1.33"),
    ("ami_family", "al2023"),
];

#[test]
fn the_model_has_exactly_the_schemas_attributes() {
    let s = schema();
    let mut want = crate::framework::model::attribute_names(&s.block.attributes);
    let mut have = CapabilityModel::attribute_names();
    want.sort();
    have.sort();
    assert_eq!(have, want);
}

#[tokio::test]
async fn outputs_for_coder_nsjail_on_bottlerocket() {
    let r = read(&[
        ("sandbox", "nsjail"),
        ("platform", "eks"),
        ("kubernetes_version", "1.33"),
        ("ami_family", "bottlerocket"),
    ])
    .await;
    // 1.33 is in EKS extended support on the tests' day: a warning only.
    assert!(!r.diagnostics.has_errors(), "{:?}", r.diagnostics);
    let s = &r.state;
    assert_eq!(
        s.attr("ami_type"),
        Some(&Value::string("BOTTLEROCKET_x86_64"))
    );
    assert_eq!(s.attr("kernel_version"), Some(&Value::string("6.12")));
    let csc: serde_json::Value = serde_json::from_str(
        s.attr("container_security_context")
            .unwrap()
            .as_str()
            .unwrap(),
    )
    .unwrap();
    // A non-root agent: Boundary's sudo + setpriv re-exec.
    assert_eq!(
        csc["capabilities"]["add"],
        serde_json::json!(["NET_ADMIN", "SETGID", "SETUID", "SYS_ADMIN"])
    );
    assert_eq!(
        s.attr("pod_security_level"),
        Some(&Value::string("privileged"))
    );
    let sysctls = s.attr("sysctls").unwrap().as_entries().unwrap();
    assert_eq!(sysctls["user.max_user_namespaces"], Value::string("65536"));
}

#[tokio::test]
async fn fargate_rejection_is_an_error_at_platform() {
    let r = read(&[("sandbox", "nsjail"), ("platform", "eks_fargate")]).await;
    assert!(r.diagnostics.has_errors());
    assert_eq!(
        r.diagnostics.0[0].path,
        Some(AttributePath::attr("platform"))
    );
    assert!(r.diagnostics.0[0].detail.contains("landjail"));
}

#[tokio::test]
async fn malformed_versions_name_the_attribute() {
    let r = read(&[
        ("sandbox", "nsjail"),
        ("platform", "eks"),
        ("kubernetes_version", "one.thirty"),
    ])
    .await;
    assert_eq!(
        r.diagnostics.0[0].path,
        Some(AttributePath::attr("kubernetes_version"))
    );
    assert!(r.diagnostics.0[0].detail.contains("\"1.33\""));
    let r = read(&[
        ("sandbox", "podman"),
        ("platform", "kubernetes"),
        ("kubernetes_version", "1.33"),
        ("kernel_version", "6.8"),
        ("container_runtime", "docker 24"),
    ])
    .await;
    assert_eq!(
        r.diagnostics.0[0].path,
        Some(AttributePath::attr("container_runtime"))
    );
}

#[tokio::test]
async fn configured_values_come_back_exactly_as_written() {
    let r = read(&[
        ("sandbox", "landjail"),
        ("platform", "kubernetes"),
        ("kubernetes_version", "1.33"),
        ("kernel_version", "6.8.0"),
        ("container_runtime", "containerd 2.1"),
    ])
    .await;
    assert!(!r.diagnostics.has_errors(), "{:?}", r.diagnostics);
    assert_eq!(
        r.state.attr("kernel_version"),
        Some(&Value::string("6.8.0"))
    );
}

#[test]
fn validate_reports_decision_errors_at_plan_time_and_skips_unknowns() {
    let ds = CapabilityDataSource;
    let d = ds.validate(&config(&[
        ("sandbox", "landjail"),
        ("platform", "eks"),
        ("kubernetes_version", "1.31"),
    ]));
    assert!(d.has_errors());
    assert_eq!(d.0[0].path, Some(AttributePath::attr("kubernetes_version")));
    let mut cfg = config(&[("sandbox", "landjail"), ("platform", "eks")]);
    cfg.set_attr("kubernetes_version", Value::unknown());
    assert!(ds.validate(&cfg).is_empty());
}

#[tokio::test]
async fn bottlerocket_settings_are_merged_keeping_the_users_keys() {
    let user = "# ours\n[settings.kubernetes]\nmax-pods = 58\n";
    let mut pairs = NSJAIL_BR.to_vec();
    pairs.push(("bootstrap_extra_settings", user));
    let r = read(&pairs).await;
    assert!(!r.diagnostics.has_errors(), "{:?}", r.diagnostics);
    let ud = text(&r.state, "user_data");
    assert!(ud.contains("# ours"), "{ud}");
    assert!(ud.contains("max-pods = 58"), "{ud}");
    assert!(
        ud.contains("\"user.max_user_namespaces\" = \"65536\""),
        "{ud}"
    );
    // Bottlerocket has no parts.
    assert_eq!(r.state.attr("cloudinit_parts"), Some(&Value::Null));
    assert_eq!(r.state.attr("nodeadm_config"), Some(&Value::Null));
}

#[tokio::test]
async fn a_contradicting_bottlerocket_setting_is_refused_at_the_attribute() {
    let user = "[settings.kernel.sysctl]\n\"user.max_user_namespaces\" = \"0\"\n";
    let mut pairs = NSJAIL_BR.to_vec();
    pairs.push(("bootstrap_extra_settings", user));
    let r = read(&pairs).await;
    let d = r
        .diagnostics
        .0
        .iter()
        .find(|d| d.severity == crate::framework::Severity::Error)
        .unwrap();
    assert_eq!(
        d.path,
        Some(AttributePath::attr("bootstrap_extra_settings"))
    );
    assert!(d.detail.contains("max_user_namespaces"), "{}", d.detail);
    assert_eq!(r.state, Value::Null);
    // validate says so at plan time too.
    let v = CapabilityDataSource.validate(&config(&pairs));
    assert_eq!(
        v.0[0].path,
        Some(AttributePath::attr("bootstrap_extra_settings"))
    );
}

#[tokio::test]
async fn al2023_outputs_the_document_and_its_parts() {
    let user = "#!/bin/bash\necho mine\n";
    let mut pairs = PODMAN_AL2023.to_vec();
    pairs.push(("bootstrap_extra_settings", user));
    let mut cfg = config(&pairs);
    cfg.set_attr("ids_per_pod", Value::int(131_072));
    let r = read_config(cfg).await;
    assert!(!r.diagnostics.has_errors(), "{:?}", r.diagnostics);
    let s = &r.state;
    let ud = text(s, "user_data");
    assert!(ud.starts_with("MIME-Version: 1.0"), "{ud}");
    let parts = s.attr("cloudinit_parts").unwrap().as_elements().unwrap();
    let types: Vec<&str> = parts.iter().map(|p| text(p, "content_type")).collect();
    assert_eq!(parts.len(), 2, "{types:?}");
    assert!(text(&parts[0], "content").contains("echo mine"));
    assert_eq!(types[1], "application/node.eks.aws");
    let nc = text(s, "nodeadm_config");
    assert!(nc.contains("NodeConfig"), "{nc}");
    assert!(nc.contains("idsPerPod: 131072"), "{nc}");
    // A bare NodeConfig is read back as one nodeadm part.
    let parts_again = crate::render::al2023::parse(nc).unwrap();
    assert_eq!(parts_again[0].content_type, "application/node.eks.aws");
    assert_eq!(text(&parts[1], "content"), nc);
    assert!(
        !nc.contains("cluster:"),
        "no cluster keys unless asked: {nc}"
    );
    // AL2023 enables user namespaces already: no sysctl script.
    assert_eq!(s.attr("sysctl_script"), Some(&Value::Null));
}

#[tokio::test]
async fn a_sysctl_the_node_needs_on_al2023_is_its_own_script() {
    let mut cfg = config(&[
        ("sandbox", "landjail"),
        ("platform", "eks"),
        ("kubernetes_version", "1.33"),
        ("ami_family", "al2023"),
    ]);
    cfg.set_attr("user_namespaces", Value::Bool(false));
    let r = read_config(cfg).await;
    assert!(!r.diagnostics.has_errors(), "{:?}", r.diagnostics);
    let script = text(&r.state, "sysctl_script");
    assert!(script.starts_with("#!/bin/bash"), "{script}");
    assert!(script.contains("user.max_user_namespaces = 0"), "{script}");
}

#[tokio::test]
async fn cluster_keys_are_opt_in_for_a_custom_ami() {
    let mut cfg = config(PODMAN_AL2023);
    cfg.set_attr("cluster", cluster("10.100.0.0/16"));
    let r = read_config(cfg).await;
    assert!(!r.diagnostics.has_errors(), "{:?}", r.diagnostics);
    let nc = text(&r.state, "nodeadm_config");
    for key in [
        "name: \"prod\"",
        "apiServerEndpoint: \"https://ABC.gr7.us-east-1.eks.amazonaws.com\"",
        "certificateAuthority: \"Q0FEQVRB\"",
        "cidr: \"10.100.0.0/16\"",
        "- \"--node-labels=sandbox.nested.dev/podman=true\"",
    ] {
        assert!(nc.contains(key), "{key} in {nc}");
    }
    let mut cfg = config(NSJAIL_BR);
    cfg.set_attr("cluster", cluster("10.100.0.0/16"));
    let r = read_config(cfg).await;
    let ud = text(&r.state, "user_data");
    assert!(ud.contains("cluster-name = \"prod\""), "{ud}");
    assert!(ud.contains("sandbox.nested.dev/nsjail"), "{ud}");
}

#[tokio::test]
async fn a_bad_cluster_key_is_an_error_at_its_attribute() {
    let mut cfg = config(PODMAN_AL2023);
    cfg.set_attr("cluster", cluster("10.100.0.0"));
    let r = read_config(cfg).await;
    let errors: Vec<_> = r
        .diagnostics
        .0
        .iter()
        .filter(|d| d.severity == crate::framework::Severity::Error)
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0].path,
        Some(AttributePath::attr("cluster").then_attr("service_cidr"))
    );
}

#[tokio::test]
async fn settings_on_a_platform_without_user_data_are_refused() {
    let r = read(&[
        ("sandbox", "landjail"),
        ("platform", "eks_fargate"),
        ("bootstrap_extra_settings", "[settings]\n"),
    ])
    .await;
    assert!(
        r.diagnostics
            .0
            .iter()
            .any(|d| d.severity == crate::framework::Severity::Error
                && d.path == Some(AttributePath::attr("bootstrap_extra_settings")))
    );
}

#[tokio::test]
async fn security_contexts_and_devices_as_objects() {
    let r = read(PODMAN_AL2023).await;
    assert!(!r.diagnostics.has_errors(), "{:?}", r.diagnostics);
    let s = &r.state;
    let csc = s.attr("container_security_context_object").unwrap();
    assert_eq!(csc.attr("procMount"), Some(&Value::string("Unmasked")));
    assert_eq!(csc.attr("privileged"), Some(&Value::Bool(false)));
    let add = csc
        .attr("capabilities")
        .and_then(|c| c.attr("add"))
        .and_then(Value::as_elements)
        .unwrap();
    assert!(add.contains(&Value::string("SETUID")), "{add:?}");
    assert_eq!(
        s.attr("pod_spec_object").and_then(|p| p.attr("hostUsers")),
        Some(&Value::Bool(false))
    );
    assert_eq!(
        s.attr("devices"),
        Some(&Value::List(vec![Value::string("/dev/net/tun")]))
    );
    // The JSON strings say the same.
    let json: serde_json::Value =
        serde_json::from_str(text(s, "container_security_context")).unwrap();
    assert_eq!(json["procMount"], "Unmasked");
}

#[tokio::test]
async fn a_contradicting_nodeconfig_is_refused_at_the_attribute() {
    let user = "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    config:\n      userNamespaces:\n        idsPerPod: 65536\n";
    let mut pairs = PODMAN_AL2023.to_vec();
    pairs.push(("bootstrap_extra_settings", user));
    let mut cfg = config(&pairs);
    cfg.set_attr("ids_per_pod", Value::int(131_072));
    let r = read_config(cfg).await;
    let d = r
        .diagnostics
        .0
        .iter()
        .find(|d| d.severity == crate::framework::Severity::Error)
        .unwrap();
    assert_eq!(
        d.path,
        Some(AttributePath::attr("bootstrap_extra_settings"))
    );
    assert!(
        d.detail
            .contains("sets userNamespaces.idsPerPod to 65536, but the sandbox needs 131072"),
        "{}",
        d.detail
    );
}

#[tokio::test]
async fn a_base64_part_keeps_its_encoding_and_cloudinit_parts_carry_its_text() {
    let user = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"u\"\n\n--u\nContent-Type: text/x-shellscript; charset=\"utf-8\"\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=\"mine.sh\"\nX-Merge-Type: list(append)+dict(recurse_array)\n\nIyEvYmluL3NoCmVjaG8gbWluZQo=\n--u--\n";
    let mut pairs = PODMAN_AL2023.to_vec();
    pairs.push(("bootstrap_extra_settings", user));
    let mut cfg = config(&pairs);
    cfg.set_attr("ids_per_pod", Value::int(131_072));
    let r = read_config(cfg).await;
    assert!(
        r.diagnostics
            .0
            .iter()
            .all(|d| d.path != Some(AttributePath::attr("bootstrap_extra_settings"))),
        "{:?}",
        r.diagnostics
    );
    let ud = text(&r.state, "user_data");
    assert!(
        ud.contains("Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=\"mine.sh\"\n"),
        "{ud}"
    );
    let parts = r
        .state
        .attr("cloudinit_parts")
        .unwrap()
        .as_elements()
        .unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(text(&parts[0], "content"), "#!/bin/sh\necho mine\n");
    assert_eq!(text(&parts[0], "filename"), "mine.sh");
    assert_eq!(
        text(&parts[0], "merge_type"),
        "list(append)+dict(recurse_array)"
    );
    assert_eq!(parts[1].attr("filename"), Some(&Value::Null));
}

#[tokio::test]
async fn a_binary_part_leaves_cloudinit_parts_null_with_a_warning() {
    // gzip magic, base64-encoded.
    let user = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"u\"\n\n--u\nContent-Type: application/x-gzip\nContent-Transfer-Encoding: base64\n\nH4sIAAAAAAAAA0tMTgYAo9ULHgMAAAA=\n--u--\n";
    let mut pairs = PODMAN_AL2023.to_vec();
    pairs.push(("bootstrap_extra_settings", user));
    let mut cfg = config(&pairs);
    cfg.set_attr("ids_per_pod", Value::int(131_072));
    let r = read_config(cfg).await;
    assert!(!r.diagnostics.has_errors(), "{:?}", r.diagnostics);
    assert_eq!(r.state.attr("cloudinit_parts"), Some(&Value::Null));
    let w: Vec<&str> = r.diagnostics.0.iter().map(|d| d.detail.as_str()).collect();
    assert!(
        w.iter()
            .any(|d| d.contains("is binary") && d.contains("use user_data")),
        "{w:?}"
    );
    // The document itself keeps the part; the check says it cannot read it.
    assert!(text(&r.state, "user_data").contains("H4sIAAAAAAAAA0tMTgYAo9ULHgMAAAA="));
    assert!(w.iter().any(|d| d.contains("gzip-compressed")), "{w:?}");
}
