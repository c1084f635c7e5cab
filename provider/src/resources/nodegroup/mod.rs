//! `resource "nested_nodegroup"`: an EKS managed node group and the launch
//! template it owns, shaped by a capability decision.
//!
//! Every operation works on the typed [`model::NodegroupModel`]. Plan
//! ([`plan`]) validates every input to the rules of the API it goes to
//! ([`validate`]) and runs the capability engine and the renderers
//! ([`derive`]), so every error shows at `terraform plan` at the attribute
//! at fault. One resource instance owns one node group ([`instance`]): its
//! nonce makes the tokens, the launch template name and the ownership tag,
//! and a name that exists and is not ours is an error, never an adoption
//! ([`create`]). Apply returns the ID even when the wait fails (the object
//! is tainted, never lost), and reads back after every write ([`read`]).

mod adopt;
mod changes;
pub mod claims;
mod create;
mod delete;
mod derive;
mod ids;
pub mod import;
pub mod inflight;
pub mod instance;
pub mod model;
pub mod online;
mod plan;
pub mod read;
mod recover;
mod rollout;
pub mod sandbox_check;
pub mod schema;
mod tags;
mod template;
mod update;
pub mod validate;

use async_trait::async_trait;

use crate::framework::{
    ApplyRequest, ApplyResponse, Diagnostics, ImportRequest, ImportResponse, Model, PlanRequest,
    PlanResponse, ReadRequest, ReadResponse, Resource, Schema, Value,
};
use model::NodegroupModel;
use online::online;

/// Tags the provider keeps on what it creates; not shown in `tags`.
pub const TAG_SANDBOX: &str = "nested.dev/sandbox";
pub const TAG_MANAGED_BY: &str = "nested.dev/managed-by";
const MANAGED_BY: &str = "terraform-provider-nested";

pub struct NodegroupResource;

/// What an apply does.
enum Action {
    Create(Box<NodegroupModel>),
    Update(Box<(NodegroupModel, NodegroupModel)>),
    Delete(Box<NodegroupModel>),
}

impl Action {
    fn of(req: &ApplyRequest) -> Result<Action, Diagnostics> {
        let prior = NodegroupModel::from_optional(&req.prior_state)?;
        let planned = NodegroupModel::from_optional(&req.planned_state)?;
        Ok(match (prior, planned) {
            (Some(p), None) => Action::Delete(Box::new(p)),
            (Some(p), Some(n)) => Action::Update(Box::new((p, n))),
            (None, Some(n)) => Action::Create(Box::new(n)),
            (None, None) => Action::Delete(Box::default()),
        })
    }

    fn verb(&self) -> &'static str {
        match self {
            Action::Create(_) => "create",
            Action::Update(_) => "update",
            Action::Delete(_) => "delete",
        }
    }
}

#[async_trait]
impl Resource for NodegroupResource {
    fn type_name(&self) -> &'static str {
        "nested_nodegroup"
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn identity_schema(&self) -> Option<Schema> {
        Some(schema::identity_schema())
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        validate::config(config, &mut diags);
        diags
    }

    async fn plan(&self, req: PlanRequest) -> PlanResponse {
        plan::plan(req).await
    }

    async fn apply(&self, req: ApplyRequest) -> ApplyResponse {
        let keep = |diagnostics| ApplyResponse {
            new_state: req.prior_state.clone(),
            diagnostics,
            ..Default::default()
        };
        let action = match Action::of(&req) {
            Ok(a) => a,
            Err(d) => return keep(d),
        };
        let (rt, aws) = match online(&req.provider, action.verb()).await {
            Ok(x) => x,
            Err(d) => return keep(d.into()),
        };
        match action {
            Action::Delete(prior) => delete::delete(&aws, &req, &prior).await,
            Action::Create(planned) => create::create(&rt, &aws, &req, *planned).await,
            Action::Update(change) => {
                let (prior, planned) = *change;
                let mut resp = update::update(&rt, &aws, &req, &prior, planned).await;
                // The object keeps its instance in private state; a takeover
                // or a node group seen gone is settled once the apply is.
                let mut private = instance::Private::decode(&req.planned_private);
                if !resp.diagnostics.has_errors() {
                    private.taken_from = None;
                    private.gone = false;
                }
                resp.private = private.encode();
                resp
            }
        }
    }

    async fn read(&self, req: ReadRequest) -> ReadResponse {
        read::read(req).await
    }

    async fn import(&self, req: ImportRequest) -> ImportResponse {
        import::import(req).await
    }
}
