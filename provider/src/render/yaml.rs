//! A small, deterministic YAML writer for manifests.
//!
//! Block style; every string is a double-quoted (JSON-escaped) scalar, so no
//! value can be misread as another type (`"on"`, `"4.20"`, `"0755"`). Keys
//! keep the order of the JSON object they come from.

use serde_json::Value;

/// Render a JSON value as a YAML document (no leading `---`).
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => write_map(&mut out, m, 0),
        Value::Array(a) if !a.is_empty() => write_seq(&mut out, a, 0),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => Value::String(s.clone()).to_string(),
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::Object(m) if m.is_empty() => "{}".into(),
        // Non-empty collections are written in block style by the callers.
        other => other.to_string(),
    }
}

fn key(k: &str) -> String {
    let plain = !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'))
        && !k.starts_with(['-', '.', '/']);
    if plain {
        k.to_string()
    } else {
        Value::String(k.to_string()).to_string()
    }
}

fn is_block(v: &Value) -> bool {
    matches!(v, Value::Object(m) if !m.is_empty()) || matches!(v, Value::Array(a) if !a.is_empty())
}

fn write_map(out: &mut String, m: &serde_json::Map<String, Value>, indent: usize) {
    for (k, v) in m {
        out.push_str(&" ".repeat(indent));
        out.push_str(&key(k));
        out.push(':');
        match v {
            Value::Object(inner) if !inner.is_empty() => {
                out.push('\n');
                write_map(out, inner, indent + 2);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                write_seq(out, items, indent + 2);
            }
            other => {
                out.push(' ');
                out.push_str(&scalar(other));
                out.push('\n');
            }
        }
    }
}

fn write_seq(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push('-');
        match item {
            Value::Object(m) if !m.is_empty() => {
                // First key on the dash line, the rest aligned under it.
                let mut first = true;
                for (k, v) in m {
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        out.push_str(&" ".repeat(indent + 2));
                    }
                    out.push_str(&key(k));
                    out.push(':');
                    if is_block(v) {
                        out.push('\n');
                        match v {
                            Value::Object(inner) => write_map(out, inner, indent + 4),
                            Value::Array(a) => write_seq(out, a, indent + 4),
                            _ => {}
                        }
                    } else {
                        out.push(' ');
                        out.push_str(&scalar(v));
                        out.push('\n');
                    }
                }
            }
            Value::Array(a) if !a.is_empty() => {
                out.push('\n');
                write_seq(out, a, indent + 2);
            }
            other => {
                out.push(' ');
                out.push_str(&scalar(other));
                out.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_block_yaml_with_quoted_strings() {
        let v = json!({
            "apiVersion": "v1",
            "metadata": {"name": "x", "annotations": {"openshift.io/required-scc": "nested-container"}},
            "list": ["a", 1, true],
            "objs": [{"k": "v", "n": {"deep": "4.20"}}, {"only": null}],
            "empty": {},
            "none": []
        });
        assert_eq!(
            to_yaml(&v),
            "apiVersion: \"v1\"\nmetadata:\n  name: \"x\"\n  annotations:\n    openshift.io/required-scc: \"nested-container\"\nlist:\n  - \"a\"\n  - 1\n  - true\nobjs:\n  - k: \"v\"\n    n:\n      deep: \"4.20\"\n  - only: null\nempty: {}\nnone: []\n"
        );
    }

    #[test]
    fn odd_keys_are_quoted() {
        assert_eq!(
            to_yaml(&json!({"a b": 1, "-x": 2})),
            "\"a b\": 1\n\"-x\": 2\n"
        );
    }
}
