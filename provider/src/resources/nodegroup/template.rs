//! The launch template the resource owns: what goes into each version
//! (user data, `metadata_options`, `security_group_ids`), whether a plan
//! needs a new version, and what a read finds in one. A new version rolls
//! every node, so "changes" means any of these differ.

use std::collections::BTreeMap;

use super::model::{
    BlockDeviceModel, MetadataOptionsModel, NodegroupModel, TagSpecificationsModel, string_map,
};
use super::schema::TAG_SPECIFICATION_TYPES;
use crate::aws::ec2::{Metadata, TemplateContent, Volume};
use crate::framework::Attr;
use crate::framework::model::Field as _;
use crate::framework::model::{Set, list_of};

impl NodegroupModel {
    /// The nodes' IMDS settings (the schema's defaults where unset).
    pub fn metadata(&self) -> Metadata {
        let d = Metadata::default();
        let Some(m) = self.metadata_options.known() else {
            return d;
        };
        Metadata {
            endpoint_enabled: m.http_endpoint.as_deref().is_none_or(|e| e == "enabled"),
            tokens_required: m.http_tokens.as_deref().is_none_or(|t| t == "required"),
            hop_limit: m
                .http_put_response_hop_limit
                .known()
                .and_then(|n| i32::try_from(*n).ok())
                .unwrap_or(d.hop_limit),
            instance_tags: m.instance_metadata_tags.as_deref() == Some("enabled"),
        }
    }

    pub fn security_group_list(&self) -> Vec<String> {
        let mut groups: Vec<String> = self
            .security_group_ids
            .known()
            .map(|s| s.0.iter().filter_map(|a| a.known().cloned()).collect())
            .unwrap_or_default();
        groups.sort();
        groups
    }

    /// The container volume's settings (validated at plan), on the
    /// planned device.
    pub fn volume(&self) -> Option<Volume> {
        let b = self.block_device.known()?;
        let int = |a: &Attr<i64>| a.known().and_then(|n| i32::try_from(*n).ok());
        Some(Volume {
            device_name: b.device_name.as_deref().unwrap_or_default().to_string(),
            size: int(&b.volume_size),
            volume_type: b.volume_type.known().cloned(),
            iops: int(&b.iops),
            throughput: int(&b.throughput),
            encrypted: b.encrypted.known().copied(),
            kms_key_id: b.kms_key_id.known().cloned(),
        })
    }

    /// Plan: the family's container volume where `device_name` is left out
    /// (unknown while the family is).
    pub fn plan_device_name(&mut self) {
        let family = self.family();
        let family_unknown = self.ami_family.is_unknown();
        let Attr::Known(b) = &mut self.block_device else {
            return;
        };
        if b.device_name.is_null() || b.device_name.is_unknown() {
            b.device_name = match family {
                Some(f) => Attr::Known(crate::family::of(f).container_volume().to_string()),
                None if family_unknown => Attr::Unknown,
                None => Attr::Null,
            };
        }
    }

    /// `tag_specifications` by EC2 resource type, empty ones left out.
    pub fn tag_specification_map(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        let Some(t) = self.tag_specifications.known() else {
            return BTreeMap::new();
        };
        TAG_SPECIFICATION_TYPES
            .iter()
            .zip([&t.instance, &t.volume, &t.network_interface])
            .filter_map(|((_, ec2), tags)| {
                let tags: BTreeMap<String, String> = tags
                    .known()?
                    .iter()
                    .filter_map(|(k, v)| v.known().map(|v| (k.clone(), v.clone())))
                    .collect();
                (!tags.is_empty()).then(|| (ec2.to_string(), tags))
            })
            .collect()
    }

    /// A launch template version for this (planned) state.
    pub fn template_content(&self) -> TemplateContent {
        TemplateContent {
            user_data: self.user_data.known().cloned(),
            metadata: self.metadata(),
            security_groups: self.security_group_list(),
            volume: self.volume(),
            tag_specifications: self.tag_specification_map(),
        }
    }

    /// The launch template the node group uses (or the version of it) no
    /// longer exists: a refresh found it deleted outside Terraform and left
    /// `launch_template_version` null. The next apply makes it again.
    pub fn template_missing(&self) -> bool {
        self.launch_template_id.known().is_some() && self.launch_template_version.is_null()
    }

    /// The attributes that differ from `prior` and need a new launch
    /// template version (each rolls the nodes), in schema order.
    pub fn template_changes(&self, prior: &NodegroupModel) -> Vec<&'static str> {
        let mut changed = Vec::new();
        if self.user_data != prior.user_data {
            changed.push("user_data");
        }
        if self.metadata_options != prior.metadata_options {
            changed.push("metadata_options");
        }
        if self.block_device != prior.block_device {
            changed.push("block_device");
        }
        if self.tag_specification_map() != prior.tag_specification_map()
            || !self.tag_specifications.wholly_known()
        {
            changed.push("tag_specifications");
        }
        if self.security_group_list() != prior.security_group_list()
            || self.security_group_ids.is_unknown()
        {
            changed.push("security_group_ids");
        }
        changed
    }

    /// What a launch template version holds, into this state.
    pub fn fold_template(&mut self, content: TemplateContent) {
        self.user_data = content.user_data.into();
        let m = content.metadata;
        let on_off = |on: bool| Attr::Known(if on { "enabled" } else { "disabled" }.to_string());
        self.metadata_options = Attr::Known(MetadataOptionsModel {
            http_endpoint: on_off(m.endpoint_enabled),
            http_tokens: Attr::Known(
                if m.tokens_required {
                    "required"
                } else {
                    "optional"
                }
                .to_string(),
            ),
            http_put_response_hop_limit: Attr::Known(i64::from(m.hop_limit)),
            instance_metadata_tags: on_off(m.instance_tags),
        });
        self.block_device = match content.volume {
            Some(v) => Attr::Known(BlockDeviceModel {
                device_name: Attr::Known(v.device_name),
                volume_size: v.size.map(i64::from).into(),
                volume_type: v.volume_type.into(),
                iops: v.iops.map(i64::from).into(),
                throughput: v.throughput.map(i64::from).into(),
                encrypted: v.encrypted.into(),
                kms_key_id: v.kms_key_id.into(),
            }),
            None => Attr::Null,
        };
        // Only the types this resource sets (a template's own tags are not
        // launch data, though moto reports them there). An empty map and
        // none read the same: keep the state's.
        let specs: BTreeMap<&str, &BTreeMap<String, String>> = content
            .tag_specifications
            .iter()
            .filter(|(t, _)| TAG_SPECIFICATION_TYPES.iter().any(|(_, ec2)| ec2 == t))
            .map(|(t, tags)| (t.as_str(), tags))
            .collect();
        let current = self.tag_specifications.known().cloned();
        let of = |ec2: &str, cur: Option<&Attr<crate::framework::model::Map<String>>>| match (
            specs.get(ec2),
            cur,
        ) {
            (Some(t), _) => Attr::Known(string_map(t)),
            (None, Some(c)) if c.known().is_some_and(|m| m.is_empty()) => c.clone(),
            (None, _) => Attr::Null,
        };
        self.tag_specifications = if specs.is_empty() && current.is_none() {
            Attr::Null
        } else {
            let c = current.as_ref();
            Attr::Known(TagSpecificationsModel {
                instance: of("instance", c.map(|c| &c.instance)),
                volume: of("volume", c.map(|c| &c.volume)),
                network_interface: of("network-interface", c.map(|c| &c.network_interface)),
            })
        };
        // Empty and unset read the same: keep what the configuration said.
        self.security_group_ids =
            if content.security_groups.is_empty() && self.security_group_ids.is_null() {
                Attr::Null
            } else {
                Attr::Known(Set(list_of(content.security_groups)))
            };
    }
}
