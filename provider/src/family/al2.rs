//! Amazon Linux 2 (retired by EKS): a shell part only, no NodeConfig; EKS
//! picks the release (the provider reads no parameter for it).

use super::NodeFamily;
use super::al2023::amazon_linux;
use crate::capability::{AmiFamily, Architecture, CapabilityData, Decision, Version};
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

    fn release_parameter(&self, _kubernetes: &str, _arch: Architecture) -> Option<String> {
        None
    }

    /// `1.33.0-20250704` is built for Kubernetes 1.33.
    fn release_kubernetes(&self, release: &str) -> Option<Version> {
        super::kubernetes_of_release(release)
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
