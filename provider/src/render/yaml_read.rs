//! Reading the YAML users give (a nodeadm NodeConfig, a cloud-config) as
//! the programs that consume it do: any style (block or flow), anchors,
//! aliases and `<<` merge keys, and plain scalars typed by YAML 1.1 as
//! go-yaml v2 (nodeadm, through sigs.k8s.io/yaml) and PyYAML (cloud-init)
//! type them: `0x20000` is 131072, `on` is true.
//!
//! The syntax is yaml-rust2's; only the tree and the typing are here.
//! Aliases are expanded with a budget, so a "billion laughs" document is
//! an error, not a hang.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Nodes one document may expand to (aliases included).
const NODE_BUDGET: usize = 100_000;

/// How deep collections may nest.
const MAX_DEPTH: usize = 200;

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    /// The scalar's value as written (quotes and escapes undone).
    pub text: String,
    /// Plain (unquoted, not a block scalar): typed by YAML 1.1 rules.
    pub plain: bool,
    /// An explicit tag (`!!str`), as `handle` + `suffix`.
    pub tag: Option<String>,
}

/// A scalar's YAML 1.1 type and value.
#[derive(Debug, Clone, PartialEq)]
pub enum Typed {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
}

impl Scalar {
    /// The value go-yaml v2 gives this scalar.
    pub fn typed(&self) -> Typed {
        let explicit_str = self
            .tag
            .as_deref()
            .is_some_and(|t| t.ends_with(":str") || t.ends_with("!str"));
        if !self.plain || explicit_str {
            return Typed::Str(self.text.clone());
        }
        resolve_plain(&self.text)
    }
}

impl Node {
    /// The value of `key` in a mapping, compared as written.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find_map(|(k, v)| match k {
                Node::Scalar(s) if s.text == key => Some(v),
                _ => None,
            }),
            _ => None,
        }
    }

    /// Keys of a mapping that equal `key` only when case is ignored.
    pub fn keys_like(&self, key: &str) -> Vec<String> {
        match self {
            Node::Map(entries) => entries
                .iter()
                .filter_map(|(k, _)| match k {
                    Node::Scalar(s) if s.text != key && s.text.eq_ignore_ascii_case(key) => {
                        Some(s.text.clone())
                    }
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match self {
            Node::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a string scalar (quoted or plain and typed as a string).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Scalar(s) if matches!(s.typed(), Typed::Str(_)) => Some(&s.text),
            _ => None,
        }
    }

    /// Every scalar's text in the tree, keys included.
    pub fn scalars(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_scalars(&mut out);
        out
    }

    fn collect_scalars<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Node::Scalar(s) => out.push(&s.text),
            Node::Seq(items) => items.iter().for_each(|i| i.collect_scalars(out)),
            Node::Map(entries) => entries.iter().for_each(|(k, v)| {
                k.collect_scalars(out);
                v.collect_scalars(out);
            }),
        }
    }

    fn size(&self) -> usize {
        match self {
            Node::Scalar(_) => 1,
            Node::Seq(items) => 1 + items.iter().map(Node::size).sum::<usize>(),
            Node::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|(k, v)| k.size() + v.size())
                    .sum::<usize>()
            }
        }
    }
}

/// go-yaml v2's resolution of a plain scalar (`resolve.go`): null, bool
/// (y/yes/on/true and their opposites, three casings), int (`_`
/// separators; `0x`, `0o`, `0b` and leading-zero octal), float.
fn resolve_plain(text: &str) -> Typed {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Typed::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Typed::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Typed::Bool(false);
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Typed::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Typed::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Typed::Float(f64::NAN),
        _ => {}
    }
    let plain = text.replace('_', "");
    if let Some(i) = go_parse_int(&plain) {
        return Typed::Int(i);
    }
    if is_yaml_float(&plain)
        && let Ok(f) = plain.parse::<f64>()
    {
        return Typed::Float(f);
    }
    Typed::Str(text.to_string())
}

/// Go's `strconv.ParseInt(s, 0, 64)`.
fn go_parse_int(s: &str) -> Option<i128> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (radix, digits) = if let Some(d) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        (16, d)
    } else if let Some(d) = body.strip_prefix("0o").or(body.strip_prefix("0O")) {
        (8, d)
    } else if let Some(d) = body.strip_prefix("0b").or(body.strip_prefix("0B")) {
        (2, d)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i128::from_str_radix(digits, radix).ok()?;
    let v = if neg { -v } else { v };
    (i128::from(i64::MIN)..=i128::from(u64::MAX))
        .contains(&v)
        .then_some(v)
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

enum Frame {
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>, Option<Node>),
}

#[derive(Default)]
struct Builder {
    stack: Vec<(Frame, usize)>,
    docs: Vec<Node>,
    anchors: HashMap<usize, Node>,
    spent: usize,
    error: Option<String>,
}

impl Builder {
    fn spend(&mut self, n: usize) -> bool {
        self.spent = self.spent.saturating_add(n);
        if self.spent > NODE_BUDGET && self.error.is_none() {
            self.error = Some(format!(
                "the document expands to more than {NODE_BUDGET} nodes (aliases included)"
            ));
        }
        self.error.is_none()
    }

    fn open(&mut self, frame: Frame, anchor: usize) {
        if self.spend(1) && self.deeper() {
            self.stack.push((frame, anchor));
        }
    }

    fn deeper(&mut self) -> bool {
        if self.stack.len() >= MAX_DEPTH {
            self.error = Some(format!("collections nest deeper than {MAX_DEPTH} levels"));
        }
        self.error.is_none()
    }

    fn push(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some((Frame::Seq(items), _)) => items.push(node),
            Some((Frame::Map(entries, key), _)) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
    }
}

/// `<<` merge keys (YAML 1.1): the merged mappings' keys that the mapping
/// does not set itself, after its own.
fn merged(entries: Vec<(Node, Node)>) -> Vec<(Node, Node)> {
    let is_merge = |k: &Node| matches!(k, Node::Scalar(s) if s.plain && s.text == "<<");
    if !entries.iter().any(|(k, _)| is_merge(k)) {
        return entries;
    }
    let (merges, mut own): (Vec<_>, Vec<_>) = entries.into_iter().partition(|(k, _)| is_merge(k));
    for (_, v) in merges {
        let sources = match v {
            Node::Map(m) => vec![m],
            Node::Seq(items) => items
                .into_iter()
                .filter_map(|i| match i {
                    Node::Map(m) => Some(m),
                    _ => None,
                })
                .collect(),
            Node::Scalar(_) => Vec::new(),
        };
        for source in sources {
            for (k, v) in source {
                if !own.iter().any(|(o, _)| o == &k) {
                    own.push((k, v));
                }
            }
        }
    }
    own
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, _mark: Marker) {
        if self.error.is_some() {
            return;
        }
        match ev {
            Event::Scalar(text, style, anchor, tag) if self.spend(1) => {
                let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                let plain = matches!(style, TScalarStyle::Plain);
                self.push(Node::Scalar(Scalar { text, plain, tag }), anchor);
            }
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(node) => {
                    if self.spend(node.size()) {
                        self.push(node, 0);
                    }
                }
                None => self.error = Some("an alias names no anchor".into()),
            },
            Event::SequenceStart(anchor, _) => self.open(Frame::Seq(Vec::new()), anchor),
            Event::MappingStart(anchor, _) => self.open(Frame::Map(Vec::new(), None), anchor),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((frame, anchor)) = self.stack.pop() {
                    let node = match frame {
                        Frame::Seq(items) => Node::Seq(items),
                        Frame::Map(entries, _) => Node::Map(merged(entries)),
                    };
                    self.push(node, anchor);
                }
            }
            _ => {}
        }
    }
}

/// Every document in `text`, in order.
pub fn load_all(text: &str) -> Result<Vec<Node>, String> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, true).map_err(|e| e.to_string())?;
    match builder.error {
        Some(e) => Err(e),
        None => Ok(builder.docs),
    }
}

/// The first document in `text` (`None` for an empty stream).
pub fn load_first(text: &str) -> Result<Option<Node>, String> {
    Ok(load_all(text)?.into_iter().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar_at<'a>(doc: &'a Node, path: &[&str]) -> &'a Scalar {
        let mut n = doc;
        for p in path {
            n = n.get(p).unwrap();
        }
        n.as_scalar().unwrap()
    }

    #[test]
    fn flow_and_block_styles_read_the_same() {
        let block = load_first("userNamespaces:\n  idsPerPod: 65536\n")
            .unwrap()
            .unwrap();
        let flow = load_first("{userNamespaces: {idsPerPod: 65536}}")
            .unwrap()
            .unwrap();
        assert_eq!(block, flow);
        assert_eq!(
            scalar_at(&flow, &["userNamespaces", "idsPerPod"]).typed(),
            Typed::Int(65536)
        );
    }

    #[test]
    fn plain_scalars_are_typed_as_yaml_1_1() {
        for (text, want) in [
            ("0x20000", Typed::Int(131_072)),
            ("0400000", Typed::Int(131_072)),
            ("0o400000", Typed::Int(131_072)),
            ("131_072", Typed::Int(131_072)),
            ("1.31072e5", Typed::Float(131_072.0)),
            ("on", Typed::Bool(true)),
            ("n", Typed::Bool(false)),
            ("~", Typed::Null),
            ("12:30", Typed::Str("12:30".into())),
            ("65536x", Typed::Str("65536x".into())),
        ] {
            assert_eq!(resolve_plain(text), want, "{text}");
        }
        let doc = load_first("a: \"0x10\"\nb: !!str 16\n").unwrap().unwrap();
        assert_eq!(scalar_at(&doc, &["a"]).typed(), Typed::Str("0x10".into()));
        assert_eq!(scalar_at(&doc, &["b"]).typed(), Typed::Str("16".into()));
    }

    #[test]
    fn anchors_aliases_and_merge_keys_are_followed() {
        let doc = load_first(
            "base: &b {idsPerPod: 0}\nconfig:\n  userNamespaces:\n    <<: *b\n    other: 1\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            scalar_at(&doc, &["config", "userNamespaces", "idsPerPod"]).typed(),
            Typed::Int(0)
        );
        let own = load_first("x:\n  <<: {a: 1}\n  a: 2\n").unwrap().unwrap();
        assert_eq!(scalar_at(&own, &["x", "a"]).typed(), Typed::Int(2));
    }

    #[test]
    fn alias_bombs_and_bad_syntax_are_errors() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let p = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(load_all(&bomb).unwrap_err().contains("more than"));
        assert!(load_all("a: [1, 2\n").is_err());
    }
}
