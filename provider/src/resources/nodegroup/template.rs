//! The launch template the resource owns: what goes into each version
//! (user data, `metadata_options`, `security_group_ids`), whether a plan
//! needs a new version, and what a read finds in one. A new version rolls
//! every node, so "changes" means any of these differ.

use super::model::{MetadataOptionsModel, NodegroupModel};
use crate::aws::ec2::{Metadata, TemplateContent};
use crate::framework::Attr;
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

    /// A launch template version for this (planned) state.
    pub fn template_content(&self) -> TemplateContent {
        TemplateContent {
            user_data: self.user_data.known().cloned(),
            metadata: self.metadata(),
            security_groups: self.security_group_list(),
        }
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
        // Empty and unset read the same: keep what the configuration said.
        self.security_group_ids =
            if content.security_groups.is_empty() && self.security_group_ids.is_null() {
                Attr::Null
            } else {
                Attr::Known(Set(list_of(content.security_groups)))
            };
    }
}
