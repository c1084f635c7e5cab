//! Unit tests of `nested_karpenter_pool`: what a user sees for given inputs.

use super::*;
use crate::framework::schema::apply_defaults;
use crate::framework::{Number, StopToken};

fn config(pairs: &[(&str, Value)]) -> Value {
    let schema = schema();
    let mut attrs: std::collections::BTreeMap<String, Value> = schema
        .block
        .attributes
        .iter()
        .map(|a| (a.name.clone(), Value::Null))
        .collect();
    let tags = Value::Map([("karpenter.sh/discovery".to_string(), Value::string("demo"))].into());
    for (k, v) in [
        ("cluster_name", Value::string("demo")),
        ("kubernetes_version", Value::string("1.33")),
        ("role", Value::string("KarpenterNodeRole-demo")),
        ("subnet_selector_tags", tags.clone()),
        ("security_group_selector_tags", tags),
    ] {
        attrs.insert(k.to_string(), v);
    }
    for (k, v) in pairs {
        attrs.insert((*k).to_string(), v.clone());
    }
    let mut v = Value::Object(attrs);
    apply_defaults(&schema.block.attributes, &mut v);
    v
}

fn s(v: &str) -> Value {
    Value::string(v)
}

async fn read(pairs: &[(&str, Value)]) -> ReadDataResponse {
    KarpenterPoolDataSource
        .read(ReadDataRequest {
            config: config(pairs),
            provider: None,
            stop: StopToken::never(),
        })
        .await
}

fn text<'a>(st: &'a Value, name: &str) -> &'a str {
    st.attr(name).and_then(Value::as_str).unwrap_or_default()
}

fn error_at(r: &ReadDataResponse, attr: &str) -> String {
    let d = r
        .diagnostics
        .0
        .iter()
        .find(|d| d.severity == Severity::Error)
        .unwrap_or_else(|| panic!("no error: {:?}", r.diagnostics));
    assert_eq!(
        d.path,
        Some(crate::framework::AttributePath::attr(attr)),
        "{d:?}"
    );
    format!("{} {}", d.summary, d.detail)
}

#[test]
fn the_model_has_exactly_the_schemas_attributes() {
    let sc = schema();
    let mut want = crate::framework::model::attribute_names(&sc.block.attributes);
    let mut have = PoolModel::attribute_names();
    want.sort();
    have.sort();
    assert_eq!(have, want);
}

#[tokio::test]
async fn karpenter_bottlerocket_nsjail_renders_the_sysctl_and_a_node_class() {
    let r = read(&[("sandbox", s("nsjail")), ("mode", s("karpenter"))]).await;
    assert!(!r.diagnostics.has_errors(), "{:?}", r.diagnostics);
    let nc = text(&r.state, "node_class_manifest");
    assert!(nc.contains("kind: \"EC2NodeClass\""), "{nc}");
    assert!(nc.contains("alias: \"bottlerocket@latest\""), "{nc}");
    let ud = text(&r.state, "user_data");
    assert!(ud.contains("\"user.max_user_namespaces\""), "{ud}");
    let merged = text(&r.state, "karpenter_merged_user_data");
    assert!(merged.contains("cluster-name = \"demo\""), "{merged}");
    assert!(text(&r.state, "probe_manifest").contains("karpenter.sh/nodepool"));
}

#[tokio::test]
async fn a_taint_in_the_users_toml_is_refused_at_bootstrap_extra_settings() {
    let r = read(&[
        ("sandbox", s("nsjail")),
        ("mode", s("karpenter")),
        (
            "bootstrap_extra_settings",
            s("[settings.kubernetes.node-taints]\ndedicated = [\"agents:NoSchedule\"]\n"),
        ),
    ])
    .await;
    let e = error_at(&r, "bootstrap_extra_settings");
    assert!(e.contains("taints"), "{e}");
}

#[tokio::test]
async fn ids_per_pod_on_a_karpenter_that_drops_it_is_refused_at_karpenter_version() {
    let ids = Value::Number(Number::Int(131072));
    let r = read(&[
        ("sandbox", s("podman")),
        ("mode", s("karpenter")),
        ("ids_per_pod", ids.clone()),
        ("karpenter_version", s("1.8.3")),
    ])
    .await;
    let e = error_at(&r, "karpenter_version");
    assert!(e.contains("1.9.0"), "{e}");
    let ok = read(&[
        ("sandbox", s("podman")),
        ("mode", s("karpenter")),
        ("ids_per_pod", ids),
        ("karpenter_version", s("1.9.0")),
    ])
    .await;
    assert!(!ok.diagnostics.has_errors(), "{:?}", ok.diagnostics);
    assert!(text(&ok.state, "karpenter_merged_user_data").contains("ids-per-pod = 131072"));
}

#[tokio::test]
async fn an_alias_below_the_kernel_floor_is_refused_at_ami_version() {
    let r = read(&[
        ("sandbox", s("landjail")),
        ("mode", s("karpenter")),
        ("ami_family", s("al2023")),
        ("ami_version", s("v20250715")),
    ])
    .await;
    let e = error_at(&r, "ami_version");
    assert!(e.contains("6.1") && e.contains("6.7"), "{e}");
    let ok = read(&[
        ("sandbox", s("landjail")),
        ("mode", s("karpenter")),
        ("ami_family", s("al2023")),
        ("ami_version", s("v20251120")),
    ])
    .await;
    assert!(!ok.diagnostics.has_errors(), "{:?}", ok.diagnostics);
}

#[tokio::test]
async fn auto_mode_refuses_bubblewrap_and_podman_unless_opted_in() {
    for sandbox in ["bubblewrap", "podman"] {
        let r = read(&[("sandbox", s(sandbox)), ("mode", s("auto_mode"))]).await;
        let e = error_at(&r, "mode");
        assert!(e.contains("max_user_namespaces"), "{e}");
        let ok = read(&[
            ("sandbox", s(sandbox)),
            ("mode", s("auto_mode")),
            ("allow_privileged_sysctl_daemonset", Value::Bool(true)),
        ])
        .await;
        assert!(!ok.diagnostics.has_errors(), "{:?}", ok.diagnostics);
        let ds = text(&ok.state, "sysctl_daemonset_manifest");
        assert!(ds.contains("privileged: true"), "{ds}");
        assert!(text(&ok.state, "node_pool_manifest").contains("startupTaints"));
    }
}

#[tokio::test]
async fn auto_mode_runs_nsjail_without_a_user_namespace_and_takes_no_user_data() {
    let r = read(&[("sandbox", s("nsjail")), ("mode", s("auto_mode"))]).await;
    assert!(!r.diagnostics.has_errors(), "{:?}", r.diagnostics);
    assert!(r.state.attr("user_data").is_some_and(Value::is_null));
    assert!(
        r.state
            .attr("sysctl_daemonset_manifest")
            .is_some_and(Value::is_null)
    );
    let args = format!("{:?}", r.state.attr("runtime_args"));
    assert!(args.contains("--no-user-namespace"), "{args}");
    assert!(text(&r.state, "container_security_context").contains("SYS_ADMIN"));
    assert!(text(&r.state, "node_class_manifest").contains("eks.amazonaws.com/v1"));
    let bad = read(&[
        ("sandbox", s("nsjail")),
        ("mode", s("auto_mode")),
        ("bootstrap_extra_settings", s("[settings.kernel]\n")),
    ])
    .await;
    error_at(&bad, "bootstrap_extra_settings");
}

#[tokio::test]
async fn auto_mode_landjail_follows_the_kernel() {
    let old = read(&[
        ("sandbox", s("landjail")),
        ("mode", s("auto_mode")),
        ("kubernetes_version", s("1.32")),
    ])
    .await;
    assert!(old.diagnostics.has_errors(), "{:?}", old.diagnostics);
    let new = read(&[("sandbox", s("landjail")), ("mode", s("auto_mode"))]).await;
    assert!(!new.diagnostics.has_errors(), "{:?}", new.diagnostics);
    assert_eq!(text(&new.state, "pod_security_level"), "restricted");
}

#[tokio::test]
async fn auto_mode_expire_after_is_capped_at_21_days() {
    let r = read(&[
        ("sandbox", s("nsjail")),
        ("mode", s("auto_mode")),
        ("expire_after", s("720h")),
    ])
    .await;
    let e = error_at(&r, "expire_after");
    assert!(e.contains("504h"), "{e}");
}

#[tokio::test]
async fn durations_and_budgets_karpenter_refuses_are_refused_at_their_attribute() {
    let r = read(&[
        ("sandbox", s("nsjail")),
        ("mode", s("karpenter")),
        ("expire_after", s("1.5h")),
    ])
    .await;
    assert!(error_at(&r, "expire_after").contains("Karpenter duration"));
    let never = read(&[
        ("sandbox", s("nsjail")),
        ("mode", s("karpenter")),
        ("expire_after", s("Never")),
    ])
    .await;
    assert!(!never.diagnostics.has_errors(), "{:?}", never.diagnostics);
    let d = Value::object([
        ("consolidation_policy", Value::Null),
        ("consolidate_after", Value::Null),
        ("budget_nodes", s("150%")),
    ]);
    let r = read(&[
        ("sandbox", s("nsjail")),
        ("mode", s("karpenter")),
        ("disruption", d),
    ])
    .await;
    let e = r
        .diagnostics
        .0
        .iter()
        .find(|d| d.severity == Severity::Error)
        .unwrap();
    assert_eq!(
        e.path,
        Some(crate::framework::AttributePath::attr("disruption").then_attr("budget_nodes"))
    );
}

#[tokio::test]
async fn a_bottlerocket_release_without_ids_per_pod_is_refused_at_ami_version() {
    let ids = Value::Number(Number::Int(131072));
    let r = read(&[
        ("sandbox", s("podman")),
        ("mode", s("karpenter")),
        ("ids_per_pod", ids.clone()),
        ("ami_version", s("v1.50.0")),
    ])
    .await;
    let e = error_at(&r, "ami_version");
    assert!(e.contains("1.51"), "{e}");
    let bad = read(&[
        ("sandbox", s("podman")),
        ("mode", s("karpenter")),
        ("ami_version", s("1.52")),
    ])
    .await;
    error_at(&bad, "ami_version");
}

#[tokio::test]
async fn landjail_on_an_auto_mode_kernel_without_landlock_abi_4_is_refused_at_kubernetes_version() {
    let r = read(&[
        ("sandbox", s("landjail")),
        ("mode", s("auto_mode")),
        ("kubernetes_version", s("1.32")),
    ])
    .await;
    let e = error_at(&r, "kubernetes_version");
    assert!(e.contains("6.7"), "{e}");
}

#[tokio::test]
async fn user_toml_that_closes_user_namespaces_is_refused_at_bootstrap_extra_settings() {
    let r = read(&[
        ("sandbox", s("podman")),
        ("mode", s("karpenter")),
        (
            "bootstrap_extra_settings",
            s("[settings.kernel.sysctl]\n\"user.max_user_namespaces\" = \"0\"\n"),
        ),
    ])
    .await;
    let e = error_at(&r, "bootstrap_extra_settings");
    assert!(e.contains("max_user_namespaces"), "{e}");
}

#[tokio::test]
async fn a_dropped_user_key_is_a_warning_that_names_it() {
    let r = read(&[
        ("sandbox", s("nsjail")),
        ("mode", s("karpenter")),
        ("karpenter_version", s("1.5.0")),
        (
            "bootstrap_extra_settings",
            s("[settings.kubernetes]\nlog-level = 4\n"),
        ),
    ])
    .await;
    assert!(!r.diagnostics.has_errors(), "{:?}", r.diagnostics);
    let w = format!("{:?}", r.state.attr("warnings"));
    assert!(
        w.contains("settings.kubernetes.log-level") && w.contains("1.9.0"),
        "{w}"
    );
    assert!(!text(&r.state, "karpenter_merged_user_data").contains("log-level"));
}

#[tokio::test]
async fn the_privileged_daemonset_and_a_moving_alias_are_warnings_at_their_attribute() {
    let r = read(&[
        ("sandbox", s("podman")),
        ("mode", s("auto_mode")),
        ("allow_privileged_sysctl_daemonset", Value::Bool(true)),
    ])
    .await;
    assert!(
        r.diagnostics
            .0
            .iter()
            .any(|d| d.severity == Severity::Warning
                && d.path
                    == Some(crate::framework::AttributePath::attr(
                        "allow_privileged_sysctl_daemonset"
                    )))
    );
    let r = read(&[("sandbox", s("nsjail")), ("mode", s("karpenter"))]).await;
    assert!(
        r.diagnostics
            .0
            .iter()
            .any(|d| d.severity == Severity::Warning
                && d.path == Some(crate::framework::AttributePath::attr("ami_version")))
    );
}

#[tokio::test]
async fn an_empty_selector_tag_value_or_key_is_refused_at_that_tag() {
    for (attr, key) in [
        ("subnet_selector_tags", "k"),
        ("security_group_selector_tags", "k"),
        ("subnet_selector_tags", ""),
    ] {
        let tags = Value::Map([(key.to_string(), s(if key.is_empty() { "v" } else { "" }))].into());
        let r = read(&[
            ("sandbox", s("nsjail")),
            ("mode", s("karpenter")),
            (attr, tags),
        ])
        .await;
        let d = r
            .diagnostics
            .0
            .iter()
            .find(|d| d.severity == Severity::Error)
            .unwrap_or_else(|| panic!("{attr}[{key:?}] accepted: {:?}", r.diagnostics));
        assert_eq!(
            d.path,
            Some(crate::framework::AttributePath::attr(attr).then_key(key)),
            "{d:?}"
        );
        assert!(
            d.detail
                .contains("empty tag keys or values aren't supported"),
            "{d:?}"
        );
        if key.is_empty() {
            assert_eq!(d.summary, "Empty selector tag key", "{d:?}");
        } else {
            assert_eq!(d.summary, "Empty selector tag value", "{d:?}");
            assert!(
                d.detail.contains("\"*\" to select by the key alone"),
                "{d:?}"
            );
        }
    }
    // "*" is Karpenter's any-value selector: accepted.
    let any = Value::Map([("k".to_string(), s("*"))].into());
    let r = read(&[
        ("sandbox", s("nsjail")),
        ("mode", s("karpenter")),
        ("subnet_selector_tags", any),
    ])
    .await;
    assert!(!r.diagnostics.has_errors(), "{:?}", r.diagnostics);
}

#[tokio::test]
async fn a_version_without_images_is_blamed_on_kubernetes_version_with_or_without_a_family() {
    for family in [None, Some("al2023")] {
        let mut pairs = vec![
            ("sandbox", s("nsjail")),
            ("mode", s("karpenter")),
            ("kubernetes_version", s("1.99")),
        ];
        if let Some(f) = family {
            pairs.push(("ami_family", s(f)));
        }
        let r = read(&pairs).await;
        let e = error_at(&r, "kubernetes_version");
        assert!(e.contains("Kubernetes 1.99"), "{e}");
    }
}

#[tokio::test]
async fn karpenter_rows_refuse_what_matches_no_node_at_the_element() {
    let reqs = Value::object([
        ("architectures", Value::List(vec![s("x86_64")])),
        ("capacity_types", Value::Null),
        ("instance_families", Value::Null),
    ]);
    let r = read(&[
        ("sandbox", s("nsjail")),
        ("mode", s("karpenter")),
        ("requirements", reqs),
    ])
    .await;
    let d = r
        .diagnostics
        .0
        .iter()
        .find(|d| d.severity == Severity::Error)
        .unwrap();
    assert_eq!(
        d.path.as_ref().unwrap().to_string(),
        "requirements.architectures[0]"
    );
    assert!(d.detail.contains("write \"amd64\""), "{}", d.detail);
}
