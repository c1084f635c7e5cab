//! Bottlerocket: TOML settings; releases under `/aws/service/bottlerocket`.

use super::NodeFamily;
use crate::capability::{AmiFamily, Architecture, CapabilityData, Decision, ImageVariant};
use crate::render::{self, RenderError, UserData, UserDataOptions, bottlerocket};

pub struct Bottlerocket;

impl NodeFamily for Bottlerocket {
    fn kind(&self) -> AmiFamily {
        AmiFamily::Bottlerocket
    }

    /// Bottlerocket boots from a small OS volume (`/dev/xvda`) and keeps
    /// images and pods on its data volume, `/dev/xvdb`
    /// (aws/karpenter-provider-aws:pkg/providers/amifamily/bottlerocket.go,
    /// `EphemeralBlockDevice`).
    fn container_volume(&self) -> &'static str {
        "/dev/xvdb"
    }

    fn user_data_format(&self) -> super::UserDataFormat {
        super::UserDataFormat::SettingsToml
    }

    /// `/aws/service/bottlerocket/aws-k8s-<version>[-nvidia|-fips|-nvidia-fips]/<x86_64|arm64>/latest/image_version`
    /// (`awsdocs/amazon-eks-user-guide:latest/ug/nodes/retrieve-ami-id-bottlerocket.adoc`,
    /// `bottlerocket-os/bottlerocket:QUICKSTART-EKS.md`; the variant names
    /// are Bottlerocket's `variants/aws-k8s-<version>-<suffix>`).
    fn release_parameter(
        &self,
        kubernetes: &str,
        variant: ImageVariant,
        arch: Architecture,
    ) -> Option<String> {
        let suffix = match variant {
            ImageVariant::Standard => "",
            ImageVariant::Nvidia => "-nvidia",
            ImageVariant::Fips => "-fips",
            ImageVariant::NvidiaFips => "-nvidia-fips",
            ImageVariant::Neuron => return None,
        };
        Some(format!(
            "/aws/service/bottlerocket/aws-k8s-{kubernetes}{suffix}/{}/latest/image_version",
            arch.as_str()
        ))
    }

    fn user_data(
        &self,
        data: &CapabilityData,
        d: &Decision,
        opts: &UserDataOptions<'_>,
    ) -> Result<UserData, RenderError> {
        let settings = render::bottlerocket_settings(data, d, opts.custom_ami)?;
        let text = match opts.user {
            Some(user) if !user.trim().is_empty() => {
                bottlerocket::render_merged(user, &settings, opts.custom_ami.is_none())?
            }
            _ => bottlerocket::render(&settings)?,
        };
        Ok(UserData::text((!text.is_empty()).then_some(text)))
    }
}
