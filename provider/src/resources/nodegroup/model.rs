//! The `nested_nodegroup` model: one field per schema attribute, and the
//! conversions between the model and the AWS edge's types.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::aws::eks::{Scaling, Taint};
use crate::capability::{AmiFamily, Architecture, ImageVariant};
use crate::framework::model::{Attr, KnownElements, List, Map, Model, Set, list_of, map_of};
use crate::framework::{Diagnostics, Value};

use super::schema;

crate::model! {
    /// Node counts.
    pub struct ScalingModel {
        min_size: Attr<i64>,
        max_size: Attr<i64>,
        desired_size: Attr<i64>,
    }
}

crate::model! {
    /// One Kubernetes taint.
    pub struct TaintModel {
        key: Attr<String>,
        value: Attr<String>,
        effect: Attr<String>,
    }
}

crate::model! {
    /// How many nodes a rollout may take down at once.
    pub struct UpdateConfigModel {
        max_unavailable: Attr<i64>,
        max_unavailable_percentage: Attr<i64>,
    }
}

crate::model! {
    /// The nodes' instance metadata service.
    pub struct MetadataOptionsModel {
        http_endpoint: Attr<String>,
        http_tokens: Attr<String>,
        http_put_response_hop_limit: Attr<i64>,
        instance_metadata_tags: Attr<String>,
    }
}

crate::model! {
    /// The container volume in the launch template.
    pub struct BlockDeviceModel {
        device_name: Attr<String>,
        volume_size: Attr<i64>,
        volume_type: Attr<String>,
        iops: Attr<i64>,
        throughput: Attr<i64>,
        encrypted: Attr<bool>,
        kms_key_id: Attr<String>,
    }
}

crate::model! {
    /// Tags for what EC2 launches from the template.
    pub struct TagSpecificationsModel {
        instance: Attr<Map<String>>,
        volume: Attr<Map<String>>,
        network_interface: Attr<Map<String>>,
    }
}

crate::model! {
    /// EKS node auto repair.
    pub struct NodeRepairModel {
        enabled: Attr<bool>,
    }
}

crate::model! {
    /// How long each operation may wait.
    pub struct TimeoutsModel {
        create: Attr<String>,
        update: Attr<String>,
        delete: Attr<String>,
    }
}

crate::model! {
    /// Whether the node group can run a sandbox (list results).
    pub struct SandboxCheckModel {
        sandbox: Attr<String>,
        can_run: Attr<bool>,
        reasons: Attr<List<String>>,
    }
}

crate::model! {
    /// A `nested_nodegroup` configuration, plan or state.
    pub struct NodegroupModel {
        id: Attr<String>,
        cluster_name: Attr<String>,
        name: Attr<String>,
        node_role_arn: Attr<String>,
        subnet_ids: Attr<Set<String>>,
        sandbox: Attr<String>,
        ami_family: Attr<String>,
        ami_variant: Attr<String>,
        kubernetes_version: Attr<String>,
        architecture: Attr<String>,
        instance_types: Attr<List<String>>,
        capacity_type: Attr<String>,
        scaling: Attr<ScalingModel>,
        update_config: Attr<UpdateConfigModel>,
        node_repair_config: Attr<NodeRepairModel>,
        manage_desired_size: Attr<bool>,
        labels: Attr<Map<String>>,
        taints: Attr<List<TaintModel>>,
        run_as_root: Attr<bool>,
        ids_per_pod: Attr<i64>,
        max_user_namespaces: Attr<i64>,
        bootstrap_extra_settings: Attr<String>,
        metadata_options: Attr<MetadataOptionsModel>,
        block_device: Attr<BlockDeviceModel>,
        tag_specifications: Attr<TagSpecificationsModel>,
        security_group_ids: Attr<Set<String>>,
        tags: Attr<Map<String>>,
        tags_all: Attr<Map<String>>,
        timeouts: Attr<TimeoutsModel>,
        arn: Attr<String>,
        status: Attr<String>,
        ami_type: Attr<String>,
        release_version: Attr<String>,
        force_update_version: Attr<bool>,
        kernel_version: Attr<String>,
        launch_template_id: Attr<String>,
        launch_template_version: Attr<i64>,
        user_data: Attr<String>,
        probe_image: Attr<String>,
        probe_namespace: Attr<String>,
        probe_manifest: Attr<String>,
        sandbox_check: Attr<SandboxCheckModel>,
    }
    embeds {
        decision: crate::outputs::DecisionOutputs,
    }
}

crate::model! {
    /// The resource identity.
    pub struct IdentityModel {
        account_id: Attr<String>,
        region: Attr<String>,
        cluster_name: Attr<String>,
        name: Attr<String>,
    }
}

/// The ID Terraform shows: `cluster_name:name`.
pub fn nodegroup_id(cluster: &str, name: &str) -> String {
    format!("{cluster}:{name}")
}

impl NodegroupModel {
    /// A planned or stored state, with the schema's defaults where it has
    /// nulls (so no default is repeated in code).
    pub fn from_state(v: &Value) -> Result<Self, Diagnostics> {
        let mut v = v.clone();
        crate::framework::schema::apply_defaults(&schema::schema().block.attributes, &mut v);
        Self::from_value(&v)
    }

    /// A state of the schema's defaults and nulls (import).
    pub fn defaults() -> Result<Self, Diagnostics> {
        Self::from_state(&Value::Object(BTreeMap::new()))
    }

    pub fn cluster(&self) -> &str {
        self.cluster_name.as_deref().unwrap_or_default()
    }

    pub fn nodegroup_name(&self) -> &str {
        self.name.as_deref().unwrap_or_default()
    }

    /// `cluster_name:name`.
    pub fn nodegroup_id(&self) -> String {
        nodegroup_id(self.cluster(), self.nodegroup_name())
    }

    pub fn family(&self) -> Option<AmiFamily> {
        self.ami_family.as_deref().and_then(AmiFamily::parse)
    }

    pub fn variant(&self) -> ImageVariant {
        self.ami_variant
            .as_deref()
            .and_then(ImageVariant::parse)
            .unwrap_or_default()
    }

    pub fn arch(&self) -> Architecture {
        self.architecture
            .as_deref()
            .and_then(Architecture::parse)
            .unwrap_or_default()
    }

    /// The sizes when none is unknown and min and max are set; an unset
    /// desired size starts at the minimum.
    pub fn scaling_sizes(&self) -> Option<Scaling> {
        let sc = self.scaling.known()?;
        let get = |a: &Attr<i64>| a.known().and_then(|i| i32::try_from(*i).ok());
        let min_size = get(&sc.min_size)?;
        if sc.desired_size.is_unknown() {
            return None;
        }
        Some(Scaling {
            min_size,
            max_size: get(&sc.max_size)?,
            desired_size: get(&sc.desired_size).unwrap_or(min_size),
        })
    }

    /// The known taints, sorted (their order carries no meaning to EKS).
    pub fn taint_list(&self) -> Vec<Taint> {
        let mut out: Vec<Taint> = self
            .taints
            .known()
            .map(|ts| {
                ts.iter()
                    .filter_map(Attr::known)
                    .map(|t| Taint {
                        key: t.key.as_deref().unwrap_or_default().to_string(),
                        value: t.value.as_deref().unwrap_or_default().to_string(),
                        effect: t.effect.as_deref().unwrap_or_default().to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }

    pub fn label_map(&self) -> BTreeMap<String, String> {
        known_map(&self.labels)
    }

    pub fn tag_map(&self) -> BTreeMap<String, String> {
        known_map(&self.tags)
    }

    pub fn subnet_list(&self) -> Vec<String> {
        self.subnet_ids
            .known()
            .map(|s| s.0.iter().filter_map(|a| a.known().cloned()).collect())
            .unwrap_or_default()
    }

    pub fn instance_type_list(&self) -> Vec<String> {
        known_list(&self.instance_types)
    }

    /// How long `op` may wait: the configured timeout (validated at plan),
    /// else the default.
    pub fn timeout(&self, op: &str) -> Duration {
        let configured = self.timeouts.known().and_then(|t| match op {
            "create" => t.create.as_deref(),
            "update" => t.update.as_deref(),
            _ => t.delete.as_deref(),
        });
        configured
            .and_then(|t| crate::validate::duration::parse(t).ok())
            .or_else(|| crate::validate::duration::parse(schema::DEFAULT_TIMEOUT).ok())
            .unwrap_or(Duration::from_secs(3600))
    }

    /// Replace every value still unknown with null (a state holds none).
    pub fn fill_unknowns(&mut self) {
        let mut v = self.to_value();
        if let Value::Object(m) = &mut v {
            for x in m.values_mut() {
                if !x.is_wholly_known() {
                    *x = Value::Null;
                }
            }
        }
        if let Ok(m) = Self::from_value(&v) {
            *self = m;
        }
    }
}

fn known_map(m: &Attr<Map<String>>) -> BTreeMap<String, String> {
    m.known()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.known().map(|v| (k.clone(), v.clone())))
                .collect()
        })
        .unwrap_or_default()
}

fn known_list(l: &Attr<List<String>>) -> Vec<String> {
    l.known()
        .and_then(KnownElements::known_elements)
        .unwrap_or_default()
}

pub fn scaling_model(s: Scaling) -> ScalingModel {
    ScalingModel {
        min_size: Attr::Known(i64::from(s.min_size)),
        max_size: Attr::Known(i64::from(s.max_size)),
        desired_size: Attr::Known(i64::from(s.desired_size)),
    }
}

pub fn taint_models(taints: &[Taint]) -> List<TaintModel> {
    list_of(taints.iter().map(|t| TaintModel {
        key: Attr::Known(t.key.clone()),
        value: (!t.value.is_empty()).then(|| t.value.clone()).into(),
        effect: Attr::Known(t.effect.clone()),
    }))
}

pub fn string_map(m: &BTreeMap<String, String>) -> Map<String> {
    map_of(m.iter().map(|(k, v)| (k.clone(), v.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::model::attribute_names;
    use crate::framework::schema::AttributeKind;

    fn nested<'a>(name: &str, attrs: &'a [crate::framework::Attribute]) -> Vec<&'a str> {
        match &attrs.iter().find(|a| a.name == name).unwrap().kind {
            AttributeKind::Nested { attributes, .. } => attribute_names(attributes),
            AttributeKind::Type(_) => panic!("{name} is not nested"),
        }
    }

    #[test]
    fn models_have_exactly_the_schemas_attributes() {
        let s = schema::schema();
        let attrs = &s.block.attributes;
        let mut want = attribute_names(attrs);
        let mut have = NodegroupModel::attribute_names();
        want.sort();
        have.sort();
        assert_eq!(have, want);
        assert_eq!(nested("scaling", attrs), ScalingModel::ATTRIBUTES);
        assert_eq!(nested("taints", attrs), TaintModel::ATTRIBUTES);
        assert_eq!(
            nested("update_config", attrs),
            UpdateConfigModel::ATTRIBUTES
        );
        assert_eq!(
            nested("node_repair_config", attrs),
            NodeRepairModel::ATTRIBUTES
        );
        assert_eq!(nested("timeouts", attrs), TimeoutsModel::ATTRIBUTES);
        assert_eq!(
            nested("metadata_options", attrs),
            MetadataOptionsModel::ATTRIBUTES
        );
        assert_eq!(nested("block_device", attrs), BlockDeviceModel::ATTRIBUTES);
        assert_eq!(
            nested("tag_specifications", attrs),
            TagSpecificationsModel::ATTRIBUTES
        );
        assert_eq!(
            nested("sandbox_check", attrs),
            SandboxCheckModel::ATTRIBUTES
        );
        let id = schema::identity_schema();
        assert_eq!(
            attribute_names(&id.block.attributes),
            IdentityModel::ATTRIBUTES
        );
    }

    #[test]
    fn defaults_come_from_the_schema() {
        let m = NodegroupModel::defaults().unwrap();
        assert_eq!(m.architecture.as_deref(), Some("x86_64"));
        assert_eq!(m.capacity_type.as_deref(), Some("ON_DEMAND"));
        assert_eq!(m.max_user_namespaces, Attr::Known(65536));
        assert_eq!(m.manage_desired_size, Attr::Known(true));
        assert_eq!(m.run_as_root, Attr::Known(false));
        assert_eq!(
            m.scaling_sizes(),
            Some(Scaling {
                min_size: 1,
                max_size: 1,
                desired_size: 1
            })
        );
        assert!(m.cluster_name.is_null());
    }
}
