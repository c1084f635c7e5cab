//! The decision matrix the documentation shows: the engine's own answer for
//! every sandbox × platform × node image × Kubernetes version × way the
//! sandbox runs (non-root, root). `scripts/docgen.py` renders it from
//! `schemas/decision-matrix.json`, which a test keeps equal to this output,
//! so the guide never re-implements a rule.

use serde_json::{Value as Json, json};

use super::data::{Agent, CapabilityData, Date};
use super::engine::{Decision, Input, decide};
use super::{AmiFamily, CapabilityError, ImageVariant, PlatformKind, Version};

/// One cell: what the engine says for one combination.
fn cell(d: &Decision) -> Json {
    let verdict = if d.has_errors() {
        "no"
    } else if d.findings.iter().any(|f| !f.error) {
        "warn"
    } else {
        "yes"
    };
    let errors: Vec<&str> = d
        .findings
        .iter()
        .filter(|f| f.error)
        .map(|f| f.summary.as_str())
        .collect();
    let warnings: Vec<&str> = d
        .findings
        .iter()
        .filter(|f| !f.error)
        .map(|f| f.summary.as_str())
        .collect();
    let csc = &d.container_security_context;
    json!({
        "verdict": verdict,
        "errors": errors,
        "warnings": warnings,
        "capabilities": csc["capabilities"]["add"].as_array().cloned().unwrap_or_default(),
        "allow_privilege_escalation": csc["allowPrivilegeEscalation"],
        "seccomp_profile": csc["seccompProfile"]["type"],
        "proc_mount_unmasked": csc["procMount"] == "Unmasked",
        "apparmor_unconfined": csc["appArmorProfile"]["type"] == "Unconfined",
        "host_users_false": d.pod_spec["hostUsers"] == json!(false),
        "sysctls": d.sysctls,
        "runtime_args": d.runtime_args,
        "pod_security_level": if d.has_errors() { Json::Null } else { json!(d.pod_security_level) },
    })
}

/// The cells of one row for every sandbox and agent.
fn cells(data: &CapabilityData, base: &Input) -> Result<Json, CapabilityError> {
    let mut out = serde_json::Map::new();
    for sandbox in data.sandbox_names() {
        let mut per_agent = serde_json::Map::new();
        for agent in [Agent::NonRoot, Agent::Root] {
            let mut i = base.clone();
            i.sandbox = sandbox.to_string();
            i.run_as_root = agent == Agent::Root;
            per_agent.insert(agent.as_str().into(), cell(&decide(data, &i)?));
        }
        out.insert(sandbox.into(), Json::Object(per_agent));
    }
    Ok(Json::Object(out))
}

fn minors(lo: Version, hi: Version) -> Vec<Version> {
    (lo.minor..=hi.minor)
        .map(|minor| Version {
            major: lo.major,
            minor,
            patch: 0,
        })
        .collect()
}

/// The whole matrix, judged on `today`: on EKS one row group per node
/// image row (family, variants, architectures, Kubernetes versions and the
/// releases it covers, judged on its first release); on EKS Auto Mode,
/// which picks its own images, the newest row per Kubernetes version.
pub fn matrix(data: &CapabilityData, today: Date) -> Result<Json, CapabilityError> {
    let mut rows = Vec::new();
    for platform in [PlatformKind::Eks, PlatformKind::EksAutoMode] {
        let Some(p) = data.platform(platform) else {
            continue;
        };
        let families: Vec<AmiFamily> = p.families.iter().chain(&p.also_accepts).copied().collect();
        for family in families {
            for img in data.image.iter().filter(|i| i.family == family) {
                let variant = img.variants.first().copied().unwrap_or_default();
                let arch = img.architectures.first().copied().unwrap_or_default();
                if platform == PlatformKind::EksAutoMode
                    && (variant != ImageVariant::Standard || !img.architectures.is_empty())
                {
                    continue;
                }
                // Consecutive Kubernetes versions of an image row with the
                // same cells become one row.
                let mut group: Option<(Version, Version, Json)> = None;
                for k8s in minors(img.kubernetes[0], img.kubernetes[1]) {
                    let newest = data
                        .image_releases(family, variant, arch, k8s)
                        .last()
                        .is_some_and(|n| std::ptr::eq(*n, img));
                    if platform == PlatformKind::EksAutoMode && !newest {
                        continue;
                    }
                    let mut base = Input::new("", platform.as_str());
                    base.today = today;
                    base.kubernetes_version = Some(k8s);
                    if platform == PlatformKind::Eks {
                        base.ami_family = Some(family.to_string());
                        base.ami_variant = Some(variant.to_string());
                        base.architecture = arch;
                        base.ami_release = img.first_release().map(|r| r.to_string());
                    }
                    let c = cells(data, &base)?;
                    match &mut group {
                        Some((_, hi, prev)) if *prev == c => *hi = k8s,
                        _ => {
                            if let Some((lo, hi, prev)) = group.take() {
                                rows.push(eks_row(platform, img, lo, hi, prev));
                            }
                            group = Some((k8s, k8s, c));
                        }
                    }
                }
                if let Some((lo, hi, prev)) = group {
                    rows.push(eks_row(platform, img, lo, hi, prev));
                }
            }
        }
    }
    rows.extend(node_pool_rows(data, today)?);
    let fargate_name = PlatformKind::EksFargate.as_str();
    let mut fargate = Input::new("", fargate_name);
    fargate.today = today;
    rows.push(json!({ "platform": fargate_name, "cells": cells(data, &fargate)? }));
    for o in &data.openshift {
        let mut base = Input::new("", PlatformKind::Openshift.as_str());
        base.today = today;
        base.openshift_version = Some(o.versions[0]);
        rows.push(json!({
            "platform": PlatformKind::Openshift.as_str(),
            "openshift_versions": [o.versions[0].to_string(), o.versions[1].to_string()],
            "kubernetes": o.kubernetes.to_string(),
            "cells": cells(data, &base)?,
        }));
    }
    Ok(json!({ "judged_on": today.to_string(), "rows": rows }))
}

fn eks_row(
    platform: PlatformKind,
    img: &super::data::ImageRow,
    lo: Version,
    hi: Version,
    cells: Json,
) -> Json {
    let auto_mode = platform == PlatformKind::EksAutoMode;
    json!({
        "platform": platform.as_str(),
        "ami_family": img.family.as_str(),
        "variants": img.variants.iter().map(|v| v.as_str()).collect::<Vec<_>>(),
        "architectures": img.architectures.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        "releases": if auto_mode { Json::Null } else { json!(img.releases_text()) },
        "judged_on_release": if auto_mode {
            Json::Null
        } else {
            json!(img.first_release().map(|r| r.to_string()))
        },
        "kubernetes_versions": [lo.to_string(), hi.to_string()],
        "kernel": img.kernel.to_string(),
        "containerd": img.containerd.map(|v| v.to_string()),
        "landlock_enabled": img.landlock_enabled,
        "seccomp_default": img.seccomp_default,
        "max_user_namespaces": img.max_user_namespaces,
        "cells": cells,
    })
}

/// GKE and AKS: one row group per node image row (as `image_type` /
/// `os_sku` names it on each platform), consecutive Kubernetes versions
/// with the same cells as one row.
fn node_pool_rows(data: &CapabilityData, today: Date) -> Result<Vec<Json>, CapabilityError> {
    let mut rows = Vec::new();
    for p in data.platform.iter().filter(|p| !p.node_images.is_empty()) {
        for img in data
            .node_image
            .iter()
            .filter(|i| i.platforms.contains(&p.name))
        {
            let mut group: Option<(Version, Version, Json)> = None;
            let flush = |g: Option<(Version, Version, Json)>, rows: &mut Vec<Json>| {
                if let Some((lo, hi, cells)) = g {
                    rows.push(json!({
                        "platform": p.name.as_str(),
                        "node_image": img.name.as_str(),
                        "aliases": img.aliases.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
                        "title": img.title,
                        "kubernetes_versions": [lo.to_string(), hi.to_string()],
                        "kernel": img.kernel.to_string(),
                        "containerd": img.containerd.map(|v| v.to_string()),
                        "landlock_enabled": img.landlock_enabled,
                        "seccomp_default": img.seccomp_default,
                        "apparmor": img.apparmor,
                        "evidence": match img.evidence {
                            super::data::Evidence::Documented => "documented",
                            super::data::Evidence::Reported => "reported",
                        },
                        "cells": cells,
                    }));
                }
            };
            for k8s in minors(img.kubernetes[0], img.kubernetes[1]) {
                let mut base = Input::new("", p.name.as_str());
                base.today = today;
                base.kubernetes_version = Some(k8s);
                base.node_image = Some(img.name.to_string());
                let c = cells(data, &base)?;
                match &mut group {
                    Some((_, hi, prev)) if *prev == c => *hi = k8s,
                    _ => {
                        flush(group.take(), &mut rows);
                        group = Some((k8s, k8s, c));
                    }
                }
            }
            flush(group, &mut rows);
        }
    }
    Ok(rows)
}
