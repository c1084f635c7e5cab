//! What the engine and the renderers derive from a (planned) node group:
//! the capability decision, the user data, the pod outputs and the probe
//! Job. Findings become diagnostics at this resource's attributes.

use std::collections::BTreeMap;

use super::model::NodegroupModel;
use crate::capability::{CapabilityData, Decision, Field, Input, any_version, decide};
use crate::framework::{Attr, AttributePath, Diagnostics, Severity};
use crate::outputs;
use crate::render::{UserDataOptions, probe};

/// The label EKS puts on every node of a managed node group.
const EKS_NODEGROUP_LABEL: &str = "eks.amazonaws.com/nodegroup";

/// The resource's attribute for a finding: the data source's inputs that
/// the resource has map to themselves; the platform is fixed (`eks`), so
/// its findings belong to `sandbox`.
fn field_path(f: Field) -> AttributePath {
    match f {
        Field::AmiFamily => NodegroupModel::ami_family(),
        Field::AmiVariant => NodegroupModel::ami_variant(),
        Field::AmiRelease => NodegroupModel::release_version(),
        Field::KubernetesVersion => NodegroupModel::kubernetes_version(),
        Field::Architecture => NodegroupModel::architecture(),
        Field::RunAsRoot => NodegroupModel::run_as_root(),
        Field::IdsPerPod => NodegroupModel::ids_per_pod(),
        _ => NodegroupModel::sandbox(),
    }
}

/// The capability decision and rendered user data for a (planned) state.
pub struct Derived {
    pub decision: Decision,
    pub user_data: Option<String>,
}

/// Whether the engine warns about the release: where the configuration
/// pins `release_version` (a release newer than the provider's data, or
/// none pinned while older releases answer differently are said then); a
/// node group created or refreshed gets the release EKS gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseWarnings {
    Pinned,
    Quiet,
}

/// The engine's input for the node group: platform `eks`, the resource's
/// inputs (validated at plan: whole numbers in range), and the image its
/// nodes run: the variant and the release (when it is for this Kubernetes
/// version; another version's release is `rollout::check_release`'s error).
fn input(
    m: &NodegroupModel,
    kubernetes: Option<crate::capability::Version>,
    warnings: ReleaseWarnings,
) -> Input {
    let mut input = Input::new(m.sandbox.as_deref().unwrap_or_default(), "eks");
    input.ami_family = m.ami_family.known().cloned();
    input.ami_variant = m.ami_variant.known().cloned();
    input.architecture = m.arch();
    input.kubernetes_version = kubernetes;
    input.ami_release = m
        .release_version
        .known()
        .filter(|r| super::rollout::release_kubernetes(m, r).is_none_or(|k| Some(k) == kubernetes))
        .cloned();
    input.release_warnings = warnings == ReleaseWarnings::Pinned;
    if let Some(n) = m
        .max_user_namespaces
        .known()
        .and_then(|n| u64::try_from(*n).ok())
    {
        input.max_user_namespaces = n;
    }
    input.ids_per_pod = m.ids_per_pod.known().and_then(|n| u64::try_from(*n).ok());
    input.run_as_root = m.run_as_root.known().copied().unwrap_or_default();
    input
}

pub fn derive(
    m: &NodegroupModel,
    kubernetes_version: &str,
    warnings: ReleaseWarnings,
    diags: &mut Diagnostics,
) -> Option<Derived> {
    let data = match CapabilityData::embedded() {
        Ok(d) => d,
        Err(e) => {
            diags.push(crate::outputs::invalid_data(&e));
            return None;
        }
    };
    let version = match crate::validate::version::kubernetes_minor(kubernetes_version) {
        Ok(v) => v,
        Err(e) => {
            diags.error_at(
                NodegroupModel::kubernetes_version(),
                "Invalid kubernetes_version",
                format!("{e}."),
            );
            return None;
        }
    };
    let decision = match decide(data, &input(m, Some(version), warnings)) {
        Ok(d) => d,
        Err(e) => {
            diags.push(crate::outputs::invalid_data(&e));
            return None;
        }
    };
    outputs::findings_to_diagnostics(&decision, field_path, diags);
    if decision.has_errors() {
        return None;
    }
    let opts = UserDataOptions {
        user: m.bootstrap_extra_settings.as_deref(),
        custom_ami: None,
    };
    let bootstrap = NodegroupModel::bootstrap_extra_settings();
    match crate::family::user_data(data, &decision, &opts) {
        Ok(rendered) => {
            for w in rendered.warnings {
                diags.warning_at(bootstrap.clone(), crate::render::UNCHECKED_SUMMARY, w);
            }
            Some(Derived {
                decision,
                user_data: rendered.text,
            })
        }
        Err(e) => {
            diags.error_at(bootstrap, e.summary(), e.to_string());
            None
        }
    }
}

/// The checks plan can run while the Kubernetes version is unknown (the
/// cluster is created in the same apply, or its version is not known yet):
/// the engine and the renderers at every version the capability data has
/// node images for; an error every version finds does not depend on the
/// version and is reported now. The rest run at apply, once the cluster's
/// version is known, before anything is created.
pub fn check_without_version(m: &NodegroupModel, diags: &mut Diagnostics) {
    let data = match CapabilityData::embedded() {
        Ok(d) => d,
        Err(e) => {
            diags.push(crate::outputs::invalid_data(&e));
            return;
        }
    };
    let family = m.family();
    let errors = any_version::common_to_every_version(data, family, |v| {
        let mut found = Diagnostics::new();
        derive(m, &v.to_string(), ReleaseWarnings::Quiet, &mut found);
        found
            .0
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .collect()
    });
    diags.extend(Diagnostics(errors));
}

impl NodegroupModel {
    /// Write the decision's outputs (the pod outputs through the one
    /// writer every schema shares).
    pub fn set_derived(&mut self, d: &Derived) {
        let dec = &d.decision;
        self.decision = outputs::DecisionOutputs::of(dec);
        self.ami_type = dec.ami_type.clone().into();
        self.ami_family = dec.ami_family.map(|f| f.to_string()).into();
        self.kernel_version = dec.kernel_version.map(|v| v.to_string()).into();
        self.user_data = d.user_data.clone().into();
        self.probe_manifest = self.probe_manifest_for(dec);
    }

    /// Every derived attribute unknown (their inputs are not yet known); a
    /// family already chosen stays.
    pub fn unknown_derived(&mut self) {
        if self.ami_family.is_null() {
            self.ami_family = Attr::Unknown;
        }
        self.ami_type = Attr::Unknown;
        self.kernel_version = Attr::Unknown;
        self.user_data = Attr::Unknown;
        self.decision = outputs::DecisionOutputs::unknown();
        self.probe_manifest = Attr::Unknown;
    }

    /// The derived attributes but `user_data` (which AWS holds) of `self`,
    /// put onto `read` (a read knows only what AWS reports).
    pub fn keep_derived(&self, read: &mut NodegroupModel) {
        read.ami_family = self.ami_family.clone();
        read.ami_type = self.ami_type.clone();
        read.kernel_version = self.kernel_version.clone();
        read.decision = self.decision.clone();
        read.probe_manifest = self.probe_manifest.clone();
    }

    /// The probe Job for this pool: scheduled by EKS's own node group
    /// label, tolerating the pool's taints. Unknown while those are.
    fn probe_manifest_for(&self, dec: &Decision) -> Attr<String> {
        use crate::framework::model::Field as _;
        if !(self.name.wholly_known()
            && self.taints.wholly_known()
            && self.probe_image.wholly_known()
            && self.probe_namespace.wholly_known())
        {
            return Attr::Unknown;
        }
        let name = self.nodegroup_name();
        let placement = outputs::ProbePlacement {
            name,
            sandbox: self.sandbox.as_deref().unwrap_or_default(),
            image: self.probe_image.as_deref(),
            namespace: self.probe_namespace.as_deref(),
            node_selector: BTreeMap::from([(EKS_NODEGROUP_LABEL.to_string(), name.to_string())]),
            tolerations: self
                .taint_list()
                .into_iter()
                .map(|t| probe::Toleration {
                    key: t.key,
                    value: (!t.value.is_empty()).then_some(t.value),
                    effect: t.effect,
                })
                .collect(),
        };
        Attr::Known(outputs::probe_manifest(dec, &placement))
    }
}
