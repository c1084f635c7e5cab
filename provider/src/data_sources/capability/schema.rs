//! The schema of `data "nested_capability"`.

use crate::capability::{
    AmiFamily, Architecture, CapabilityData, ImageVariant, PlatformKind, SANDBOXES,
};
use crate::framework::{Attribute, Nesting, Schema, Type};
use crate::outputs::{DecisionDetails, DecisionOutputs};
use crate::validate::declared;

pub(super) fn schema() -> Schema {
    Schema::new(
        "Decides whether a nested sandbox can run in pods on a platform, and what the node \
         (AMI family, kernel, sysctls, kubelet settings) and the pod (security contexts) need. \
         Every decision comes with its reason and source. Pure: computed from the provider's \
         embedded capability data, never from AWS.",
    )
    .attribute(
        Attribute::string("sandbox")
            .required()
            .one_of(SANDBOXES)
            .description(
                "The sandbox to run inside pods: `nsjail` (Coder Agent Firewall), `landjail` \
                 (Coder Agent Firewall with Landlock), `bubblewrap` or `podman` (rootless).",
            ),
    )
    .attribute(
        Attribute::string("platform")
            .required()
            .one_of(PlatformKind::NAMES)
            .description(
                "Where the pods run: `eks` (managed node group), `eks_auto_mode`, \
                 `eks_fargate`, `openshift`, `gke` (a GKE Standard node pool; `image_type`), \
                 `gke_autopilot`, `aks` (an AKS node pool; `os_sku`), or `kubernetes` (your \
                 own nodes, described by `kernel_version`, `container_runtime` and \
                 `seccomp_default`).",
            ),
    )
    .attribute(Attribute::string("kubernetes_version").optional().validate(declared::KUBERNETES_VERSION).description(
        "Kubernetes minor version, e.g. `\"1.33\"`. Required for `eks`, `eks_auto_mode`, \
         `gke`, `gke_autopilot`, `aks` and `kubernetes`.",
    ))
    .attribute(Attribute::string("openshift_version").optional().validate(declared::OPENSHIFT_VERSION).description(
        "OpenShift minor version, e.g. `\"4.20\"`. Required for (and only for) `openshift`.",
    ))
    .attribute(
        Attribute::string("ami_family")
            .optional()
            .computed()
            .one_of(AmiFamily::NAMES)
            .description(
                "`bottlerocket`, `al2023` or `al2`. When omitted on an EKS platform, the \
                 provider picks the first of al2023, bottlerocket that can run the sandbox \
                 (never al2, which has no new AMIs since 2025-11-26: name it to use it).",
            ),
    )
    .attribute(
        Attribute::string("ami_variant")
            .optional()
            .one_of(ImageVariant::NAMES)
            .description(
                "The node image variant: `standard` (default), `nvidia`, `neuron` (AL2023), \
                 `fips` or `nvidia_fips` (Bottlerocket). Variants can run other kernels and \
                 runtimes: Bottlerocket's `aws-k8s-1.33-fips` runs Linux 6.1, so landjail \
                 cannot run there; AL2023's ARM64 NVIDIA AMIs run 6.12 on every Kubernetes \
                 version.",
            ),
    )
    .attribute(Attribute::string("ami_release").optional().description(
        "The exact node image release the nodes run, as the decision needs it for nodes \
         pinned to an older AMI: `v20251016` (Amazon Linux), `v1.52.0` (Bottlerocket), an \
         EKS `release_version` (`1.33.5-20251016`, `1.52.0-d7ba6a2a`), a Karpenter alias \
         (`bottlerocket@v1.52.0`) or `latest`. Unset (or `latest`): judged on the newest \
         release the provider knows, with a warning when older releases answer differently \
         (AL2023 ran containerd 1.7 on Kubernetes 1.30–1.33 until late 2025; Landlock \
         arrived with AL2023 v20250813 and Bottlerocket v1.44.0). A release newer than the \
         provider's data is judged on the newest facts, with a warning; an older one than \
         it knows is an error.",
    ))
    .attribute(
        Attribute::string("image_type")
            .optional()
            .computed()
            .one_of(&gke_images())
            .description(
                "For `gke` and `gke_autopilot`: the node pool's `node_config.image_type`. \
                 `COS_CONTAINERD` (Container-Optimized OS, the only image Autopilot runs) is the \
                 one the provider has data for; when omitted, it is chosen. Other GKE images \
                 (`UBUNTU_CONTAINERD`) are not judged: describe such nodes with platform \
                 `kubernetes`.",
            ),
    )
    .attribute(
        Attribute::string("os_sku")
            .optional()
            .computed()
            .one_of(&aks_images())
            .description(
                "For `aks`: the node pool's `os_sku` (`AzureLinux`, `AzureLinux3`, `Ubuntu`, \
                 `Ubuntu2204`, `Ubuntu2404`). When omitted, the provider picks the first of \
                 `AzureLinux`, `Ubuntu2404`, `Ubuntu`, `Ubuntu2204` that can run the sandbox \
                 (`reasons` says why when it is not the first). `Ubuntu` is Ubuntu 22.04 up to \
                 Kubernetes 1.34 and 24.04 from 1.35, as AKS defines it.",
            ),
    )
    .attribute(
        Attribute::string("architecture")
            .default_value(Architecture::default().as_str())
            .one_of(Architecture::NAMES)
            .description("`x86_64` (default) or `arm64`."),
    )
    .attribute(Attribute::bool("run_as_root").default_value(false).description(
        "Whether the sandbox's process runs as uid 0 in the container. `false` (default): a \
         non-root user, e.g. a Coder workspace's agent; the container gets `runAsNonRoot`. \
         The capabilities differ: Coder's nsjail re-executes a non-root agent through \
         `sudo` + `setpriv` (`NET_ADMIN`, `SYS_ADMIN`, `SETUID`, `SETGID`), while as root it \
         maps uid 0 into its user namespace (`NET_ADMIN`, `SETFCAP`); bwrap needs `SETFCAP` \
         only as root; rootless podman cannot run as root.",
    ))
    .attribute(Attribute::number("ids_per_pod").optional().description(
        "Sets the kubelet's `userNamespaces.idsPerPod` (a multiple of 65536; Kubernetes ≥ \
         1.33) for sandboxes that run in a pod user namespace. The default 65536 is enough \
         for rootless podman when the user's subordinate ids fit in it (`user:1:999` and \
         `user:1001:64535` for uid 1000); use `131072` when nested images own ids above \
         64535 (e.g. 65532 or 65534).",
    ))
    .attribute(Attribute::bool("user_namespaces").default_value(true).description(
        "Whether the node may enable unprivileged user namespaces. `false` (e.g. a CIS \
         level 2 policy) pins `user.max_user_namespaces` to 0 and rejects sandboxes that \
         need them. Defaults to `true`.",
    ))
    .attribute(
        Attribute::string("kernel_version")
            .optional()
            .computed()
            .validate(declared::KERNEL_VERSION)
            .description(
                "Input for `kubernetes`: the nodes' kernel release, e.g. `\"6.12\"`. Output \
                 elsewhere: the kernel series of the chosen node image.",
            ),
    )
    .attribute(Attribute::string("container_runtime").optional().validate(declared::CONTAINER_RUNTIME).description(
        "For `kubernetes`: the nodes' runtime and version, e.g. `\"containerd 2.1\"` or \
         `\"cri-o 1.33\"`. Required for the sandboxes that run in a pod user namespace \
         (`bubblewrap`, `podman`): whether `hostUsers: false` is honoured depends on it.",
    ))
    .attribute(Attribute::string("oci_runtime").optional().description(
        "For `kubernetes`: the OCI runtime your container runtime starts containers with, \
         e.g. `\"runc 1.2.5\"` or `\"crun 1.9\"`. From Kubernetes 1.27 on, `hostUsers: false` \
         needs runc ≥ 1.2 or crun ≥ 1.9 (containerd's user-namespaces documentation); an older \
         one is an error here. Unset: not checked (the reasons say what is needed).",
    ))
    .attribute(Attribute::bool("seccomp_default").optional().description(
        "For `kubernetes`: whether the kubelet runs pods with the runtime's default seccomp \
         profile (`seccompDefault: true`).",
    ))
    .attribute(
        Attribute::string("seccomp_profile")
            .optional()
            .one_of(&["unconfined", "localhost"])
            .description(
                "What the pod names where RuntimeDefault seccomp stops the sandbox (bubblewrap, \
                 rootless podman, a root nsjail with its own user namespace). `unconfined`: \
                 `seccompProfile: Unconfined` where the node would apply RuntimeDefault, else \
                 none. Unset: the same, with a warning that the pod then has no syscall filter \
                 where a Localhost profile exists. `localhost`: `seccompProfile: {type: Localhost, localhostProfile: \
                 operator/nested-<sandbox>[-root].json}`, containerd's RuntimeDefault plus only \
                 the syscalls the sandbox makes that it refuses (`seccomp_profile_json`); the \
                 node lab runs each sandbox under it on containerd 2.x and 1.7, and without each \
                 added syscall. The file must be on the node before the pod starts \
                 (`seccomp_profile_manifest` with the Security Profiles Operator). containerd \
                 only: an error on CRI-O (OpenShift, or `container_runtime = \"cri-o …\"`).",
            ),
    )
    .attribute(Attribute::string("bootstrap_extra_settings").optional().description(
        "Your own bootstrap document, merged with what the sandbox needs by the same code as \
         `nested_nodegroup`'s: Bottlerocket TOML (your comments and keys kept; a key the \
         sandbox needs set to another value is an error here, as are keys EKS sets itself \
         for an EKS-provided AMI), or for `al2023` / `al2` a MIME multipart document, a \
         `#!` script or a bare nodeadm `NodeConfig` (your parts first, the provider's after \
         them, with their headers; a part that sets a sysctl or kubelet setting the sandbox \
         needs to another value is an error here, however it is written: `sysctl -w`, a \
         `user/…` key, a write to `/proc/sys`, a `sysctl.d` file, a NodeConfig in block or \
         flow style; what the provider cannot evaluate, e.g. a computed value or `eval`, is \
         a warning). The merged document is `user_data`; its parts are `cloudinit_parts`.",
    ))
    .attribute(
        Attribute::nested(
            "cluster",
            Nesting::Single,
            vec![
                Attribute::string("name").required().validate(declared::EKS_CLUSTER_NAME).description(
                    "The EKS cluster's name (`aws_eks_cluster.this.name`).",
                ),
                Attribute::string("api_server_endpoint").required().validate(declared::API_SERVER_URL).description(
                    "The API server URL, `https://…` (`aws_eks_cluster.this.endpoint`).",
                ),
                Attribute::string("certificate_authority").required().validate(declared::CERTIFICATE_AUTHORITY).description(
                    "The cluster CA, base64 as EKS gives it \
                     (`aws_eks_cluster.this.certificate_authority[0].data`).",
                ),
                Attribute::string("service_cidr").required().validate(declared::SERVICE_CIDR).description(
                    "The Kubernetes service CIDR, e.g. `10.100.0.0/16` \
                     (`aws_eks_cluster.this.kubernetes_network_config[0].service_ipv4_cidr`); \
                     nodeadm refuses a NodeConfig without it.",
                ),
                Attribute::string("dns_ip").optional().validate(declared::IP_ADDRESS).description(
                    "Bottlerocket's `settings.kubernetes.cluster-dns-ip`, e.g. `10.100.0.10`; \
                     when omitted, Bottlerocket's pluto derives it from the service CIDR or \
                     the primary interface's CIDR.",
                ),
            ],
        )
        .optional()
        .description(
            "Opt-in, for a node group whose launch template names its own AMI (`image_id`; \
             EKS then merges nothing into the user data): the cluster keys the node needs to \
             join, written into `user_data` (Bottlerocket `settings.kubernetes.*` with the \
             `node_labels`; AL2023 NodeConfig `spec.cluster`: `name`, `apiServerEndpoint`, \
             `certificateAuthority`, `cidr`, all four of which nodeadm requires). Leave it \
             unset for an EKS-provided AMI (`ami_type`), where EKS adds them.",
        ),
    )
    .attributes(super::node_pool::schema_attributes())
    .attribute(Attribute::string("ami_type").computed().description(
        "The EKS `amiType` for a managed node group, e.g. `BOTTLEROCKET_x86_64` or \
         `AL2023_ARM_64_STANDARD`. Null off EKS managed node groups. hashicorp/aws's \
         `aws_eks_node_group` accepts `BOTTLEROCKET_*` from 3.64.0 and `AL2023_*` from \
         5.40.0; with an older one, name the AMI in the launch template and set `cluster` \
         (guide \"With hashicorp/aws\").",
    ))
    .attributes(DecisionOutputs::schema_attributes())
    .attributes(DecisionDetails::schema_attributes())
    .attribute(Attribute::string("seccomp_profile_json").computed().description(
        "With `seccomp_profile = \"localhost\"`, where the pod names a Localhost profile: the \
         profile file (JSON, the OCI `linux.seccomp` format containerd loads), for \
         `/var/lib/kubelet/seccomp/operator/nested-<sandbox>[-root].json` on every node. \
         Null otherwise.",
    ))
    .attribute(Attribute::string("seccomp_profile_manifest").computed().description(
        "The same profile as a Security Profiles Operator `SeccompProfile` \
         (`security-profiles-operator.x-k8s.io/v1beta1`, cluster-scoped from SPO v0.10.0), \
         which writes it to that path on every node: apply it before the sandbox's pods. \
         Null when the pod names no Localhost profile.",
    ))
    .attribute(Attribute::string("probe_image").optional().validate(declared::IMAGE).description(&format!(
        "Image of `nested-probe` for `probe_manifest`; default \
         `{}` (the probe alone). For what the image \
         must provide (`image_needs`: sudo and setpriv for a non-root nsjail agent, the \
         newuidmap/newgidmap helpers and `/etc/subuid` for podman), the probe can only judge \
         the image it runs in: build one from your sandbox's image with `/nested-probe` \
         copied in, and name it here.",
        crate::render::probe::DEFAULT_PROBE_IMAGE
    )))
    .attribute(Attribute::string("probe_namespace").optional().validate(declared::NAMESPACE).description(
        "Namespace of the `probe_manifest` Job; default `nested-probe`. The manifest says \
         which Pod Security label that namespace needs (`pod_security_level`).",
    ))
    .attribute(Attribute::string("probe_manifest").computed().description(
        "A Kubernetes Job (YAML) that runs `nested-probe --sandbox <sandbox>` with `pod_spec` \
         and the security contexts above on a node carrying `node_labels`: the Job succeeds \
         only when the sandbox can run there. On `openshift` its pod names the SCC it needs \
         (`openshift.io/required-scc`, the one `nested_openshift_profile` gives for the same \
         inputs), and the manifest and `warnings` say that the Job's service account \
         (`default` in `probe_namespace`) must be allowed to `use` that SCC.",
    ))
    .attribute(Attribute::string("user_data").computed().description(
        "The bootstrap document the chosen AMI family needs, merged with \
         `bootstrap_extra_settings`: Bottlerocket TOML (never MIME-wrapped; for \
         `bootstrap_extra_args` or `base64encode()` into `aws_launch_template.user_data`) or \
         Amazon Linux MIME multipart (your parts, then a sysctl shell part and a nodeadm \
         NodeConfig part). Without `cluster`, for an EKS-provided AMI (EKS adds the cluster \
         keys). Null when nothing needs rendering or the platform takes no user data.",
    ))
    .attribute(Attribute::string("nodeadm_config").computed().description(
        "AL2023: the provider's nodeadm `NodeConfig` YAML alone (kubelet settings; \
         `spec.cluster` with `cluster`), for a `cloudinit_pre_nodeadm` part with \
         `content_type = \"application/node.eks.aws\"`. Null on other families or when \
         there is nothing to set.",
    ))
    .attribute(Attribute::string("sysctl_script").computed().description(
        "Amazon Linux: the provider's shell script that writes and applies the sysctls, for \
         a `text/x-shellscript` part. Null on Bottlerocket (TOML sets sysctls) or when no \
         sysctl is needed.",
    ))
    .attribute(
        Attribute::of_type(
            "cloudinit_parts",
            Type::list(Type::object([
                ("content_type", Type::String),
                ("content", Type::String),
                ("filename", Type::String),
                ("merge_type", Type::String),
            ])),
        )
        .computed()
        .description(
            "Amazon Linux: every part of `user_data` in order (yours from \
             `bootstrap_extra_settings`, then the provider's), each `{ content_type, content, \
             filename, merge_type }`: the shape of terraform-aws-modules/eks's \
             `cloudinit_pre_nodeadm` and of `cloudinit_config` `part` blocks. `content` is the \
             part's text with its transfer encoding (base64, quoted-printable) undone; \
             `filename` (from `Content-Disposition`) and `merge_type` (`X-Merge-Type`) are null \
             when the part has none. Null on Bottlerocket, and (with a warning) when one of \
             your parts cannot take this shape (binary content, another header): \
             `user_data` keeps it.",
        ),
    )
}

/// The node images a platform whose node pools choose them with `setting`
/// runs, from the platform rows (`image_type` on GKE, `os_sku` on AKS).
fn images_of(setting: &str) -> Vec<&'static str> {
    let Ok(data) = CapabilityData::embedded() else {
        return Vec::new();
    };
    let mut names: Vec<&'static str> = Vec::new();
    for p in data
        .platform
        .iter()
        .filter(|p| p.node_image_setting.as_deref() == Some(setting))
    {
        for n in &p.node_images {
            if !names.contains(&n.as_str()) {
                names.push(n.as_str());
            }
        }
    }
    names
}

fn gke_images() -> Vec<&'static str> {
    images_of("image_type")
}

fn aks_images() -> Vec<&'static str> {
    images_of("os_sku")
}
