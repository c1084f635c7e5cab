//! Amazon Linux 2023: a MIME multipart document with a nodeadm NodeConfig;
//! releases under `/aws/service/eks/optimized-ami`.

use super::NodeFamily;
use crate::capability::{AmiFamily, Architecture, CapabilityData, Decision, ImageVariant};
use crate::render::{self, RenderError, UserData, UserDataOptions};

pub struct Al2023;

/// Amazon Linux user data from the parts a decision needs (AL2: no
/// NodeConfig), merged with the user's own document; what in the user's
/// parts cannot be read with certainty comes back as warnings.
pub(super) fn amazon_linux(
    d: &Decision,
    al2: bool,
    opts: &UserDataOptions<'_>,
) -> Result<UserData, RenderError> {
    let parts = render::amazon_linux_parts(d, al2, opts.custom_ami)?;
    match opts.user {
        Some(user) if !user.trim().is_empty() => {
            let family = if al2 {
                AmiFamily::Al2
            } else {
                AmiFamily::Al2023
            };
            let theirs = render::al2023::parse(user).map_err(|e| match e {
                render::al2023::MimeError::Toml => RenderError::Unsupported(format!(
                    "this is TOML (Bottlerocket settings), but ami_family {family} takes an Amazon Linux MIME multipart document (Content-Type: multipart/mixed, e.g. with a nodeadm NodeConfig part) or a #! shell script; set ami_family = \"bottlerocket\" to pass TOML settings, or write them as MIME parts"
                )),
                e => e.into(),
            })?;
            let doubts = render::al2023_conflicts::check(
                &theirs,
                &d.sysctls,
                &d.sysctl_floors,
                &d.kubelet_settings,
            )?;
            Ok(UserData {
                text: Some(render::al2023::render_merged(theirs, &parts)),
                warnings: doubts.iter().map(ToString::to_string).collect(),
            })
        }
        _ if parts.is_empty() => Ok(UserData::default()),
        _ => Ok(UserData::text(Some(render::al2023::render(&parts)))),
    }
}

impl NodeFamily for Al2023 {
    fn kind(&self) -> AmiFamily {
        AmiFamily::Al2023
    }

    /// Amazon Linux has one volume, the root `/dev/xvda`
    /// (aws/karpenter-provider-aws:pkg/providers/amifamily/al2023.go,
    /// `EphemeralBlockDevice`).
    fn container_volume(&self) -> &'static str {
        "/dev/xvda"
    }

    fn user_data_format(&self) -> super::UserDataFormat {
        super::UserDataFormat::AmazonLinuxMime { al2: false }
    }

    /// `/aws/service/eks/optimized-ami/<version>/amazon-linux-2023/<x86_64|arm64>/<standard|nvidia|neuron>/recommended/release_version`
    /// (`awsdocs/amazon-eks-user-guide:latest/ug/nodes/retrieve-ami-id.adoc`:
    /// the AMI type's last part names the path's variant).
    fn release_parameter(
        &self,
        kubernetes: &str,
        variant: ImageVariant,
        arch: Architecture,
    ) -> Option<String> {
        Some(format!(
            "/aws/service/eks/optimized-ami/{kubernetes}/amazon-linux-2023/{}/{}/recommended/release_version",
            arch.as_str(),
            variant.as_str()
        ))
    }

    fn user_data(
        &self,
        _data: &CapabilityData,
        d: &Decision,
        opts: &UserDataOptions<'_>,
    ) -> Result<UserData, RenderError> {
        amazon_linux(d, false, opts)
    }
}
