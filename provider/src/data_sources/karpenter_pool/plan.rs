//! From a `nested_karpenter_pool` configuration to its answer: the
//! capability decision for the pool's nodes, Karpenter's and Auto Mode's
//! rules (`schemas/karpenter.toml`) checked at the attribute at fault, and
//! the manifests.

use std::collections::BTreeMap;

use crate::capability::{
    AmiFamily, Architecture, CapabilityData, Decision, Input, Version, decide,
};
use crate::family::UserDataFormat;
use crate::framework::{Diagnostic, Diagnostics};
use crate::outputs;
use crate::render::karpenter::KarpenterData;
use crate::render::karpenter::bottlerocket_merge::KarpenterSide;
use crate::render::karpenter::manifests::{self, Pool};
use crate::render::probe::Toleration;
use crate::render::{Taint, UserDataOptions};

use super::alias::{AliasCheck, check_alias};
use super::checks::{check_pool, user_data_fits};
use super::inputs::{auto_mode_inputs, field_attr, sourced, taints_of};
use super::karpenter_rules::{BottlerocketCheck, check_bottlerocket};
use super::model::{DisruptionModel, PoolModel, string_map, strings};

/// The taint every sandbox pool gets unless `taints` says otherwise.
pub(super) const SANDBOX_TAINT_KEY: &str = "nested.dev/sandbox";
/// The family of a Karpenter pool without `ami_family`.
pub(super) const DEFAULT_FAMILY: &str = "bottlerocket";

use crate::render::node_prep::DEFAULT_IMAGE as DEFAULT_DAEMONSET_IMAGE;

/// The answer for one configuration.
pub(super) struct Answer {
    pub decision: Decision,
    pub pool: Pool,
    pub node_class: String,
    pub node_pool: String,
    pub daemonset: Option<String>,
    pub merged_user_data: Option<String>,
    pub kernel: Option<Version>,
    pub probe: String,
    pub warnings: Vec<String>,
    pub reasons: Vec<String>,
}

/// The whole answer; `None` with diagnostics at the attribute at fault.
pub(super) fn plan(m: &PoolModel, diags: &mut Diagnostics) -> Option<Answer> {
    let kd = match KarpenterData::embedded() {
        Ok(d) => d,
        Err(e) => {
            diags.push(Diagnostic::error(
                "Provider Karpenter data is invalid",
                e.to_string(),
            ));
            return None;
        }
    };
    let cd = match CapabilityData::embedded() {
        Ok(d) => d,
        Err(e) => {
            diags.push(crate::outputs::invalid_data(&e));
            return None;
        }
    };
    let sandbox = m.sandbox.as_deref().unwrap_or_default().to_string();
    let auto = m.mode.as_deref() == Some("auto_mode");
    let opt_in = m
        .allow_privileged_sysctl_daemonset
        .known()
        .copied()
        .unwrap_or(false);
    let mut warnings = Vec::new();
    let mut reasons = Vec::new();
    let am = &kd.auto_mode;

    check_pool(m, kd, auto, diags);
    if auto {
        auto_mode_inputs(m, diags);
    } else if opt_in {
        diags.error_at(
            PoolModel::allow_privileged_sysctl_daemonset(),
            "Only for EKS Auto Mode",
            "On Karpenter the EC2NodeClass user data sets the sysctls; the privileged DaemonSet is an EKS Auto Mode work-around. Remove allow_privileged_sysctl_daemonset.",
        );
    }
    let workaround = auto && am.workaround_sandboxes.contains(&sandbox);
    if workaround && !opt_in {
        diags.error_at(
            PoolModel::mode(),
            format!("{sandbox} cannot run on EKS Auto Mode"),
            format!(
                "{} {} Only with the work-around can it run: {} Set allow_privileged_sysctl_daemonset = true to opt in, or use mode = \"karpenter\".",
                am.refusal,
                sourced("", &am.sources).trim(),
                am.workaround
            ),
        );
    }
    if auto && opt_in && !workaround {
        warnings.push(format!(
            "allow_privileged_sysctl_daemonset has no effect for {sandbox}: it runs on EKS Auto Mode without the work-around, so no DaemonSet is rendered."
        ));
    }
    if diags.has_errors() {
        return None;
    }
    let family_name = if auto {
        kd.auto_mode.family.as_str()
    } else {
        m.ami_family.as_deref().unwrap_or(DEFAULT_FAMILY)
    };
    // Checked when the data loads (Auto Mode's) or by the schema's one_of.
    let family = AmiFamily::parse(family_name)?;
    let architectures = m
        .requirements
        .known()
        .map(|r| strings(&r.architectures))
        .unwrap_or_default();
    let mut input = Input::new(
        &sandbox,
        if auto && !workaround {
            "eks_auto_mode"
        } else {
            "eks"
        },
    );
    // EKS Auto Mode picks its own image: no family is asked for there.
    input.ami_family = (!auto || workaround).then(|| family.to_string());
    input.architecture = if architectures == ["arm64"] {
        Architecture::Arm64
    } else {
        Architecture::X86_64
    };
    input.run_as_root = m.run_as_root.known().copied().unwrap_or(false);
    let k8s_text = m.kubernetes_version.as_deref().unwrap_or_default();
    match crate::validate::version::kubernetes_minor(k8s_text) {
        Ok(v) => input.kubernetes_version = Some(v),
        Err(e) => diags.error_at(
            PoolModel::kubernetes_version(),
            "Invalid kubernetes_version",
            format!("{e}."),
        ),
    }
    if let Some(n) = m.ids_per_pod.known() {
        match crate::validate::number::whole_in_range(n, 1, i64::from(u32::MAX)) {
            Ok(v) => input.ids_per_pod = u64::try_from(v).ok(),
            Err(e) => diags.error_at(
                PoolModel::ids_per_pod(),
                "Invalid ids_per_pod",
                format!("{e}: a multiple of 65536 such as 131072."),
            ),
        }
    }
    if !auto {
        // The alias's release, judged by the engine (`latest`: Karpenter
        // launches the newest release, which is what the data's newest
        // row describes, so no warning about older ones).
        input.ami_release = m.ami_version.known().cloned();
        input.release_warnings = m.ami_version.known().is_some_and(|v| v != "latest");
    }
    let karpenter_version = match m.karpenter_version.as_deref() {
        None => None,
        Some(t) => match t.trim_start_matches('v').parse::<Version>() {
            Ok(v) => Some(v),
            Err(_) => {
                diags.error_at(
                    PoolModel::karpenter_version(),
                    "Invalid karpenter_version",
                    format!("{t:?} is not a version; use one like \"1.9.0\"."),
                );
                None
            }
        },
    };
    if diags.has_errors() {
        return None;
    }
    let decision = match decide(cd, &input) {
        Ok(d) => d,
        Err(e) => {
            diags.push(crate::outputs::invalid_data(&e));
            return None;
        }
    };
    let family_given = m.ami_family.known().is_some();
    outputs::findings_to_diagnostics(&decision, |f| field_attr(f, family_given), diags);
    if diags.has_errors() {
        return None;
    }
    if workaround {
        warnings.push(am.workaround_warning.clone());
        diags.warning_at(
            PoolModel::allow_privileged_sysctl_daemonset(),
            "The sysctl DaemonSet runs privileged",
            am.workaround_warning.clone(),
        );
        warnings.push(am.selinux_warning.clone());
        reasons.push(sourced(
            &format!("{} {}", am.refusal, am.workaround),
            &am.sources,
        ));
    } else if auto {
        reasons.push(sourced(
            &format!("EKS Auto Mode nodes keep user.max_user_namespaces = {}, enforce SELinux and live at most {} hours.", am.max_user_namespaces, am.max_expire_after_hours),
            &am.sources,
        ));
    }

    // The alias and its kernel.
    let (alias, kernel) = if auto {
        (None, decision.kernel_version)
    } else {
        let alias = check_alias(
            &AliasCheck {
                kd,
                decision: &decision,
                family,
                kubernetes: input.kubernetes_version,
            },
            diags,
            &mut warnings,
            &mut reasons,
        );
        (Some(alias), decision.kernel_version)
    };

    // The NodePool.
    let name = m
        .name
        .as_deref()
        .map_or_else(|| format!("nested-{sandbox}"), str::to_string);
    if name.is_empty()
        || name.len() > 63
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        || name.starts_with('-')
    {
        diags.error_at(PoolModel::name(), "Invalid name", format!("{} is not a Kubernetes object name (lower case letters, digits and '-', at most 63).", crate::validate::quoted(&name)));
    }
    let taints = taints_of(m, &sandbox);
    let mut labels = decision.node_labels.clone();
    for (k, v) in string_map(&m.labels) {
        if labels.get(&k).is_some_and(|ours| ours != &v) {
            diags.error_at(
                PoolModel::labels().then_key(&k),
                "Label the sandbox sets",
                format!(
                    "{k} marks the nodes for the probe and the sandbox's pods: it must stay {:?}.",
                    labels[&k]
                ),
            );
        }
        labels.insert(k, v);
    }
    let expire_after = m.expire_after.as_deref().map_or_else(
        || {
            if auto {
                format!("{}h", am.max_expire_after_hours)
            } else {
                "720h".into()
            }
        },
        str::to_string,
    );
    let max_seconds = u64::from(am.max_expire_after_hours) * 3600;
    match crate::validate::karpenter::duration_seconds(&expire_after) {
        Ok(life) if auto && life.is_none_or(|s| s > max_seconds) => diags.error_at(
            PoolModel::expire_after(),
            "Node lifetime beyond EKS Auto Mode's",
            format!(
                "EKS Auto Mode replaces nodes after at most {}h (21 days); expire_after {expire_after:?} is longer. {}",
                am.max_expire_after_hours,
                sourced("", &am.sources).trim()
            ),
        ),
        Ok(_) => {}
        Err(e) => diags.error_at(PoolModel::expire_after(), "Invalid expire_after", format!("{e}.")),
    }
    if let Some(d) = m.disruption.known() {
        if let Some(t) = d.consolidate_after.as_deref()
            && let Err(e) = crate::validate::karpenter::duration_seconds(t)
        {
            diags.error_at(
                PoolModel::disruption().then(DisruptionModel::consolidate_after()),
                "Invalid consolidate_after",
                format!("{e}."),
            );
        }
        if let Some(t) = d.budget_nodes.as_deref()
            && let Err(e) = crate::validate::karpenter::budget_nodes(t)
        {
            diags.error_at(
                PoolModel::disruption().then(DisruptionModel::budget_nodes()),
                "Invalid budget_nodes",
                format!("{e}."),
            );
        }
    }
    for (attr, tags, path) in [
        (
            "subnet_selector_tags",
            &m.subnet_selector_tags,
            PoolModel::subnet_selector_tags(),
        ),
        (
            "security_group_selector_tags",
            &m.security_group_selector_tags,
            PoolModel::security_group_selector_tags(),
        ),
    ] {
        if string_map(tags).is_empty() {
            diags.error_at(
                path,
                "No selector tags",
                format!("{attr} selects nothing when empty; Karpenter requires at least one term."),
            );
        }
    }
    let hop = m
        .imds_hop_limit
        .known()
        .and_then(|n| crate::validate::number::whole_in_range(n, 1, 64).ok())
        .and_then(|n| u8::try_from(n).ok());
    let Some(hop) = hop else {
        diags.error_at(
            PoolModel::imds_hop_limit(),
            "Invalid imds_hop_limit",
            "A whole number from 1 to 64.",
        );
        return None;
    };
    if !auto {
        reasons.push(sourced(
            &kd.defaults.imds_hop_limit_note,
            &kd.defaults.sources,
        ));
    }
    let requirements = m.requirements.known();
    let disruption = m.disruption.known();
    let startup_taints = if workaround {
        vec![crate::render::node_prep::startup_taint()]
    } else {
        Vec::new()
    };
    let mut pool = Pool {
        name: name.clone(),
        sandbox: sandbox.clone(),
        auto_mode: auto,
        ami_alias: alias.clone(),
        role: m.role.as_deref().unwrap_or_default().into(),
        subnet_tags: string_map(&m.subnet_selector_tags),
        security_group_tags: string_map(&m.security_group_selector_tags),
        imds_hop_limit: hop,
        user_data: None,
        instance_families: requirements
            .map(|r| strings(&r.instance_families))
            .unwrap_or_default(),
        capacity_types: requirements
            .map(|r| strings(&r.capacity_types))
            .unwrap_or_default(),
        architectures: if architectures.is_empty() {
            vec!["amd64".into()]
        } else {
            architectures
        },
        labels,
        taints,
        startup_taints,
        expire_after,
        consolidation_policy: disruption
            .and_then(|d| d.consolidation_policy.as_deref().map(str::to_string))
            .unwrap_or_else(|| "WhenEmptyOrUnderutilized".into()),
        consolidate_after: disruption
            .and_then(|d| d.consolidate_after.as_deref().map(str::to_string))
            .unwrap_or_else(|| "0s".into()),
        budget_nodes: disruption
            .and_then(|d| d.budget_nodes.as_deref().map(str::to_string))
            .unwrap_or_else(|| "10%".into()),
    };

    // User data (Karpenter) and what Karpenter makes of it.
    let mut merged_user_data = None;
    if !auto {
        let user = m
            .bootstrap_extra_settings
            .as_deref()
            .filter(|u| !u.trim().is_empty());
        let opts = UserDataOptions {
            user,
            custom_ami: None,
        };
        match crate::family::user_data(cd, &decision, &opts) {
            Ok(u) => {
                for w in u.warnings {
                    diags.warning_at(
                        PoolModel::bootstrap_extra_settings(),
                        crate::render::UNCHECKED_SUMMARY,
                        w,
                    );
                }
                pool.user_data = u.text;
            }
            Err(e) => {
                diags.error_at(
                    PoolModel::bootstrap_extra_settings(),
                    e.summary(),
                    e.to_string(),
                );
                return None;
            }
        }
        let version = karpenter_version
            .or_else(|| kd.typed_since("ids-per-pod").and_then(|s| s.parse().ok()));
        match crate::family::of(family).user_data_format() {
            UserDataFormat::SettingsToml => {
                let node_taints: Vec<Taint> = pool
                    .taints
                    .iter()
                    .chain(&pool.startup_taints)
                    .cloned()
                    .collect();
                let check = BottlerocketCheck {
                    kd,
                    cd,
                    decision: &decision,
                    user,
                    rendered: pool.user_data.as_deref(),
                    side: KarpenterSide {
                        version: version.unwrap_or(Version {
                            major: 1,
                            minor: 0,
                            patch: 0,
                        }),
                        cluster_name: m.cluster_name.as_deref().unwrap_or_default(),
                        labels: &pool.labels,
                        taints: &node_taints,
                    },
                    version_assumed: karpenter_version.is_none(),
                };
                let notes = check_bottlerocket(&check, diags);
                warnings.extend(notes.warnings);
                reasons.extend(notes.reasons);
                merged_user_data = notes.merged;
                if let Some(merged) = &merged_user_data {
                    user_data_fits(merged, m.taints.known().is_some(), diags);
                }
            }
            _ => {
                for r in &kd.al2023_merge {
                    reasons.push(sourced(&r.rule, &r.sources));
                }
            }
        }
    }
    if diags.has_errors() {
        return None;
    }
    let sysctls: BTreeMap<String, String> = decision.sysctls.clone();
    let namespace = m
        .probe_namespace
        .as_deref()
        .unwrap_or(crate::render::probe::DEFAULT_PROBE_NAMESPACE);
    let daemonset = workaround.then(|| {
        manifests::sysctl_daemonset(
            &pool,
            &sysctls,
            m.sysctl_daemonset_image
                .as_deref()
                .unwrap_or(DEFAULT_DAEMONSET_IMAGE),
            namespace,
        )
    });
    let probe = outputs::probe_manifest(
        &decision,
        &outputs::ProbePlacement {
            name: &name,
            sandbox: &sandbox,
            image: m.probe_image.as_deref(),
            namespace: m.probe_namespace.as_deref(),
            node_selector: BTreeMap::from([("karpenter.sh/nodepool".to_string(), name.clone())]),
            tolerations: pool
                .taints
                .iter()
                .map(|t| Toleration {
                    key: t.key.clone(),
                    value: Some(t.value.clone()).filter(|v| !v.is_empty()),
                    effect: t.effect.clone(),
                })
                .collect(),
        },
    );
    warnings.extend(decision.warnings.iter().cloned());
    reasons.extend(decision.reasons.iter().cloned());
    Some(Answer {
        node_class: manifests::node_class(&pool),
        node_pool: manifests::node_pool(&pool),
        decision,
        pool,
        daemonset,
        merged_user_data,
        kernel,
        probe,
        warnings,
        reasons,
    })
}
