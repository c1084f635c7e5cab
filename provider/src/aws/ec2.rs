//! EC2 launch templates owned by node groups.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{
    LaunchTemplateHttpTokensState, LaunchTemplateInstanceMetadataOptionsRequest,
    RequestLaunchTemplateData, ResourceType, Tag, TagSpecification,
};
use base64::Engine;

use super::{AwsClients, AwsError, api_error};

/// A launch template version as the provider writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateContent {
    /// Plain text; base64-encoded on the wire.
    pub user_data: Option<String>,
}

fn label(id: &str) -> String {
    format!("EC2 Launch Template ({id})")
}

fn expand_data(content: &TemplateContent) -> RequestLaunchTemplateData {
    // IMDSv2 only, with a hop limit pods can reach (EKS's recommendation).
    let mut data = RequestLaunchTemplateData::builder().metadata_options(
        LaunchTemplateInstanceMetadataOptionsRequest::builder()
            .http_tokens(LaunchTemplateHttpTokensState::Required)
            .http_put_response_hop_limit(2)
            .build(),
    );
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

    /// A new version with `content`; returns its number.
    pub async fn create_launch_template_version(
        &self,
        id: &str,
        token: &str,
        content: &TemplateContent,
    ) -> Result<i64, AwsError> {
        let out = self
            .ec2
            .create_launch_template_version()
            .launch_template_id(id)
            .client_token(token)
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
        let user_data = v
            .launch_template_data()
            .and_then(|d| d.user_data())
            .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
            .and_then(|bytes| String::from_utf8(bytes).ok());
        Ok(TemplateContent { user_data })
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
