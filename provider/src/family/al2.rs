//! Amazon Linux 2 (retired by EKS): a shell part only, no NodeConfig; EKS
//! picks the release (the provider reads no parameter for it).

use super::NodeFamily;
use super::al2023::amazon_linux;
use crate::capability::{AmiFamily, Architecture, CapabilityData, Decision, ImageVariant};
use crate::render::{RenderError, UserData, UserDataOptions};

pub struct Al2;

impl NodeFamily for Al2 {
    fn kind(&self) -> AmiFamily {
        AmiFamily::Al2
    }

    /// Amazon Linux has one volume, the root `/dev/xvda`
    /// (aws/karpenter-provider-aws:pkg/providers/amifamily/al2023.go,
    /// `EphemeralBlockDevice`).
    fn container_volume(&self) -> &'static str {
        "/dev/xvda"
    }

    fn user_data_format(&self) -> super::UserDataFormat {
        super::UserDataFormat::AmazonLinuxMime { al2: true }
    }

    fn release_parameter(
        &self,
        _kubernetes: &str,
        _variant: ImageVariant,
        _arch: Architecture,
    ) -> Option<String> {
        None
    }

    fn user_data(
        &self,
        _data: &CapabilityData,
        d: &Decision,
        opts: &UserDataOptions<'_>,
    ) -> Result<UserData, RenderError> {
        amazon_linux(d, true, opts)
    }
}
