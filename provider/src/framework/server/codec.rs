//! Values as they travel: encoded as Terraform sends them, and the codec
//! (supplied by the protocol layer) that gives them their schema's type.

use std::collections::HashMap;

use super::Server;
use crate::framework::diag::{AttributePath, Diagnostic};
use crate::framework::types::Type;
use crate::framework::value::Value;

/// An encoded value: msgpack, or JSON when msgpack is empty; both empty is
/// null.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DynamicValue {
    pub msgpack: Vec<u8>,
    pub json: Vec<u8>,
}

/// The encoded identity of a resource instance, as it travels (the data
/// may be absent even when the identity is sent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceIdentityData {
    pub identity_data: Option<DynamicValue>,
}

/// State or identity as Terraform stored it: JSON, or (from very old
/// providers) the legacy flatmap.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawState {
    pub json: Vec<u8>,
    pub flatmap: HashMap<String, String>,
}

/// A value that does not match the type it was decoded or encoded at.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{}{message}", if path.is_root() { String::new() } else { format!("at {path}: ") })]
pub struct CodecError {
    pub path: AttributePath,
    pub message: String,
}

/// Terraform's value encodings, implemented by the protocol layer.
pub trait ValueCodec: Send + Sync + 'static {
    /// Decode `value` at `ty` (msgpack, else JSON, else null).
    fn decode(&self, value: &DynamicValue, ty: &Type) -> Result<Value, CodecError>;
    /// Encode `value` at `ty` the way Terraform is answered (msgpack).
    fn encode(&self, value: &Value, ty: &Type) -> Result<DynamicValue, CodecError>;
    /// Decode stored JSON text (state, identity) at `ty`.
    fn decode_json(&self, json: &[u8], ty: &Type) -> Result<Value, CodecError>;
    /// Give parsed JSON (state a resource upgraded) the type `ty`.
    fn decode_json_value(&self, json: &serde_json::Value, ty: &Type) -> Result<Value, CodecError>;
}

/// A value that could not be decoded: the provider and Terraform disagree on
/// the schema, which is a bug, reported as such.
pub(super) fn codec_diagnostic(what: &str, e: &CodecError) -> Diagnostic {
    let d = Diagnostic::error(
        format!("Invalid {what}"),
        format!(
            "The provider could not read the {what} Terraform sent: {e}. This is a bug in the \
             provider or a Terraform version it does not support; please report it."
        ),
    );
    if e.path.is_root() {
        d
    } else {
        d.at(e.path.clone())
    }
}

impl Server {
    /// Decode `value` (absent: null) at `ty`; `what` names it in the
    /// diagnostic when it does not fit.
    pub(super) fn decode(
        &self,
        what: &str,
        value: Option<&DynamicValue>,
        ty: &Type,
    ) -> Result<Value, Diagnostic> {
        match value {
            None => Ok(Value::Null),
            Some(v) => self
                .codec
                .decode(v, ty)
                .map_err(|e| codec_diagnostic(what, &e)),
        }
    }

    /// Encode `value` at `ty`; `what` names it in the diagnostic when it
    /// does not fit (a provider bug).
    pub(super) fn encode(
        &self,
        what: &str,
        value: &Value,
        ty: &Type,
    ) -> Result<DynamicValue, Diagnostic> {
        self.codec
            .encode(value, ty)
            .map_err(|e| codec_diagnostic(what, &e))
    }
}
