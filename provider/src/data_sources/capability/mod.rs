//! `data "nested_capability"`: can this sandbox run on this platform, and
//! what do the node and the pod need? Pure: answered from the embedded
//! capability data, never from AWS.

mod bootstrap;
mod model;
mod node_pool;
mod schema;

use async_trait::async_trait;

use crate::capability::{CapabilityData, Decision, PlatformKind, decide};
use crate::framework::{
    Attr, AttributePath, DataSource, Diagnostics, Model, ReadDataRequest, ReadDataResponse, Schema,
    Value,
};
use crate::outputs::{self, DecisionDetails, DecisionOutputs};
use crate::render::openshift::{SccChoice, admitted_pod, scc_for, scc_use_note};
use crate::render::probe::{PROBE_SERVICE_ACCOUNT, RequiredScc};
use crate::render::seccomp_profile;

use bootstrap::{Bootstrap, bootstrap};
use model::{CapabilityModel, PartModel, input_from, model_of};
use schema::schema;

pub struct CapabilityDataSource;

/// The data source's state for a decision: the configuration, and the
/// answer written by the one writer of decision outputs.
fn decision_state(m: &CapabilityModel, d: &Decision, b: Bootstrap) -> Value {
    let mut answer = m.clone();
    // Optional + computed inputs keep the user's own spelling when set.
    if answer.ami_family.is_null() {
        answer.ami_family = d.ami_family.map(|f| f.to_string()).into();
    }
    if answer.kernel_version.is_null() {
        answer.kernel_version = d.kernel_version.map(|v| v.to_string()).into();
    }
    // The node image judged, in the input its platform takes.
    if let Some(image) = d.node_image {
        let setting = answer
            .platform
            .as_deref()
            .and_then(PlatformKind::parse)
            .and_then(|k| {
                CapabilityData::embedded()
                    .ok()?
                    .platform(k)?
                    .node_image_setting
                    .clone()
            });
        match setting.as_deref() {
            Some("os_sku") if answer.os_sku.is_null() => {
                answer.os_sku = Attr::Known(image.to_string())
            }
            Some("image_type") if answer.image_type.is_null() => {
                answer.image_type = Attr::Known(image.to_string());
            }
            _ => {}
        }
    }
    let sandbox = m.sandbox.as_deref().unwrap_or_default();
    let scc = openshift_scc(m, d);
    // The pod as its SCC admits it (the uid nested-container needs).
    let d = &admitted_pod(d, scc.as_ref().and_then(|c| c.run_as_user));
    let namespace = m
        .probe_namespace
        .as_deref()
        .unwrap_or(crate::render::probe::DEFAULT_PROBE_NAMESPACE);
    answer.probe_manifest = Attr::Known(outputs::probe_manifest_with_scc(
        d,
        &outputs::ProbePlacement {
            name: sandbox,
            sandbox,
            image: m.probe_image.as_deref(),
            namespace: m.probe_namespace.as_deref(),
            node_selector: d.node_labels.clone(),
            tolerations: Vec::new(),
        },
        scc.as_ref().map(|c| RequiredScc {
            name: &c.name,
            needs_grant: scc_use_note(&c.name, namespace, PROBE_SERVICE_ACCOUNT).is_some(),
            custom: !c.manifest.is_empty(),
        }),
    ));
    // The grant the probe (and every pod of the sandbox) needs, said where
    // the answer is read.
    let mut d = d.clone();
    if let Some(note) = scc
        .as_ref()
        .and_then(|c| scc_use_note(&c.name, namespace, PROBE_SERVICE_ACCOUNT))
    {
        d.warnings.push(format!("probe_manifest: {note}"));
    }
    let d = &d;
    if let Some(l) = &d.seccomp_localhost {
        answer.seccomp_profile_json = Attr::Known(seccomp_profile::profile_file(&l.profile));
        answer.seccomp_profile_manifest =
            Attr::Known(seccomp_profile::spo_manifest(&l.name, &l.profile));
    } else {
        answer.seccomp_profile_json = Attr::Null;
        answer.seccomp_profile_manifest = Attr::Null;
    }
    answer.user_data = b.user_data.into();
    answer.nodeadm_config = b.nodeadm_config.into();
    answer.sysctl_script = b.sysctl_script.into();
    answer.cloudinit_parts = b
        .parts
        .map(|parts| {
            parts
                .into_iter()
                .map(|p| {
                    Attr::Known(PartModel {
                        content_type: Attr::Known(p.content_type),
                        content: Attr::Known(p.content),
                        filename: p.filename.into(),
                        merge_type: p.merge_type.into(),
                    })
                })
                .collect()
        })
        .into();
    answer.ami_type = d.ami_type.clone().into();
    let pools = CapabilityData::embedded().ok().map(|data| {
        let input = input_from(m, &mut crate::framework::Diagnostics::new());
        node_pool::node_pool_outputs(data, &input, d, namespace)
    });
    if let Some(p) = pools {
        answer.gke_node_pool = p.gke;
        answer.aks_node_pool = p.aks;
        answer.node_prep_manifest = p.node_prep_manifest;
    }
    answer.decision = DecisionOutputs::of(d);
    answer.details = DecisionDetails::of(d);
    answer.to_value()
}

/// On OpenShift, the SCC that admits the decision's pod (the one
/// `nested_openshift_profile` gives for the same inputs).
fn openshift_scc(m: &CapabilityModel, d: &Decision) -> Option<SccChoice> {
    if m.platform.as_deref() != Some(PlatformKind::Openshift.as_str()) {
        return None;
    }
    let version = m
        .openshift_version
        .as_deref()?
        .trim_start_matches('v')
        .parse()
        .ok()?;
    let data = CapabilityData::embedded().ok()?;
    scc_for(data, m.sandbox.as_deref()?, version, d).ok()
}

/// The decision for a configuration, with its findings as diagnostics;
/// `None` when it has errors.
fn decision_for(config: &Value, diags: &mut Diagnostics) -> Option<(CapabilityModel, Decision)> {
    let model = match model_of(config) {
        Ok(m) => m,
        Err(d) => {
            diags.extend(d);
            return None;
        }
    };
    let input = input_from(&model, diags);
    if diags.has_errors() {
        return None;
    }
    match CapabilityData::embedded().and_then(|data| decide(data, &input)) {
        Ok(d) => {
            findings_to_diagnostics(&d, diags);
            (!diags.has_errors()).then_some((model, d))
        }
        Err(e) => {
            diags.push(crate::outputs::invalid_data(&e));
            None
        }
    }
}

/// The bootstrap outputs, rendered from the embedded data.
fn bootstrap_for(m: &CapabilityModel, d: &Decision, diags: &mut Diagnostics) -> Option<Bootstrap> {
    match CapabilityData::embedded() {
        Ok(data) => bootstrap(data, d, m, diags),
        Err(e) => {
            diags.push(crate::outputs::invalid_data(&e));
            None
        }
    }
}

/// Findings as diagnostics at the data source's attribute for the input
/// at fault (every input the engine names is an attribute here).
pub fn findings_to_diagnostics(d: &Decision, diags: &mut Diagnostics) {
    outputs::findings_to_diagnostics(d, |f| AttributePath::attr(f.attribute()), diags);
}

#[async_trait]
impl DataSource for CapabilityDataSource {
    fn type_name(&self) -> &'static str {
        "nested_capability"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    /// Plan-time checks: when every input is known, the whole decision is
    /// made here (and the bootstrap document merged) so errors show during
    /// `terraform validate` and `plan`.
    fn validate(&self, config: &Value) -> Diagnostics {
        let mut all = Diagnostics::new();
        if !config.is_wholly_known() {
            return all;
        }
        if let Some((model, d)) = decision_for(config, &mut all) {
            bootstrap_for(&model, &d, &mut all);
        }
        // Only errors here: warnings are reported once, at read.
        Diagnostics(
            all.0
                .into_iter()
                .filter(|x| x.severity == crate::framework::Severity::Error)
                .collect(),
        )
    }

    async fn read(&self, req: ReadDataRequest) -> ReadDataResponse {
        let mut diagnostics = Diagnostics::new();
        let state = decision_for(&req.config, &mut diagnostics)
            .and_then(|(model, d)| {
                bootstrap_for(&model, &d, &mut diagnostics).map(|b| decision_state(&model, &d, b))
            })
            .unwrap_or(Value::Null);
        ReadDataResponse { state, diagnostics }
    }
}

#[cfg(test)]
mod tests;
