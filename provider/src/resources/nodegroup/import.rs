//! Import by ID (`cluster_name:name`) or identity. A node group that
//! `nested_nodegroup` created (it carries its tags) is taken over from the
//! resource instance that created it: the first apply here tags it as this
//! instance's, and the old owner's next refresh lets go of it. One it did
//! not create is adopted where that is safe ([`super::adopt`]), else
//! refused with the way to migrate it. A launch template deleted outside
//! Terraform never stops an import: the first apply makes it again.

use super::TAG_SANDBOX;
use super::ids::{check_identity_names, parse_import_id};
use super::instance;
use super::model::{IdentityModel, NodegroupModel};
use super::online::{aws_diag, online};
use super::read::{TemplateCheck, fold, identity};
use crate::aws::AwsClients;
use crate::aws::eks::Nodegroup;
use crate::capability::{AmiFamily, CapabilityData};
use crate::config::ProviderRuntime;
use crate::framework::{
    Attr, Diagnostic, Diagnostics, ImportRequest, ImportResponse, ImportedResource, Model, Severity,
};

/// The node group an import names.
fn target(req: &ImportRequest) -> Result<(String, String, Option<IdentityModel>), Diagnostic> {
    let identity = match &req.identity {
        Some(v) => Some(IdentityModel::from_value(v).map_err(|d| {
            d.0.into_iter().next().unwrap_or_else(|| {
                Diagnostic::error("Invalid identity", "The identity does not fit its schema.")
            })
        })?),
        None => None,
    };
    if !req.id.is_empty() {
        let (c, n) = parse_import_id(&req.id)?;
        return Ok((c, n, identity));
    }
    match identity {
        Some(i) => {
            let (c, n) = (
                i.cluster_name.as_deref().unwrap_or_default().to_string(),
                i.name.as_deref().unwrap_or_default().to_string(),
            );
            check_identity_names(&c, &n)?;
            Ok((c, n, Some(i)))
        }
        None => Err(Diagnostic::error(
            "Nothing to import",
            "Give an ID `cluster_name:name` or an identity.",
        )),
    }
}

pub(super) async fn import(req: ImportRequest) -> ImportResponse {
    match import_one(&req).await {
        Ok(resp) => resp,
        Err(d) => ImportResponse {
            diagnostics: d.into(),
            ..Default::default()
        },
    }
}

async fn import_one(req: &ImportRequest) -> Result<ImportResponse, Diagnostic> {
    let (cluster, name, wanted) = target(req)?;
    let (rt, aws) = online(&req.provider, "import").await?;
    // An identity naming another region than the provider's would import a
    // same-named node group from the wrong place.
    if let Some(region) = wanted.as_ref().and_then(|i| i.region.known())
        && *region != aws.region
    {
        return Err(Diagnostic::error(
            "Identity is for another region",
            format!(
                "The identity names region {region:?}, but this provider works in {:?}. \
                 Import with a provider configured for {region:?} (an aliased provider \
                 block and `provider` in the import block).",
                aws.region
            ),
        ));
    }
    let ng = aws
        .find_nodegroup(&cluster, &name)
        .await
        .map_err(|e| aws_diag(&format!("importing EKS Node Group ({cluster}:{name})"), &e))?;
    if let Some(wanted) = wanted.as_ref().and_then(|i| i.account_id.known())
        && let Some(found) = AwsClients::account_from_arn(&ng.arn)
        && wanted != found
    {
        return Err(Diagnostic::error(
            "Identity is for another account",
            format!(
                "The identity names account {wanted}, but the credentials reach account \
                 {found}. Import with credentials for account {wanted}."
            ),
        ));
    }
    let Imported {
        model: m,
        private,
        mut diagnostics,
    } = imported_state(&aws, &rt, &cluster, &name, &ng, None).await?;
    let identity = identity(&aws, &m).await;
    diagnostics.0.retain(|d| {
        d.severity == Severity::Error
            || [ADOPTING, TAKING_OVER, TEMPLATE_MISSING].contains(&d.summary.as_str())
    });
    Ok(ImportResponse {
        imported: vec![ImportedResource {
            state: m.to_value(),
            private,
            identity,
        }],
        diagnostics,
    })
}

/// The state an import makes of a node group, its private state, and what
/// was found on the way.
pub struct Imported {
    pub model: NodegroupModel,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

/// An adopted node group keeps what its launch template's user data holds:
/// the document becomes `bootstrap_extra_settings` (the provider merges its
/// settings into it on the first apply, refusing a contradiction at plan),
/// and a `user.max_user_namespaces` it sets becomes that attribute.
fn keep_their_settings(m: &mut NodegroupModel) {
    let Some(held) = m
        .user_data
        .known()
        .filter(|u| !u.trim().is_empty())
        .cloned()
    else {
        return;
    };
    let key = "user.max_user_namespaces";
    if let Some(n) = super::sandbox_check::sysctl_in(m.family(), &held, key)
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|n| *n > 0)
    {
        m.max_user_namespaces = Attr::Known(n);
    }
    m.bootstrap_extra_settings = Attr::Known(held);
}

/// The summary of the warning an adoption carries.
pub const ADOPTING: &str = "Adopting a node group nested_nodegroup did not create";
/// The summary of the warning an import of another instance's node group
/// carries.
pub const TAKING_OVER: &str = "Importing a node group another resource instance created";
/// The summary of the warning an import of a node group whose launch
/// template is gone carries.
pub const TEMPLATE_MISSING: &str = "Launch template missing";

/// The warning of an import that takes the node group over from resource
/// instance `owner`, which created it.
fn taking_over(cluster: &str, name: &str, owner: &str) -> Diagnostic {
    Diagnostic::warning(
        TAKING_OVER,
        format!(
            "EKS Node Group {cluster}/{name} was created by another nested_nodegroup (resource instance {}…, tag `nested.dev/instance`), in another state or working directory. One node group has one owner: the first apply here takes it and its launch template over (the plan shows that tag leaving `tags_all`), and from then on the other state's refresh reports that it lost them and neither changes nor destroys them. Until that apply, this state does not own it: a destroy here leaves it alone. If the other state still manages it, release it there first without destroying it, with a `removed {{ from = <its address> lifecycle {{ destroy = false }} }}` block applied in that configuration; then apply here.",
            owner.get(..12).unwrap_or(owner)
        ),
    )
}

/// The state of node group `ng` as an import makes it: what AWS reports,
/// the schema's defaults for what it cannot tell, and the outputs the
/// engine derives. A node group `nested_nodegroup` created keeps its
/// sandbox and instance (tags); one it did not create is adopted where it
/// can be ([`adoption`]), with `sandbox` (unknown to AWS) from `sandbox`.
pub async fn imported_state(
    aws: &AwsClients,
    rt: &ProviderRuntime,
    cluster: &str,
    name: &str,
    ng: &Nodegroup,
    sandbox: Option<&str>,
) -> Result<Imported, Diagnostic> {
    let known = CapabilityData::embedded()
        .ok()
        .and_then(|data| crate::family::from_ami_type(data, &ng.ami_type));
    let Some(crate::family::AmiTypeOf {
        family,
        variant,
        architecture: arch,
    }) = known
    else {
        return Err(Diagnostic::error(
            "Unknown AMI type",
            format!(
                "EKS Node Group ({cluster}:{name}) has amiType {:?}, which is not one nested_nodegroup creates (families: {}).",
                ng.ami_type,
                AmiFamily::NAMES.join(", ")
            ),
        ));
    };
    let mut diags = Diagnostics::new();
    let nested = ng.tags.contains_key(TAG_SANDBOX);
    let (sandbox, private) = match ng.tags.get(TAG_SANDBOX) {
        // Created by another resource instance: this one takes it over at
        // its first apply (a new instance of its own, never the creator's:
        // two states sharing one instance would both own the node group).
        Some(own) => (
            Attr::Known(own.clone()),
            // A tag that is no instance nonce names no resource instance
            // (someone wrote it by hand): there is no owner to take it from.
            match ng
                .tags
                .get(instance::TAG_INSTANCE)
                .filter(|o| instance::is_instance(o))
            {
                Some(owner) => {
                    diags.push(taking_over(cluster, name, owner));
                    instance::Private::taking_over(owner.clone())
                }
                None => instance::Private::default(),
            },
        ),
        None => {
            diags.push(super::adopt::adoption(cluster, name, ng)?);
            (
                sandbox.map_or(Attr::Null, |s| Attr::Known(s.to_string())),
                instance::Private::adopted(),
            )
        }
    };
    // The schema's defaults for what AWS cannot tell (run_as_root,
    // max_user_namespaces, manage_desired_size, …).
    let mut m = NodegroupModel::defaults().map_err(|d| {
        d.0.into_iter().next().unwrap_or_else(|| {
            Diagnostic::error(
                "Cannot import",
                "The schema's defaults do not fit its model; this is a bug.",
            )
        })
    })?;
    m.cluster_name = Attr::Known(cluster.to_string());
    m.name = Attr::Known(name.to_string());
    m.sandbox = sandbox;
    m.ami_family = Attr::Known(family.to_string());
    m.architecture = Attr::Known(arch.to_string());
    m.ami_variant = Attr::Known(variant.to_string());
    // Scaling is what AWS reports, not the default.
    m.scaling = Attr::Null;
    let mut m = fold(aws, rt, m, ng, TemplateCheck::Verify(None))
        .await
        .map_err(|e| aws_diag("reading the imported node group", &e))?;
    if m.template_missing() {
        diags.push(Diagnostic::warning(
            TEMPLATE_MISSING,
            format!(
                "EKS Node Group {cluster}/{name} uses launch template {}, which no longer exists (deleted outside Terraform). The import keeps the node group; the first apply makes the template again under its name and rolls the nodes to it.",
                m.launch_template_id.as_deref().unwrap_or("?")
            ),
        ));
    }
    if !nested {
        keep_their_settings(&mut m);
    }
    // Outputs the engine derives follow from the imported inputs; the user
    // data stays what the launch template holds.
    let imported_user_data = m.user_data.clone();
    let version = m
        .kubernetes_version
        .as_deref()
        .unwrap_or_default()
        .to_string();
    if !m.sandbox.is_null()
        && let Some(d) = super::derive::derive(
            &m,
            &version,
            super::derive::ReleaseWarnings::Quiet,
            &mut diags,
        )
    {
        m.set_derived(&d);
        // A node group it created: the user's own settings, where they merge
        // back to the template's document (the plan after the import then
        // changes nothing).
        m.user_data = imported_user_data.clone();
        if nested && let Some(extra) = super::recover::bootstrap_extra_settings(&m, &version) {
            m.bootstrap_extra_settings = Attr::Known(extra);
            let mut scratch = Diagnostics::new();
            if let Some(d) = super::derive::derive(
                &m,
                &version,
                super::derive::ReleaseWarnings::Quiet,
                &mut scratch,
            ) {
                m.set_derived(&d);
            }
        }
    }
    m.user_data = imported_user_data;
    m.fill_unknowns();
    Ok(Imported {
        model: m,
        private: private.encode(),
        diagnostics: diags,
    })
}
