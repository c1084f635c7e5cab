//! The provider's resources, data sources and functions by name, each with
//! its schema and the value type built from it once, at start.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::framework::diag::Diagnostic;
use crate::framework::provider::{
    DataSource, Function, FunctionDefinition, ListResource, Provider, Resource,
};
use crate::framework::schema::Schema;
use crate::framework::types::Type;

/// A schema with the type of the values it describes.
pub(super) struct Typed {
    pub schema: Schema,
    pub ty: Type,
}

impl Typed {
    fn new(schema: Schema) -> Self {
        Self {
            ty: schema.value_type(),
            schema,
        }
    }
}

/// One resource type: its implementation, schema and identity schema.
pub(super) struct ResourceEntry {
    pub imp: Arc<dyn Resource>,
    pub state: Typed,
    pub identity: Option<Typed>,
}

/// One data source type: its implementation and schema.
pub(super) struct DataSourceEntry {
    pub imp: Arc<dyn DataSource>,
    pub config: Typed,
}

/// One list resource type: its implementation and `config` block schema.
pub(super) struct ListEntry {
    pub imp: Arc<dyn ListResource>,
    pub config: Typed,
}

/// One provider-defined function and its definition.
pub(super) struct FunctionEntry {
    pub imp: Arc<dyn Function>,
    pub definition: FunctionDefinition,
}

/// Everything the provider serves, keyed (and so listed) by name.
pub(super) struct Registry {
    pub provider: Typed,
    pub resources: BTreeMap<String, ResourceEntry>,
    pub data_sources: BTreeMap<String, DataSourceEntry>,
    pub functions: BTreeMap<String, FunctionEntry>,
    pub list_resources: BTreeMap<String, ListEntry>,
}

impl Registry {
    /// Ask `provider` for its schemas and parts, once.
    pub fn new(provider: &dyn Provider) -> Self {
        let resources = provider
            .resources()
            .into_iter()
            .map(|r| {
                let entry = ResourceEntry {
                    state: Typed::new(r.schema()),
                    identity: r.identity_schema().map(Typed::new),
                    imp: r,
                };
                (entry.imp.type_name().to_string(), entry)
            })
            .collect();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|d| {
                let entry = DataSourceEntry {
                    config: Typed::new(d.schema()),
                    imp: d,
                };
                (entry.imp.type_name().to_string(), entry)
            })
            .collect();
        let functions = provider
            .functions()
            .into_iter()
            .map(|f| {
                let definition = f.definition();
                (
                    definition.name.clone(),
                    FunctionEntry { imp: f, definition },
                )
            })
            .collect();
        let list_resources = provider
            .list_resources()
            .into_iter()
            .map(|l| {
                let entry = ListEntry {
                    config: Typed::new(l.schema()),
                    imp: l,
                };
                (entry.imp.type_name().to_string(), entry)
            })
            .collect();
        Self {
            provider: Typed::new(provider.schema()),
            resources,
            data_sources,
            functions,
            list_resources,
        }
    }

    /// The resource type `name`, or the diagnostic that lists the known ones.
    pub fn resource(&self, name: &str) -> Result<&ResourceEntry, Diagnostic> {
        self.resources
            .get(name)
            .ok_or_else(|| unknown_type("resource", name, self.resources.keys()))
    }

    /// The data source type `name`, or the diagnostic that lists the known
    /// ones.
    pub fn data_source(&self, name: &str) -> Result<&DataSourceEntry, Diagnostic> {
        self.data_sources
            .get(name)
            .ok_or_else(|| unknown_type("data source", name, self.data_sources.keys()))
    }
}

impl Registry {
    /// The list resource type `name`, or the diagnostic that lists the
    /// known ones.
    pub fn list_resource(&self, name: &str) -> Result<&ListEntry, Diagnostic> {
        self.list_resources
            .get(name)
            .ok_or_else(|| unknown_type("list resource", name, self.list_resources.keys()))
    }
}

fn unknown_type<'a>(
    kind: &str,
    name: &str,
    known: impl ExactSizeIterator<Item = &'a String>,
) -> Diagnostic {
    let known = if known.len() == 0 {
        "none".to_string()
    } else {
        known.map(String::as_str).collect::<Vec<_>>().join(", ")
    };
    Diagnostic::error(
        format!("Unknown {kind} type"),
        format!("This provider has no {kind} type {name:?}. It has: {known}."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_type_names_the_known_ones() {
        let known = ["a_one".to_string(), "a_two".to_string()];
        let d = unknown_type("resource", "a_three", known.iter());
        assert_eq!(d.summary, "Unknown resource type");
        assert_eq!(
            d.detail,
            "This provider has no resource type \"a_three\". It has: a_one, a_two."
        );
        let d = unknown_type("data source", "x", [].iter());
        assert!(d.detail.ends_with("It has: none."), "{}", d.detail);
    }
}
