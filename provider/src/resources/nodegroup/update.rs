//! Update in place: a new launch template version and/or Kubernetes
//! version, then labels, taints and scaling, then tags.

use super::instance::call_token;
use super::*;

pub(super) async fn update(
    rt: &ProviderRuntime,
    aws: &AwsClients,
    req: &ApplyRequest,
) -> ApplyResponse {
    let mut diags = Diagnostics::new();
    let prior = &req.prior_state;
    let mut state = req.planned_state.clone();
    let cluster = s(&state, "cluster_name").unwrap_or_default();
    let name = s(&state, "name").unwrap_or_default();
    let id = format!("{cluster}:{name}");
    let mut stop = req.stop.clone();
    let limit = timeout(&state, "update");
    let fail = |mut diags: Diagnostics, e: &AwsError, what: &str, prior: &Value| {
        diags.push(aws_diag(&format!("{what} EKS Node Group ({id})"), e));
        ApplyResponse {
            new_state: prior.clone(),
            diagnostics: diags,
            ..Default::default()
        }
    };

    // Version phase: new launch template version and/or Kubernetes version.
    let version = s(&state, "kubernetes_version").unwrap_or_default();
    let version_changes = s(prior, "kubernetes_version").as_deref() != Some(version.as_str());
    let template_changes = prior.attr("user_data") != state.attr("user_data");
    if version_changes || template_changes {
        let lt_id = s(prior, "launch_template_id").unwrap_or_default();
        let mut lt_version = int(prior, "launch_template_version").unwrap_or(1);
        if template_changes {
            let content = TemplateContent {
                user_data: s(&state, "user_data"),
            };
            let t = call_token(&[&id, &lt_id, "template-version"]);
            match aws
                .create_launch_template_version(&lt_id, &t, &content)
                .await
            {
                Ok(v) => lt_version = v,
                Err(e) => return fail(diags, &e, "creating a launch template version for", prior),
            }
        }
        let release = if version_changes {
            let family = s(&state, "ami_family").unwrap_or_default();
            let arch = s(&state, "architecture").unwrap_or_else(|| "x86_64".into());
            match release_version(aws, &family, &version, &arch).await {
                Ok(r) => r,
                Err(e) => return fail(diags, &e, "resolving the node image release for", prior),
            }
        } else {
            None
        };
        let t = call_token(&[&id, "version", &version, &lt_version.to_string()]);
        let update_id = match aws
            .update_nodegroup_version(
                &cluster,
                &name,
                (&lt_id, lt_version),
                version_changes.then_some(version.as_str()),
                release.as_deref(),
                &t,
            )
            .await
        {
            Ok(u) => u,
            Err(e) => return fail(diags, &e, "updating the version of", prior),
        };
        if let Err(e) = aws
            .wait_update_successful(&cluster, &name, &update_id, limit, &mut stop)
            .await
        {
            diags.push(aws_diag(
                &format!("waiting for EKS Node Group ({id}) version update"),
                &e,
            ));
        }
        state.set_attr("launch_template_version", Value::int(lt_version));
    }

    // Config phase: labels, taints, scaling.
    let (add_labels, remove_labels) =
        map_changes(&string_map(prior, "labels"), &string_map(&state, "labels"));
    let to_api = |t: &Taint| Taint {
        effect: crate::aws::eks::effect_to_api(&t.effect),
        ..t.clone()
    };
    let (old_taints, new_taints) = (taints_of(prior), taints_of(&state));
    let add_taints: Vec<Taint> = new_taints
        .iter()
        .filter(|t| !old_taints.contains(t))
        .map(to_api)
        .collect();
    let remove_taints: Vec<Taint> = old_taints
        .iter()
        .filter(|t| {
            !new_taints
                .iter()
                .any(|n| n.key == t.key && n.effect == t.effect)
        })
        .map(to_api)
        .collect();
    let scaling = scaling_of(&state).filter(|sc| Some(*sc) != scaling_of(prior));
    if !diags.has_errors()
        && (!add_labels.is_empty()
            || !remove_labels.is_empty()
            || !add_taints.is_empty()
            || !remove_taints.is_empty()
            || scaling.is_some())
    {
        let t = call_token(&[&id, "config"]);
        match aws
            .update_nodegroup_config(
                &cluster,
                &name,
                &add_labels,
                &remove_labels,
                &add_taints,
                &remove_taints,
                scaling,
                &t,
            )
            .await
        {
            Ok(update_id) => {
                if let Err(e) = aws
                    .wait_update_successful(&cluster, &name, &update_id, limit, &mut stop)
                    .await
                {
                    diags.push(aws_diag(
                        &format!("waiting for EKS Node Group ({id}) config update"),
                        &e,
                    ));
                }
            }
            Err(e) => diags.push(aws_diag(
                &format!("updating the configuration of EKS Node Group ({id})"),
                &e,
            )),
        }
    }

    // Tags.
    let arn = s(prior, "arn").unwrap_or_default();
    let (set, unset) = map_changes(&all_tags(rt, prior), &all_tags(rt, &state));
    if let Err(e) = aws.tag_resource(&arn, &set).await {
        diags.push(aws_diag("tagging the node group", &e));
    }
    if let Err(e) = aws.untag_resource(&arn, &unset).await {
        diags.push(aws_diag("untagging the node group", &e));
    }
    finish_apply(rt, aws, state, diags, None).await
}
