//! EC2 launch templates owned by node groups.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{
    LaunchTemplateHttpTokensState, LaunchTemplateInstanceMetadataEndpointState,
    LaunchTemplateInstanceMetadataOptions, LaunchTemplateInstanceMetadataOptionsRequest,
    LaunchTemplateInstanceMetadataTagsState, LaunchTemplateTagSpecificationRequest,
    RequestLaunchTemplateData, ResourceType, Tag, TagSpecification,
};
use base64::Engine;

use super::{AwsClients, AwsError, api_error};

mod exists;
mod volume;
pub use exists::{TemplateChecks, Ticket};
pub use volume::Volume;

/// A launch template version as the provider writes it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TemplateContent {
    /// Plain text; base64-encoded on the wire.
    pub user_data: Option<String>,
    pub metadata: Metadata,
    /// `vpc_security_group_ids` of the template; empty: EKS's own.
    pub security_groups: Vec<String>,
    /// The container volume's settings; `None`: the AMI's.
    pub volume: Option<Volume>,
    /// Tags EC2 puts on what it launches from the template, by resource
    /// type (`instance`, `volume`, `network-interface`); empty types left out.
    pub tag_specifications: BTreeMap<String, BTreeMap<String, String>>,
}

/// The instance metadata service settings of the nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metadata {
    pub endpoint_enabled: bool,
    /// IMDSv2 only (session tokens required).
    pub tokens_required: bool,
    pub hop_limit: i32,
    pub instance_tags: bool,
}

/// What the provider writes when the configuration says nothing: IMDSv2
/// only, with a hop limit of 2 so pods reach it through the pod network
/// (EKS's recommendation for its node groups).
impl Default for Metadata {
    fn default() -> Self {
        Metadata {
            endpoint_enabled: true,
            tokens_required: true,
            hop_limit: 2,
            instance_tags: false,
        }
    }
}

fn expand_metadata(m: Metadata) -> LaunchTemplateInstanceMetadataOptionsRequest {
    let on_off = |on: bool| {
        if on {
            LaunchTemplateInstanceMetadataEndpointState::Enabled
        } else {
            LaunchTemplateInstanceMetadataEndpointState::Disabled
        }
    };
    let tags = if m.instance_tags {
        LaunchTemplateInstanceMetadataTagsState::Enabled
    } else {
        LaunchTemplateInstanceMetadataTagsState::Disabled
    };
    LaunchTemplateInstanceMetadataOptionsRequest::builder()
        .http_endpoint(on_off(m.endpoint_enabled))
        .http_tokens(if m.tokens_required {
            LaunchTemplateHttpTokensState::Required
        } else {
            LaunchTemplateHttpTokensState::Optional
        })
        .http_put_response_hop_limit(m.hop_limit)
        .instance_metadata_tags(tags)
        .build()
}

fn flatten_metadata(m: Option<&LaunchTemplateInstanceMetadataOptions>) -> Metadata {
    let d = Metadata::default();
    let Some(m) = m else { return d };
    Metadata {
        endpoint_enabled: m.http_endpoint().map_or(d.endpoint_enabled, |e| {
            *e == LaunchTemplateInstanceMetadataEndpointState::Enabled
        }),
        tokens_required: m.http_tokens().map_or(d.tokens_required, |t| {
            *t == LaunchTemplateHttpTokensState::Required
        }),
        hop_limit: m.http_put_response_hop_limit().unwrap_or(d.hop_limit),
        instance_tags: m.instance_metadata_tags().map_or(d.instance_tags, |t| {
            *t == LaunchTemplateInstanceMetadataTagsState::Enabled
        }),
    }
}

fn label(id: &str) -> String {
    format!("EC2 Launch Template ({id})")
}

fn expand_data(content: &TemplateContent) -> RequestLaunchTemplateData {
    let mut data =
        RequestLaunchTemplateData::builder().metadata_options(expand_metadata(content.metadata));
    for (resource_type, tags) in content
        .tag_specifications
        .iter()
        .filter(|(_, t)| !t.is_empty())
    {
        let mut spec = LaunchTemplateTagSpecificationRequest::builder()
            .resource_type(ResourceType::from(resource_type.as_str()));
        for (k, v) in tags {
            spec = spec.tags(Tag::builder().key(k).value(v).build());
        }
        data = data.tag_specifications(spec.build());
    }
    if let Some(v) = &content.volume {
        data = data.block_device_mappings(volume::expand(v));
    }
    if !content.security_groups.is_empty() {
        data = data.set_security_group_ids(Some(content.security_groups.clone()));
    }
    if let Some(ud) = &content.user_data {
        data = data.user_data(base64::engine::general_purpose::STANDARD.encode(ud));
    }
    data.build()
}

impl AwsClients {
    /// Create the template (version 1). `token` makes a retry idempotent;
    /// a template of the same name that carries our owner tag is adopted
    /// (a create whose answer was lost), anything else is an error.
    pub async fn create_launch_template(
        &self,
        name: &str,
        token: &str,
        content: &TemplateContent,
        tags: &BTreeMap<String, String>,
        owner: (&str, &str),
        extra_tags: &[(&str, &str)],
    ) -> Result<(String, i64), AwsError> {
        let mut spec = TagSpecification::builder().resource_type(ResourceType::LaunchTemplate);
        for (k, v) in tags {
            spec = spec.tags(Tag::builder().key(k).value(v).build());
        }
        spec = spec.tags(Tag::builder().key(owner.0).value(owner.1).build());
        for (k, v) in extra_tags {
            spec = spec.tags(Tag::builder().key(*k).value(*v).build());
        }
        let result = self
            .ec2
            .create_launch_template()
            .launch_template_name(name)
            .client_token(token)
            .launch_template_data(expand_data(content))
            .tag_specifications(spec.build())
            .send()
            .await;
        match result {
            Ok(out) => {
                let lt = out.launch_template();
                let id = lt.and_then(|l| l.launch_template_id()).unwrap_or_default();
                let version = lt.and_then(|l| l.latest_version_number()).unwrap_or(1);
                Ok((id.to_string(), version))
            }
            Err(e) => {
                let err = api_error(self.call("ec2", "CreateLaunchTemplate"), label(name), e);
                if err.code() == Some("InvalidLaunchTemplateName.AlreadyExistsException") {
                    return self.adopt_launch_template(name, owner).await;
                }
                Err(err)
            }
        }
    }

    async fn adopt_launch_template(
        &self,
        name: &str,
        owner: (&str, &str),
    ) -> Result<(String, i64), AwsError> {
        let out = self
            .ec2
            .describe_launch_templates()
            .launch_template_names(name)
            .send()
            .await
            .map_err(|e| api_error(self.call("ec2", "DescribeLaunchTemplates"), label(name), e))?;
        let lt = out
            .launch_templates()
            .first()
            .ok_or_else(|| AwsError::NotFound { what: label(name) })?;
        let ours = lt
            .tags()
            .iter()
            .any(|t| t.key() == Some(owner.0) && t.value() == Some(owner.1));
        if !ours {
            return Err(AwsError::Api {
                operation: "CreateLaunchTemplate",
                code: Some("InvalidLaunchTemplateName.AlreadyExistsException".into()),
                message: format!(
                    "a launch template named {name} already exists and is not owned by this node group (tag {}={} missing); delete or rename it",
                    owner.0, owner.1
                ),
            });
        }
        tracing::info!(
            launch_template = name,
            "adopting a launch template this node group created earlier"
        );
        Ok((
            lt.launch_template_id().unwrap_or_default().to_string(),
            lt.latest_version_number().unwrap_or(1),
        ))
    }

    /// A new version with `content`; returns its number. With `source`, the
    /// new version is that version with `content` on top (a template this
    /// provider did not write keeps the rest of what it holds).
    pub async fn create_launch_template_version(
        &self,
        id: &str,
        token: &str,
        content: &TemplateContent,
        source: Option<i64>,
    ) -> Result<i64, AwsError> {
        let out = self
            .ec2
            .create_launch_template_version()
            .launch_template_id(id)
            .client_token(token)
            .set_source_version(source.map(|v| v.to_string()))
            .launch_template_data(expand_data(content))
            .send()
            .await
            .map_err(|e| {
                api_error(
                    self.call("ec2", "CreateLaunchTemplateVersion"),
                    label(id),
                    e,
                )
            })?;
        out.launch_template_version()
            .and_then(|v| v.version_number())
            .ok_or_else(|| AwsError::Api {
                operation: "CreateLaunchTemplateVersion",
                code: None,
                message: "no version number in the answer".into(),
            })
    }

    /// The content of one version.
    pub async fn find_launch_template_version(
        &self,
        id: &str,
        version: &str,
    ) -> Result<TemplateContent, AwsError> {
        let out = self
            .ec2
            .describe_launch_template_versions()
            .launch_template_id(id)
            .versions(version)
            .send()
            .await
            .map_err(|e| {
                api_error(
                    self.call("ec2", "DescribeLaunchTemplateVersions"),
                    label(id),
                    e,
                )
            })?;
        let v = out
            .launch_template_versions()
            .first()
            .ok_or_else(|| AwsError::NotFound { what: label(id) })?;
        let data = v.launch_template_data();
        let user_data = data
            .and_then(|d| d.user_data())
            .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
            .and_then(|bytes| String::from_utf8(bytes).ok());
        let mut security_groups = data
            .map(|d| d.security_group_ids().to_vec())
            .unwrap_or_default();
        security_groups.sort();
        Ok(TemplateContent {
            user_data,
            metadata: flatten_metadata(data.and_then(|d| d.metadata_options())),
            security_groups,
            volume: data.and_then(|d| volume::flatten(d.block_device_mappings())),
            tag_specifications: data
                .map(|d| {
                    d.tag_specifications()
                        .iter()
                        .filter_map(|s| {
                            let tags: BTreeMap<String, String> = s
                                .tags()
                                .iter()
                                .filter_map(|t| {
                                    Some((t.key()?.to_string(), t.value()?.to_string()))
                                })
                                .collect();
                            Some((s.resource_type()?.as_str().to_string(), tags))
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    /// IDs of the launch templates carrying tag `key` = `value`.
    pub async fn find_launch_templates_tagged(
        &self,
        key: &str,
        value: &str,
    ) -> Result<Vec<String>, AwsError> {
        let mut ids = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let out = self
                .ec2
                .describe_launch_templates()
                .filters(
                    aws_sdk_ec2::types::Filter::builder()
                        .name(format!("tag:{key}"))
                        .values(value)
                        .build(),
                )
                .set_next_token(next.take())
                .send()
                .await
                .map_err(|e| {
                    api_error(
                        self.call("ec2", "DescribeLaunchTemplates"),
                        format!("launch templates tagged {key}={value}"),
                        e,
                    )
                })?;
            // The filter narrows the answer; the tags decide (a server that
            // ignores the filter must not make other templates match).
            ids.extend(
                out.launch_templates()
                    .iter()
                    .filter(|t| {
                        t.tags()
                            .iter()
                            .any(|tag| tag.key() == Some(key) && tag.value() == Some(value))
                    })
                    .filter_map(|t| t.launch_template_id().map(String::from)),
            );
            match out.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_string()),
                _ => return Ok(ids),
            }
        }
    }

    /// Put `tags` on launch template `id` (EC2 CreateTags), e.g. its new
    /// owner's tag when an import takes the node group over.
    pub async fn tag_launch_template(
        &self,
        id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), AwsError> {
        if tags.is_empty() {
            return Ok(());
        }
        let tags: Vec<Tag> = tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        self.ec2
            .create_tags()
            .resources(id)
            .set_tags(Some(tags))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| api_error(self.call("ec2", "CreateTags"), label(id), e))
    }

    /// Delete; a template that is already gone counts as deleted.
    pub async fn delete_launch_template(&self, id: &str) -> Result<(), AwsError> {
        match self
            .ec2
            .delete_launch_template()
            .launch_template_id(id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match api_error(self.call("ec2", "DeleteLaunchTemplate"), label(id), e) {
                AwsError::NotFound { .. } => Ok(()),
                other => Err(other),
            },
        }
    }
}
