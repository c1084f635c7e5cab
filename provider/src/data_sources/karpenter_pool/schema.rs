//! The schema of `data "nested_karpenter_pool"`.

use crate::capability::SANDBOXES;
use crate::framework::{Attribute, Nesting, Schema};
use crate::outputs::{DecisionDetails, DecisionOutputs};
use crate::validate::declared;

pub(super) const MODES: &[&str] = &["karpenter", "auto_mode"];

pub(super) fn schema() -> Schema {
    let s = Schema::new(
        "A Karpenter NodePool that can run a nested sandbox: the EC2NodeClass \
         (`karpenter.k8s.aws/v1`) or, on EKS Auto Mode, the NodeClass \
         (`eks.amazonaws.com/v1`), the NodePool (`karpenter.sh/v1`), the user data after \
         Karpenter's own merge, the pod settings, and a probe Job. Karpenter's merge rules \
         (Bottlerocket `settings.kubernetes` keys it drops, values it writes over) and Auto \
         Mode's limits (no user data, `user.max_user_namespaces = 0`) are checked at plan. \
         Pure: nothing is applied.",
    )
    .attribute(
        Attribute::string("sandbox")
            .required()
            .one_of(SANDBOXES)
            .description("`nsjail`, `landjail`, `bubblewrap` or `podman`."),
    )
    .attribute(Attribute::string("mode").required().one_of(MODES).description(
        "`karpenter` (self-managed Karpenter, EC2NodeClass) or `auto_mode` (EKS Auto Mode, \
         NodeClass).",
    ))
    .attribute(Attribute::string("name").optional().description(
        "Name of the NodeClass and NodePool; default `nested-<sandbox>`.",
    ))
    .attribute(
        Attribute::string("cluster_name")
            .required()
            .validate(declared::EKS_CLUSTER_NAME)
            .description("The EKS cluster's name."),
    )
    .attribute(Attribute::string("kubernetes_version").required().validate(declared::KUBERNETES_VERSION).description(
        "Kubernetes minor version of the cluster, e.g. `\"1.33\"`: it picks the node image's \
         kernel.",
    ))
    .attribute(
        Attribute::string("ami_family")
            .optional()
            .one_of(&["bottlerocket", "al2023"])
            .description(
                "Karpenter only: `bottlerocket` (default) or `al2023`. Auto Mode has no AMI choice.",
            ),
    )
    .attribute(Attribute::string("ami_version").optional().description(
        "Karpenter only: the AMI release of the `amiSelectorTerms` alias, e.g. `v1.52.0` \
         (Bottlerocket) or `v20251120` (AL2023), also written as the alias itself \
         (`bottlerocket@v1.52.0`); default `latest`, which moves (a warning says so). The \
         answer is judged on that release's kernel, containerd and settings: a release whose \
         nodes cannot run the sandbox (kernel below its floor, no Landlock yet, containerd \
         1.7, no `ids-per-pod` setting) is an error here naming the first release that can.",
    ))
    .attribute(Attribute::string("karpenter_version").optional().validate(declared::KARPENTER_VERSION).description(
        "Karpenter only: the Karpenter release running the cluster, e.g. `\"1.9.0\"`. It \
         decides which Bottlerocket `settings.kubernetes` keys survive (`ids-per-pod` from \
         1.9.0). Default: assumed at least 1.9.0, with a warning when that matters.",
    ))
    .attribute(Attribute::string("role").required().validate(declared::IAM_ROLE_NAME).description(
        "The node IAM role's name, not its ARN (`spec.role`), e.g. `aws_iam_role.nodes.name`.",
    ))
    .attribute(Attribute::string_map("subnet_selector_tags").required().description(
        "Tags that select the nodes' subnets (`subnetSelectorTerms[0].tags`).",
    ))
    .attribute(
        Attribute::string_map("security_group_selector_tags")
            .required()
            .description("Tags that select the nodes' security groups."),
    )
    .attribute(
        Attribute::nested(
            "requirements",
            Nesting::Single,
            vec![
                Attribute::string_list("instance_families").optional().description(
                    "Instance families, e.g. `[\"m7i\", \"c7i\"]` (`…/instance-family`).",
                ),
                Attribute::string_list("capacity_types").optional().description(
                    "`on-demand`, `spot`, `reserved` (`karpenter.sh/capacity-type`).",
                ),
                Attribute::string_list("architectures").optional().description(
                    "`amd64` (default) and/or `arm64` (`kubernetes.io/arch`).",
                ),
            ],
        )
        .optional()
        .description("NodePool requirements; each list empty or null is left out."),
    )
    .attribute(Attribute::string_map("labels").optional().validate(declared::LABEL_KEYS).validate(declared::LABEL_VALUES).description(
        "Labels for the nodes, added to the sandbox's `node_labels`.",
    ))
    .attribute(
        Attribute::nested(
            "taints",
            Nesting::List,
            vec![
                Attribute::string("key").required().validate(declared::TAINT_KEY).description("Taint key."),
                Attribute::string("value").optional().validate(declared::TAINT_VALUE).description("Taint value."),
                Attribute::string("effect")
                    .required()
                    .one_of(&["NoSchedule", "PreferNoSchedule", "NoExecute"])
                    .description("`NoSchedule`, `PreferNoSchedule` or `NoExecute`."),
            ],
        )
        .optional()
        .description(
            "NodePool taints; default one `nested.dev/sandbox=<sandbox>:NoSchedule` (the probe \
             tolerates it). `[]` for none. Taints belong here: Karpenter replaces \
             Bottlerocket's `node-taints` with these.",
        ),
    )
    .attribute(
        Attribute::nested(
            "disruption",
            Nesting::Single,
            vec![
                Attribute::string("consolidation_policy")
                    .optional()
                    .one_of(&["WhenEmpty", "WhenEmptyOrUnderutilized"])
                    .description("Default `WhenEmptyOrUnderutilized`."),
                Attribute::string("consolidate_after")
                    .optional()
                    .description("Default `0s`, e.g. `30m` or `Never`."),
                Attribute::string("budget_nodes")
                    .optional()
                    .description("Disruption budget, e.g. `10%` (default) or `1`."),
            ],
        )
        .optional()
        .description("The NodePool's `spec.disruption`."),
    )
    .attribute(Attribute::string("expire_after").optional().description(
        "Node lifetime (`expireAfter`), e.g. `720h` (default on Karpenter) or `Never`. Auto \
         Mode: at most `504h` (21 days, the default here).",
    ))
    .attribute(Attribute::bool("run_as_root").default_value(false).description(
        "Whether the sandbox's process runs as uid 0 (as in `nested_capability`).",
    ))
    .attribute(Attribute::number("ids_per_pod").optional().description(
        "Kubelet `userNamespaces.idsPerPod` (a multiple of 65536) for sandboxes in a pod user \
         namespace; Bottlerocket `ids-per-pod` needs Karpenter ≥ 1.9.0 and Bottlerocket ≥ \
         v1.51.0. Not settable on Auto Mode.",
    ))
    .attribute(Attribute::number("imds_hop_limit").default_value(1).description(
        "Karpenter only: `metadataOptions.httpPutResponseHopLimit`; Karpenter's default 1 keeps \
         pods away from IMDS, 2 lets pods reach it.",
    ))
    .attribute(Attribute::string("bootstrap_extra_settings").optional().description(
        "Karpenter only: your own user data, merged with what the sandbox needs (Bottlerocket \
         TOML, or AL2023 MIME / NodeConfig / shell). A key Karpenter would drop or write over \
         in a way that breaks the sandbox, or a taint (which Karpenter discards), is an error \
         here; other dropped keys are warnings. As in `nested_nodegroup`, a setting that \
         contradicts what the sandbox needs is an error however it is written, and what the \
         provider cannot evaluate in a script is a warning.",
    ))
    .attribute(
        Attribute::bool("allow_privileged_sysctl_daemonset")
            .default_value(false)
            .description(
                "Auto Mode only: opt in to the known work-around for bubblewrap and podman, a \
                 privileged DaemonSet that sets `user.max_user_namespaces` before a NodePool \
                 startup taint is removed. Rendered into `sysctl_daemonset_manifest` only when \
                 true, with a warning: it runs privileged.",
            ),
    )
    .attribute(Attribute::string("sysctl_daemonset_image").optional().validate(declared::IMAGE).description(
        "Image of the sysctl DaemonSet (needs `/bin/sh` and `kubectl`); default \
         `docker.io/alpine/k8s:1.33.4`.",
    ))
    .attribute(Attribute::string("probe_image").optional().validate(declared::IMAGE).description(
        "Image of `nested-probe` for `probe_manifest`.",
    ))
    .attribute(Attribute::string("probe_namespace").optional().validate(declared::NAMESPACE).description(
        "Namespace of the probe Job (and of the sysctl DaemonSet); default `nested-probe`.",
    ))
    .attribute(Attribute::string("node_class_manifest").computed().description(
        "YAML EC2NodeClass `karpenter.k8s.aws/v1` (Karpenter) or NodeClass \
         `eks.amazonaws.com/v1` (Auto Mode), for `kubectl apply -f` or `yamldecode` into \
         `kubernetes_manifest`.",
    ))
    .attribute(Attribute::string("node_pool_manifest").computed().description(
        "YAML NodePool `karpenter.sh/v1` referencing the node class.",
    ))
    .attribute(Attribute::string("sysctl_daemonset_manifest").computed().description(
        "Auto Mode with `allow_privileged_sysctl_daemonset`: YAML ServiceAccount, ClusterRole, \
         ClusterRoleBinding and privileged DaemonSet (documents separated by `---`). Null \
         otherwise.",
    ))
    .attribute(Attribute::string("ami_alias").computed().description(
        "Karpenter: the `amiSelectorTerms` alias, e.g. `bottlerocket@latest`. Null on Auto Mode.",
    ))
    .attribute(Attribute::string("kernel_version").computed().description(
        "The kernel series of the node image for `kubernetes_version` (and `ami_version`).",
    ))
    .attribute(Attribute::string("user_data").computed().description(
        "Karpenter: the EC2NodeClass `spec.userData` (also in `node_class_manifest`). Null on \
         Auto Mode, which takes none, or when nothing needs rendering.",
    ))
    .attribute(Attribute::string("karpenter_merged_user_data").computed().description(
        "Bottlerocket on Karpenter: the TOML the node gets after Karpenter's merge of \
         `user_data`: only the `settings.kubernetes` keys of `karpenter_version`'s typed \
         struct, its cluster keys (placeholders for the endpoint and CA), no `max-pods` \
         (Karpenter writes the instance type's pod capacity), the NodePool's labels merged \
         over yours, `node-taints` replaced by the NodePool's taints and startup taints plus \
         `karpenter.sh/unregistered:NoExecute`, every other table as it is. Null otherwise.",
    ))
    .attribute(Attribute::string("probe_manifest").computed().description(
        "A Job (YAML) running `nested-probe` on a node of this NodePool (node selector \
         `karpenter.sh/nodepool`, tolerating its taints).",
    ));
    s.attributes(DecisionOutputs::schema_attributes())
        .attributes(DecisionDetails::schema_attributes())
}
