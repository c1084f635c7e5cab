//! DynamicValue codec: msgpack and JSON in, msgpack out.
//!
//! The wire format is Terraform's `object-wire-format.md`: msgpack is
//! type-directed (an object is a map keyed by attribute name), null is nil,
//! any extension is an unknown value (code 0 plain, code 12 refined), numbers
//! may arrive as integer, float or decimal string, and a value of the
//! `dynamic` pseudo-type is `[type JSON, value]`.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::framework::diag::{AttributePath, PathStep};
use crate::framework::types::Type;
use crate::framework::value::{Number, Value};

/// Extension code of a wholly unknown value.
const EXT_UNKNOWN: i8 = 0;
/// Extension code of an unknown value that carries refinements.
const EXT_REFINED_UNKNOWN: i8 = 12;
/// Deepest nesting accepted, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 256;

pub use crate::framework::server::CodecError;

fn err(path: &AttributePath, message: impl Into<String>) -> CodecError {
    CodecError {
        path: path.clone(),
        message: message.into(),
    }
}

fn child(path: &AttributePath, step: PathStep) -> AttributePath {
    let mut p = path.clone();
    p.steps.push(step);
    p
}

/// Decode a msgpack document at `ty`.
pub fn decode_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let root = AttributePath::root();
    let mut rd = bytes;
    let raw = rmpv::decode::read_value_with_max_depth(&mut rd, MAX_DEPTH)
        .map_err(|e| err(&root, format!("malformed msgpack: {e}")))?;
    if !rd.is_empty() {
        return Err(err(&root, "trailing bytes after msgpack value"));
    }
    from_msgpack(raw, ty, &root)
}

fn from_msgpack(raw: rmpv::Value, ty: &Type, path: &AttributePath) -> Result<Value, CodecError> {
    use rmpv::Value as M;
    match raw {
        M::Nil => return Ok(Value::Null),
        M::Ext(code, payload) => {
            return Ok(Value::Unknown {
                refinements: (code == EXT_REFINED_UNKNOWN).then_some(payload),
            });
        }
        _ => {}
    }
    match ty {
        Type::Bool => match raw {
            M::Boolean(b) => Ok(Value::Bool(b)),
            other => Err(err(path, format!("expected bool, got {}", kind(&other)))),
        },
        Type::Number => match raw {
            M::Integer(i) => {
                if let Some(v) = i.as_i64() {
                    Ok(Value::Number(Number::Int(v)))
                } else if let Some(u) = i.as_u64() {
                    Ok(Value::Number(Number::from_u64(u)))
                } else {
                    Err(err(path, "integer out of range"))
                }
            }
            // Terraform numbers cannot be NaN: a NaN on the wire is malformed.
            M::F32(f) if f.is_nan() => Err(err(path, "NaN is not a Terraform number")),
            M::F64(f) if f.is_nan() => Err(err(path, "NaN is not a Terraform number")),
            M::F32(f) => Ok(Value::Number(Number::from_f64(f64::from(f)))),
            M::F64(f) => Ok(Value::Number(Number::from_f64(f))),
            M::String(s) => {
                let text = s
                    .into_str()
                    .ok_or_else(|| err(path, "number string is not UTF-8"))?;
                Number::parse(&text)
                    .map(Value::Number)
                    .map_err(|e| err(path, e.to_string()))
            }
            other => Err(err(path, format!("expected number, got {}", kind(&other)))),
        },
        Type::String => match raw {
            M::String(s) => s
                .into_str()
                .map(Value::String)
                .ok_or_else(|| err(path, "string is not UTF-8")),
            other => Err(err(path, format!("expected string, got {}", kind(&other)))),
        },
        Type::List(elem) | Type::Set(elem) => {
            let items = match raw {
                M::Array(items) => items,
                other => return Err(err(path, format!("expected array, got {}", kind(&other)))),
            };
            let values = items
                .into_iter()
                .enumerate()
                .map(|(i, item)| from_msgpack(item, elem, &child(path, index_step(i))))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(values)
            } else {
                Value::List(values)
            })
        }
        Type::Tuple(elems) => {
            let items = match raw {
                M::Array(items) => items,
                other => return Err(err(path, format!("expected array, got {}", kind(&other)))),
            };
            if items.len() != elems.len() {
                return Err(err(
                    path,
                    format!("tuple of {} elements, got {}", elems.len(), items.len()),
                ));
            }
            let values = items
                .into_iter()
                .zip(elems)
                .enumerate()
                .map(|(i, (item, t))| from_msgpack(item, t, &child(path, index_step(i))))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::Tuple(values))
        }
        Type::Map(elem) => {
            let entries = map_entries(raw, path)?;
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let p = child(path, PathStep::Key(k.clone()));
                out.insert(k, from_msgpack(v, elem, &p)?);
            }
            Ok(Value::Map(out))
        }
        Type::Object { attributes, .. } => {
            let entries = map_entries(raw, path)?;
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let p = child(path, PathStep::Attribute(k.clone()));
                let t = attributes
                    .get(&k)
                    .ok_or_else(|| err(&p, format!("unsupported attribute {k:?}")))?;
                out.insert(k, from_msgpack(v, t, &p)?);
            }
            // Absent attributes are null.
            for name in attributes.keys() {
                out.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(out))
        }
        Type::Dynamic => {
            let mut items = match raw {
                M::Array(items) if items.len() == 2 => items,
                other => {
                    return Err(err(
                        path,
                        format!(
                            "expected [type, value] for a dynamic value, got {}",
                            kind(&other)
                        ),
                    ));
                }
            };
            let value = items.pop().unwrap_or(M::Nil);
            let ty_bytes = match items.pop() {
                Some(M::Binary(b)) => b,
                Some(M::String(s)) => s.into_bytes(),
                _ => return Err(err(path, "dynamic value without its type")),
            };
            let inner_ty =
                Type::from_json_bytes(&ty_bytes).map_err(|e| err(path, e.to_string()))?;
            let inner = from_msgpack(value, &inner_ty, path)?;
            Ok(Value::Dynamic {
                ty: inner_ty,
                value: Box::new(inner),
            })
        }
    }
}

fn index_step(i: usize) -> PathStep {
    PathStep::Index(i64::try_from(i).unwrap_or(i64::MAX))
}

fn map_entries(
    raw: rmpv::Value,
    path: &AttributePath,
) -> Result<Vec<(String, rmpv::Value)>, CodecError> {
    match raw {
        rmpv::Value::Map(entries) => entries
            .into_iter()
            .map(|(k, v)| match k {
                rmpv::Value::String(s) => s
                    .into_str()
                    .map(|k| (k, v))
                    .ok_or_else(|| err(path, "map key is not UTF-8")),
                other => Err(err(
                    path,
                    format!("map key must be a string, got {}", kind(&other)),
                )),
            })
            .collect(),
        other => Err(err(path, format!("expected map, got {}", kind(&other)))),
    }
}

fn kind(v: &rmpv::Value) -> &'static str {
    use rmpv::Value as M;
    match v {
        M::Nil => "nil",
        M::Boolean(_) => "bool",
        M::Integer(_) => "integer",
        M::F32(_) | M::F64(_) => "float",
        M::String(_) => "string",
        M::Binary(_) => "binary",
        M::Array(_) => "array",
        M::Map(_) => "map",
        M::Ext(..) => "extension",
    }
}

/// Decode the JSON form (used for stored state) at `ty`.
pub fn decode_json(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let root = AttributePath::root();
    let json: Json =
        serde_json::from_slice(bytes).map_err(|e| err(&root, format!("malformed JSON: {e}")))?;
    from_json(&json, ty, &root)
}

pub fn from_json(json: &Json, ty: &Type, path: &AttributePath) -> Result<Value, CodecError> {
    if json.is_null() {
        return Ok(Value::Null);
    }
    match ty {
        Type::Bool => json
            .as_bool()
            .map(Value::Bool)
            .ok_or_else(|| err(path, "expected bool")),
        Type::Number => match json {
            Json::Number(n) => Number::parse(&n.to_string())
                .map(Value::Number)
                .map_err(|e| err(path, e.to_string())),
            Json::String(s) => Number::parse(s)
                .map(Value::Number)
                .map_err(|e| err(path, e.to_string())),
            _ => Err(err(path, "expected number")),
        },
        Type::String => match json {
            Json::String(s) => Ok(Value::String(s.clone())),
            // Terraform's JSON decoder converts primitives to strings.
            Json::Number(n) => Ok(Value::String(n.to_string())),
            Json::Bool(b) => Ok(Value::String(b.to_string())),
            _ => Err(err(path, "expected string")),
        },
        Type::List(elem) | Type::Set(elem) => {
            let items = json.as_array().ok_or_else(|| err(path, "expected array"))?;
            let values = items
                .iter()
                .enumerate()
                .map(|(i, item)| from_json(item, elem, &child(path, index_step(i))))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(values)
            } else {
                Value::List(values)
            })
        }
        Type::Tuple(elems) => {
            let items = json.as_array().ok_or_else(|| err(path, "expected array"))?;
            if items.len() != elems.len() {
                return Err(err(path, "tuple length mismatch"));
            }
            let values = items
                .iter()
                .zip(elems)
                .enumerate()
                .map(|(i, (item, t))| from_json(item, t, &child(path, index_step(i))))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::Tuple(values))
        }
        Type::Map(elem) => {
            let obj = json
                .as_object()
                .ok_or_else(|| err(path, "expected object"))?;
            let mut out = BTreeMap::new();
            for (k, v) in obj {
                out.insert(
                    k.clone(),
                    from_json(v, elem, &child(path, PathStep::Key(k.clone())))?,
                );
            }
            Ok(Value::Map(out))
        }
        Type::Object { attributes, .. } => {
            let obj = json
                .as_object()
                .ok_or_else(|| err(path, "expected object"))?;
            let mut out = BTreeMap::new();
            for (k, v) in obj {
                let p = child(path, PathStep::Attribute(k.clone()));
                let t = attributes
                    .get(k)
                    .ok_or_else(|| err(&p, format!("unsupported attribute {k:?}")))?;
                out.insert(k.clone(), from_json(v, t, &p)?);
            }
            for name in attributes.keys() {
                out.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(out))
        }
        Type::Dynamic => {
            let obj = json
                .as_object()
                .ok_or_else(|| err(path, "expected {\"value\", \"type\"} for a dynamic value"))?;
            let t = obj
                .get("type")
                .ok_or_else(|| err(path, "dynamic value without its type"))?;
            let inner_ty = Type::from_json(t).map_err(|e| err(path, e.to_string()))?;
            let inner = from_json(obj.get("value").unwrap_or(&Json::Null), &inner_ty, path)?;
            Ok(Value::Dynamic {
                ty: inner_ty,
                value: Box::new(inner),
            })
        }
    }
}

/// Encode `value` at `ty` as msgpack.
pub fn encode_msgpack(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(64);
    write_value(&mut out, value, ty, &AttributePath::root())?;
    Ok(out)
}

fn write_value(
    out: &mut Vec<u8>,
    value: &Value,
    ty: &Type,
    path: &AttributePath,
) -> Result<(), CodecError> {
    use rmp::encode as w;
    // Writing to a Vec cannot fail; the `ok()`s below discard an impossible error.
    match value {
        Value::Null => {
            w::write_nil(out).ok();
            return Ok(());
        }
        Value::Unknown { refinements } => {
            match refinements {
                Some(payload) => {
                    let len = u32::try_from(payload.len())
                        .map_err(|_| err(path, "refinement payload too large"))?;
                    w::write_ext_meta(out, len, EXT_REFINED_UNKNOWN).ok();
                    out.extend_from_slice(payload);
                }
                None => {
                    w::write_ext_meta(out, 1, EXT_UNKNOWN).ok();
                    out.push(0);
                }
            }
            return Ok(());
        }
        _ => {}
    }
    match (ty, value) {
        (Type::Dynamic, Value::Dynamic { ty: inner, value }) => {
            if value.is_null() || value.is_unknown() {
                return write_value(out, value, inner, path);
            }
            w::write_array_len(out, 2).ok();
            let json = inner.to_json_bytes();
            w::write_bin(out, &json).ok();
            write_value(out, value, inner, path)
        }
        (Type::Dynamic, v) => {
            let inner = infer_type(v);
            w::write_array_len(out, 2).ok();
            w::write_bin(out, &inner.to_json_bytes()).ok();
            write_value(out, v, &inner, path)
        }
        (t, Value::Dynamic { value, .. }) => write_value(out, value, t, path),
        (Type::Bool, Value::Bool(b)) => {
            w::write_bool(out, *b).ok();
            Ok(())
        }
        (Type::Number, Value::Number(n)) => {
            match n {
                Number::Int(i) => {
                    w::write_sint(out, *i).ok();
                }
                Number::UInt(u) => {
                    w::write_uint(out, *u).ok();
                }
                Number::Float(f) => {
                    w::write_f64(out, *f).ok();
                }
                Number::Decimal(s) => {
                    w::write_str(out, s).ok();
                }
            }
            Ok(())
        }
        (Type::String, Value::String(s)) => {
            w::write_str(out, s).ok();
            Ok(())
        }
        (Type::List(elem) | Type::Set(elem), Value::List(items) | Value::Set(items)) => {
            write_array_len(out, items.len(), path)?;
            for (i, item) in items.iter().enumerate() {
                write_value(out, item, elem, &child(path, index_step(i)))?;
            }
            Ok(())
        }
        (Type::Tuple(elems), Value::Tuple(items) | Value::List(items)) => {
            if elems.len() != items.len() {
                return Err(err(path, "tuple length mismatch"));
            }
            write_array_len(out, items.len(), path)?;
            for (i, (item, t)) in items.iter().zip(elems).enumerate() {
                write_value(out, item, t, &child(path, index_step(i)))?;
            }
            Ok(())
        }
        (Type::Map(elem), Value::Map(entries) | Value::Object(entries)) => {
            write_map_len(out, entries.len(), path)?;
            for (k, v) in entries {
                w::write_str(out, k).ok();
                write_value(out, v, elem, &child(path, PathStep::Key(k.clone())))?;
            }
            Ok(())
        }
        (Type::Object { attributes, .. }, Value::Object(entries)) => {
            if let Some(extra) = entries.keys().find(|k| !attributes.contains_key(*k)) {
                return Err(err(
                    path,
                    format!("attribute {extra:?} is not in the schema"),
                ));
            }
            write_map_len(out, attributes.len(), path)?;
            for (name, t) in attributes {
                w::write_str(out, name).ok();
                let v = entries.get(name).unwrap_or(&Value::Null);
                write_value(out, v, t, &child(path, PathStep::Attribute(name.clone())))?;
            }
            Ok(())
        }
        (t, v) => Err(err(
            path,
            format!("cannot encode {} as {}", value_kind(v), t.friendly_name()),
        )),
    }
}

fn write_array_len(out: &mut Vec<u8>, len: usize, path: &AttributePath) -> Result<(), CodecError> {
    let len = u32::try_from(len).map_err(|_| err(path, "too many elements"))?;
    rmp::encode::write_array_len(out, len).ok();
    Ok(())
}

fn write_map_len(out: &mut Vec<u8>, len: usize, path: &AttributePath) -> Result<(), CodecError> {
    let len = u32::try_from(len).map_err(|_| err(path, "too many entries"))?;
    rmp::encode::write_map_len(out, len).ok();
    Ok(())
}

fn value_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Unknown { .. } => "unknown",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::List(_) => "list",
        Value::Set(_) => "set",
        Value::Map(_) => "map",
        Value::Object(_) => "object",
        Value::Tuple(_) => "tuple",
        Value::Dynamic { .. } => "dynamic value",
    }
}

/// The type of a value placed at a `dynamic` position without one.
pub fn infer_type(v: &Value) -> Type {
    match v {
        Value::Null | Value::Unknown { .. } => Type::Dynamic,
        Value::Bool(_) => Type::Bool,
        Value::Number(_) => Type::Number,
        Value::String(_) => Type::String,
        Value::List(items) => Type::list(items.first().map_or(Type::Dynamic, infer_type)),
        Value::Set(items) => Type::set(items.first().map_or(Type::Dynamic, infer_type)),
        Value::Map(m) => Type::map(m.values().next().map_or(Type::Dynamic, infer_type)),
        Value::Object(m) => Type::Object {
            attributes: m.iter().map(|(k, v)| (k.clone(), infer_type(v))).collect(),
            optional: Default::default(),
        },
        Value::Tuple(items) => Type::Tuple(items.iter().map(infer_type).collect()),
        Value::Dynamic { ty, .. } => ty.clone(),
    }
}

/// Encode `value` at `ty` as Terraform's JSON value form (for diagnostics
/// and for tests; the wire always gets msgpack).
pub fn to_json(value: &Value) -> Json {
    match value {
        Value::Null | Value::Unknown { .. } => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(n) => serde_json::from_str(&n.to_string()).unwrap_or(Json::Null),
        Value::String(s) => Json::String(s.clone()),
        Value::List(v) | Value::Set(v) | Value::Tuple(v) => {
            Json::Array(v.iter().map(to_json).collect())
        }
        Value::Map(m) | Value::Object(m) => {
            Json::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
        Value::Dynamic { value, .. } => to_json(value),
    }
}

#[cfg(test)]
mod tests;
