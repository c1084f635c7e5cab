//! Schema builder.
//!
//! Schemas are built once (at provider start) and describe themselves: every
//! attribute carries a markdown description, which the docs generator and
//! `terraform providers schema -json` show. Simple rules that are part of the
//! schema (allowed values, defaults, replacement) are declared here and
//! enforced generically, so they cannot drift from the documentation. So are
//! the rules of an attribute's value ([`Validator`]): declared on the
//! attribute, run with the path the framework knows, as
//! terraform-plugin-framework's `Validators` are.

use std::fmt;

use super::diag::{AttributePath, Diagnostics, quoted};
use super::types::Type;
use super::value::{Number, Value};

/// What a [`Validator`] checks: a string or a number.
#[derive(Clone, Copy)]
pub enum Check {
    /// A string; `Err` is the detail of the diagnostic: what is wrong, the
    /// rule and the fix.
    Text(fn(&str) -> Result<(), String>),
    /// A number; `Err` as for `Text`.
    Number(fn(&Number) -> Result<(), String>),
}

/// Which values of the attribute a [`Validator`] reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// The attribute's own value.
    Whole,
    /// Each element of a list (at `attr[i]`) or set (at `attr`).
    Elements,
    /// Each key of a map (at `attr["key"]`).
    Keys,
    /// Each value of a map (at `attr["key"]`).
    Values,
}

/// A rule the values of one attribute must follow, declared on it in the
/// schema and enforced generically at the attribute's path
/// ([`validate_declared`]). Null and unknown values are not checked (unknown
/// ones are, once known).
#[derive(Clone, Copy)]
pub struct Validator {
    /// The diagnostic's summary, e.g. `Invalid probe image`.
    pub summary: &'static str,
    pub reach: Reach,
    pub check: Check,
}

impl Validator {
    /// A rule for a string attribute.
    pub const fn text(summary: &'static str, check: fn(&str) -> Result<(), String>) -> Self {
        Self {
            summary,
            reach: Reach::Whole,
            check: Check::Text(check),
        }
    }

    /// A rule for a number attribute.
    pub const fn number(summary: &'static str, check: fn(&Number) -> Result<(), String>) -> Self {
        Self {
            summary,
            reach: Reach::Whole,
            check: Check::Number(check),
        }
    }

    /// The same rule for each element, key or map value instead.
    #[must_use]
    pub const fn each(mut self, reach: Reach) -> Self {
        self.reach = reach;
        self
    }

    fn run_text(&self, text: &str) -> Result<(), String> {
        match self.check {
            Check::Text(f) => f(text),
            Check::Number(_) => Ok(()),
        }
    }

    /// Check one value (a string or a number; anything else is the
    /// schema's type check's concern).
    fn run(&self, v: &Value) -> Result<(), String> {
        if v.is_null() || !v.is_wholly_known() {
            return Ok(());
        }
        match (self.check, v) {
            (Check::Text(f), Value::String(s)) => f(s),
            (Check::Number(f), Value::Number(n)) => f(n),
            _ => Ok(()),
        }
    }
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Validator")
            .field("summary", &self.summary)
            .field("reach", &self.reach)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Validator {
    /// Two validators are the same rule when they say the same and reach the
    /// same values (function pointers do not compare reliably).
    fn eq(&self, other: &Self) -> bool {
        self.summary == other.summary && self.reach == other.reach
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
    Set,
    Map,
}

/// What an attribute holds: a plain typed value, or nested attributes.
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeKind {
    Type(Type),
    Nested {
        nesting: Nesting,
        attributes: Vec<Attribute>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub name: String,
    pub kind: AttributeKind,
    /// Markdown.
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    pub write_only: bool,
    /// When set, the attribute is deprecated and this says what to use instead.
    pub deprecation: Option<String>,
    /// For string attributes: the only values accepted.
    pub allowed_values: Vec<String>,
    /// Value used when the configuration leaves the attribute null.
    pub default: Option<Value>,
    /// A change of this attribute replaces the resource.
    pub requires_replace: bool,
    /// Rules the attribute's values must follow.
    pub validators: Vec<Validator>,
}

impl Attribute {
    pub fn new(name: &str, kind: AttributeKind) -> Self {
        Self {
            name: name.to_string(),
            kind,
            description: String::new(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            deprecation: None,
            allowed_values: Vec::new(),
            default: None,
            requires_replace: false,
            validators: Vec::new(),
        }
    }

    pub fn of_type(name: &str, ty: Type) -> Self {
        Self::new(name, AttributeKind::Type(ty))
    }
    pub fn string(name: &str) -> Self {
        Self::of_type(name, Type::String)
    }
    pub fn bool(name: &str) -> Self {
        Self::of_type(name, Type::Bool)
    }
    pub fn number(name: &str) -> Self {
        Self::of_type(name, Type::Number)
    }
    pub fn string_map(name: &str) -> Self {
        Self::of_type(name, Type::map(Type::String))
    }
    pub fn string_list(name: &str) -> Self {
        Self::of_type(name, Type::list(Type::String))
    }
    pub fn string_set(name: &str) -> Self {
        Self::of_type(name, Type::set(Type::String))
    }
    pub fn nested(name: &str, nesting: Nesting, attributes: Vec<Attribute>) -> Self {
        Self::new(
            name,
            AttributeKind::Nested {
                nesting,
                attributes,
            },
        )
    }

    #[must_use]
    pub fn required(mut self) -> Self {
        self.required = true;
        self.optional = false;
        self
    }
    #[must_use]
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self.required = false;
        self
    }
    #[must_use]
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }
    #[must_use]
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    #[must_use]
    pub fn description(mut self, markdown: &str) -> Self {
        self.description = markdown.to_string();
        self
    }
    #[must_use]
    pub fn deprecated(mut self, message: &str) -> Self {
        self.deprecation = Some(message.to_string());
        self
    }
    #[must_use]
    pub fn one_of(mut self, values: &[&str]) -> Self {
        self.allowed_values = values.iter().map(|s| (*s).to_string()).collect();
        self
    }
    /// Optional with a default: Terraform sees it as optional + computed so
    /// the provider may fill the default in.
    #[must_use]
    pub fn default_value(mut self, v: impl Into<Value>) -> Self {
        self.default = Some(v.into());
        self.optional = true;
        self.required = false;
        self.computed = true;
        self
    }
    #[must_use]
    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }
    /// Declare a rule the attribute's values must follow.
    #[must_use]
    pub fn validate(mut self, v: Validator) -> Self {
        self.validators.push(v);
        self
    }

    /// Set by the provider only: computed, neither required nor optional.
    pub fn is_read_only(&self) -> bool {
        self.computed && !self.optional && !self.required
    }

    /// The type of the attribute's value.
    pub fn value_type(&self) -> Type {
        match &self.kind {
            AttributeKind::Type(t) => t.clone(),
            AttributeKind::Nested {
                nesting,
                attributes,
            } => {
                let obj = object_type(attributes, &[]);
                match nesting {
                    Nesting::Single => obj,
                    Nesting::List => Type::list(obj),
                    Nesting::Set => Type::set(obj),
                    Nesting::Map => Type::map(obj),
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockNesting {
    Single,
    List,
    Set,
    Map,
    Group,
}

/// A nested block (`timeouts { … }` style). New schemas prefer nested
/// attributes; blocks exist for compatibility with conventions users know.
#[derive(Debug, Clone, PartialEq)]
pub struct NestedBlock {
    pub name: String,
    pub nesting: BlockNesting,
    pub block: Block,
    pub min_items: i64,
    pub max_items: i64,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Block {
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
    /// Markdown.
    pub description: String,
    pub deprecated: bool,
}

impl Block {
    pub fn value_type(&self) -> Type {
        object_type(&self.attributes, &self.blocks)
    }

    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

fn object_type(attributes: &[Attribute], blocks: &[NestedBlock]) -> Type {
    let mut attrs = std::collections::BTreeMap::new();
    let mut optional = std::collections::BTreeSet::new();
    for a in attributes {
        attrs.insert(a.name.clone(), a.value_type());
        if !a.required {
            optional.insert(a.name.clone());
        }
    }
    for b in blocks {
        let obj = b.block.value_type();
        let t = match b.nesting {
            BlockNesting::Single | BlockNesting::Group => obj,
            BlockNesting::List => Type::list(obj),
            BlockNesting::Set => Type::set(obj),
            BlockNesting::Map => Type::map(obj),
        };
        attrs.insert(b.name.clone(), t);
    }
    // Nested attribute objects mark their optional attributes; the top-level
    // block type does not need the marks, but they are harmless there.
    Type::Object {
        attributes: attrs,
        optional,
    }
}

/// A versioned schema of a provider, resource or data source.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
}

impl Schema {
    pub fn new(description: &str) -> Self {
        Self {
            version: 0,
            block: Block {
                description: description.to_string(),
                ..Block::default()
            },
        }
    }

    #[must_use]
    pub fn version(mut self, v: i64) -> Self {
        self.version = v;
        self
    }

    #[must_use]
    pub fn attribute(mut self, a: Attribute) -> Self {
        self.block.attributes.push(a);
        self
    }

    /// Several attributes at once, e.g. a fragment several schemas share.
    #[must_use]
    pub fn attributes(mut self, a: impl IntoIterator<Item = Attribute>) -> Self {
        self.block.attributes.extend(a);
        self
    }

    #[must_use]
    pub fn block(mut self, b: NestedBlock) -> Self {
        self.block.blocks.push(b);
        self
    }

    /// The object type of a whole configuration/state value. Optional marks
    /// are dropped: values on the wire always carry every attribute.
    pub fn value_type(&self) -> Type {
        match self.block.value_type() {
            Type::Object { attributes, .. } => Type::Object {
                attributes,
                optional: Default::default(),
            },
            other => other,
        }
    }
}

/// Check what the schema itself declares against a configuration, reporting
/// each failure at its attribute path: no value on a read-only (computed,
/// not optional) attribute, even an unknown one; allowed values and
/// deprecations, and the attributes' declared [`Validator`]s. Unknown values
/// are otherwise skipped: they are checked again when known.
///
/// Terraform does not refuse a value on a read-only attribute itself; the
/// provider must (as terraform-plugin-framework does in
/// `internal/fwserver/attribute_validation.go`, "Invalid Configuration for
/// Read-Only Attribute", hashicorp/terraform#30669).
pub fn validate_declared(block: &Block, config: &Value, diags: &mut Diagnostics) {
    validate_attributes(&block.attributes, config, &AttributePath::root(), diags);
}

fn validate_attributes(
    attributes: &[Attribute],
    obj: &Value,
    path: &AttributePath,
    diags: &mut Diagnostics,
) {
    for a in attributes {
        let Some(v) = obj.attr(&a.name) else { continue };
        let p = path.clone().then_attr(&a.name);
        if v.is_null() {
            continue;
        }
        if a.is_read_only() {
            diags.error_at(
                p,
                format!("`{}` is read-only", a.name),
                format!(
                    "The provider sets `{}`; a configuration cannot. Remove `{} = …` from this block, and read the value as an attribute of the resource or data source instead.",
                    a.name, a.name
                ),
            );
            continue;
        }
        if v.is_unknown() {
            continue;
        }
        if let Some(msg) = &a.deprecation {
            diags.warning_at(
                p.clone(),
                format!("Argument `{}` is deprecated", a.name),
                msg.clone(),
            );
        }
        if !a.allowed_values.is_empty()
            && let Some(s) = v.as_str()
            && !a.allowed_values.iter().any(|x| x == s)
        {
            let detail = match a.allowed_values.iter().find(|x| x.eq_ignore_ascii_case(s)) {
                Some(x) => format!(
                    "{} is not a valid value for `{}`: values are case-sensitive; write {x:?}.",
                    quoted(s),
                    a.name
                ),
                None => format!(
                    "{} is not a valid value for `{}`. Use one of: {}.",
                    quoted(s),
                    a.name,
                    a.allowed_values
                        .iter()
                        .map(|x| format!("\"{x}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            diags.error_at(p.clone(), format!("Invalid value for `{}`", a.name), detail);
        }
        for rule in &a.validators {
            run_validator(rule, v, &p, diags);
        }
        if let AttributeKind::Nested {
            nesting,
            attributes,
        } = &a.kind
        {
            match nesting {
                Nesting::Single => validate_attributes(attributes, v, &p, diags),
                Nesting::List | Nesting::Set => {
                    for (i, e) in v.as_elements().unwrap_or_default().iter().enumerate() {
                        let idx = i64::try_from(i).unwrap_or(i64::MAX);
                        validate_attributes(attributes, e, &p.clone().then_index(idx), diags);
                    }
                }
                Nesting::Map => {
                    if let Some(entries) = v.as_entries() {
                        for (k, e) in entries {
                            validate_attributes(attributes, e, &p.clone().then_key(k), diags);
                        }
                    }
                }
            }
        }
    }
}

/// One declared rule over the values it reaches, each failure at its path.
fn run_validator(rule: &Validator, v: &Value, path: &AttributePath, diags: &mut Diagnostics) {
    let mut refuse = |p: AttributePath, result: Result<(), String>| {
        if let Err(detail) = result {
            diags.error_at(p, rule.summary, detail);
        }
    };
    match rule.reach {
        Reach::Whole => refuse(path.clone(), rule.run(v)),
        Reach::Elements => match v {
            Value::List(items) => {
                for (i, e) in items.iter().enumerate() {
                    let idx = i64::try_from(i).unwrap_or(i64::MAX);
                    refuse(path.clone().then_index(idx), rule.run(e));
                }
            }
            Value::Set(items) => {
                for e in items {
                    refuse(path.clone(), rule.run(e));
                }
            }
            _ => {}
        },
        Reach::Keys | Reach::Values => {
            if let Some(entries) = v.as_entries() {
                for (k, e) in entries {
                    let result = if rule.reach == Reach::Keys {
                        rule.run_text(k)
                    } else {
                        rule.run(e)
                    };
                    refuse(path.clone().then_key(k), result);
                }
            }
        }
    }
}

/// Fill declared defaults into null attributes of `value` (recursively into
/// single nested attributes).
pub fn apply_defaults(attributes: &[Attribute], value: &mut Value) {
    let Value::Object(map) = value else { return };
    for a in attributes {
        let entry = map.entry(a.name.clone()).or_insert(Value::Null);
        if entry.is_null()
            && let Some(d) = &a.default
        {
            *entry = d.clone();
        }
        if let AttributeKind::Nested {
            nesting: Nesting::Single,
            attributes,
        } = &a.kind
        {
            apply_defaults(attributes, entry);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        Schema::new("test")
            .attribute(
                Attribute::string("sandbox")
                    .required()
                    .one_of(&["nsjail", "podman"]),
            )
            .attribute(
                Attribute::nested(
                    "endpoints",
                    Nesting::Single,
                    vec![Attribute::string("eks").optional().one_of(&["a"])],
                )
                .optional(),
            )
            .attribute(Attribute::string("architecture").default_value("x86_64"))
    }

    #[test]
    fn allowed_values_are_enforced_at_the_attribute_path() {
        let s = schema();
        let cfg = Value::object([
            ("sandbox", Value::string("docker")),
            ("endpoints", Value::object([("eks", Value::string("b"))])),
            ("architecture", Value::Null),
        ]);
        let mut d = Diagnostics::new();
        validate_declared(&s.block, &cfg, &mut d);
        let paths: Vec<_> = d
            .iter()
            .map(|x| x.path.clone().unwrap().to_string())
            .collect();
        assert_eq!(paths, ["sandbox", "endpoints.eks"]);
        assert!(d.0[0].detail.contains("\"nsjail\", \"podman\""));
    }

    #[test]
    fn a_value_on_a_read_only_attribute_is_refused_at_its_path() {
        let s = schema()
            .attribute(Attribute::string("arn").computed())
            .attribute(Attribute::string("region").optional().computed());
        for arn in [Value::string("x"), Value::unknown()] {
            let cfg = Value::object([
                ("sandbox", Value::string("nsjail")),
                ("arn", arn),
                ("region", Value::string("us-east-1")),
            ]);
            let mut d = Diagnostics::new();
            validate_declared(&s.block, &cfg, &mut d);
            let paths: Vec<_> = d
                .iter()
                .map(|x| x.path.clone().unwrap().to_string())
                .collect();
            assert_eq!(paths, ["arn"], "optional + computed `region` may be set");
            assert_eq!(d.0[0].summary, "`arn` is read-only");
        }
        let cfg = Value::object([("sandbox", Value::string("nsjail")), ("arn", Value::Null)]);
        let mut d = Diagnostics::new();
        validate_declared(&s.block, &cfg, &mut d);
        assert!(d.is_empty(), "a null read-only attribute is fine");
    }

    #[test]
    fn a_read_only_attribute_inside_a_nested_attribute_is_refused() {
        let s = Schema::new("t").attribute(
            Attribute::nested(
                "items",
                Nesting::List,
                vec![
                    Attribute::string("name").required(),
                    Attribute::string("id").computed(),
                ],
            )
            .optional(),
        );
        let cfg = Value::object([(
            "items",
            Value::List(vec![Value::object([
                ("name", Value::string("a")),
                ("id", Value::string("i-1")),
            ])]),
        )]);
        let mut d = Diagnostics::new();
        validate_declared(&s.block, &cfg, &mut d);
        let paths: Vec<_> = d
            .iter()
            .map(|x| x.path.clone().unwrap().to_string())
            .collect();
        assert_eq!(paths, ["items[0].id"]);
    }

    #[test]
    fn a_wrongly_cased_value_is_told_the_right_spelling() {
        let s = schema();
        let cfg = Value::object([("sandbox", Value::string("NSJail"))]);
        let mut d = Diagnostics::new();
        validate_declared(&s.block, &cfg, &mut d);
        assert_eq!(
            d.0[0].detail,
            "\"NSJail\" is not a valid value for `sandbox`: values are case-sensitive; write \"nsjail\"."
        );
    }

    #[test]
    fn unknown_values_are_not_validated_yet() {
        let s = schema();
        let cfg = Value::object([("sandbox", Value::unknown())]);
        let mut d = Diagnostics::new();
        validate_declared(&s.block, &cfg, &mut d);
        assert!(d.is_empty());
    }

    #[test]
    fn defaults_fill_nulls_only() {
        let s = schema();
        let mut v = Value::object([("architecture", Value::Null)]);
        apply_defaults(&s.block.attributes, &mut v);
        assert_eq!(v.attr("architecture"), Some(&Value::string("x86_64")));
        let mut v = Value::object([("architecture", Value::string("arm64"))]);
        apply_defaults(&s.block.attributes, &mut v);
        assert_eq!(v.attr("architecture"), Some(&Value::string("arm64")));
    }
}
