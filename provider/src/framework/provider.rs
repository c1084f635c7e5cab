//! What a provider, resource, data source and function implement.
//!
//! The plugin layer converts protocol messages into the request structs here
//! and the responses back; implementations never see protobuf types and never
//! return transport errors — every failure is a diagnostic.

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::watch;

use super::diag::{AttributePath, Diagnostic, Diagnostics};
use super::schema::Schema;
use super::types::Type;
use super::value::Value;

/// Whatever a provider builds in `configure` (clients, settings), handed to
/// every later call of its resources and data sources.
pub type ProviderData = Arc<dyn Any + Send + Sync>;

/// Why in-flight work should end: Terraform sent StopProvider (Ctrl-C), or
/// Terraform itself is gone (killed), so no answer will ever reach a state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Halt {
    #[default]
    Running,
    /// StopProvider: end waits promptly, answer with what exists.
    Stop,
    /// Terraform died: end waits, create nothing new, exit.
    Gone,
}

/// Fires when Terraform sends StopProvider (Ctrl-C) or goes away: long
/// waits should end promptly with a diagnostic.
#[derive(Clone, Debug)]
pub struct StopToken(watch::Receiver<Halt>);

impl StopToken {
    pub fn new(rx: watch::Receiver<Halt>) -> Self {
        Self(rx)
    }

    /// A token that never fires (tests, pure code).
    pub fn never() -> Self {
        let (tx, rx) = watch::channel(Halt::Running);
        // Keep the sender alive so `stopped()` never resolves.
        std::mem::forget(tx);
        Self(rx)
    }

    pub fn is_stopped(&self) -> bool {
        *self.0.borrow() != Halt::Running
    }

    /// Terraform is gone: whatever is not yet created must not be, and what
    /// was created cannot be reported.
    pub fn is_gone(&self) -> bool {
        *self.0.borrow() == Halt::Gone
    }

    /// Resolves once stop has been requested (or Terraform is gone).
    pub async fn stopped(&mut self) {
        let _ = self.0.wait_for(|s| *s != Halt::Running).await;
    }
}

/// What the calling Terraform said it can handle.
#[derive(Clone, Debug, Default)]
pub struct ClientCapabilities {
    pub deferral_allowed: bool,
    pub write_only_attributes_allowed: bool,
}

pub struct ConfigureRequest {
    pub terraform_version: String,
    pub config: Value,
    pub client: ClientCapabilities,
}

#[derive(Default)]
pub struct ConfigureResponse {
    pub diagnostics: Diagnostics,
    pub data: Option<ProviderData>,
}

#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The provider's type name: the prefix of every resource type.
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    /// Checks beyond what the schema declares. Values may be unknown.
    fn validate_config(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    async fn configure(&self, req: ConfigureRequest) -> ConfigureResponse;
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        Vec::new()
    }
    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        Vec::new()
    }
    fn functions(&self) -> Vec<Arc<dyn Function>> {
        Vec::new()
    }
    /// List resources (`terraform query`); each has the type name of a
    /// resource with an identity schema.
    fn list_resources(&self) -> Vec<Arc<dyn ListResource>> {
        Vec::new()
    }
}

// ---------------------------------------------------------------- data sources

pub struct ReadDataRequest {
    pub config: Value,
    pub provider: Option<ProviderData>,
    pub stop: StopToken,
}

#[derive(Default)]
pub struct ReadDataResponse {
    pub state: Value,
    pub diagnostics: Diagnostics,
}

#[async_trait]
pub trait DataSource: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    async fn read(&self, req: ReadDataRequest) -> ReadDataResponse;
}

// ------------------------------------------------------------------- resources

pub struct PlanRequest {
    pub prior_state: Value,
    pub proposed_new_state: Value,
    pub config: Value,
    pub prior_private: Vec<u8>,
    pub prior_identity: Option<Value>,
    pub provider: Option<ProviderData>,
}

#[derive(Default)]
pub struct PlanResponse {
    pub planned_state: Value,
    pub requires_replace: Vec<AttributePath>,
    pub planned_private: Vec<u8>,
    pub planned_identity: Option<Value>,
    pub diagnostics: Diagnostics,
}

pub struct ApplyRequest {
    pub prior_state: Value,
    pub planned_state: Value,
    pub config: Value,
    pub planned_private: Vec<u8>,
    pub planned_identity: Option<Value>,
    pub provider: Option<ProviderData>,
    pub stop: StopToken,
}

#[derive(Default)]
pub struct ApplyResponse {
    pub new_state: Value,
    pub private: Vec<u8>,
    pub new_identity: Option<Value>,
    pub diagnostics: Diagnostics,
}

pub struct ReadRequest {
    pub current_state: Value,
    pub private: Vec<u8>,
    pub current_identity: Option<Value>,
    pub provider: Option<ProviderData>,
    pub stop: StopToken,
}

#[derive(Default)]
pub struct ReadResponse {
    /// Null when the object no longer exists (Terraform plans to create it).
    pub new_state: Value,
    pub private: Vec<u8>,
    pub new_identity: Option<Value>,
    pub diagnostics: Diagnostics,
}

pub struct ImportRequest {
    /// The ID from `terraform import` or an `import` block; empty when the
    /// import is by identity.
    pub id: String,
    pub identity: Option<Value>,
    pub provider: Option<ProviderData>,
}

#[derive(Default)]
pub struct ImportResponse {
    /// Partial states; Terraform reads each of them next.
    pub imported: Vec<ImportedResource>,
    pub diagnostics: Diagnostics,
}

pub struct ImportedResource {
    pub state: Value,
    pub private: Vec<u8>,
    pub identity: Option<Value>,
}

pub struct MoveRequest {
    pub source_provider_address: String,
    pub source_type_name: String,
    pub source_schema_version: i64,
    /// The source state as JSON (its schema is not ours).
    pub source_state_json: Option<serde_json::Value>,
}

#[derive(Default)]
pub struct MoveResponse {
    pub target_state: Value,
    pub diagnostics: Diagnostics,
}

#[async_trait]
pub trait Resource: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    /// Resource identity (Terraform ≥ 1.12): attributes marked required are
    /// `required_for_import`, optional ones `optional_for_import`.
    fn identity_schema(&self) -> Option<Schema> {
        None
    }
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    async fn plan(&self, req: PlanRequest) -> PlanResponse;
    async fn apply(&self, req: ApplyRequest) -> ApplyResponse;
    async fn read(&self, req: ReadRequest) -> ReadResponse;
    async fn import(&self, _req: ImportRequest) -> ImportResponse {
        ImportResponse {
            diagnostics: Diagnostic::error(
                "Import not supported",
                format!("{} cannot be imported.", self.type_name()),
            )
            .into(),
            ..Default::default()
        }
    }
    /// Upgrade stored state (JSON) written by schema `from_version` to the
    /// current schema's shape. The default accepts the current version only.
    fn upgrade_state(
        &self,
        from_version: i64,
        state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostic> {
        let current = self.schema().version;
        if from_version == current {
            Ok(state)
        } else {
            Err(Diagnostic::error(
                "Unsupported state version",
                format!(
                    "The state of this {} was written by schema version {from_version}; this \
                     provider only reads version {current}. Use the provider version that \
                     wrote it, or remove the resource from state and import it again.",
                    self.type_name()
                ),
            ))
        }
    }
    /// True when `move_state` accepts some source; advertised to Terraform.
    fn supports_move(&self) -> bool {
        false
    }
    /// `moved` blocks from another resource type into this one.
    async fn move_state(&self, req: MoveRequest) -> MoveResponse {
        MoveResponse {
            diagnostics: Diagnostic::error(
                "Move not supported",
                format!(
                    "{} cannot be moved from {} ({}).",
                    self.type_name(),
                    req.source_type_name,
                    req.source_provider_address
                ),
            )
            .into(),
            ..Default::default()
        }
    }
}

// -------------------------------------------------------------- list resources

pub struct ListRequest {
    /// The `config` block of the `list` block (the list resource's schema).
    pub config: Value,
    /// Terraform wants each result's full state, not only its identity.
    pub include_resource: bool,
    /// At most this many results are wanted.
    pub limit: usize,
    pub provider: Option<ProviderData>,
    pub stop: StopToken,
}

/// One result: the object's identity (the resource's identity schema), a
/// name for people, and its state (the resource's schema) when asked for.
/// Without an identity it is only its diagnostics (Terraform skips a
/// result that has warnings and no identity).
#[derive(Debug, Clone, Default)]
pub struct ListResult {
    pub identity: Option<Value>,
    pub display_name: String,
    pub state: Option<Value>,
    /// Warnings about this result.
    pub diagnostics: Diagnostics,
}

/// Where a list resource sends what it finds, one event at a time.
pub struct ListSink {
    tx: tokio::sync::mpsc::Sender<ListEvent>,
    sent: usize,
    limit: usize,
}

/// What travels from a list resource to Terraform.
#[derive(Debug)]
pub enum ListEvent {
    Result(Box<ListResult>),
    /// Diagnostics without a result (an error ends the listing).
    Diagnostics(Diagnostics),
}

impl ListSink {
    pub fn new(tx: tokio::sync::mpsc::Sender<ListEvent>, limit: usize) -> Self {
        Self { tx, sent: 0, limit }
    }

    /// Send a result. `false` once no more are wanted (the limit is
    /// reached, or Terraform stopped reading): the listing should end.
    pub async fn result(&mut self, r: ListResult) -> bool {
        if self.is_done() {
            return false;
        }
        if self.tx.send(ListEvent::Result(Box::new(r))).await.is_err() {
            self.sent = self.limit;
            return false;
        }
        self.sent += 1;
        !self.is_done()
    }

    /// Send diagnostics on their own (an error ends the listing).
    pub async fn diagnostics(&mut self, d: Diagnostics) {
        if !d.is_empty() {
            let _ = self.tx.send(ListEvent::Diagnostics(d)).await;
        }
    }

    /// The limit is reached or Terraform is no longer listening.
    pub fn is_done(&self) -> bool {
        self.sent >= self.limit || self.tx.is_closed()
    }
}

#[async_trait]
pub trait ListResource: Send + Sync + 'static {
    /// The resource type whose objects it lists (and whose identity and
    /// state schemas its results have).
    fn type_name(&self) -> &'static str;
    /// The schema of the `config` block.
    fn schema(&self) -> Schema;
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }
    /// Find the objects and send each to `sink` as soon as it is known.
    async fn list(&self, req: ListRequest, sink: &mut ListSink);
}

// ------------------------------------------------------------------- functions

#[derive(Debug, Clone)]
pub struct Parameter {
    pub name: String,
    pub ty: Type,
    /// Markdown.
    pub description: String,
    pub allow_null: bool,
    pub allow_unknown: bool,
}

impl Parameter {
    pub fn new(name: &str, ty: Type, description: &str) -> Self {
        Self {
            name: name.into(),
            ty,
            description: description.into(),
            allow_null: false,
            allow_unknown: false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct FunctionDefinition {
    pub name: String,
    pub summary: String,
    /// Markdown.
    pub description: String,
    pub parameters: Vec<Parameter>,
    pub variadic: Option<Parameter>,
    pub return_type: Type,
    pub deprecation: Option<String>,
}

/// A function call failure: shown by Terraform at the call, or at the
/// argument when `argument` is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionError {
    pub text: String,
    pub argument: Option<i64>,
}

impl FunctionError {
    pub fn at_argument(argument: i64, text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            argument: Some(argument),
        }
    }
}

/// Provider-defined function: pure, called without provider configuration.
pub trait Function: Send + Sync + 'static {
    fn definition(&self) -> FunctionDefinition;
    fn call(&self, arguments: &[Value]) -> Result<Value, FunctionError>;
}
