//! Renderers: turn a capability decision into bootstrap documents that are
//! right the first time (Bottlerocket TOML, Amazon Linux MIME) and into
//! OpenShift manifests. Pure and deterministic: the same input renders the
//! same bytes.

pub mod al2023;
pub mod al2023_conflicts;
pub mod bottlerocket;
pub mod karpenter;
pub mod mime;
pub mod node_prep;
pub mod nodeconfig;
pub mod openshift;
pub mod probe;
pub mod seccomp_profile;
pub mod shell;
pub mod sysctl_key;
pub mod yaml;
pub mod yaml_read;

use std::collections::BTreeMap;

use crate::capability::{CapabilityData, Decision};
use bottlerocket::{BottlerocketError, Setting, SettingValue};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Bottlerocket(#[from] BottlerocketError),
    #[error(transparent)]
    Mime(#[from] al2023::MimeError),
    /// The user's Amazon Linux part sets what the sandbox needs otherwise.
    #[error(transparent)]
    Contradiction(#[from] Box<al2023_conflicts::Contradiction>),
    /// A setting the chosen family has no way to express.
    #[error("{0}")]
    Unsupported(String),
    /// The document is over EC2's user data limit.
    #[error("{0}")]
    TooLarge(String),
}

impl RenderError {
    /// The diagnostic summary for this error.
    pub fn summary(&self) -> &'static str {
        match self {
            Self::TooLarge(_) => "User data too large",
            _ => "Bootstrap settings cannot be used",
        }
    }
}

/// The diagnostic summary of [`UserData::warnings`].
pub const UNCHECKED_SUMMARY: &str = "Bootstrap settings could not be fully checked";

/// A rendered bootstrap document, and what in the user's own settings
/// could not be read with certainty (shown as warnings at
/// `bootstrap_extra_settings`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserData {
    /// `None` when there is nothing to write.
    pub text: Option<String>,
    pub warnings: Vec<String>,
}

impl UserData {
    pub fn text(text: Option<String>) -> Self {
        Self {
            text,
            warnings: Vec::new(),
        }
    }
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
        &custom_ami.map(registration_flags).unwrap_or_default(),
    ));
    Ok(parts)
}

/// The kubelet flags that register a custom-AMI node's labels and taints
/// (`--node-labels`, `--register-with-taints`; nodeadm passes
/// `spec.kubelet.flags` to the kubelet as they are).
fn registration_flags(c: &CustomAmi) -> Vec<String> {
    let mut flags = Vec::new();
    if !c.labels.is_empty() {
        let labels: Vec<String> = c.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        flags.push(format!("--node-labels={}", labels.join(",")));
    }
    if !c.taints.is_empty() {
        let taints: Vec<String> = c
            .taints
            .iter()
            .map(|t| format!("{}={}:{}", t.key, t.value, t.effect))
            .collect();
        flags.push(format!("--register-with-taints={}", taints.join(",")));
    }
    flags
}
