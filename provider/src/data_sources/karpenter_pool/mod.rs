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

use crate::framework::model::list_of;
use crate::framework::{
    Attr, DataSource, Diagnostics, Model, ReadDataRequest, ReadDataResponse, Schema, Severity,
    Value,
};
use crate::outputs;

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
    let mut v = s.to_value();
    outputs::write_pod_outputs(&mut v, &a.decision);
    outputs::write_pod_objects(&mut v, &a.decision);
    outputs::write_node_outputs(&mut v, &a.decision);
    if let Value::Object(map) = &mut v {
        // Shared writer output that a NodePool has no use for.
        map.remove("ami_type");
    }
    v.set_attr(
        "node_labels",
        Value::Map(
            a.pool
                .labels
                .iter()
                .map(|(k, x)| (k.clone(), Value::string(x)))
                .collect(),
        ),
    );
    v.set_attr("warnings", list_value(a.warnings));
    v.set_attr("reasons", list_value(a.reasons));
    v
}

fn list_value(items: Vec<String>) -> Value {
    let l = list_of(items);
    Value::List(
        l.iter()
            .filter_map(|s| s.known())
            .map(Value::string)
            .collect(),
    )
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
