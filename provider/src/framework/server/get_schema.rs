//! What the provider declares: schemas (GetProviderSchema), the names it
//! serves (GetMetadata), identity schemas (GetResourceIdentitySchemas),
//! function definitions (GetFunctions) and the server's capabilities.

use super::Server;
use crate::framework::provider::FunctionDefinition;
use crate::framework::schema::Schema;

/// Optional protocol features the server supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServerCapabilities {
    /// Terraform asks the provider to plan destroys (PlanResourceChange with
    /// a null proposed state).
    pub plan_destroy: bool,
    /// Terraform may skip GetProviderSchema.
    pub get_provider_schema_optional: bool,
    /// Some resource accepts `moved` blocks from another resource type.
    pub move_resource_state: bool,
    /// The provider can generate configuration for imported resources.
    pub generate_resource_config: bool,
}

/// The names the provider serves, sorted, and its capabilities.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Metadata {
    pub capabilities: ServerCapabilities,
    pub resources: Vec<String>,
    pub data_sources: Vec<String>,
    pub functions: Vec<String>,
    pub list_resources: Vec<String>,
}

impl Server {
    /// The provider's own configuration schema.
    pub fn provider_schema(&self) -> &Schema {
        &self.registry.provider.schema
    }

    /// Each resource type with its schema, by name.
    pub fn resource_schemas(&self) -> impl Iterator<Item = (&str, &Schema)> {
        self.registry
            .resources
            .iter()
            .map(|(k, r)| (k.as_str(), &r.state.schema))
    }

    /// Each data source type with its schema, by name.
    pub fn data_source_schemas(&self) -> impl Iterator<Item = (&str, &Schema)> {
        self.registry
            .data_sources
            .iter()
            .map(|(k, d)| (k.as_str(), &d.config.schema))
    }

    /// Each list resource type with the schema of its `config` block.
    pub fn list_resource_schemas(&self) -> impl Iterator<Item = (&str, &Schema)> {
        self.registry
            .list_resources
            .iter()
            .map(|(k, l)| (k.as_str(), &l.config.schema))
    }

    /// The identity schema of each resource type that has one, by name.
    pub fn resource_identity_schemas(&self) -> impl Iterator<Item = (&str, &Schema)> {
        self.registry
            .resources
            .iter()
            .filter_map(|(k, r)| r.identity.as_ref().map(|i| (k.as_str(), &i.schema)))
    }

    /// Each provider-defined function's definition, by name.
    pub fn function_definitions(&self) -> impl Iterator<Item = (&str, &FunctionDefinition)> {
        self.registry
            .functions
            .iter()
            .map(|(k, f)| (k.as_str(), &f.definition))
    }

    /// The optional protocol features this server supports.
    pub fn capabilities(&self) -> ServerCapabilities {
        ServerCapabilities {
            plan_destroy: true,
            // Every RPC works without a GetProviderSchema first (the
            // registry is built with the server), so Terraform may answer
            // later provider processes from its schema cache.
            get_provider_schema_optional: true,
            move_resource_state: self
                .registry
                .resources
                .values()
                .any(|r| r.imp.supports_move()),
            generate_resource_config: false,
        }
    }

    /// The names the provider serves and its capabilities (GetMetadata).
    pub fn metadata(&self) -> Metadata {
        Metadata {
            capabilities: self.capabilities(),
            resources: self.registry.resources.keys().cloned().collect(),
            data_sources: self.registry.data_sources.keys().cloned().collect(),
            functions: self.registry.functions.keys().cloned().collect(),
            list_resources: self.registry.list_resources.keys().cloned().collect(),
        }
    }
}
