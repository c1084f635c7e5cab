//! `nested_capability`'s bootstrap document: the user's own settings
//! (`bootstrap_extra_settings`) merged by the code `nested_nodegroup` uses
//! ([`crate::family::user_data`]), the cluster keys of a custom-AMI pool
//! (`cluster`, opt-in), and the result in the shapes the places it goes
//! take: the whole document, and for Amazon Linux its parts.

use std::net::IpAddr;

use crate::capability::{CapabilityData, Decision};
use crate::family::UserDataFormat;
use crate::framework::{Attr, AttributePath, Diagnostics};
use crate::render::mime::Content;
use crate::render::{self, CustomAmi, UserDataOptions, al2023};

use super::model::{CapabilityModel, ClusterModel};

/// The bootstrap outputs of one decision.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct Bootstrap {
    /// The merged document (Bottlerocket TOML or Amazon Linux MIME).
    pub user_data: Option<String>,
    /// Amazon Linux: the provider's NodeConfig YAML.
    pub nodeadm_config: Option<String>,
    /// Amazon Linux: the provider's sysctl script.
    pub sysctl_script: Option<String>,
    /// Amazon Linux: every part of `user_data`, in order, in the shape of a
    /// `cloudinit_config` part; `None` when one cannot take that shape.
    pub parts: Option<Vec<CloudinitPart>>,
}

/// A part as `cloudinit_config` and terraform-aws-modules/eks's
/// `cloudinit_pre_nodeadm` take it: content decoded (they write it as
/// text, 7bit), the file name and merge type from its headers.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct CloudinitPart {
    pub content_type: String,
    pub content: String,
    pub filename: Option<String>,
    pub merge_type: Option<String>,
}

/// Headers a `cloudinit_config` part carries (or that decoding makes moot).
const CARRIED_HEADERS: [&str; 5] = [
    "content-transfer-encoding",
    "content-disposition",
    "x-merge-type",
    "merge-type",
    "mime-version",
];

/// The parts in `cloudinit_config`'s shape, or why one cannot take it.
fn cloudinit_parts(parts: &[al2023::Part]) -> Result<Vec<CloudinitPart>, String> {
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let index = i + 1;
            let content = match p.content() {
                Ok(Content::Text(t)) => t,
                Ok(Content::Binary(_)) => {
                    return Err(format!(
                        "part {index} ({}) is binary after its transfer encoding is undone (e.g. gzip), and a cloudinit_parts content is text",
                        p.media_type()
                    ));
                }
                Err(e) => return Err(format!("part {index}: {e}")),
            };
            if let Some((name, _)) = p
                .headers
                .iter()
                .find(|(k, _)| !CARRIED_HEADERS.iter().any(|c| k.eq_ignore_ascii_case(c)))
            {
                return Err(format!(
                    "part {index} ({}) has a {name} header, which a cloudinit_parts element cannot carry",
                    p.media_type()
                ));
            }
            Ok(CloudinitPart {
                content_type: p.content_type.clone(),
                content,
                filename: p.filename(),
                merge_type: p
                    .header("x-merge-type")
                    .or_else(|| p.header("merge-type"))
                    .map(str::to_string),
            })
        })
        .collect()
}

const SETTINGS: &str = "bootstrap_extra_settings";

fn is_base64(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=') || c.is_whitespace())
}

fn is_cidr(text: &str) -> bool {
    let Some((ip, prefix)) = text.split_once('/') else {
        return false;
    };
    match (ip.parse::<IpAddr>(), prefix.parse::<u8>()) {
        (Ok(IpAddr::V4(_)), Ok(p)) => p <= 32,
        (Ok(IpAddr::V6(_)), Ok(p)) => p <= 128,
        _ => false,
    }
}

/// The custom-AMI keys of `cluster`, each checked at its attribute; `None`
/// (with diagnostics) when one is wrong.
fn custom_ami(c: &ClusterModel, d: &Decision, diags: &mut Diagnostics) -> Option<CustomAmi> {
    let text = |a: &Attr<String>| a.as_deref().unwrap_or_default().trim().to_string();
    let (name, endpoint, ca, cidr) = (
        text(&c.name),
        text(&c.api_server_endpoint),
        text(&c.certificate_authority),
        text(&c.service_cidr),
    );
    let dns = c.dns_ip.as_deref().map(str::trim).map(str::to_string);
    let mut ok = true;
    let mut refuse = |leaf: AttributePath, summary: &str, detail: String| {
        diags.error_at(CapabilityModel::cluster().then(leaf), summary, detail);
        ok = false;
    };
    if name.is_empty() {
        refuse(
            ClusterModel::name(),
            "Invalid cluster name",
            "cluster.name is empty; use the EKS cluster's name, e.g. aws_eks_cluster.this.name."
                .into(),
        );
    }
    if !endpoint.starts_with("https://") {
        refuse(
            ClusterModel::api_server_endpoint(),
            "Invalid API server endpoint",
            format!(
                "{endpoint:?} is not an https:// URL; use the cluster's endpoint, e.g. aws_eks_cluster.this.endpoint."
            ),
        );
    }
    if !is_base64(&ca) {
        refuse(
            ClusterModel::certificate_authority(),
            "Invalid certificate authority",
            "cluster.certificate_authority must be the base64 CA data EKS gives (aws_eks_cluster.this.certificate_authority[0].data), not PEM text.".into(),
        );
    }
    if !is_cidr(&cidr) {
        refuse(
            ClusterModel::service_cidr(),
            "Invalid service CIDR",
            format!(
                "{cidr:?} is not a CIDR such as \"10.100.0.0/16\"; use aws_eks_cluster.this.kubernetes_network_config[0].service_ipv4_cidr (nodeadm refuses a NodeConfig without one)."
            ),
        );
    }
    if let Some(ip) = &dns
        && ip.parse::<IpAddr>().is_err()
    {
        refuse(
            ClusterModel::dns_ip(),
            "Invalid cluster DNS IP",
            format!("{ip:?} is not an IP address such as \"10.100.0.10\"."),
        );
    }
    ok.then(|| CustomAmi {
        cluster: al2023::ClusterInfo {
            name,
            api_server_endpoint: endpoint,
            certificate_authority: ca,
            service_cidr: cidr,
        },
        cluster_dns_ip: dns,
        // Nothing applies the node group's labels on a custom AMI: the
        // labels the probe Job selects on go into the document.
        labels: d.node_labels.clone(),
        taints: Vec::new(),
    })
}

/// The bootstrap outputs for `d` and the model's inputs; `None` with
/// diagnostics at the attribute at fault when they cannot be written.
pub(super) fn bootstrap(
    data: &CapabilityData,
    d: &Decision,
    m: &CapabilityModel,
    diags: &mut Diagnostics,
) -> Option<Bootstrap> {
    let user = m
        .bootstrap_extra_settings
        .as_deref()
        .filter(|u| !u.trim().is_empty());
    let takes_user_data = d.ami_family.is_some() && d.ami_type.is_some();
    if !takes_user_data {
        for (name, set) in [
            (SETTINGS, user.is_some()),
            ("cluster", m.cluster.known().is_some()),
        ] {
            if set {
                diags.error_at(
                    AttributePath::attr(name),
                    "This platform takes no user data",
                    format!(
                        "{name} is for an EKS managed node group (platform \"eks\"); platform {:?} bootstraps its nodes itself, so nothing would use it. Remove {name}.",
                        m.platform.as_deref().unwrap_or_default()
                    ),
                );
            }
        }
        return (!diags.has_errors()).then(Bootstrap::default);
    }
    let custom = match m.cluster.known() {
        Some(c) => Some(custom_ami(c, d, diags)?),
        None => None,
    };
    let opts = UserDataOptions {
        user,
        custom_ami: custom.as_ref(),
    };
    let user_data = match crate::family::user_data(data, d, &opts) {
        Ok(u) => {
            for w in u.warnings {
                diags.warning_at(
                    CapabilityModel::bootstrap_extra_settings(),
                    render::UNCHECKED_SUMMARY,
                    w,
                );
            }
            u.text
        }
        Err(e) => {
            let at = if user.is_some() {
                CapabilityModel::bootstrap_extra_settings()
            } else {
                CapabilityModel::cluster()
            };
            diags.error_at(at, e.summary(), e.to_string());
            return None;
        }
    };
    let al2 = match crate::family::user_data_format(d.ami_family) {
        Some(UserDataFormat::AmazonLinuxMime { al2 }) => al2,
        _ => {
            return Some(Bootstrap {
                user_data,
                ..Bootstrap::default()
            });
        }
    };
    let split = render::amazon_linux_parts(d, al2, opts.custom_ami).and_then(|ours| {
        let parts = match &user_data {
            Some(text) => al2023::parse(text)?,
            None => Vec::new(),
        };
        Ok((ours, parts))
    });
    let (ours, parts) = match split {
        Ok(v) => v,
        Err(e) => {
            diags.error_at(
                CapabilityModel::bootstrap_extra_settings(),
                "Bootstrap settings cannot be used",
                e.to_string(),
            );
            return None;
        }
    };
    let body = |content_type: &str| {
        ours.iter()
            .find(|p| p.content_type.starts_with(content_type))
            .map(|p| p.body.clone())
    };
    let parts = match cloudinit_parts(&parts) {
        Ok(p) => Some(p),
        Err(why) => {
            diags.warning_at(
                CapabilityModel::bootstrap_extra_settings(),
                "cloudinit_parts cannot carry every part",
                format!(
                    "{why}, so cloudinit_parts is null rather than missing something; use user_data, which keeps every part and header as it is."
                ),
            );
            None
        }
    };
    Some(Bootstrap {
        nodeadm_config: body(al2023::NODECONFIG_CONTENT_TYPE),
        sysctl_script: body("text/x-shellscript"),
        parts,
        user_data,
    })
}
