//! The decision's outputs as typed models, each with its one schema
//! fragment: [`DecisionOutputs`], what every schema that shows a decision
//! has (the pod's settings, the image's needs, the Pod Security level, the
//! warnings), and [`DecisionDetails`], what the data sources show beyond
//! it (the node image, node settings, the pod settings as objects, the
//! devices and the reasons). Built once from the engine's [`Decision`] and
//! embedded whole by `nested_capability`, `nested_karpenter_pool` and
//! `nested_nodegroup` (`crate::model!`'s `embeds`); a consumer that shows
//! something else sets its own typed field, never a raw value.

use std::collections::BTreeMap;

use crate::capability::Decision;
use crate::capability::data::Evidence;
use crate::framework::model::{list_of, map_of};
use crate::framework::{Attr, Attribute, List, Map, Type, Value};

crate::model! {
    /// The attributes every schema that shows a decision has.
    pub struct DecisionOutputs {
        kernel_floor: Attr<String>,
        pod_spec: Attr<String>,
        pod_security_context: Attr<String>,
        container_security_context: Attr<String>,
        runtime_args: Attr<List<String>>,
        warnings: Attr<List<String>>,
        image_needs: Attr<List<String>>,
        pod_security_level: Attr<String>,
    }
}

crate::model! {
    /// What the data sources show beyond [`DecisionOutputs`].
    pub struct DecisionDetails {
        node_image: Attr<NodeImageModel>,
        sysctls: Attr<Map<String>>,
        kubelet_settings: Attr<Map<String>>,
        pod_spec_object: Attr<Value>,
        pod_security_context_object: Attr<Value>,
        container_security_context_object: Attr<Value>,
        devices: Attr<List<String>>,
        node_labels: Attr<Map<String>>,
        reasons: Attr<List<String>>,
    }
}

crate::model! {
    /// The node image a decision was judged on.
    pub struct NodeImageModel {
        family: Attr<String>,
        variant: Attr<String>,
        release: Attr<String>,
        releases: Attr<String>,
        kernel: Attr<String>,
        containerd: Attr<String>,
        landlock_enabled: Attr<bool>,
        seccomp_default: Attr<bool>,
        evidence: Attr<String>,
    }
}

fn strings(v: &[String]) -> Attr<List<String>> {
    Attr::Known(list_of(v.iter().cloned()))
}

fn string_map(m: &BTreeMap<String, String>) -> Attr<Map<String>> {
    Attr::Known(map_of(m.iter().map(|(k, v)| (k.clone(), v.clone()))))
}

impl DecisionOutputs {
    /// The outputs of a decision.
    pub fn of(d: &Decision) -> Self {
        Self {
            kernel_floor: d.kernel_floor.map(|v| v.to_string()).into(),
            pod_spec: Attr::Known(d.pod_spec.to_string()),
            pod_security_context: Attr::Known(d.pod_security_context.to_string()),
            container_security_context: Attr::Known(d.container_security_context.to_string()),
            runtime_args: strings(&d.runtime_args),
            warnings: strings(&d.warnings),
            image_needs: strings(&d.image_needs),
            pod_security_level: Attr::Known(d.pod_security_level.clone()),
        }
    }

    /// Every output unknown (a plan whose inputs are not yet known).
    pub fn unknown() -> Self {
        Self {
            kernel_floor: Attr::Unknown,
            pod_spec: Attr::Unknown,
            pod_security_context: Attr::Unknown,
            container_security_context: Attr::Unknown,
            runtime_args: Attr::Unknown,
            warnings: Attr::Unknown,
            image_needs: Attr::Unknown,
            pod_security_level: Attr::Unknown,
        }
    }

    /// The schema fragment: one description per attribute, whichever
    /// schema embeds it.
    pub fn schema_attributes() -> Vec<Attribute> {
        vec![
            Attribute::string("kernel_floor").computed().description(
                "Lowest Linux release on which the sandbox can work in a pod, e.g. `6.7`. Null \
                 when every supported node image is new enough.",
            ),
            Attribute::string("pod_spec").computed().description(
                "JSON for the pod spec fields the sandbox needs, e.g. `{\"hostUsers\":false}` \
                 (they belong in the pod spec itself, not in its `securityContext`).",
            ),
            Attribute::string("pod_security_context").computed().description(
                "JSON for the pod's `securityContext` fields the sandbox needs (`{}` when none).",
            ),
            Attribute::string("container_security_context").computed().description(
                "JSON for the container's `securityContext`: drops ALL capabilities and adds \
                 only what the sandbox needs; never privileged. On OpenShift's built-in \
                 `nested-container` SCC (podman, 4.20 and later) it names `runAsUser: 1000`, \
                 since that SCC would give a container without a uid uid 0, which \
                 `runAsNonRoot` refuses.",
            ),
            Attribute::string_list("runtime_args").computed().description(
                "Arguments the sandbox must be started with, e.g. `--no-user-namespace` on EKS \
                 Auto Mode.",
            ),
            Attribute::string_list("warnings")
                .computed()
                .description("Conditions that do not stop the sandbox but deserve attention."),
            Attribute::string_list("image_needs").computed().description(
                "What the container image must provide for the sandbox, e.g. `sudo` with a \
                 NOPASSWD rule for Coder's nsjail as a non-root agent.",
            ),
            Attribute::string("pod_security_level").computed().description(
                "The Pod Security Standards level the pod's namespace must allow: \
                 `restricted`, `baseline` or `privileged` (label \
                 `pod-security.kubernetes.io/enforce`). Adding `NET_ADMIN` or `SYS_ADMIN`, or \
                 `seccompProfile: Unconfined`, needs `privileged`.",
            ),
        ]
    }
}

impl DecisionDetails {
    /// The details of a decision.
    pub fn of(d: &Decision) -> Self {
        Self {
            node_image: d.image.as_ref().map(NodeImageModel::of).into(),
            sysctls: string_map(&d.sysctls),
            kubelet_settings: string_map(&d.kubelet_settings),
            pod_spec_object: Attr::Known(super::json_value(&d.pod_spec)),
            pod_security_context_object: Attr::Known(super::json_value(&d.pod_security_context)),
            container_security_context_object: Attr::Known(super::json_value(
                &d.container_security_context,
            )),
            devices: strings(&d.devices),
            node_labels: string_map(&d.node_labels),
            reasons: strings(&d.reasons),
        }
    }

    /// The schema fragment.
    pub fn schema_attributes() -> Vec<Attribute> {
        vec![
            NodeImageModel::schema_attribute(),
            Attribute::string_map("sysctls").computed().description(
                "Node sysctls the sandbox needs, e.g. `user.max_user_namespaces` (set by \
                 `user_data`; on EKS Auto Mode by the sysctl DaemonSet with the work-around).",
            ),
            Attribute::string_map("kubelet_settings").computed().description(
                "Kubelet configuration the sandbox needs, keyed by KubeletConfiguration path, \
                 e.g. `userNamespaces.idsPerPod`.",
            ),
            Attribute::of_type("pod_spec_object", Type::Dynamic).computed().description(
                "`pod_spec` as an object (Kubernetes camelCase keys), e.g. `{ hostUsers = false }`.",
            ),
            Attribute::of_type("pod_security_context_object", Type::Dynamic)
                .computed()
                .description("`pod_security_context` as an object."),
            Attribute::of_type("container_security_context_object", Type::Dynamic)
                .computed()
                .description(
                    "`container_security_context` as an object, e.g. `.capabilities.add` for \
                     `kubernetes_pod`'s `security_context { capabilities { add = … } }` or a \
                     Helm values file (`yamlencode`); see the guide \"Pod settings in \
                     kubernetes_pod and Helm\".",
                ),
            Attribute::string_list("devices").computed().description(
                "Character devices the sandbox uses in the container, e.g. `/dev/net/tun` for \
                 rootless podman's default network (slirp4netns or pasta; not needed with \
                 `--network none`). On EKS (containerd) a device plugin must expose them; on \
                 CRI-O the pod annotation `io.kubernetes.cri-o.Devices`. Empty when none.",
            ),
            Attribute::string_map("node_labels").computed().description(
                "Labels that mark nodes prepared for this sandbox (on a Karpenter NodePool, \
                 with the pool's own `labels`).",
            ),
            Attribute::string_list("reasons").computed().description(
                "Each decision with its source (on a Karpenter NodePool, also each Karpenter \
                 rule applied).",
            ),
        ]
    }
}

impl NodeImageModel {
    fn of(i: &crate::capability::engine::JudgedImage) -> Self {
        Self {
            family: Attr::Known(i.family.as_str().to_string()),
            variant: Attr::Known(i.variant.as_str().to_string()),
            release: i.pinned.map(|r| r.to_string()).into(),
            releases: Attr::Known(i.releases.clone()),
            kernel: Attr::Known(i.kernel.to_string()),
            containerd: i.containerd.map(|v| v.to_string()).into(),
            landlock_enabled: Attr::Known(i.landlock_enabled),
            seccomp_default: Attr::Known(i.seccomp_default),
            evidence: Attr::Known(
                match i.evidence {
                    Evidence::Documented => "documented",
                    Evidence::Reported => "reported",
                }
                .to_string(),
            ),
        }
    }

    /// The `node_image` attribute.
    fn schema_attribute() -> Attribute {
        Attribute::of_type(
            "node_image",
            Type::object([
                ("family", Type::String),
                ("variant", Type::String),
                ("release", Type::String),
                ("releases", Type::String),
                ("kernel", Type::String),
                ("containerd", Type::String),
                ("landlock_enabled", Type::Bool),
                ("seccomp_default", Type::Bool),
                ("evidence", Type::String),
            ]),
        )
        .computed()
        .description(
            "The node image the answer is judged on (EKS platforms; null elsewhere): `family`, \
             `variant`, `release` (the pinned release, canonical, or null when the newest known \
             was assumed), `releases` (the range of releases with these facts), `kernel`, \
             `containerd` (null when no source confirms it), `landlock_enabled`, \
             `seccomp_default` and `evidence` (`documented`, or `reported` where no primary \
             source publishes the image's facts, e.g. EKS Auto Mode).",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::{CapabilityData, Input, decide};
    use crate::framework::Model;
    use crate::framework::model::Field as _;
    use crate::framework::model::attribute_names;

    #[test]
    fn each_model_is_its_schema_fragment() {
        assert_eq!(
            attribute_names(&DecisionOutputs::schema_attributes()),
            DecisionOutputs::ATTRIBUTES
        );
        assert_eq!(
            attribute_names(&DecisionDetails::schema_attributes()),
            DecisionDetails::ATTRIBUTES
        );
        let node_image = NodeImageModel::schema_attribute();
        let crate::framework::schema::AttributeKind::Type(Type::Object { attributes, .. }) =
            &node_image.kind
        else {
            panic!("node_image is an object");
        };
        let mut want: Vec<&str> = attributes.keys().map(String::as_str).collect();
        let mut have = NodeImageModel::ATTRIBUTES.to_vec();
        want.sort();
        have.sort();
        assert_eq!(have, want);
    }

    /// Literal values: podman as a non-root user on Bottlerocket 1.33
    /// (hostUsers:false and an ids-per-pod setting, per the Kubernetes
    /// user-namespaces docs; Bottlerocket ships `user.max_user_namespaces`
    /// = 0, bottlerocket-os/bottlerocket#3839).
    #[test]
    fn a_decision_becomes_typed_outputs_that_encode_to_the_wire_shape() {
        let data = CapabilityData::embedded().unwrap();
        let mut input = Input::new("podman", "eks");
        input.kubernetes_version = Some("1.33".parse().unwrap());
        input.ami_family = Some("bottlerocket".into());
        let d = decide(data, &input).unwrap();
        let out = DecisionOutputs::of(&d);
        let details = DecisionDetails::of(&d);
        assert_eq!(out.pod_spec.as_deref(), Some("{\"hostUsers\":false}"));
        let max = details
            .sysctls
            .known()
            .and_then(|m| m.get("user.max_user_namespaces"))
            .and_then(|v| v.known())
            .and_then(|v| v.parse::<u64>().ok());
        assert!(max.is_some_and(|n| n > 0), "{:?}", details.sysctls);
        let v = details.to_value();
        assert_eq!(
            v.attr("pod_spec_object"),
            Some(&Value::object([("hostUsers", Value::Bool(false))]))
        );
        assert_eq!(
            v.attr("node_image")
                .and_then(|i| i.attr("family"))
                .and_then(Value::as_str),
            Some("bottlerocket")
        );
        assert!(!DecisionOutputs::unknown().wholly_known());
    }
}
