//! Hostile and careless inputs for every configurable attribute of every
//! schema the provider serves, generated from the schema Terraform itself
//! reports (`terraform providers schema -json`): each string fed a quote, a
//! newline, a NUL and 1 MB; each number +∞, −∞, a negative, 1e400, 2^64
//! and a fraction; each list and map empty and with 1000 entries; each map
//! key and value, and each list element, the string inputs. Terraform has no
//! NaN (`0/0` is an error in Terraform itself), so ±∞ stand for it.
//!
//! Cases are rendered into a few configurations (one block, provider alias,
//! `list` block or function call per case), so one `terraform validate` or
//! `plan` judges many: Terraform reports each block's errors separately,
//! with the line each points at. [`Batch::lines`] says which line is each
//! case's attribute.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value as Json;

/// What a case feeds the attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Input {
    /// The valid value (a control: it must be accepted, so a refusal of the
    /// hostile inputs is theirs).
    Valid,
    Quote,
    Newline,
    Nul,
    Megabyte,
    Infinity,
    NegativeInfinity,
    Negative,
    Huge,
    TwoTo64,
    Fraction,
    Empty,
    Thousand,
}

impl Input {
    pub const STRINGS: [Input; 4] = [Input::Quote, Input::Newline, Input::Nul, Input::Megabyte];
    pub const NUMBERS: [Input; 6] = [
        Input::Infinity,
        Input::NegativeInfinity,
        Input::Negative,
        Input::Huge,
        Input::TwoTo64,
        Input::Fraction,
    ];
    pub const COLLECTIONS: [Input; 2] = [Input::Empty, Input::Thousand];
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Input::Valid => "its valid value",
            Input::Quote => "a quote",
            Input::Newline => "a newline",
            Input::Nul => "a NUL",
            Input::Megabyte => "1 MB",
            Input::Infinity => "+∞",
            Input::NegativeInfinity => "−∞",
            Input::Negative => "−1",
            Input::Huge => "1e400",
            Input::TwoTo64 => "2^64",
            Input::Fraction => "1.5",
            Input::Empty => "empty",
            Input::Thousand => "1000 entries",
        })
    }
}

/// Where a hostile value goes in an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    /// The attribute's value itself.
    Value,
    /// A list or set element.
    Element,
    /// A map key.
    Key,
    /// A map value.
    MapValue,
}

/// Which schema an attribute belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Schema {
    Provider,
    Resource(String),
    DataSource(String),
    ListResource(String),
    Function(String),
}

impl fmt::Display for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schema::Provider => f.write_str("provider"),
            Schema::Resource(n) => write!(f, "resource {n}"),
            Schema::DataSource(n) => write!(f, "data {n}"),
            Schema::ListResource(n) => write!(f, "list {n}"),
            Schema::Function(n) => write!(f, "function {n}"),
        }
    }
}

/// One hostile input at one attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub schema: Schema,
    /// `cluster.name`, `taints[0].key`, `labels`; for functions the
    /// parameter's name.
    pub attribute: String,
    pub part: Part,
    pub input: Input,
    /// The HCL expression written for the attribute.
    pub hcl: String,
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let part = match self.part {
            Part::Value => "",
            Part::Element => " (element)",
            Part::Key => " (key)",
            Part::MapValue => " (value)",
        };
        write!(
            f,
            "{} {}{part} = {}",
            self.schema, self.attribute, self.input
        )
    }
}

/// A string literal for HCL (`${` and `%{` escaped as `$${` and `%%{`).
pub fn hcl_string(s: &str) -> String {
    let mut out = String::from("\"");
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The HCL for `good` fed `input` (string inputs): a quote or a NUL in the
/// middle, a newline at the end, or 1 MB after it.
pub fn hostile_string(good: &str, input: Input) -> String {
    let mid = good
        .char_indices()
        .nth(good.chars().count() / 2)
        .map_or(good.len(), |(i, _)| i);
    let (a, b) = good.split_at(mid);
    match input {
        Input::Quote => hcl_string(&format!("{a}\"{b}")),
        Input::Newline => hcl_string(&format!("{good}\n")),
        Input::Nul => hcl_string(&format!("{a}\u{0}{b}")),
        // 1 MiB of "a" after the good value, built by Terraform so the
        // source line (which Terraform quotes under an error) stays short.
        _ => format!(
            "\"{}${{replace(format(\"%01048576d\", 0), \"0\", \"a\")}}\"",
            hcl_string(good).trim_matches('"')
        ),
    }
}

/// The HCL for a number input.
pub fn hostile_number(input: Input) -> &'static str {
    match input {
        Input::Infinity => "1/0",
        Input::NegativeInfinity => "-1/0",
        Input::Negative => "-1",
        Input::Huge => "1e400",
        Input::TwoTo64 => "18446744073709551616",
        _ => "1.5",
    }
}

/// A configuration value: an expression, or nested attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Expr(String),
    Object(Vec<(String, Node)>),
    /// A list of objects (`taints = [{ … }]`).
    Objects(Vec<Vec<(String, Node)>>),
}

/// Attributes of a block, in order.
pub type Body = Vec<(String, Node)>;

fn set_in(body: &mut Body, path: &[&str], value: Node, parents: &dyn Fn(&str) -> Node) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let (name, indexed) = match first.strip_suffix("[0]") {
        Some(n) => (n, true),
        None => (*first, false),
    };
    if rest.is_empty() {
        body.retain(|(k, _)| k != name);
        body.push((name.to_string(), value));
        return;
    }
    if !body.iter().any(|(k, _)| k == name) {
        body.push((name.to_string(), parents(name)));
    }
    if let Some((_, node)) = body.iter_mut().find(|(k, _)| k == name) {
        match node {
            Node::Object(inner) => set_in(inner, rest, value, parents),
            Node::Objects(items) if indexed => {
                if items.is_empty() {
                    items.push(Vec::new());
                }
                if let Some(first) = items.first_mut() {
                    set_in(first, rest, value, parents);
                }
            }
            _ => {}
        }
    }
}

/// `body` with `value` at `path` (`cluster.name`, `taints[0].key`),
/// creating a parent from `parents` where the body has none.
pub fn with_value(body: &Body, path: &str, value: Node, parents: &dyn Fn(&str) -> Node) -> Body {
    let mut out = body.clone();
    let steps: Vec<&str> = path.split('.').collect();
    set_in(&mut out, &steps, value, parents);
    out
}

/// Render `body` at `indent`, recording the line of each attribute path
/// (relative to the first line rendered, 0-based) in `lines`.
pub fn render(
    body: &Body,
    indent: usize,
    prefix: &str,
    out: &mut Vec<String>,
    lines: &mut BTreeMap<String, usize>,
) {
    let pad = " ".repeat(indent);
    for (k, node) in body {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        lines.insert(path.clone(), out.len());
        match node {
            Node::Expr(e) => out.push(format!("{pad}{k} = {e}")),
            Node::Object(inner) => {
                out.push(format!("{pad}{k} = {{"));
                render(inner, indent + 2, &path, out, lines);
                out.push(format!("{pad}}}"));
            }
            Node::Objects(items) => {
                out.push(format!("{pad}{k} = ["));
                for (i, item) in items.iter().enumerate() {
                    out.push(format!("{pad}  {{"));
                    render(item, indent + 4, &format!("{path}[{i}]"), out, lines);
                    out.push(format!("{pad}  }},"));
                }
                out.push(format!("{pad}]"));
            }
        }
    }
}

/// One configurable attribute of a schema, from `providers schema -json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    /// `cluster.name`, `taints[0].key`.
    pub path: String,
    /// Terraform's type: `"string"`, `["list","string"]`, …
    pub ty: Json,
}

/// The configurable leaf attributes of a block (nested attributes walked,
/// read-only ones left out: a value there is refused by a test of its own).
pub fn leaves(block: &Json) -> Vec<Leaf> {
    let mut out = Vec::new();
    walk(block, "", &mut out);
    out
}

fn walk(block: &Json, prefix: &str, out: &mut Vec<Leaf>) {
    let Some(attrs) = block.get("attributes").and_then(Json::as_object) else {
        return;
    };
    for (name, a) in attrs {
        let flag = |k: &str| a.get(k).and_then(Json::as_bool).unwrap_or(false);
        if flag("computed") && !flag("optional") && !flag("required") {
            continue;
        }
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        if let Some(nested) = a.get("nested_type") {
            let mode = nested
                .get("nesting_mode")
                .and_then(Json::as_str)
                .unwrap_or("");
            let inner = if mode == "list" || mode == "set" {
                format!("{path}[0]")
            } else {
                path.clone()
            };
            if mode == "list" || mode == "set" {
                out.push(Leaf {
                    path: path.clone(),
                    ty: Json::String("nested list".into()),
                });
            }
            walk(nested, &inner, out);
            continue;
        }
        if let Some(ty) = a.get("type") {
            out.push(Leaf {
                path,
                ty: ty.clone(),
            });
        }
    }
}

/// The kind of a Terraform type for the inputs it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    String,
    Number,
    Bool,
    StringList,
    StringSet,
    StringMap,
    NestedList,
    Dynamic,
    Other,
}

pub fn shape(ty: &Json) -> Shape {
    match ty {
        Json::String(s) if s == "string" => Shape::String,
        Json::String(s) if s == "number" => Shape::Number,
        Json::String(s) if s == "bool" => Shape::Bool,
        Json::String(s) if s == "dynamic" => Shape::Dynamic,
        Json::String(s) if s == "nested list" => Shape::NestedList,
        Json::Array(a) if a.len() == 2 && a[1] == "string" => match a[0].as_str() {
            Some("list") => Shape::StringList,
            Some("set") => Shape::StringSet,
            Some("map") => Shape::StringMap,
            _ => Shape::Other,
        },
        _ => Shape::Other,
    }
}

/// The cases for one leaf: `good` is a valid value for the attribute (for
/// collections, one valid element or map entry value).
pub fn cases_for(schema: &Schema, leaf: &Leaf, good: &str, good_key: &str) -> Vec<Case> {
    let case = |part, input, hcl: String| Case {
        schema: schema.clone(),
        attribute: leaf.path.clone(),
        part,
        input,
        hcl,
    };
    let mut out = Vec::new();
    match shape(&leaf.ty) {
        Shape::String => {
            for i in Input::STRINGS {
                out.push(case(Part::Value, i, hostile_string(good, i)));
            }
        }
        Shape::Number => {
            for i in Input::NUMBERS {
                out.push(case(Part::Value, i, hostile_number(i).to_string()));
            }
        }
        Shape::StringList | Shape::StringSet => {
            let g = hcl_string(good);
            out.push(case(Part::Value, Input::Empty, "[]".into()));
            let thousand = if shape(&leaf.ty) == Shape::StringSet {
                format!(
                    "[for i in range(1000) : \"{}-${{i}}\"]",
                    g.trim_matches('"')
                )
            } else {
                format!("[for i in range(1000) : {g}]")
            };
            out.push(case(Part::Value, Input::Thousand, thousand));
            for i in Input::STRINGS {
                out.push(case(
                    Part::Element,
                    i,
                    format!("[{}]", hostile_string(good, i)),
                ));
            }
        }
        Shape::StringMap => {
            let g = hcl_string(good);
            let k = hcl_string(good_key);
            out.push(case(Part::Value, Input::Empty, "{}".into()));
            out.push(case(
                Part::Value,
                Input::Thousand,
                format!(
                    "{{ for i in range(1000) : \"{}${{i}}\" => {g} }}",
                    k.trim_matches('"')
                ),
            ));
            for i in Input::STRINGS {
                out.push(case(
                    Part::Key,
                    i,
                    format!("{{ ({}) = {g} }}", hostile_string(good_key, i)),
                ));
                out.push(case(
                    Part::MapValue,
                    i,
                    format!("{{ {k} = {} }}", hostile_string(good, i)),
                ));
            }
        }
        Shape::NestedList => {
            out.push(case(Part::Value, Input::Empty, "[]".into()));
            out.push(case(Part::Value, Input::Thousand, good.to_string()));
        }
        Shape::Bool | Shape::Dynamic | Shape::Other => {}
    }
    out
}

/// Diagnostics Terraform printed as `-json`: `validate -json` (one
/// document) or the `plan -json` stream (one message per line).
pub fn diagnostics(stdout: &str) -> Vec<Json> {
    if let Ok(doc) = serde_json::from_str::<Json>(stdout)
        && let Some(d) = doc.get("diagnostics").and_then(Json::as_array)
    {
        return d.clone();
    }
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Json>(l).ok())
        .filter(|v| v.get("type").and_then(Json::as_str) == Some("diagnostic"))
        .filter_map(|v| v.get("diagnostic").cloned())
        .collect()
}

/// Where a diagnostic points: its file and first line.
pub fn diagnostic_line(d: &Json) -> Option<(String, usize)> {
    let r = d.get("range")?;
    let file = r.get("filename")?.as_str()?.to_string();
    let line = r.get("start")?.get("line")?.as_u64()?;
    Some((file, usize::try_from(line).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_strings_are_hcl() {
        assert_eq!(hostile_string("nsjail", Input::Quote), "\"nsj\\\"ail\"");
        assert_eq!(hostile_string("nsjail", Input::Newline), "\"nsjail\\n\"");
        assert_eq!(hostile_string("nsjail", Input::Nul), "\"nsj\\u0000ail\"");
        assert!(hostile_string("a${b}", Input::Megabyte).starts_with("\"a$${b}${replace("));
    }

    #[test]
    fn values_land_at_their_paths_and_lines_are_known() {
        let body: Body = vec![("sandbox".into(), Node::Expr("\"nsjail\"".into()))];
        let parents = |n: &str| match n {
            "taints" => Node::Objects(vec![vec![(
                "effect".into(),
                Node::Expr("\"NoSchedule\"".into()),
            )]]),
            _ => Node::Object(Vec::new()),
        };
        let b = with_value(&body, "taints[0].key", Node::Expr("\"k\"".into()), &parents);
        let b = with_value(&b, "cluster.name", Node::Expr("\"c\"".into()), &parents);
        let mut out = Vec::new();
        let mut lines = BTreeMap::new();
        render(&b, 2, "", &mut out, &mut lines);
        assert_eq!(out[lines["taints[0].key"]].trim(), "key = \"k\"");
        assert_eq!(out[lines["cluster.name"]].trim(), "name = \"c\"");
    }
}
