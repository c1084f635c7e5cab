//! Every bad value refused at its attribute, with the rule and the fix.

use super::*;
use crate::framework::Number;

fn base() -> Vec<(&'static str, Value)> {
    vec![
        ("cluster_name", Value::string("prod")),
        ("name", Value::string("agents")),
        (
            "node_role_arn",
            Value::string("arn:aws:iam::123456789012:role/nodes"),
        ),
        (
            "subnet_ids",
            Value::Set(vec![Value::string("subnet-0a1b2c3d")]),
        ),
        ("architecture", Value::string("x86_64")),
    ]
}

fn paths(extra: Vec<(&'static str, Value)>) -> Vec<String> {
    let mut attrs = base();
    for (k, v) in extra {
        attrs.retain(|(a, _)| *a != k);
        attrs.push((k, v));
    }
    diagnostics_for(&Value::object(attrs))
        .iter()
        .map(|x| x.path.clone().map(|p| p.to_string()).unwrap_or_default())
        .collect()
}

#[test]
fn a_good_configuration_passes() {
    assert!(paths(vec![]).is_empty());
}

#[test]
fn every_bad_input_is_refused_at_its_attribute() {
    let cases: Vec<(&str, Value, &str)> = vec![
        ("name", Value::string(""), "name"),
        ("name", Value::string("agents pool!/é"), "name"),
        ("name", Value::string("a".repeat(64)), "name"),
        ("cluster_name", Value::string(""), "cluster_name"),
        ("subnet_ids", Value::Set(vec![]), "subnet_ids"),
        ("node_role_arn", Value::string("eks-nodes"), "node_role_arn"),
        (
            "node_role_arn",
            Value::string("arn:aws:s3:::bucket"),
            "node_role_arn",
        ),
        (
            "kubernetes_version",
            Value::string("1.33.0"),
            "kubernetes_version",
        ),
        (
            "kubernetes_version",
            Value::string("01.33"),
            "kubernetes_version",
        ),
        (
            "kubernetes_version",
            Value::string("v1.33"),
            "kubernetes_version",
        ),
        (
            "scaling",
            Value::object([("min_size", Value::int(0)), ("max_size", Value::int(0))]),
            "scaling.max_size",
        ),
        (
            "scaling",
            Value::object([
                ("min_size", Value::Number(Number::Float(1.5))),
                ("max_size", Value::int(3)),
            ]),
            "scaling.min_size",
        ),
        (
            "max_user_namespaces",
            Value::Number(Number::Float(1.5)),
            "max_user_namespaces",
        ),
        (
            "max_user_namespaces",
            Value::Number(Number::Int(1 << 40)),
            "max_user_namespaces",
        ),
        (
            "max_user_namespaces",
            Value::Number(Number::UInt(u64::MAX)),
            "max_user_namespaces",
        ),
        (
            "labels",
            Value::Map([("bad key!".to_string(), Value::string("x"))].into()),
            "labels[\"bad key!\"]",
        ),
        (
            "labels",
            Value::Map([("k".to_string(), Value::string("v".repeat(64)))].into()),
            "labels[\"k\"]",
        ),
        (
            "labels",
            Value::Map([("k".to_string(), Value::string("x".repeat(1 << 20)))].into()),
            "labels[\"k\"]",
        ),
        (
            "tags",
            Value::Map([("aws:owner".to_string(), Value::string("x"))].into()),
            "tags[\"aws:owner\"]",
        ),
        (
            "instance_types",
            Value::List(vec![Value::string("m6g.large")]),
            "instance_types[0]",
        ),
        (
            "instance_types",
            Value::List(vec![Value::string("m6i.huge")]),
            "instance_types[0]",
        ),
        (
            "timeouts",
            Value::object([("create", Value::string("abc"))]),
            "timeouts.create",
        ),
        (
            "timeouts",
            Value::object([("delete", Value::string("-5m"))]),
            "timeouts.delete",
        ),
    ];
    for (k, v, path) in cases {
        let got = paths(vec![(k, v)]);
        assert_eq!(got, [path], "{k}");
    }
}

#[test]
fn taints_keys_values_and_duplicates() {
    let taint = |k: &str, e: &str| {
        Value::object([
            ("key", Value::string(k)),
            ("value", Value::Null),
            ("effect", Value::string(e)),
        ])
    };
    let got = paths(vec![(
        "taints",
        Value::List(vec![
            taint("sandbox", "NoSchedule"),
            taint("bad key!", "NoSchedule"),
            taint("sandbox", "NoSchedule"),
            taint("sandbox", "NoExecute"),
        ]),
    )]);
    assert_eq!(got, ["taints[1].key", "taints[2]"]);
}

#[test]
fn arm64_wants_graviton_types() {
    let got = paths(vec![
        ("architecture", Value::string("arm64")),
        (
            "instance_types",
            Value::List(vec![Value::string("m7g.large"), Value::string("m6i.large")]),
        ),
    ]);
    assert_eq!(got, ["instance_types[1]"]);
}

#[test]
fn tag_totals_count_default_tags_and_bookkeeping() {
    let own: BTreeMap<String, Value> = (0..47)
        .map(|i| (format!("k{i}"), Value::string("v")))
        .collect();
    let cfg = Value::object([("tags", Value::Map(own))]);
    let mut d = Diagnostics::new();
    tag_total(&cfg, &BTreeMap::new(), &mut d);
    assert!(d.is_empty());
    tag_total(&cfg, &BTreeMap::from([("team".into(), "x".into())]), &mut d);
    assert_eq!(d.0.len(), 1);
    assert!(d.0[0].detail.contains("at most 50"), "{}", d.0[0].detail);
}
