//! Terraform's type system (cty types) as the protocol carries them.
//!
//! Types travel as JSON: `"string"`, `["list","string"]`,
//! `["object",{"a":"number"},["a"]]` (the third element lists optional
//! attributes), `"dynamic"` for the pseudo-type whose values carry their own
//! type on the wire.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

/// A Terraform type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    Bool,
    Number,
    String,
    /// The `dynamic` pseudo-type: the concrete type is chosen by the value.
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object {
        attributes: BTreeMap<String, Type>,
        optional: BTreeSet<String>,
    },
    Tuple(Vec<Type>),
}

/// A type description that could not be understood.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid type description: {reason}")]
pub struct TypeError {
    pub reason: String,
}

impl TypeError {
    fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

impl Type {
    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }
    pub fn set(element: Type) -> Type {
        Type::Set(Box::new(element))
    }
    pub fn map(element: Type) -> Type {
        Type::Map(Box::new(element))
    }
    /// An object type whose attributes are all required.
    pub fn object<I, K>(attributes: I) -> Type
    where
        I: IntoIterator<Item = (K, Type)>,
        K: Into<String>,
    {
        Type::Object {
            attributes: attributes.into_iter().map(|(k, t)| (k.into(), t)).collect(),
            optional: BTreeSet::new(),
        }
    }

    /// Type as Terraform's JSON type description.
    pub fn to_json(&self) -> Json {
        match self {
            Type::Bool => Json::from("bool"),
            Type::Number => Json::from("number"),
            Type::String => Json::from("string"),
            Type::Dynamic => Json::from("dynamic"),
            Type::List(e) => Json::Array(vec!["list".into(), e.to_json()]),
            Type::Set(e) => Json::Array(vec!["set".into(), e.to_json()]),
            Type::Map(e) => Json::Array(vec!["map".into(), e.to_json()]),
            Type::Object {
                attributes,
                optional,
            } => {
                let attrs: serde_json::Map<String, Json> = attributes
                    .iter()
                    .map(|(k, t)| (k.clone(), t.to_json()))
                    .collect();
                let mut parts = vec![Json::from("object"), Json::Object(attrs)];
                if !optional.is_empty() {
                    parts.push(Json::Array(
                        optional.iter().map(|s| Json::from(s.as_str())).collect(),
                    ));
                }
                Json::Array(parts)
            }
            Type::Tuple(elems) => Json::Array(vec![
                "tuple".into(),
                Json::Array(elems.iter().map(Type::to_json).collect()),
            ]),
        }
    }

    /// Compact JSON bytes, as the protocol's `bytes type` fields want.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        self.to_json().to_string().into_bytes()
    }

    pub fn from_json_bytes(bytes: &[u8]) -> Result<Type, TypeError> {
        let json: Json =
            serde_json::from_slice(bytes).map_err(|e| TypeError::new(format!("not JSON: {e}")))?;
        Type::from_json(&json)
    }

    pub fn from_json(json: &Json) -> Result<Type, TypeError> {
        match json {
            Json::String(s) => match s.as_str() {
                "bool" => Ok(Type::Bool),
                "number" => Ok(Type::Number),
                "string" => Ok(Type::String),
                "dynamic" => Ok(Type::Dynamic),
                other => Err(TypeError::new(format!("unknown primitive type {other:?}"))),
            },
            Json::Array(parts) => {
                let kind = parts
                    .first()
                    .and_then(Json::as_str)
                    .ok_or_else(|| TypeError::new("a compound type must start with its kind"))?;
                let arg = parts
                    .get(1)
                    .ok_or_else(|| TypeError::new(format!("{kind} type without its argument")))?;
                match kind {
                    "list" => Ok(Type::list(Type::from_json(arg)?)),
                    "set" => Ok(Type::set(Type::from_json(arg)?)),
                    "map" => Ok(Type::map(Type::from_json(arg)?)),
                    "tuple" => {
                        let elems = arg
                            .as_array()
                            .ok_or_else(|| TypeError::new("tuple elements must be an array"))?;
                        Ok(Type::Tuple(
                            elems
                                .iter()
                                .map(Type::from_json)
                                .collect::<Result<_, _>>()?,
                        ))
                    }
                    "object" => {
                        let attrs = arg
                            .as_object()
                            .ok_or_else(|| TypeError::new("object attributes must be a map"))?;
                        let attributes = attrs
                            .iter()
                            .map(|(k, v)| Ok((k.clone(), Type::from_json(v)?)))
                            .collect::<Result<BTreeMap<_, _>, TypeError>>()?;
                        let mut optional = BTreeSet::new();
                        if let Some(opt) = parts.get(2) {
                            let opt = opt.as_array().ok_or_else(|| {
                                TypeError::new("optional attributes must be an array")
                            })?;
                            for name in opt {
                                let name = name.as_str().ok_or_else(|| {
                                    TypeError::new("optional attribute names must be strings")
                                })?;
                                if !attributes.contains_key(name) {
                                    return Err(TypeError::new(format!(
                                        "optional attribute {name:?} is not an attribute"
                                    )));
                                }
                                optional.insert(name.to_string());
                            }
                        }
                        Ok(Type::Object {
                            attributes,
                            optional,
                        })
                    }
                    other => Err(TypeError::new(format!("unknown type kind {other:?}"))),
                }
            }
            other => Err(TypeError::new(format!("unexpected JSON {other}"))),
        }
    }

    /// Short human name, for error messages ("list of string").
    pub fn friendly_name(&self) -> String {
        match self {
            Type::Bool => "bool".into(),
            Type::Number => "number".into(),
            Type::String => "string".into(),
            Type::Dynamic => "any".into(),
            Type::List(e) => format!("list of {}", e.friendly_name()),
            Type::Set(e) => format!("set of {}", e.friendly_name()),
            Type::Map(e) => format!("map of {}", e.friendly_name()),
            Type::Object { .. } => "object".into(),
            Type::Tuple(_) => "tuple".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_of_nested_types() {
        let cases = [
            r#""string""#,
            r#"["list","number"]"#,
            r#"["map",["set","bool"]]"#,
            r#"["object",{"a":"string","b":["list","dynamic"]},["b"]]"#,
            r#"["tuple",["string","number"]]"#,
        ];
        for case in cases {
            let t = Type::from_json_bytes(case.as_bytes()).unwrap();
            assert_eq!(String::from_utf8(t.to_json_bytes()).unwrap(), case);
        }
    }

    #[test]
    fn malformed_types_are_errors() {
        for case in [
            r#""strin""#,
            r#"["list"]"#,
            r#"["object",{"a":"string"},["b"]]"#,
            r#"42"#,
            "not json",
        ] {
            assert!(Type::from_json_bytes(case.as_bytes()).is_err(), "{case}");
        }
    }
}
