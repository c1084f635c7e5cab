//! Can a node group, as AWS reports it, run a sandbox? The capability
//! engine decides from its AMI family, Kubernetes version and architecture
//! what the nodes need; the node settings the decision needs (sysctls,
//! kubelet settings) are then looked up in the user data its launch
//! template holds, falling back to the image's defaults. Pure: no I/O.

use std::collections::BTreeMap;

use super::model::{NodegroupModel, SandboxCheckModel};
use crate::capability::{AmiFamily, CapabilityData, Input, decide};
use crate::family::UserDataFormat;
use crate::framework::Attr;
use crate::framework::model::list_of;

const MAX_USER_NAMESPACES: &str = "user.max_user_namespaces";

/// The answer for one sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub sandbox: String,
    pub can_run: bool,
    /// Why not (empty when it can).
    pub reasons: Vec<String>,
    /// One line for people, e.g. "Bottlerocket 1.32, max_user_namespaces 0:
    /// nsjail cannot run".
    pub summary: String,
}

impl Verdict {
    pub fn to_model(&self) -> SandboxCheckModel {
        SandboxCheckModel {
            sandbox: Attr::Known(self.sandbox.clone()),
            can_run: Attr::Known(self.can_run),
            reasons: Attr::Known(list_of(self.reasons.clone())),
        }
    }
}

/// Whether node group `m` (its `ami_family`, `kubernetes_version`,
/// `architecture`, and `user_data` as its launch template holds it) can run
/// `sandbox`.
pub fn check(data: &CapabilityData, m: &NodegroupModel, sandbox: &str) -> Verdict {
    let family = m.family();
    let title = family.and_then(|f| data.family(f)).map_or_else(
        || m.ami_type.as_deref().unwrap_or("unknown image").to_string(),
        |f| f.title.clone(),
    );
    let version = m.kubernetes_version.as_deref().unwrap_or_default();
    let of_type = m
        .ami_type
        .as_deref()
        .and_then(|t| crate::family::from_ami_type(data, t));
    let release = m.release_version.as_deref().filter(|r| !r.is_empty());
    // The release the nodes run, as the family numbers it (`v1.51.0` of
    // `1.51.0-d7ba6a2a`, `v20251016` of `1.33.0-20251016`).
    let canonical = release.and_then(|r| {
        data.release_format(family?)?
            .parse_pin(r)
            .ok()
            .flatten()
            .map(|p| p.release)
    });
    let head = match canonical {
        Some(r) => format!("{title} {version} {r}"),
        None => format!("{title} {version}"),
    };
    let cannot = |head: String, reasons: Vec<String>| Verdict {
        sandbox: sandbox.to_string(),
        can_run: false,
        summary: format!("{head}: {sandbox} cannot run"),
        reasons,
    };
    if family.is_none() {
        // The engine would pick a family of its own: no answer about these
        // nodes, and never a "can run".
        return Verdict {
            sandbox: sandbox.to_string(),
            can_run: false,
            summary: format!("{head}: {sandbox} not checked (an image the provider does not know)"),
            reasons: vec![format!(
                "the node image (amiType {:?}) is not one the provider knows, so what its nodes allow is unknown",
                m.ami_type.as_deref().unwrap_or_default()
            )],
        };
    }
    let Ok(kubernetes) = crate::validate::version::kubernetes_minor(version) else {
        return cannot(
            head,
            vec![format!("Kubernetes version {version:?} is not known")],
        );
    };
    let mut input = Input::new(sandbox, "eks");
    input.ami_family = family.map(|f| f.to_string());
    input.architecture = m.arch();
    input.kubernetes_version = Some(kubernetes);
    input.run_as_root = m.run_as_root.known().copied().unwrap_or_default();
    input.ids_per_pod = m.ids_per_pod.known().and_then(|n| u64::try_from(*n).ok());
    // Judged by the image the nodes run: its variant and the release EKS
    // reports (the newest known when it reports none).
    input.ami_variant = of_type
        .map(|t| t.variant.to_string())
        .or_else(|| m.ami_variant.known().cloned());
    input.ami_release = release.map(str::to_string);
    input.release_warnings = false;
    let decision = match decide(data, &input) {
        Ok(d) => d,
        Err(e) => return cannot(head, vec![e.to_string()]),
    };
    if decision.has_errors() {
        let reasons = decision
            .findings
            .iter()
            .filter(|f| f.error)
            .map(|f| format!("{}: {}", f.summary, f.detail))
            .collect();
        return cannot(head, reasons);
    }
    let have = NodeSettings::of(family, m.user_data.as_deref());
    let image_default = decision.image.as_ref().and_then(|i| i.max_user_namespaces);
    let mut shown = Vec::new();
    let mut reasons = Vec::new();
    for (key, wanted) in &decision.sysctls {
        let found = have.sysctls.get(key).cloned().or_else(|| {
            (key == MAX_USER_NAMESPACES)
                .then(|| image_default.map(|d| d.to_string()))
                .flatten()
        });
        if !sysctl_satisfied(key, wanted, found.as_deref()) {
            let short = key.strip_prefix("user.").unwrap_or(key);
            match found {
                Some(v) => {
                    shown.push(format!("{short} {v}"));
                    reasons.push(format!(
                        "the nodes have {key} = {v}; {sandbox} needs {wanted} (set it in the node group's bootstrap settings)"
                    ));
                }
                None => reasons.push(format!(
                    "the nodes' bootstrap settings do not set {key}; {sandbox} needs {wanted}"
                )),
            }
        }
    }
    for (key, wanted) in &decision.kubelet_settings {
        if !have.mentions_kubelet(data, family, key, wanted) {
            reasons.push(format!(
                "the nodes' bootstrap settings do not set the kubelet's {key} = {wanted}, which {sandbox} needs"
            ));
        }
    }
    if reasons.is_empty() {
        return Verdict {
            sandbox: sandbox.to_string(),
            can_run: true,
            reasons,
            summary: format!("{head}: {sandbox} can run"),
        };
    }
    let head = if shown.is_empty() {
        head
    } else {
        format!("{head}, {}", shown.join(", "))
    };
    cannot(head, reasons)
}

/// `user.max_user_namespaces` only has to allow namespaces (any non-zero
/// value does); every other sysctl must be what the decision says.
fn sysctl_satisfied(key: &str, wanted: &str, found: Option<&str>) -> bool {
    match found {
        None => false,
        Some(v) if key == MAX_USER_NAMESPACES => {
            let n = |s: &str| s.trim().parse::<u64>().ok();
            match (n(wanted), n(v)) {
                (Some(0), Some(have)) => have == 0,
                (Some(_), Some(have)) => have > 0,
                _ => false,
            }
        }
        Some(v) => v.trim() == wanted,
    }
}

/// The value of sysctl `key` the user data of a node group of `family`
/// sets, if it sets one.
pub fn sysctl_in(family: Option<AmiFamily>, user_data: &str, key: &str) -> Option<String> {
    NodeSettings::of(family, Some(user_data))
        .sysctls
        .remove(key)
}

/// What the user data sets on the node.
struct NodeSettings {
    sysctls: BTreeMap<String, String>,
    text: String,
    toml: Option<toml::Table>,
}

impl NodeSettings {
    fn of(family: Option<AmiFamily>, user_data: Option<&str>) -> NodeSettings {
        let text = user_data.unwrap_or_default().to_string();
        let mut sysctls = BTreeMap::new();
        let toml = (crate::family::user_data_format(family) == Some(UserDataFormat::SettingsToml))
            .then(|| text.parse::<toml::Table>().ok())
            .flatten();
        if let Some(doc) = &toml {
            let table = doc
                .get("settings")
                .and_then(|s| s.get("kernel"))
                .and_then(|k| k.get("sysctl"))
                .and_then(toml::Value::as_table);
            for (k, v) in table.into_iter().flatten() {
                let v = v.as_str().map_or_else(|| v.to_string(), String::from);
                sysctls.insert(k.clone(), v);
            }
        } else {
            // Amazon Linux: `key = value` lines of a sysctl.d file the user
            // data writes (as the provider's own part does).
            for line in text.lines() {
                if let Some((k, v)) = line.split_once('=') {
                    let k = k.trim();
                    if k.contains('.') && !k.contains(' ') && !k.starts_with('#') {
                        sysctls.insert(k.to_string(), v.trim().to_string());
                    }
                }
            }
        }
        NodeSettings {
            sysctls,
            text,
            toml,
        }
    }

    /// The kubelet setting appears with its value: at its Bottlerocket
    /// settings path, or (Amazon Linux's NodeConfig YAML) as its last key.
    fn mentions_kubelet(
        &self,
        data: &CapabilityData,
        family: Option<AmiFamily>,
        key: &str,
        wanted: &str,
    ) -> bool {
        if crate::family::user_data_format(family) == Some(UserDataFormat::SettingsToml) {
            let Some(row) = data.kubelet_setting(key) else {
                return false;
            };
            let mut at = self.toml.as_ref().map(|t| t as &toml::Table);
            let mut leaf = None;
            let parts: Vec<&str> = row.bottlerocket.split('.').collect();
            for (i, p) in parts.iter().enumerate() {
                let v = at.and_then(|t| t.get(*p));
                if i + 1 == parts.len() {
                    leaf = v;
                } else {
                    at = v.and_then(toml::Value::as_table);
                }
            }
            return leaf
                .is_some_and(|v| v.as_str().map_or_else(|| v.to_string(), String::from) == wanted);
        }
        let last = key.rsplit('.').next().unwrap_or(key);
        self.text.lines().any(|l| {
            let l = l.trim();
            l.strip_prefix(last)
                .and_then(|rest| rest.trim_start().strip_prefix(':'))
                .is_some_and(|v| v.trim().trim_matches('"') == wanted)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(family: &str, version: &str, user_data: Option<&str>) -> NodegroupModel {
        let mut m = NodegroupModel::defaults().unwrap();
        m.ami_family = Attr::Known(family.into());
        m.kubernetes_version = Attr::Known(version.into());
        m.user_data = user_data.map(String::from).into();
        m
    }

    #[test]
    fn bottlerocket_without_the_sysctl_cannot_run_nsjail() {
        let data = CapabilityData::embedded().unwrap();
        let v = check(data, &pool("bottlerocket", "1.32", None), "nsjail");
        assert!(!v.can_run, "{v:?}");
        assert_eq!(
            v.summary,
            "Bottlerocket 1.32, max_user_namespaces 0: nsjail cannot run"
        );
        assert!(
            v.reasons[0].contains("user.max_user_namespaces = 0"),
            "{v:?}"
        );
    }

    #[test]
    fn bottlerocket_with_the_sysctl_can_run_nsjail() {
        let data = CapabilityData::embedded().unwrap();
        let ud = "[settings.kernel.sysctl]\n\"user.max_user_namespaces\" = \"131072\"\n";
        let v = check(data, &pool("bottlerocket", "1.33", Some(ud)), "nsjail");
        assert!(v.can_run, "{v:?}");
        assert!(v.reasons.is_empty());
        assert_eq!(v.summary, "Bottlerocket 1.33: nsjail can run");
    }

    #[test]
    fn an_unknown_image_is_never_said_to_run_it() {
        let data = CapabilityData::embedded().unwrap();
        let mut m = pool("bottlerocket", "1.33", None);
        m.ami_family = Attr::Null;
        m.ami_type = Attr::Known("CUSTOM".into());
        let v = check(data, &m, "nsjail");
        assert!(!v.can_run, "{v:?}");
        assert_eq!(
            v.summary,
            "CUSTOM 1.33: nsjail not checked (an image the provider does not know)"
        );
    }

    #[test]
    fn an_engine_refusal_is_the_reason() {
        let data = CapabilityData::embedded().unwrap();
        // landjail needs Landlock ABI 4 (kernel 6.7): not on AL2023 1.30.
        let v = check(data, &pool("al2023", "1.30", None), "landjail");
        assert!(!v.can_run, "{v:?}");
        assert!(!v.reasons.is_empty());
    }
}
