//! Typed models of schema values: a struct per schema (and per nested
//! object) whose fields are named after the attributes, converted from and
//! to [`Value`] without loss. Handlers read `model.cluster_name`, not
//! `value.attr("cluster_name")` strings; the anchor is
//! terraform-plugin-framework's `req.Plan.Get(ctx, &model)` with
//! `tfsdk:"…"` tags.
//!
//! Every attribute is an [`Attr`]: known, null or unknown, as Terraform
//! sends it. Collections keep each element's own state ([`List`], [`Set`],
//! [`Map`]), so a plan can hand back exactly the known parts of a
//! configuration that is partly unknown. [`crate::model!`] declares a model;
//! a test per schema checks that the model's fields are the schema's
//! attributes.

use std::collections::BTreeMap;

use super::diag::{AttributePath, Diagnostic, Diagnostics};
use super::value::Value;

/// One attribute's value: Terraform's three states.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Attr<T> {
    #[default]
    Null,
    /// Known only after apply (refinements are not kept).
    Unknown,
    Known(T),
}

impl<T> Attr<T> {
    pub fn known(&self) -> Option<&T> {
        match self {
            Attr::Known(v) => Some(v),
            _ => None,
        }
    }

    pub fn into_known(self) -> Option<T> {
        match self {
            Attr::Known(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Attr::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Attr::Unknown)
    }

    pub fn as_ref(&self) -> Attr<&T> {
        match self {
            Attr::Null => Attr::Null,
            Attr::Unknown => Attr::Unknown,
            Attr::Known(v) => Attr::Known(v),
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Attr<U> {
        match self {
            Attr::Null => Attr::Null,
            Attr::Unknown => Attr::Unknown,
            Attr::Known(v) => Attr::Known(f(v)),
        }
    }

    /// This value, or `other` when this one is null.
    pub fn or(self, other: Attr<T>) -> Attr<T> {
        match self {
            Attr::Null => other,
            v => v,
        }
    }
}

impl Attr<String> {
    pub fn as_deref(&self) -> Option<&str> {
        self.known().map(String::as_str)
    }
}

impl<T> From<Option<T>> for Attr<T> {
    fn from(o: Option<T>) -> Self {
        o.map_or(Attr::Null, Attr::Known)
    }
}

impl From<&str> for Attr<String> {
    fn from(s: &str) -> Self {
        Attr::Known(s.to_string())
    }
}

/// A value that a model field can hold.
pub trait Field: Sized {
    /// From a value that is neither null nor unknown.
    fn decode(v: &Value, path: &AttributePath) -> Result<Self, Diagnostic>;
    fn encode(&self) -> Value;
    /// Whether this value holds no unknown anywhere.
    fn wholly_known(&self) -> bool {
        true
    }
}

fn mismatch(path: &AttributePath, want: &str, got: &Value) -> Diagnostic {
    Diagnostic::error(
        "Value of the wrong type",
        format!("Expected {want}, got {got:?}; this is a bug in the provider or its schema."),
    )
    .at(path.clone())
}

impl<T: Field> Field for Attr<T> {
    fn decode(v: &Value, path: &AttributePath) -> Result<Self, Diagnostic> {
        match v {
            Value::Null => Ok(Attr::Null),
            Value::Unknown { .. } => Ok(Attr::Unknown),
            v => T::decode(v, path).map(Attr::Known),
        }
    }
    fn encode(&self) -> Value {
        match self {
            Attr::Null => Value::Null,
            Attr::Unknown => Value::unknown(),
            Attr::Known(v) => v.encode(),
        }
    }
    fn wholly_known(&self) -> bool {
        match self {
            Attr::Null => true,
            Attr::Unknown => false,
            Attr::Known(v) => v.wholly_known(),
        }
    }
}

/// A raw value, for `dynamic` attributes: the concrete type comes with the
/// value.
impl Field for Value {
    fn decode(v: &Value, _path: &AttributePath) -> Result<Self, Diagnostic> {
        Ok(v.clone())
    }
    fn encode(&self) -> Value {
        self.clone()
    }
    fn wholly_known(&self) -> bool {
        self.is_wholly_known()
    }
}

impl Field for String {
    fn decode(v: &Value, path: &AttributePath) -> Result<Self, Diagnostic> {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| mismatch(path, "a string", v))
    }
    fn encode(&self) -> Value {
        Value::string(self)
    }
}

impl Field for bool {
    fn decode(v: &Value, path: &AttributePath) -> Result<Self, Diagnostic> {
        v.as_bool().ok_or_else(|| mismatch(path, "a bool", v))
    }
    fn encode(&self) -> Value {
        Value::Bool(*self)
    }
}

/// Numbers the provider uses are whole numbers; a fraction or a number
/// beyond i64 is refused at its attribute.
impl Field for i64 {
    fn decode(v: &Value, path: &AttributePath) -> Result<Self, Diagnostic> {
        let n = v.as_number().ok_or_else(|| mismatch(path, "a number", v))?;
        n.as_i64().ok_or_else(|| {
            Diagnostic::error(
                "Not a whole number",
                format!("{n} is not a whole number in range; use a whole number."),
            )
            .at(path.clone())
        })
    }
    fn encode(&self) -> Value {
        Value::int(*self)
    }
}

/// A number as Terraform sent it, for attributes whose range the handler
/// checks with its own message.
impl Field for super::value::Number {
    fn decode(v: &Value, path: &AttributePath) -> Result<Self, Diagnostic> {
        v.as_number()
            .cloned()
            .ok_or_else(|| mismatch(path, "a number", v))
    }
    fn encode(&self) -> Value {
        Value::Number(self.clone())
    }
}

/// A list attribute: each element keeps its own state.
pub type List<T> = Vec<Attr<T>>;

/// A map attribute: each value keeps its own state.
pub type Map<T> = BTreeMap<String, Attr<T>>;

/// A set attribute (elements in Terraform's order).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Set<T>(pub Vec<Attr<T>>);

fn decode_elements<T: Field>(
    items: &[Value],
    path: &AttributePath,
) -> Result<Vec<Attr<T>>, Diagnostic> {
    items
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let i = i64::try_from(i).unwrap_or(i64::MAX);
            Attr::<T>::decode(x, &path.clone().then_index(i))
        })
        .collect()
}

impl<T: Field> Field for Vec<Attr<T>> {
    fn decode(v: &Value, path: &AttributePath) -> Result<Self, Diagnostic> {
        match v {
            Value::List(items) | Value::Tuple(items) => decode_elements(items, path),
            v => Err(mismatch(path, "a list", v)),
        }
    }
    fn encode(&self) -> Value {
        Value::List(self.iter().map(Field::encode).collect())
    }
    fn wholly_known(&self) -> bool {
        self.iter().all(Field::wholly_known)
    }
}

impl<T: Field> Field for Set<T> {
    fn decode(v: &Value, path: &AttributePath) -> Result<Self, Diagnostic> {
        match v {
            Value::Set(items) | Value::List(items) => decode_elements(items, path).map(Set),
            v => Err(mismatch(path, "a set", v)),
        }
    }
    fn encode(&self) -> Value {
        Value::Set(self.0.iter().map(Field::encode).collect())
    }
    fn wholly_known(&self) -> bool {
        self.0.iter().all(Field::wholly_known)
    }
}

impl<T: Field> Field for BTreeMap<String, Attr<T>> {
    fn decode(v: &Value, path: &AttributePath) -> Result<Self, Diagnostic> {
        match v {
            Value::Map(m) | Value::Object(m) => m
                .iter()
                .map(|(k, x)| Ok((k.clone(), Attr::<T>::decode(x, &path.clone().then_key(k))?)))
                .collect(),
            v => Err(mismatch(path, "a map", v)),
        }
    }
    fn encode(&self) -> Value {
        Value::Map(self.iter().map(|(k, v)| (k.clone(), v.encode())).collect())
    }
    fn wholly_known(&self) -> bool {
        self.values().all(Field::wholly_known)
    }
}

/// The known values of a collection, when every element is known.
pub trait KnownElements {
    type Out;
    fn known_elements(&self) -> Option<Self::Out>;
}

impl<T: Clone> KnownElements for Vec<Attr<T>> {
    type Out = Vec<T>;
    fn known_elements(&self) -> Option<Vec<T>> {
        self.iter().map(|a| a.known().cloned()).collect()
    }
}

impl<T: Clone> KnownElements for Set<T> {
    type Out = Vec<T>;
    fn known_elements(&self) -> Option<Vec<T>> {
        self.0.known_elements()
    }
}

impl<T: Clone> KnownElements for BTreeMap<String, Attr<T>> {
    type Out = BTreeMap<String, T>;
    fn known_elements(&self) -> Option<BTreeMap<String, T>> {
        self.iter()
            .map(|(k, a)| a.known().map(|v| (k.clone(), v.clone())))
            .collect()
    }
}

/// Collections from plain values (every element known).
pub fn list_of<T>(items: impl IntoIterator<Item = T>) -> List<T> {
    items.into_iter().map(Attr::Known).collect()
}

pub fn map_of<T>(entries: impl IntoIterator<Item = (String, T)>) -> Map<T> {
    entries
        .into_iter()
        .map(|(k, v)| (k, Attr::Known(v)))
        .collect()
}

/// An object type of a schema: its attributes by name.
pub trait Model: Field {
    /// The attribute names, in declaration order.
    const ATTRIBUTES: &'static [&'static str];

    /// The model of a whole (non-null) object value, or the diagnostics
    /// that say which attributes did not fit.
    fn from_value(v: &Value) -> Result<Self, Diagnostics> {
        Self::decode(v, &AttributePath::root()).map_err(Diagnostics::from)
    }

    /// `None` for a null object (a prior state on create, a planned state
    /// on delete).
    fn from_optional(v: &Value) -> Result<Option<Self>, Diagnostics> {
        if v.is_null() {
            Ok(None)
        } else {
            Self::from_value(v).map(Some)
        }
    }

    fn to_value(&self) -> Value {
        self.encode()
    }

    /// Every attribute the model stands for: its own, then those of the
    /// models it embeds.
    fn attribute_names() -> Vec<&'static str> {
        Self::ATTRIBUTES.to_vec()
    }
}

/// Declares a model struct: every field is public and named after its
/// attribute, and the struct converts from and to an object [`Value`].
///
/// A model can embed other models after its fields (`embeds { … }`): their
/// attributes are attributes of the same object, so attributes several
/// schemas share are one typed struct, set whole.
///
/// ```ignore
/// model! {
///     /// One taint.
///     pub struct TaintModel {
///         key: Attr<String>,
///         value: Attr<String>,
///     }
/// }
/// model! {
///     pub struct PoolModel {
///         name: Attr<String>,
///     }
///     embeds {
///         decision: DecisionOutputs,
///     }
/// }
/// ```
#[macro_export]
macro_rules! model {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $crate::model! {
            $(#[$meta])* pub struct $name { $($(#[$fmeta])* $field : $ty),* }
            embeds {}
        }
    };
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }
     embeds { $($(#[$emeta:meta])* $efield:ident : $ety:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
            $($(#[$emeta])* pub $efield: $ety,)*
        }

        impl $crate::framework::model::Field for $name {
            fn decode(
                v: &$crate::framework::Value,
                path: &$crate::framework::AttributePath,
            ) -> Result<Self, $crate::framework::Diagnostic> {
                let $crate::framework::Value::Object(_) = v else {
                    return Err($crate::framework::Diagnostic::error(
                        "Value of the wrong type",
                        format!("Expected an object, got {v:?}; this is a bug in the provider or its schema."),
                    )
                    .at(path.clone()));
                };
                let null = $crate::framework::Value::Null;
                Ok(Self {
                    $($field: <$ty as $crate::framework::model::Field>::decode(
                        v.attr(stringify!($field)).unwrap_or(&null),
                        &path.clone().then_attr(stringify!($field)),
                    )?,)*
                    $($efield: <$ety as $crate::framework::model::Field>::decode(v, path)?,)*
                })
            }

            fn encode(&self) -> $crate::framework::Value {
                #[allow(unused_mut)]
                let mut object: std::collections::BTreeMap<String, $crate::framework::Value> =
                    [$((
                        stringify!($field).to_string(),
                        $crate::framework::model::Field::encode(&self.$field),
                    )),*]
                    .into_iter()
                    .collect();
                $(
                    if let $crate::framework::Value::Object(embedded) =
                        $crate::framework::model::Field::encode(&self.$efield)
                    {
                        object.extend(embedded);
                    }
                )*
                $crate::framework::Value::Object(object)
            }

            fn wholly_known(&self) -> bool {
                true $(&& $crate::framework::model::Field::wholly_known(&self.$field))*
                    $(&& $crate::framework::model::Field::wholly_known(&self.$efield))*
            }
        }

        /// The path of each attribute, relative to this object: a check
        /// names the attribute it reports at by the field, so a misspelt
        /// name does not compile.
        #[allow(dead_code)]
        impl $name {
            $(
                #[doc = concat!("The path of `", stringify!($field), "`.")]
                pub fn $field() -> $crate::framework::AttributePath {
                    $crate::framework::AttributePath::attr(stringify!($field))
                }
            )*
        }

        impl $crate::framework::model::Model for $name {
            const ATTRIBUTES: &'static [&'static str] = &[$(stringify!($field)),*];

            fn attribute_names() -> Vec<&'static str> {
                #[allow(unused_mut)]
                let mut names = Self::ATTRIBUTES.to_vec();
                $(names.extend(<$ety as $crate::framework::model::Model>::attribute_names());)*
                names
            }
        }
    };
}

/// The attribute names a schema block declares, for a model's agreement
/// test.
pub fn attribute_names(attributes: &[super::Attribute]) -> Vec<&str> {
    attributes.iter().map(|a| a.name.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Number;

    crate::model! {
        /// A test object.
        pub struct Inner {
            key: Attr<String>,
            n: Attr<i64>,
        }
    }

    crate::model! {
        pub struct Outer {
            name: Attr<String>,
            flag: Attr<bool>,
            items: Attr<List<Inner>>,
            ids: Attr<Set<String>>,
            labels: Attr<Map<String>>,
            inner: Attr<Inner>,
        }
    }

    crate::model! {
        pub struct Embedding {
            own: Attr<String>,
        }
        embeds {
            inner: Inner,
        }
    }

    #[test]
    fn an_embedded_model_shares_the_object_of_its_host() {
        let v = Value::object([
            ("own", Value::string("o")),
            ("key", Value::string("k")),
            ("n", Value::unknown()),
        ]);
        let m = Embedding::from_value(&v).unwrap();
        assert_eq!(m.inner.key.as_deref(), Some("k"));
        assert!(m.inner.n.is_unknown());
        assert!(!m.wholly_known());
        assert_eq!(m.to_value(), v);
        assert_eq!(Embedding::ATTRIBUTES, ["own"]);
        assert_eq!(Embedding::attribute_names(), ["own", "key", "n"]);
        assert_eq!(Embedding::own().then(Inner::key()).to_string(), "own.key");
        let e = Embedding::from_value(&Value::object([("n", Value::Bool(true))])).unwrap_err();
        assert_eq!(e.0[0].path.as_ref().unwrap().to_string(), "n");
    }

    fn value() -> Value {
        Value::object([
            ("name", Value::string("a")),
            ("flag", Value::unknown()),
            (
                "items",
                Value::List(vec![
                    Value::object([("key", Value::string("k")), ("n", Value::int(3))]),
                    Value::unknown(),
                    Value::object([("key", Value::unknown()), ("n", Value::Null)]),
                ]),
            ),
            (
                "ids",
                Value::Set(vec![Value::string("x"), Value::unknown()]),
            ),
            (
                "labels",
                Value::Map([("a".to_string(), Value::string("b"))].into()),
            ),
            ("inner", Value::Null),
        ])
    }

    #[test]
    fn values_round_trip_with_every_unknown_and_null_in_place() {
        let v = value();
        let m = Outer::from_value(&v).unwrap();
        assert_eq!(m.name.as_deref(), Some("a"));
        assert!(m.flag.is_unknown());
        assert!(m.inner.is_null());
        let items = m.items.known().unwrap();
        assert_eq!(items[0].known().unwrap().n, Attr::Known(3));
        assert!(items[1].is_unknown());
        assert!(!m.wholly_known());
        assert_eq!(m.to_value(), v);
        assert_eq!(m.ids.known().unwrap().known_elements(), None);
        assert_eq!(
            m.labels.known().unwrap().known_elements(),
            Some(BTreeMap::from([("a".to_string(), "b".to_string())]))
        );
    }

    #[test]
    fn wrong_types_and_fractions_are_errors_at_the_attribute() {
        let mut v = value();
        v.set_attr("name", Value::Bool(true));
        let e = Outer::from_value(&v).unwrap_err();
        assert_eq!(e.0[0].path.as_ref().unwrap().to_string(), "name");
        let mut v = value();
        v.set_attr(
            "inner",
            Value::object([("n", Value::Number(Number::from_f64(1.5)))]),
        );
        let e = Outer::from_value(&v).unwrap_err();
        assert_eq!(e.0[0].path.as_ref().unwrap().to_string(), "inner.n");
        assert!(e.0[0].detail.contains("whole number"), "{}", e.0[0].detail);
    }

    #[test]
    fn missing_attributes_are_null_and_null_objects_are_none() {
        let m = Outer::from_value(&Value::object([("name", Value::string("a"))])).unwrap();
        assert!(m.items.is_null());
        assert_eq!(Outer::from_optional(&Value::Null).unwrap(), None);
        assert_eq!(
            Outer::ATTRIBUTES,
            ["name", "flag", "items", "ids", "labels", "inner"]
        );
    }
}
