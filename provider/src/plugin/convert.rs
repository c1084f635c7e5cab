//! Conversions between framework types and protocol messages: diagnostics,
//! attribute paths, encoded values, schemas and function definitions (the
//! per-RPC requests and responses are in `messages`).

use super::codec::{self, CodecError};
use super::proto::tfplugin6 as pb;
use crate::framework::diag::{AttributePath, Diagnostic, Diagnostics, PathStep, Severity};
use crate::framework::provider::{ClientCapabilities, FunctionDefinition};
use crate::framework::schema::{
    Attribute, AttributeKind, Block, BlockNesting, NestedBlock, Nesting, Schema,
};
use crate::framework::server::{self, ValueCodec};
use crate::framework::types::Type;
use crate::framework::value::Value;

// ----------------------------------------------------------------- diagnostics

pub fn path_to_proto(path: &AttributePath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: path
            .steps
            .iter()
            .map(|s| pb::attribute_path::Step {
                selector: Some(match s {
                    PathStep::Attribute(a) => Selector::AttributeName(a.clone()),
                    PathStep::Key(k) => Selector::ElementKeyString(k.clone()),
                    PathStep::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

pub fn path_from_proto(path: &pb::AttributePath) -> AttributePath {
    use pb::attribute_path::step::Selector;
    AttributePath {
        steps: path
            .steps
            .iter()
            .filter_map(|s| match &s.selector {
                Some(Selector::AttributeName(a)) => Some(PathStep::Attribute(a.clone())),
                Some(Selector::ElementKeyString(k)) => Some(PathStep::Key(k.clone())),
                Some(Selector::ElementKeyInt(i)) => Some(PathStep::Index(*i)),
                None => None,
            })
            .collect(),
    }
}

pub fn diagnostic_to_proto(d: &Diagnostic) -> pb::Diagnostic {
    let d = &d.bounded();
    pb::Diagnostic {
        severity: match d.severity {
            Severity::Error => pb::diagnostic::Severity::Error as i32,
            Severity::Warning => pb::diagnostic::Severity::Warning as i32,
        },
        summary: d.summary.clone(),
        detail: d.detail.clone(),
        attribute: d.path.as_ref().filter(|p| !p.is_root()).map(path_to_proto),
    }
}

pub fn diagnostics_to_proto(d: &Diagnostics) -> Vec<pb::Diagnostic> {
    d.collapsed().iter().map(diagnostic_to_proto).collect()
}

// -------------------------------------------------------------------- values

/// Decode a DynamicValue: msgpack, or JSON when msgpack is empty.
pub fn decode(dv: Option<&pb::DynamicValue>, ty: &Type) -> Result<Value, CodecError> {
    dv.map_or(Ok(Value::Null), |dv| {
        decode_parts(&dv.msgpack, &dv.json, ty)
    })
}

/// Encode a value as a msgpack DynamicValue.
pub fn encode(v: &Value, ty: &Type) -> Result<pb::DynamicValue, CodecError> {
    Ok(WireCodec.encode(v, ty)?.into())
}

/// The msgpack of a DynamicValue, else its JSON, else null.
fn decode_parts(msgpack: &[u8], json: &[u8], ty: &Type) -> Result<Value, CodecError> {
    if !msgpack.is_empty() {
        codec::decode_msgpack(msgpack, ty)
    } else if !json.is_empty() {
        codec::decode_json(json, ty)
    } else {
        Ok(Value::Null)
    }
}

/// Terraform's value wire format (`codec`), as the framework server reads
/// and writes values.
#[derive(Debug, Clone, Copy, Default)]
pub struct WireCodec;

impl ValueCodec for WireCodec {
    fn decode(&self, value: &server::DynamicValue, ty: &Type) -> Result<Value, CodecError> {
        decode_parts(&value.msgpack, &value.json, ty)
    }

    fn encode(&self, value: &Value, ty: &Type) -> Result<server::DynamicValue, CodecError> {
        Ok(server::DynamicValue {
            msgpack: codec::encode_msgpack(value, ty)?,
            json: Vec::new(),
        })
    }

    fn decode_json(&self, json: &[u8], ty: &Type) -> Result<Value, CodecError> {
        codec::decode_json(json, ty)
    }

    fn decode_json_value(&self, json: &serde_json::Value, ty: &Type) -> Result<Value, CodecError> {
        codec::from_json(json, ty, &AttributePath::root())
    }
}

impl From<pb::DynamicValue> for server::DynamicValue {
    fn from(v: pb::DynamicValue) -> Self {
        Self {
            msgpack: v.msgpack,
            json: v.json,
        }
    }
}

impl From<server::DynamicValue> for pb::DynamicValue {
    fn from(v: server::DynamicValue) -> Self {
        Self {
            msgpack: v.msgpack,
            json: v.json,
        }
    }
}

impl From<pb::ResourceIdentityData> for server::ResourceIdentityData {
    fn from(v: pb::ResourceIdentityData) -> Self {
        Self {
            identity_data: v.identity_data.map(Into::into),
        }
    }
}

impl From<server::ResourceIdentityData> for pb::ResourceIdentityData {
    fn from(v: server::ResourceIdentityData) -> Self {
        Self {
            identity_data: v.identity_data.map(Into::into),
        }
    }
}

impl From<pb::RawState> for server::RawState {
    fn from(v: pb::RawState) -> Self {
        Self {
            json: v.json,
            flatmap: v.flatmap,
        }
    }
}

/// What the calling Terraform said it can handle (nothing said: nothing).
pub fn client_capabilities(c: Option<&pb::ClientCapabilities>) -> ClientCapabilities {
    c.map(|c| ClientCapabilities {
        deferral_allowed: c.deferral_allowed,
        write_only_attributes_allowed: c.write_only_attributes_allowed,
    })
    .unwrap_or_default()
}

/// The server's capabilities as Terraform reads them.
pub fn capabilities_to_proto(c: server::ServerCapabilities) -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: c.plan_destroy,
        get_provider_schema_optional: c.get_provider_schema_optional,
        move_resource_state: c.move_resource_state,
        generate_resource_config: c.generate_resource_config,
    }
}

// ------------------------------------------------------------------- schemas

fn description_kind(markdown: &str) -> i32 {
    if markdown.is_empty() {
        pb::StringKind::Plain as i32
    } else {
        pb::StringKind::Markdown as i32
    }
}

fn attribute_to_proto(a: &Attribute) -> pb::schema::Attribute {
    let (ty, nested_type) = match &a.kind {
        AttributeKind::Type(t) => (t.to_json_bytes(), None),
        AttributeKind::Nested {
            nesting,
            attributes,
        } => (
            Vec::new(),
            Some(pb::schema::Object {
                attributes: attributes.iter().map(attribute_to_proto).collect(),
                nesting: match nesting {
                    Nesting::Single => pb::schema::object::NestingMode::Single,
                    Nesting::List => pb::schema::object::NestingMode::List,
                    Nesting::Set => pb::schema::object::NestingMode::Set,
                    Nesting::Map => pb::schema::object::NestingMode::Map,
                } as i32,
                ..Default::default()
            }),
        ),
    };
    pb::schema::Attribute {
        name: a.name.clone(),
        r#type: ty,
        nested_type,
        description: a.description.clone(),
        required: a.required,
        optional: a.optional,
        computed: a.computed,
        sensitive: a.sensitive,
        description_kind: description_kind(&a.description),
        deprecated: a.deprecation.is_some(),
        write_only: a.write_only,
        deprecation_message: a.deprecation.clone().unwrap_or_default(),
    }
}

fn nested_block_to_proto(b: &NestedBlock) -> pb::schema::NestedBlock {
    use pb::schema::nested_block::NestingMode as M;
    pb::schema::NestedBlock {
        type_name: b.name.clone(),
        block: Some(block_to_proto(&b.block, 0)),
        nesting: match b.nesting {
            BlockNesting::Single => M::Single,
            BlockNesting::List => M::List,
            BlockNesting::Set => M::Set,
            BlockNesting::Map => M::Map,
            BlockNesting::Group => M::Group,
        } as i32,
        min_items: b.min_items,
        max_items: b.max_items,
    }
}

fn block_to_proto(b: &Block, version: i64) -> pb::schema::Block {
    pb::schema::Block {
        version,
        attributes: b.attributes.iter().map(attribute_to_proto).collect(),
        block_types: b.blocks.iter().map(nested_block_to_proto).collect(),
        description: b.description.clone(),
        description_kind: description_kind(&b.description),
        deprecated: b.deprecated,
        deprecation_message: String::new(),
    }
}

pub fn schema_to_proto(s: &Schema) -> pb::Schema {
    pb::Schema {
        version: s.version,
        block: Some(block_to_proto(&s.block, s.version)),
    }
}

pub fn identity_schema_to_proto(s: &Schema) -> pb::ResourceIdentitySchema {
    pb::ResourceIdentitySchema {
        version: s.version,
        identity_attributes: s
            .block
            .attributes
            .iter()
            .map(|a| pb::resource_identity_schema::IdentityAttribute {
                name: a.name.clone(),
                r#type: a.value_type().to_json_bytes(),
                required_for_import: a.required,
                optional_for_import: !a.required,
                description: a.description.clone(),
            })
            .collect(),
    }
}

pub fn function_to_proto(f: &FunctionDefinition) -> pb::Function {
    let param = |p: &crate::framework::provider::Parameter| pb::function::Parameter {
        name: p.name.clone(),
        r#type: p.ty.to_json_bytes(),
        allow_null_value: p.allow_null,
        allow_unknown_values: p.allow_unknown,
        description: p.description.clone(),
        description_kind: description_kind(&p.description),
    };
    pb::Function {
        parameters: f.parameters.iter().map(param).collect(),
        variadic_parameter: f.variadic.as_ref().map(param),
        r#return: Some(pb::function::Return {
            r#type: f.return_type.to_json_bytes(),
        }),
        summary: f.summary.clone(),
        description: f.description.clone(),
        description_kind: description_kind(&f.description),
        deprecation_message: f.deprecation.clone().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip_through_proto() {
        let p = AttributePath::attr("taints").then_index(2).then_attr("key");
        assert_eq!(path_from_proto(&path_to_proto(&p)), p);
        let p = AttributePath::attr("labels").then_key("team");
        assert_eq!(path_from_proto(&path_to_proto(&p)), p);
    }

    #[test]
    fn json_dynamic_values_are_read_when_msgpack_is_empty() {
        let dv = pb::DynamicValue {
            msgpack: vec![],
            json: br#"{"a":"x"}"#.to_vec(),
        };
        let ty = Type::object([("a", Type::String)]);
        let v = decode(Some(&dv), &ty).unwrap();
        assert_eq!(v.attr("a"), Some(&Value::string("x")));
        // …and the answer is always msgpack.
        let out = encode(&v, &ty).unwrap();
        assert!(out.json.is_empty() && !out.msgpack.is_empty());
    }
}
