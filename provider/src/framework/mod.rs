//! The provider framework: schemas, values with null/unknown, diagnostics
//! with attribute paths, and the traits resources, data sources and functions
//! implement. Protocol-agnostic: no protobuf types here.

pub mod diag;
pub mod model;
pub mod provider;
pub mod schema;
pub mod server;
pub mod types;
pub mod value;

pub use diag::{AttributePath, Diagnostic, Diagnostics, Severity};
pub use model::{Attr, KnownElements, List, Map, Model, Set};
pub use provider::*;
pub use schema::{Attribute, Nesting, Schema};
pub use types::Type;
pub use value::{Number, Value};
