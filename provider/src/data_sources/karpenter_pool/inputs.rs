//! The inputs of `nested_karpenter_pool` as the plan reads them: the
//! attribute for an engine field, AMI releases, taints, durations, and the
//! inputs EKS Auto Mode refuses, selector tags the EC2NodeClass refuses.

use crate::capability::Field;
use crate::framework::{AttributePath, Diagnostics};
use crate::render::Taint;

use super::model::PoolModel;
use super::plan::SANDBOX_TAINT_KEY;

/// The attribute of this schema for an input the engine names.
/// `family_given`: `ami_family` is set (else the family is the default, and
/// what is wrong with it is the Kubernetes version's choice of images).
pub(super) fn field_attr(f: Field, family_given: bool) -> AttributePath {
    match f {
        Field::Platform | Field::UserNamespaces => PoolModel::mode(),
        Field::KubernetesVersion => PoolModel::kubernetes_version(),
        Field::AmiFamily if family_given => PoolModel::ami_family(),
        Field::AmiFamily => PoolModel::kubernetes_version(),
        Field::AmiVariant => PoolModel::ami_family(),
        Field::AmiRelease => PoolModel::ami_version(),
        Field::Architecture => PoolModel::requirements(),
        Field::RunAsRoot => PoolModel::run_as_root(),
        Field::IdsPerPod => PoolModel::ids_per_pod(),
        _ => PoolModel::sandbox(),
    }
}

pub(super) fn sourced(text: &str, sources: &[String]) -> String {
    format!("{text} [{}]", sources.join("; "))
}

pub(super) fn taints_of(m: &PoolModel, sandbox: &str) -> Vec<Taint> {
    match m.taints.known() {
        None => vec![Taint {
            key: SANDBOX_TAINT_KEY.into(),
            value: sandbox.into(),
            effect: "NoSchedule".into(),
        }],
        Some(list) => list
            .iter()
            .filter_map(|t| t.known())
            .map(|t| Taint {
                key: t.key.as_deref().unwrap_or_default().into(),
                value: t.value.as_deref().unwrap_or_default().into(),
                effect: t.effect.as_deref().unwrap_or_default().into(),
            })
            .collect(),
    }
}

/// Auto Mode refuses what its nodes cannot take.
pub(super) fn auto_mode_inputs(m: &PoolModel, diags: &mut Diagnostics) {
    let why = "EKS Auto Mode's NodeClass has no user data, no AMI choice and no kubelet block";
    for (name, set, path) in [
        (
            "ami_family",
            m.ami_family.known().is_some(),
            PoolModel::ami_family(),
        ),
        (
            "ami_version",
            m.ami_version.known().is_some(),
            PoolModel::ami_version(),
        ),
        (
            "karpenter_version",
            m.karpenter_version.known().is_some(),
            PoolModel::karpenter_version(),
        ),
        (
            "bootstrap_extra_settings",
            m.bootstrap_extra_settings.known().is_some(),
            PoolModel::bootstrap_extra_settings(),
        ),
        (
            "ids_per_pod",
            m.ids_per_pod.known().is_some(),
            PoolModel::ids_per_pod(),
        ),
    ] {
        if set {
            diags.error_at(
                path,
                "Not settable on EKS Auto Mode",
                format!("{why}, so {name} has nothing to set. Remove {name}, or use mode = \"karpenter\"."),
            );
        }
    }
}
