//! Reading and writing `nested_nodegroup` values: attribute accessors and
//! the conversions between state values and the AWS edge's types.

use std::collections::BTreeMap;

use crate::aws::eks::{Scaling, Taint};
use crate::framework::Value;

pub(super) fn s(v: &Value, k: &str) -> Option<String> {
    v.attr(k).and_then(Value::as_str).map(str::to_string)
}

pub(super) fn is_unknown(v: &Value, k: &str) -> bool {
    v.attr(k).is_some_and(|x| !x.is_wholly_known())
}

pub(super) fn strings(v: &Value, k: &str) -> Vec<String> {
    v.attr(k)
        .and_then(Value::as_elements)
        .map(|e| {
            e.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn string_map(v: &Value, k: &str) -> BTreeMap<String, String> {
    v.attr(k)
        .and_then(Value::as_entries)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn map_value(m: &BTreeMap<String, String>) -> Value {
    Value::Map(
        m.iter()
            .map(|(k, v)| (k.clone(), Value::string(v)))
            .collect(),
    )
}

pub(super) fn list_value(v: &[String]) -> Value {
    Value::List(v.iter().map(Value::string).collect())
}

pub(super) fn int(v: &Value, k: &str) -> Option<i64> {
    v.attr(k)
        .and_then(Value::as_number)
        .and_then(|n| n.as_i64())
}

pub(super) fn scaling_of(v: &Value) -> Option<Scaling> {
    let sc = v.attr("scaling").filter(|x| !x.is_null())?;
    let get = |k: &str| int(sc, k).and_then(|i| i32::try_from(i).ok());
    let min_size = get("min_size")?;
    Some(Scaling {
        min_size,
        max_size: get("max_size")?,
        // Unset desired size: start at the minimum.
        desired_size: get("desired_size").unwrap_or(min_size),
    })
}

pub(super) fn scaling_value(s: Scaling) -> Value {
    Value::object([
        ("min_size", Value::int(i64::from(s.min_size))),
        ("max_size", Value::int(i64::from(s.max_size))),
        ("desired_size", Value::int(i64::from(s.desired_size))),
    ])
}

pub(super) fn taints_of(v: &Value) -> Vec<Taint> {
    let mut out: Vec<Taint> = v
        .attr("taints")
        .and_then(Value::as_elements)
        .map(|e| {
            e.iter()
                .map(|t| Taint {
                    key: s(t, "key").unwrap_or_default(),
                    value: s(t, "value").unwrap_or_default(),
                    effect: s(t, "effect").unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

pub(super) fn taints_value(taints: &[Taint]) -> Value {
    Value::List(
        taints
            .iter()
            .map(|t| {
                Value::object([
                    ("key", Value::string(&t.key)),
                    (
                        "value",
                        if t.value.is_empty() {
                            Value::Null
                        } else {
                            Value::string(&t.value)
                        },
                    ),
                    ("effect", Value::string(&t.effect)),
                ])
            })
            .collect(),
    )
}

/// Replace any value still unknown with null (state may hold no unknowns).
pub(super) fn fill_unknowns(state: &mut Value) {
    if let Value::Object(m) = state {
        for v in m.values_mut() {
            if !v.is_wholly_known() {
                *v = Value::Null;
            }
        }
    }
}

/// What turns `old` into `new`: entries to set (new or changed) and keys
/// to remove. Labels and tags are both updated this way.
pub(super) fn map_changes(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> (BTreeMap<String, String>, Vec<String>) {
    let set = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect();
    (set, remove)
}
