//! Karpenter's Bottlerocket merge rules applied to a pool's user data: a
//! key the sandbox needs that Karpenter would drop, or a key of the user's
//! that Karpenter would discard (taints), is an error at the attribute that
//! brings it; other dropped keys are warnings.

use super::model::PoolModel;
use crate::capability::{CapabilityData, Decision};
use crate::framework::{AttributePath, Diagnostics};
use crate::render::karpenter::KarpenterData;
use crate::render::karpenter::bottlerocket_merge::{KarpenterSide, karpenter_merge};

pub(super) struct BottlerocketCheck<'a> {
    pub kd: &'a KarpenterData,
    pub cd: &'a CapabilityData,
    pub decision: &'a Decision,
    /// The user's own TOML (`bootstrap_extra_settings`).
    pub user: Option<&'a str>,
    /// The merged document the EC2NodeClass carries.
    pub rendered: Option<&'a str>,
    pub side: KarpenterSide<'a>,
    /// `karpenter_version` was not set (the version is assumed).
    pub version_assumed: bool,
}

#[derive(Debug, Default)]
pub(super) struct Notes {
    pub warnings: Vec<String>,
    pub reasons: Vec<String>,
    pub merged: Option<String>,
}

fn sourced(text: &str, sources: &[String]) -> String {
    format!("{text} [{}]", sources.join("; "))
}

/// The `settings.kubernetes` keys a TOML document sets.
fn kubernetes_keys(text: &str) -> Vec<String> {
    text.parse::<toml::Table>()
        .ok()
        .and_then(|t| {
            t.get("settings")?
                .get("kubernetes")?
                .as_table()
                .map(|k| k.keys().cloned().collect())
        })
        .unwrap_or_default()
}

/// A warning, in the `warnings` output and as a diagnostic at `attr`.
fn warn(notes: &mut Notes, diags: &mut Diagnostics, attr: &str, text: String) {
    diags.warning_at(
        AttributePath::attr(attr),
        "Karpenter changes the user data",
        text.clone(),
    );
    notes.warnings.push(text);
}

pub(super) fn check_bottlerocket(c: &BottlerocketCheck<'_>, diags: &mut Diagnostics) -> Notes {
    let mut notes = Notes::default();
    let kd = c.kd;
    for r in &kd.bottlerocket_merge {
        let when = r
            .when
            .as_deref()
            .map(|w| format!(" when {w}"))
            .unwrap_or_default();
        notes.reasons.push(sourced(
            &format!(
                "Karpenter: {} {}{when}; instead: {}",
                r.keys.join(", "),
                r.effect,
                r.instead
            ),
            &r.sources,
        ));
    }
    let v = c.side.version;
    // What the sandbox needs in settings.kubernetes must survive.
    for key in c.decision.kubelet_settings.keys() {
        let Some(row) = c.cd.kubelet_setting(key) else {
            continue;
        };
        let Some(leaf) = row.bottlerocket.strip_prefix("settings.kubernetes.") else {
            continue;
        };
        let since = kd.typed_since(leaf).unwrap_or("(none)");
        if !kd.typed_key(leaf, v) {
            diags.error_at(
                PoolModel::karpenter_version(),
                "Karpenter would drop a setting the sandbox needs",
                format!(
                    "Karpenter {v} parses settings.kubernetes into a typed struct without {leaf}, so it drops {} (the sandbox's {key}); Karpenter keeps it from {since}. Upgrade Karpenter and set karpenter_version.",
                    row.bottlerocket
                ),
            );
        } else if c.version_assumed {
            warn(
                &mut notes,
                diags,
                "karpenter_version",
                format!(
                    "The EC2NodeClass user data sets {}, which Karpenter keeps only from {since} (older releases drop it silently): karpenter_version is unset, so {since} or later is assumed.",
                    row.bottlerocket
                ),
            );
        }
    }
    // The user's own keys.
    let user_keys = c.user.map(kubernetes_keys).unwrap_or_default();
    let at = PoolModel::bootstrap_extra_settings();
    for key in &user_keys {
        let path = format!("settings.kubernetes.{key}");
        let typed = kd.typed_key(key, v);
        let Some(rule) = kd.merge_rule(&path, typed) else {
            continue;
        };
        match rule.effect.as_str() {
            "replaced" => diags.error_at(
                at.clone(),
                "Karpenter discards these taints",
                format!("Karpenter replaces {path} with the NodePool's taints, so the nodes would not carry yours. Move them to {}", rule.instead),
            ),
            "dropped" => warn(&mut notes, diags, "bootstrap_extra_settings", format!(
                "Karpenter {v} drops {path} from the EC2NodeClass user data (its typed settings.kubernetes has no such key{}).",
                kd.typed_since(key).map(|s| format!("; kept from {s}")).unwrap_or_default()
            )),
            "overridden" if rule.when.is_none() => warn(&mut notes, diags, "bootstrap_extra_settings", format!(
                "Karpenter writes its own {path} over yours: {}",
                rule.instead
            )),
            _ => {}
        }
    }
    if let Some(doc) = c.rendered {
        match karpenter_merge(kd, doc, &c.side) {
            Ok(m) => notes.merged = Some(m.toml),
            Err(e) => diags.error_at(at, "Bootstrap settings cannot be used", e.to_string()),
        }
    }
    notes
}
