//! A small, deterministic YAML writer for manifests.
//!
//! Block style; every string (value or key) that a YAML 1.1 reader (PyYAML,
//! go-yaml v2, Terraform's `yamldecode`) or a YAML 1.2 one could take as
//! anything but that string is double-quoted: all string values (`"on"`,
//! `"4.20"`, `"0755"`), and keys unless they are plain words that no schema
//! types (`name`, `app.kubernetes.io/name`), so `on`, `yes`, `y`, `null`,
//! `~`, `0x10`, `010`, `1e3`, `.inf`, `1_000`, `12:30` and dates as keys
//! stay strings. Inside quotes, characters a reader would not take raw are
//! escapes: C0 controls, DEL, C1 controls (U+0085 is a line break to YAML
//! 1.1), U+2028/U+2029, U+FEFF and the noncharacters U+FFFE/U+FFFF.
//! Numbers are written so that every reader takes them as the same number.
//! Keys keep the order of the JSON object they come from.

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

/// A double-quoted YAML scalar for `s`. The escapes are JSON's where JSON
/// has one (so the bytes are what serde_json writes), plus `\uXXXX` for
/// what JSON leaves raw but YAML readers refuse or fold.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if needs_escape(c) => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Characters never written raw inside a quoted scalar.
fn needs_escape(c: char) -> bool {
    matches!(
        c,
        '\u{00}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
    )
}

/// A JSON number as every YAML reader reads the same number: integers as
/// digits; other numbers with a `.` (YAML 1.1 floats need one), so `1e3`
/// (a string to YAML 1.1) is never written plain.
fn number(n: &serde_json::Number) -> String {
    let text = n.to_string();
    let body = text.strip_prefix('-').unwrap_or(&text);
    if !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit()) {
        return text;
    }
    match n.as_f64() {
        Some(f) if f.is_finite() => {
            let mut s = format!("{f}");
            if !s.contains('.') {
                s.push_str(".0");
            }
            s
        }
        // Not representable as a float: keep the exact text, quoted.
        _ => quote(&text),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number(n),
        Value::String(s) => quote(s),
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::Object(m) if m.is_empty() => "{}".into(),
        // Non-empty collections are written in block style by the callers.
        other => quote(&other.to_string()),
    }
}

/// Words YAML 1.1 reads as booleans or null (go-yaml v2, PyYAML and
/// Terraform's `yamldecode` each list them in up to three casings; any
/// casing is quoted here).
const TYPED_WORDS: [&str; 9] = ["y", "yes", "n", "no", "true", "false", "on", "off", "null"];

/// A key written plain: a letter or `_` first, then letters, digits and
/// `_ - . /`, and not a word any YAML schema types. Everything else is
/// quoted.
fn key(k: &str) -> String {
    let mut chars = k.chars();
    let plain = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
        && !TYPED_WORDS.iter().any(|w| k.eq_ignore_ascii_case(w));
    if plain { k.to_string() } else { quote(k) }
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
            "apiVersion: \"v1\"\nmetadata:\n  name: \"x\"\n  annotations:\n    openshift.io/required-scc: \"nested-container\"\nlist:\n  - \"a\"\n  - 1\n  - true\nobjs:\n  - k: \"v\"\n    \"n\":\n      deep: \"4.20\"\n  - only: null\nempty: {}\nnone: []\n"
        );
        // `n` is quoted: YAML 1.1 readers (go-yaml v2, yamldecode) read a
        // plain `n` as false.
    }

    /// Keys and values every YAML reader would type as something else
    /// stay strings, read back by a YAML 1.1 reader.
    #[test]
    fn typed_looking_keys_and_values_stay_strings() {
        let hostile = [
            "on",
            "On",
            "ON",
            "off",
            "yes",
            "Yes",
            "no",
            "NO",
            "y",
            "Y",
            "n",
            "N",
            "true",
            "False",
            "null",
            "Null",
            "~",
            "",
            "0x10",
            "0o10",
            "010",
            "1e3",
            "1.5",
            ".inf",
            "-.inf",
            ".nan",
            "1_000",
            "12:30",
            "2001-12-14",
            "2001-12-14t21:59:43.10-05:00",
            "+1",
            "-1",
            "0b101",
            "=",
            "<<",
            "- x",
            "? x",
            "a: b",
            "a #b",
            "#x",
            "&a",
            "*a",
            "!tag",
            "%x",
            "@x",
            "`x",
            "|",
            ">",
            "[x]",
            "{x}",
            "'x'",
            "\"x\"",
            "x\ny",
            "\u{0}",
            "\u{7}",
            "\u{1b}[31m",
            "\u{7f}",
            "\u{85}",
            "\u{9f}",
            "\u{a0}",
            "\u{2028}",
            "\u{2029}",
            "\u{feff}x",
            "\u{fffe}",
            "\u{ffff}",
            "é",
            "\u{1f600}",
        ];
        let mut obj = serde_json::Map::new();
        for (i, h) in hostile.iter().enumerate() {
            obj.insert((*h).to_string(), json!(h));
            obj.insert(format!("v{i}"), json!([h, {(*h): h}]));
        }
        let text = to_yaml(&Value::Object(obj.clone()));
        for c in text.chars() {
            assert!(c == '\n' || !needs_escape(c), "raw {:?} in\n{text}", c);
        }
        let doc = crate::render::yaml_read::load_first(&text)
            .unwrap()
            .unwrap();
        let back = to_json(&doc);
        assert_eq!(back, Value::Object(obj));
    }

    /// The tree as JSON, every scalar typed as YAML 1.1 types it.
    fn to_json(n: &crate::render::yaml_read::Node) -> Value {
        use crate::render::yaml_read::{Node, Typed};
        match n {
            Node::Scalar(s) => match s.typed() {
                Typed::Null => Value::Null,
                Typed::Bool(b) => json!(b),
                Typed::Int(i) => json!(i64::try_from(i).unwrap()),
                Typed::Float(f) => json!(f),
                Typed::Str(s) => json!(s),
            },
            Node::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
            Node::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| match to_json(k) {
                        Value::String(k) => (k, to_json(v)),
                        other => panic!("key typed as {other}"),
                    })
                    .collect(),
            ),
        }
    }

    #[test]
    fn numbers_read_back_as_the_same_numbers() {
        let v = json!({"i": 131072, "neg": -3, "f": 1.5, "e": 1e21, "tiny": 1e-7, "whole": 1000.0});
        let text = to_yaml(&v);
        assert!(
            text.lines()
                .all(|l| !l.split_once(": ").unwrap().1.contains(['e', 'E'])),
            "{text}"
        );
        let doc = crate::render::yaml_read::load_first(&text)
            .unwrap()
            .unwrap();
        let back = to_json(&doc);
        for k in ["i", "neg", "f", "e", "tiny", "whole"] {
            assert_eq!(back[k].as_f64(), v[k].as_f64(), "{k}: {text}");
        }
    }

    #[test]
    fn odd_keys_are_quoted() {
        assert_eq!(
            to_yaml(&json!({"a b": 1, "-x": 2})),
            "\"a b\": 1\n\"-x\": 2\n"
        );
    }
}
