//! `list "nested_nodegroup"`: every node group of an EKS cluster
//! (ListNodegroups, page by page, then DescribeNodegroup each), with its
//! identity, a display name saying whether it can run the sandbox, and
//! (`include_resource`) the state an import of it makes — built by the
//! resource's own import and read code, so every attribute of the resource
//! is in it — with `sandbox_check` filled in.

use async_trait::async_trait;

use crate::aws::eks::Nodegroup;
use crate::aws::{AwsClients, AwsError};
use crate::capability::{CapabilityData, SANDBOXES};
use crate::framework::{
    Attr, Attribute, Diagnostic, Diagnostics, ListRequest, ListResource, ListResult, ListSink,
    Model, Schema, Value,
};
use crate::resources::nodegroup::import::{Imported, imported_state};
use crate::resources::nodegroup::model::{IdentityModel, NodegroupModel};
use crate::resources::nodegroup::online::{aws_diag, cluster_missing, online, runtime};
use crate::resources::nodegroup::read::identity;
use crate::resources::nodegroup::sandbox_check::{Verdict, check};

crate::model! {
    /// The `config` block of a `list "nested_nodegroup"` block.
    pub struct ListConfigModel {
        cluster_name: Attr<String>,
        sandbox: Attr<String>,
    }
}

pub struct NodegroupListResource;

fn schema() -> Schema {
    Schema::new(
        "The node groups of an EKS cluster, for `terraform query`: each with its identity, a \
         display name saying whether it can run the sandbox, and (with `include_resource`) its \
         state as `nested_nodegroup`, `sandbox_check` included. `-generate-config-out` writes \
         an `import` and a `resource` block for each.",
    )
    .attribute(
        Attribute::string("cluster_name")
            .required()
            .validate(crate::validate::declared::EKS_CLUSTER_NAME)
            .description("Name of the EKS cluster whose node groups are listed."),
    )
    .attribute(
        Attribute::string("sandbox")
            .optional()
            .one_of(SANDBOXES)
            .description(
                "The sandbox to check each node group for (`sandbox_check`, the display name). \
                 Defaults to each node group's own (node groups nested_nodegroup created); give \
                 it to generate configuration for node groups it did not create (it becomes \
                 their `sandbox`).",
            ),
    )
}

#[async_trait]
impl ListResource for NodegroupListResource {
    fn type_name(&self) -> &'static str {
        "nested_nodegroup"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn list(&self, req: ListRequest, sink: &mut ListSink) {
        if let Err(d) = list(&req, sink).await {
            sink.diagnostics(d.into()).await;
        }
    }
}

fn at_cluster(d: Diagnostic) -> Diagnostic {
    d.at(ListConfigModel::cluster_name())
}

async fn list(req: &ListRequest, sink: &mut ListSink) -> Result<(), Diagnostic> {
    let config = ListConfigModel::from_value(&req.config).map_err(|d| {
        d.0.into_iter()
            .next()
            .unwrap_or_else(|| Diagnostic::error("Invalid configuration", "It does not fit."))
    })?;
    let cluster = config
        .cluster_name
        .as_deref()
        .unwrap_or_default()
        .to_string();
    let sandbox = config.sandbox.as_deref();
    if runtime(&req.provider).is_some_and(|rt| rt.config.offline) {
        return Err(Diagnostic::error(
            "The provider is offline",
            "provider \"nested\" has offline = true, and the node groups of a cluster are \
             listed through AWS. Set offline = false (and AWS credentials) to list them.",
        ));
    }
    let (rt, aws) = online(&req.provider, "list").await?;
    let data = CapabilityData::embedded().map_err(|e| crate::outputs::invalid_data(&e))?;
    let mut token = None;
    loop {
        if req.stop.is_stopped() {
            return Err(Diagnostic::error(
                "Listing stopped",
                format!(
                    "Terraform asked the provider to stop while listing the node groups of EKS Cluster ({cluster})."
                ),
            ));
        }
        let (names, next) = match aws.list_nodegroups_page(&cluster, token).await {
            Ok(page) => page,
            Err(e) if e.is_not_found() => {
                return Err(cluster_missing(
                    &aws,
                    &cluster,
                    "Cannot list the cluster's node groups",
                    "it has no node groups to list",
                )
                .await);
            }
            Err(e) => {
                return Err(at_cluster(aws_diag(
                    "Cannot list the cluster's node groups",
                    &e,
                )));
            }
        };
        for name in names {
            let ng = match aws.find_nodegroup(&cluster, &name).await {
                Ok(ng) => ng,
                // Deleted since the page was read.
                Err(AwsError::NotFound { .. }) => continue,
                Err(e) => {
                    return Err(at_cluster(aws_diag(
                        &format!("Cannot read node group {name}"),
                        &e,
                    )));
                }
            };
            let found = Found {
                aws: &aws,
                data,
                cluster: &cluster,
                name: &name,
                ng: &ng,
            };
            let result = found.result(&rt, sandbox, req.include_resource).await;
            if !sink.result(result).await {
                return Ok(());
            }
        }
        match next {
            Some(t) => token = Some(t),
            None => return Ok(()),
        }
    }
}

/// One node group the listing found.
struct Found<'a> {
    aws: &'a AwsClients,
    data: &'a CapabilityData,
    cluster: &'a str,
    name: &'a str,
    ng: &'a Nodegroup,
}

impl Found<'_> {
    async fn result(
        &self,
        rt: &crate::config::ProviderRuntime,
        sandbox: Option<&str>,
        include_resource: bool,
    ) -> ListResult {
        let (cluster, name) = (self.cluster, self.name);
        let nested = self
            .ng
            .tags
            .contains_key(crate::resources::nodegroup::TAG_SANDBOX);
        let origin = if nested {
            ""
        } else {
            " (not created by nested_nodegroup)"
        };
        match imported_state(self.aws, rt, cluster, name, self.ng, sandbox).await {
            Ok(Imported { mut model, .. }) => {
                let wanted = sandbox
                    .map(String::from)
                    .or_else(|| model.sandbox.known().cloned());
                let verdict = wanted.map(|s| check(self.data, &model, &s));
                model.sandbox_check = verdict
                    .as_ref()
                    .map_or(Attr::Null, |v| Attr::Known(v.to_model()));
                let identity = identity(self.aws, &model)
                    .await
                    .or_else(|| Some(self.identity_from_arn()));
                ListResult {
                    identity,
                    display_name: display_name(name, origin, verdict.as_ref()),
                    state: include_resource.then(|| model.to_value()),
                    diagnostics: Diagnostics::new(),
                }
            }
            // Not one this provider can manage: listed with why, or (when
            // Terraform wants states, to generate configuration) left out
            // with a warning — a result without a state would give a
            // `resource` block that cannot be imported.
            Err(why) => {
                let verdict = sandbox.map(|s| check(self.data, &self.bare_model(), s));
                let display_name = display_name(name, origin, verdict.as_ref());
                let warning = Diagnostic::warning(
                    format!("{}: {name}", why.summary),
                    format!("{display_name}. {}", why.detail),
                );
                ListResult {
                    identity: (!include_resource).then(|| self.identity_from_arn()),
                    display_name,
                    state: None,
                    diagnostics: warning.into(),
                }
            }
        }
    }

    /// What AWS tells without an import: enough for the sandbox check.
    fn bare_model(&self) -> NodegroupModel {
        let mut m = NodegroupModel::defaults().unwrap_or_default();
        let known = crate::family::from_ami_type(self.data, &self.ng.ami_type);
        if let Some(t) = known {
            m.ami_family = Attr::Known(t.family.to_string());
            m.architecture = Attr::Known(t.architecture.to_string());
            m.ami_variant = Attr::Known(t.variant.to_string());
        }
        m.ami_type = Attr::Known(self.ng.ami_type.clone());
        m.release_version = Attr::Known(self.ng.release_version.clone());
        m.kubernetes_version = Attr::Known(self.ng.version.clone());
        m
    }

    /// The identity without a call: the account from the node group's ARN.
    fn identity_from_arn(&self) -> Value {
        IdentityModel {
            account_id: AwsClients::account_from_arn(&self.ng.arn)
                .map(String::from)
                .into(),
            region: Attr::Known(self.aws.region.clone()),
            cluster_name: Attr::Known(self.cluster.to_string()),
            name: Attr::Known(self.name.to_string()),
        }
        .to_value()
    }
}

/// `agents: Bottlerocket 1.33: nsjail can run`, or without a sandbox to
/// check, the name alone.
fn display_name(name: &str, origin: &str, verdict: Option<&Verdict>) -> String {
    match verdict {
        Some(v) => format!("{name}{origin} — {}", v.summary),
        None => format!("{name}{origin} — give `sandbox` to check it"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::model::attribute_names;

    #[test]
    fn the_config_model_has_the_schemas_attributes() {
        assert_eq!(
            attribute_names(&schema().block.attributes),
            ListConfigModel::ATTRIBUTES
        );
    }

    #[test]
    fn display_names_say_what_was_checked() {
        let v = Verdict {
            sandbox: "nsjail".into(),
            can_run: false,
            reasons: vec![],
            summary: "Bottlerocket 1.32, max_user_namespaces 0: nsjail cannot run".into(),
        };
        assert_eq!(
            display_name("agents", "", Some(&v)),
            "agents — Bottlerocket 1.32, max_user_namespaces 0: nsjail cannot run"
        );
        assert_eq!(
            display_name("legacy", " (not created by nested_nodegroup)", None),
            "legacy (not created by nested_nodegroup) — give `sandbox` to check it"
        );
    }
}
