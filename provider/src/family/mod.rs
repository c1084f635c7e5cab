//! Per-family behaviour of EKS node images, behind one trait with one
//! implementation per family (as Karpenter's `amifamily` package does):
//! where the latest release is published and which renderer writes the
//! bootstrap document. Facts that are data (the EKS `amiType` per
//! architecture) stay in the family rows of `schemas/capabilities.toml`;
//! [`ami_type`] and [`from_ami_type`] read them.
//!
//! [`of`] is the one place that maps a family to its behaviour.

mod al2;
mod al2023;
mod bottlerocket;

use crate::capability::{AmiFamily, Architecture, CapabilityData, Decision, ImageVariant};
use crate::render::{RenderError, UserData, UserDataOptions};
use crate::validate::Limits;

/// What differs between node image families.
pub trait NodeFamily: Send + Sync {
    fn kind(&self) -> AmiFamily;

    /// The SSM public parameter that holds the latest release of the
    /// family's `variant` node image for `kubernetes` (e.g. `1.33`) and
    /// `arch`; `None` when the family publishes none the provider reads.
    fn release_parameter(
        &self,
        kubernetes: &str,
        variant: ImageVariant,
        arch: Architecture,
    ) -> Option<String>;

    /// The device of the volume that holds container images and pod data,
    /// which `block_device` sizes: the root volume where the image has one
    /// volume, the data volume where it has two.
    fn container_volume(&self) -> &'static str;

    /// How the family's user data is written, for code that reads a user
    /// data document back (what it sets, where a setting lives).
    fn user_data_format(&self) -> UserDataFormat;

    /// The bootstrap document the decision needs, merged with the user's
    /// own (`opts.user`); no text when there is nothing to write.
    fn user_data(
        &self,
        data: &CapabilityData,
        d: &Decision,
        opts: &UserDataOptions<'_>,
    ) -> Result<UserData, RenderError>;
}

/// The shape of a family's user data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserDataFormat {
    /// Bottlerocket's settings TOML.
    SettingsToml,
    /// Amazon Linux MIME multipart with shell and nodeadm parts; `al2`: the
    /// AL2 flavour (bootstrap.sh, no nodeadm).
    AmazonLinuxMime { al2: bool },
}

/// The user data format of `kind`, when a family is known.
pub fn user_data_format(kind: Option<AmiFamily>) -> Option<UserDataFormat> {
    kind.map(|k| of(k).user_data_format())
}

/// The behaviour of `kind`.
pub fn of(kind: AmiFamily) -> &'static dyn NodeFamily {
    match kind {
        AmiFamily::Bottlerocket => &bottlerocket::Bottlerocket,
        AmiFamily::Al2023 => &al2023::Al2023,
        AmiFamily::Al2 => &al2::Al2,
    }
}

/// The EKS `amiType` of `kind`'s `variant` on `arch`, from the family's
/// data row.
pub fn ami_type(
    data: &CapabilityData,
    kind: AmiFamily,
    variant: ImageVariant,
    arch: Architecture,
) -> Option<&str> {
    data.family(kind)?
        .ami_type
        .get(&variant)?
        .get(&arch)
        .map(String::as_str)
}

/// What an EKS `amiType` stands for (import and `terraform query` read a
/// node group's `amiType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmiTypeOf {
    pub family: AmiFamily,
    pub variant: ImageVariant,
    pub architecture: Architecture,
}

/// The family, variant and architecture of an EKS `amiType`; `None` for
/// one no family row names (`CUSTOM`, Windows).
pub fn from_ami_type(data: &CapabilityData, ami_type: &str) -> Option<AmiTypeOf> {
    data.family.iter().find_map(|row| {
        row.ami_type.iter().find_map(|(variant, by_arch)| {
            by_arch
                .iter()
                .find(|(_, t)| t.as_str() == ami_type)
                .map(|(arch, _)| AmiTypeOf {
                    family: row.name,
                    variant: *variant,
                    architecture: *arch,
                })
        })
    })
}

/// The bootstrap document for the decision's family, within EC2's user
/// data limit. No text off EKS node groups, and where the platform owns
/// the node's bootstrap (EKS Auto Mode: no `amiType`). Every place that
/// renders user data (`nested_nodegroup`, `nested_capability`,
/// `nested_karpenter_pool`) comes through here, so each obeys the limit.
pub fn user_data(
    data: &CapabilityData,
    d: &Decision,
    opts: &UserDataOptions<'_>,
) -> Result<UserData, RenderError> {
    let out = match (d.ami_family, &d.ami_type) {
        (Some(kind), Some(_)) => of(kind).user_data(data, d, opts)?,
        _ => UserData::default(),
    };
    if let Some(Err(e)) = out.text.as_deref().map(user_data_size) {
        return Err(RenderError::TooLarge(e));
    }
    Ok(out)
}

/// Rendered user data over EC2's limit (`schemas/limits.toml`,
/// `ec2.user_data_bytes`).
pub fn user_data_size(user_data: &str) -> Result<(), String> {
    let Ok(l) = Limits::embedded() else {
        return Ok(());
    };
    let max = l.ec2.user_data_bytes.max;
    let n = user_data.len() as u64;
    if n > max {
        return Err(format!(
            "the launch template's user data would be {n} bytes after the provider adds what the sandbox needs, but EC2 allows {max} bytes (before base64). Shorten bootstrap_extra_settings by at least {} bytes.",
            n - max
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
