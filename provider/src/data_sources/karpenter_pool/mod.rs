//! `data "nested_karpenter_pool"`: a Karpenter (or EKS Auto Mode) NodePool
//! that can run a nested sandbox. Pure: answered from the embedded data.

mod alias;
mod checks;
mod inputs;
mod karpenter_rules;
mod model;
mod plan;
mod schema;

use async_trait::async_trait;

use crate::framework::model::{list_of, map_of};
use crate::framework::{
    Attr, DataSource, Diagnostics, Model, ReadDataRequest, ReadDataResponse, Schema, Severity,
    Value,
};
use crate::outputs::{DecisionDetails, DecisionOutputs};

use model::{PoolModel, model_of};
use plan::{Answer, plan};
use schema::schema;

pub struct KarpenterPoolDataSource;

fn answer(config: &Value, diags: &mut Diagnostics) -> Option<(PoolModel, Answer)> {
    let m = match model_of(config) {
        Ok(m) => m,
        Err(d) => {
            diags.extend(d);
            return None;
        }
    };
    let a = plan(&m, diags)?;
    (!diags.has_errors()).then_some((m, a))
}

fn state(m: &PoolModel, a: Answer) -> Value {
    let mut s = m.clone();
    s.node_class_manifest = Attr::Known(a.node_class);
    s.node_pool_manifest = Attr::Known(a.node_pool);
    s.sysctl_daemonset_manifest = a.daemonset.into();
    s.ami_alias = a.pool.ami_alias.clone().into();
    s.kernel_version = a.kernel.map(|k| k.to_string()).into();
    s.user_data = a.pool.user_data.clone().into();
    s.karpenter_merged_user_data = a.merged_user_data.into();
    s.probe_manifest = Attr::Known(a.probe);
    // The NodePool's own shape: its labels (the decision's and the
    // pool's), and the warnings and reasons with Karpenter's rules.
    s.decision = DecisionOutputs {
        warnings: Attr::Known(list_of(a.warnings)),
        ..DecisionOutputs::of(&a.decision)
    };
    s.details = DecisionDetails {
        node_labels: Attr::Known(map_of(a.pool.labels.clone())),
        reasons: Attr::Known(list_of(a.reasons)),
        ..DecisionDetails::of(&a.decision)
    };
    s.to_value()
}

#[async_trait]
impl DataSource for KarpenterPoolDataSource {
    fn type_name(&self) -> &'static str {
        "nested_karpenter_pool"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    /// When every input is known the whole answer is computed here, so
    /// errors show at `terraform validate` and `plan`.
    fn validate(&self, config: &Value) -> Diagnostics {
        let mut all = Diagnostics::new();
        if !config.is_wholly_known() {
            return all;
        }
        answer(config, &mut all);
        Diagnostics(
            all.0
                .into_iter()
                .filter(|d| d.severity == Severity::Error)
                .collect(),
        )
    }

    async fn read(&self, req: ReadDataRequest) -> ReadDataResponse {
        let mut diagnostics = Diagnostics::new();
        let state = answer(&req.config, &mut diagnostics)
            .map(|(m, a)| state(&m, a))
            .unwrap_or(Value::Null);
        ReadDataResponse { state, diagnostics }
    }
}

#[cfg(test)]
mod tests;
