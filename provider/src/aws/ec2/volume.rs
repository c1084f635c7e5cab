//! The one EBS volume a launch template sets up for the nodes (the one that
//! holds container images and pod data), as EC2 takes and reports it.

use aws_sdk_ec2::types::{
    LaunchTemplateBlockDeviceMapping, LaunchTemplateBlockDeviceMappingRequest,
    LaunchTemplateEbsBlockDeviceRequest, VolumeType,
};

/// Settings left `None` are the AMI's own.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Volume {
    pub device_name: String,
    /// GiB.
    pub size: Option<i32>,
    /// `gp3`, `io2`, …
    pub volume_type: Option<String>,
    pub iops: Option<i32>,
    /// MiB/s.
    pub throughput: Option<i32>,
    pub encrypted: Option<bool>,
    pub kms_key_id: Option<String>,
}

pub(super) fn expand(v: &Volume) -> LaunchTemplateBlockDeviceMappingRequest {
    let ebs = LaunchTemplateEbsBlockDeviceRequest::builder()
        .set_volume_size(v.size)
        .set_volume_type(v.volume_type.as_deref().map(VolumeType::from))
        .set_iops(v.iops)
        .set_throughput(v.throughput)
        .set_encrypted(v.encrypted)
        .set_kms_key_id(v.kms_key_id.clone())
        .build();
    LaunchTemplateBlockDeviceMappingRequest::builder()
        .device_name(&v.device_name)
        .ebs(ebs)
        .build()
}

/// The first mapping with an EBS volume, as the template holds it.
pub(super) fn flatten(mappings: &[LaunchTemplateBlockDeviceMapping]) -> Option<Volume> {
    mappings.iter().find_map(|m| {
        let ebs = m.ebs()?;
        Some(Volume {
            device_name: m.device_name()?.to_string(),
            size: ebs.volume_size(),
            volume_type: ebs.volume_type().map(|t| t.as_str().to_string()),
            iops: ebs.iops(),
            throughput: ebs.throughput(),
            encrypted: ebs.encrypted(),
            kms_key_id: ebs.kms_key_id().map(String::from),
        })
    })
}
