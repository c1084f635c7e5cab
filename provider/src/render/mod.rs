//! Renderers: turn a capability decision into bootstrap documents that are
//! right the first time (Bottlerocket TOML, Amazon Linux MIME) and into
//! OpenShift manifests. Pure and deterministic: the same input renders the
//! same bytes.

pub mod al2023;
pub mod bottlerocket;
pub mod openshift;
pub mod probe;
pub mod yaml;

use std::collections::BTreeMap;

use crate::capability::{CapabilityData, Decision};
use bottlerocket::{BottlerocketError, Setting, SettingValue};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Bottlerocket(#[from] BottlerocketError),
    #[error(transparent)]
    Mime(#[from] al2023::MimeError),
    /// A setting the chosen family has no way to express.
    #[error("{0}")]
    Unsupported(String),
}

/// A node taint as the node group carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taint {
    pub key: String,
    pub value: String,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    pub effect: String,
}

/// What the cluster bootstrap needs when the node group uses a custom AMI
/// (EKS then merges nothing into the user data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomAmi {
    pub cluster: al2023::ClusterInfo,
    /// Bottlerocket's `cluster-dns-ip`, when known.
    pub cluster_dns_ip: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
}

/// Options beyond the decision itself.
#[derive(Debug, Clone, Default)]
pub struct UserDataOptions<'a> {
    /// The user's own document (`bootstrap_extra_settings`).
    pub user: Option<&'a str>,
    /// Set when the launch template names a custom AMI.
    pub custom_ami: Option<&'a CustomAmi>,
}

/// The Bottlerocket settings a decision needs.
pub fn bottlerocket_settings(
    data: &CapabilityData,
    d: &Decision,
    custom_ami: Option<&CustomAmi>,
) -> Result<Vec<Setting>, RenderError> {
    let mut out = Vec::new();
    if let Some(c) = custom_ami {
        let k = |leaf: &str, v: &str| {
            Setting::new(
                &["settings", "kubernetes", leaf],
                SettingValue::String(v.into()),
            )
        };
        out.push(k("cluster-name", &c.cluster.name));
        out.push(k("api-server", &c.cluster.api_server_endpoint));
        out.push(k("cluster-certificate", &c.cluster.certificate_authority));
        if let Some(dns) = &c.cluster_dns_ip {
            out.push(k("cluster-dns-ip", dns));
        }
        // With a custom AMI nothing applies the node group's labels and
        // taints for us; Bottlerocket's settings carry them.
        for (key, value) in &c.labels {
            out.push(Setting::new(
                &["settings", "kubernetes", "node-labels", key],
                SettingValue::String(value.clone()),
            ));
        }
        for t in &c.taints {
            out.push(Setting::new(
                &["settings", "kubernetes", "node-taints", &t.key],
                SettingValue::Strings(vec![format!("{}:{}", t.value, t.effect)]),
            ));
        }
    }
    for (k, v) in &d.sysctls {
        out.push(Setting::new(
            &["settings", "kernel", "sysctl", k],
            SettingValue::String(v.clone()),
        ));
    }
    for (k, v) in &d.kubelet_settings {
        let row = data.kubelet_setting(k).ok_or_else(|| {
            RenderError::Unsupported(format!("no Bottlerocket setting is known for kubelet {k}"))
        })?;
        let path: Vec<&str> = row.bottlerocket.split('.').collect();
        let value = v
            .parse::<i64>()
            .map_or_else(|_| SettingValue::String(v.clone()), SettingValue::Integer);
        out.push(Setting::new(&path, value));
    }
    Ok(out)
}

/// The Amazon Linux parts a decision needs (AL2: the shell part only).
pub fn amazon_linux_parts(
    d: &Decision,
    al2: bool,
    custom_ami: Option<&CustomAmi>,
) -> Result<Vec<al2023::Part>, RenderError> {
    let mut parts: Vec<al2023::Part> = al2023::sysctl_part(&d.sysctls).into_iter().collect();
    if al2 {
        if !d.kubelet_settings.is_empty() {
            return Err(RenderError::Unsupported(
                "Amazon Linux 2 user data has no NodeConfig; kubelet settings need al2023 or bottlerocket".into(),
            ));
        }
        return Ok(parts);
    }
    parts.extend(al2023::nodeconfig_part(
        &d.kubelet_settings,
        custom_ami.map(|c| &c.cluster),
    ));
    Ok(parts)
}

/// The bootstrap document for the decision's AMI family, merged with the
/// user's own document. `None` when the family needs none (or the platform
/// takes no user data).
pub fn user_data(
    data: &CapabilityData,
    d: &Decision,
    opts: &UserDataOptions<'_>,
) -> Result<Option<String>, RenderError> {
    let Some(family) = d.ami_family.as_deref() else {
        return Ok(None);
    };
    if d.ami_type.is_none() {
        // EKS Auto Mode: the platform owns the node's bootstrap.
        return Ok(None);
    }
    match family {
        "bottlerocket" => {
            let settings = bottlerocket_settings(data, d, opts.custom_ami)?;
            let text = match opts.user {
                Some(user) if !user.trim().is_empty() => {
                    bottlerocket::render_merged(user, &settings, opts.custom_ami.is_none())?
                }
                _ => bottlerocket::render(&settings)?,
            };
            Ok((!text.is_empty()).then_some(text))
        }
        "al2023" | "al2" => {
            let parts = amazon_linux_parts(d, family == "al2", opts.custom_ami)?;
            match opts.user {
                Some(user) if !user.trim().is_empty() => {
                    Ok(Some(al2023::render_merged(user, &parts)?))
                }
                _ if parts.is_empty() => Ok(None),
                _ => Ok(Some(al2023::render(&parts))),
            }
        }
        other => Err(RenderError::Unsupported(format!(
            "no renderer for AMI family {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::{Input, decide};

    fn decision(sandbox: &str, family: &str, k8s: &str) -> Decision {
        let mut i = Input::new(sandbox, "eks");
        i.ami_family = Some(family.into());
        i.kubernetes_version = Some(k8s.parse().unwrap());
        // A podman user whose nested images own ids above 64535 asks for more.
        i.ids_per_pod = (sandbox == "podman").then_some(131_072);
        decide(CapabilityData::embedded().unwrap(), &i).unwrap()
    }

    fn render(
        sandbox: &str,
        family: &str,
        k8s: &str,
        opts: &UserDataOptions<'_>,
    ) -> Option<String> {
        let data = CapabilityData::embedded().unwrap();
        user_data(data, &decision(sandbox, family, k8s), opts).unwrap()
    }

    #[test]
    fn bottlerocket_podman_gets_sysctl_and_ids_per_pod() {
        let out = render(
            "podman",
            "bottlerocket",
            "1.34",
            &UserDataOptions::default(),
        )
        .unwrap();
        assert_eq!(
            out,
            "[settings.kernel.sysctl]\n\"user.max_user_namespaces\" = \"65536\"\n\n[settings.kubernetes]\nids-per-pod = 131072\n"
        );
        assert!(!out.contains("MIME"));
    }

    #[test]
    fn nothing_to_render_is_null() {
        assert_eq!(
            render("landjail", "al2023", "1.33", &UserDataOptions::default()),
            None
        );
        assert_eq!(
            render(
                "landjail",
                "bottlerocket",
                "1.33",
                &UserDataOptions::default()
            ),
            None
        );
    }

    #[test]
    fn custom_ami_bottlerocket_includes_cluster_keys_labels_and_taints() {
        let custom = CustomAmi {
            cluster: al2023::ClusterInfo {
                name: "prod".into(),
                api_server_endpoint: "https://x.eks.amazonaws.com".into(),
                certificate_authority: "Q0E=".into(),
                service_cidr: "10.100.0.0/16".into(),
            },
            cluster_dns_ip: Some("10.100.0.10".into()),
            labels: [("team".to_string(), "ai".to_string())].into(),
            taints: vec![Taint {
                key: "sandbox".into(),
                value: "nsjail".into(),
                effect: "NoSchedule".into(),
            }],
        };
        let opts = UserDataOptions {
            user: None,
            custom_ami: Some(&custom),
        };
        let out = render("nsjail", "bottlerocket", "1.33", &opts).unwrap();
        let t: toml::Table = toml::from_str(&out).unwrap();
        let k = &t["settings"]["kubernetes"];
        assert_eq!(k["cluster-name"].as_str(), Some("prod"));
        assert_eq!(
            k["api-server"].as_str(),
            Some("https://x.eks.amazonaws.com")
        );
        assert_eq!(k["cluster-dns-ip"].as_str(), Some("10.100.0.10"));
        assert_eq!(k["node-labels"]["team"].as_str(), Some("ai"));
        assert_eq!(
            k["node-taints"]["sandbox"][0].as_str(),
            Some("nsjail:NoSchedule")
        );
        bottlerocket::check_eks_safe(&out.parse().unwrap()).unwrap();
    }

    #[test]
    fn al2023_podman_is_mime_with_a_nodeconfig_only() {
        let out = render("podman", "al2023", "1.34", &UserDataOptions::default()).unwrap();
        let parts = al2023::parse(&out).unwrap();
        assert_eq!(parts.len(), 1, "{out}");
        assert_eq!(parts[0].content_type, "application/node.eks.aws");
        let out = render("nsjail", "al2", "1.32", &UserDataOptions::default());
        assert_eq!(out, None, "AL2 nsjail needs nothing");
    }
}
