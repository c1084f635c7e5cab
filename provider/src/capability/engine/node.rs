//! Checks of what the node must give the pod: user namespaces (and the
//! sysctl that allows them), pod user namespaces (kernel, runtime,
//! Kubernetes), Landlock, ids per pod and the OpenShift feature gates.

use super::{Ctx, Field};
use crate::capability::Version;
use crate::capability::data::{GateState, ImageRow};

pub(super) fn check_user_namespaces(c: &mut Ctx<'_>) {
    let s = c.sandbox;
    let needs = s.needs_user_namespaces && c.creates_user_namespace();
    let image_default = c.image.and_then(|i| i.max_user_namespaces);
    if needs && !c.input.user_namespaces {
        let alt = s.without_user_namespaces.clone().unwrap_or_default();
        c.error(
            Field::UserNamespaces,
            &format!("{} needs user namespaces", s.name),
            format!(
                "user_namespaces = false forbids them on the node, and {} creates one. {alt}",
                s.name
            ),
        );
        return;
    }
    let sysctl = "user.max_user_namespaces".to_string();
    if !c.input.user_namespaces {
        // The node must not enable them: pin the sysctl to 0 where the image
        // would otherwise allow them.
        if image_default != Some(0) && c.platform.sysctls_settable && c.family.is_some() {
            c.out.sysctls.insert(sysctl, "0".into());
            c.out.reasons.push(
                "user_namespaces = false: the node sets user.max_user_namespaces = 0 (as CIS Bottlerocket check BR01040400 expects)".into(),
            );
        }
        return;
    }
    if needs && image_default == Some(0) {
        if c.platform.sysctls_settable {
            c.out
                .sysctls
                .insert(sysctl, c.input.max_user_namespaces.to_string());
            c.out.reasons.push(format!(
                "the image ships user.max_user_namespaces = 0, so the node sets it to {}",
                c.input.max_user_namespaces
            ));
        } else {
            c.error(
                Field::Platform,
                &format!("{} needs user namespaces", s.name),
                format!(
                    "{} keeps user.max_user_namespaces at 0 and does not let bootstrap settings change it; {} cannot create its user namespace there. Use platform \"eks\" with a managed node group.",
                    c.platform.title, s.name
                ),
            );
        }
    }
}

pub(super) fn check_host_users(c: &mut Ctx<'_>) {
    if !c.sandbox.needs_host_users_false {
        return;
    }
    let refused = c
        .out
        .findings
        .iter()
        .any(|f| f.error && f.field == Field::Platform);
    if let Some(unknown) = c.platform.unknown_kernel.clone() {
        if refused {
            return;
        }
        c.error(
            Field::Platform,
            &format!("{} cannot run on {}", c.sandbox.name, c.platform.title),
            format!(
                "{} needs a pod user namespace (hostUsers: false) and procMount: Unmasked, and {} documents support for neither. {unknown}",
                c.sandbox.name, c.platform.title
            ),
        );
        return;
    }
    c.needs.host_users_false = true;
    c.needs.proc_mount_unmasked = c.sandbox.proc_mount_unmasked;
    let hu = &c.data.host_users;
    let sources = hu.sources.clone();
    c.reason(
        &format!(
            "hostUsers: false needs Linux ≥ {}, containerd ≥ {} (runc ≥ 1.2 / crun ≥ 1.9), and Kubernetes ≥ {} or the UserNamespacesSupport gate",
            hu.kernel_floor, hu.containerd_floor, hu.kubernetes_default_on
        ),
        &sources,
    );
    let kernel = c.image.map(|i| i.kernel).or(c.input.kernel_version);
    if let Some(k) = kernel
        && k < hu.kernel_floor
    {
        let (field, fix) = kernel_fix(c, hu.kernel_floor, |_| true);
        c.error(
            field,
            "Kernel too old for pod user namespaces",
            format!(
                "{} needs hostUsers: false, which needs Linux ≥ {} (idmapped tmpfs mounts); {}. {fix}",
                c.sandbox.name,
                hu.kernel_floor,
                node_kernel(c, k)
            ),
        );
    }
    if let Some(k) = kernel
        && k < hu.overlay_idmap_kernel
    {
        c.warn(
            Field::KernelVersion,
            "slow_chown needed",
            format!("Linux {k} has no overlayfs idmap (needs {}); containerd must set slow_chown = true, which copies image files per pod.", hu.overlay_idmap_kernel),
        );
    }
    if let Some(r) = &c.input.container_runtime
        && r.name == "cri-o"
        && r.version < hu.crio_floor
    {
        let detail = format!(
            "CRI-O {} does not support hostUsers: false; use CRI-O ≥ {}.",
            r.version, hu.crio_floor
        );
        c.error(
            Field::ContainerRuntime,
            "CRI-O too old for pod user namespaces",
            detail,
        );
    }
    let containerd = match &c.input.container_runtime {
        Some(r) if r.name == "containerd" => Some(r.version),
        Some(_) => None,
        None => c.image.and_then(|i| i.containerd),
    };
    let k8s = c.input.kubernetes_version;
    let idmap_era = k8s.is_none_or(|v| v >= hu.containerd_floor_kubernetes);
    match containerd {
        Some(v) if v < hu.containerd_ignored_below => c.error(
            Field::ContainerRuntime,
            "containerd ignores hostUsers: false",
            format!("containerd {v} silently ignores hostUsers: false, so the pod would run in the host user namespace. Use containerd ≥ {}.", hu.containerd_floor),
        ),
        Some(v) if v < hu.containerd_floor && idmap_era => {
            let (field, fix) = if c.input.container_runtime.is_some() {
                (Field::ContainerRuntime, format!("Use containerd ≥ {}.", hu.containerd_floor))
            } else {
                (Field::KubernetesVersion, containerd_fix(c, hu.containerd_floor))
            };
            c.error(
                field,
                "containerd too old for pod user namespaces",
                format!(
                    "From Kubernetes {} on, hostUsers: false needs containerd ≥ {}, and containerd {v} cannot run such a pod (the kubelet refuses it). {fix}",
                    hu.containerd_floor_kubernetes, hu.containerd_floor
                ),
            );
        }
        Some(v) if v < hu.containerd_floor => c.warn(
            Field::ContainerRuntime,
            "containerd 1.7 copies images per pod",
            format!("containerd {v} supports hostUsers: false only by chowning every image file at pod start, which duplicates image storage per pod; containerd ≥ {} uses idmapped mounts.", hu.containerd_floor),
        ),
        Some(_) => {}
        None if c.input.container_runtime.is_none() && c.image.is_some() => c.warn(
            Field::AmiFamily,
            "containerd version not confirmed",
            format!("The containerd version of this image is not confirmed by a source; hostUsers: false needs containerd ≥ {}.", hu.containerd_floor),
        ),
        None => {}
    }
    if let Some(k8s) = c.input.kubernetes_version {
        if k8s < hu.kubernetes_available {
            c.error(
                Field::KubernetesVersion,
                "Kubernetes too old for pod user namespaces",
                format!(
                    "hostUsers: false exists from Kubernetes {}; {k8s} does not have it.",
                    hu.kubernetes_available
                ),
            );
        } else if k8s < hu.kubernetes_default_on && c.platform.name != "openshift" {
            c.warn(
                Field::KubernetesVersion,
                "UserNamespacesSupport gate is off",
                format!("On Kubernetes {k8s} the UserNamespacesSupport feature gate is off by default; enable it on the API server and kubelet, or use Kubernetes ≥ {}.", hu.kubernetes_default_on),
            );
        }
    }
    let cri_o = c
        .input
        .container_runtime
        .as_ref()
        .is_some_and(|r| r.name == "cri-o");
    if let Some(w) = c.sandbox.selinux_warning.clone()
        && (c.platform.name == "openshift" || cri_o)
    {
        c.warn(Field::Platform, "SELinux mount policy", w);
    }
    if !c.sandbox.devices.is_empty() {
        c.out.reasons.push(format!(
            "{} uses the devices {} (see its reason): on CRI-O the pod annotation io.kubernetes.cri-o.Devices, elsewhere a device plugin",
            c.sandbox.name,
            c.sandbox.devices.join(", ")
        ));
    }
}

/// "bottlerocket on Kubernetes 1.31 has Linux 6.1" or "this node has Linux 5.15".
fn node_kernel(c: &Ctx<'_>, k: Version) -> String {
    match (c.family, c.input.kubernetes_version) {
        (Some(f), Some(v)) if c.image.is_some() => format!("{f} on Kubernetes {v} has Linux {k}"),
        _ => format!("this node has Linux {k}"),
    }
}

/// Where to point a "kernel too old" finding and how to fix it: the lowest
/// Kubernetes version of the family whose image meets `floor`.
fn kernel_fix(c: &Ctx<'_>, floor: Version, extra: impl Fn(&ImageRow) -> bool) -> (Field, String) {
    let Some(family) = c.family else {
        return (
            Field::KernelVersion,
            format!("Use nodes with Linux ≥ {floor}."),
        );
    };
    let lowest = c
        .data
        .image
        .iter()
        .filter(|i| i.family == family && i.kernel >= floor && extra(i))
        .map(|i| i.kubernetes[0])
        .min();
    match lowest {
        Some(v) => (
            Field::KubernetesVersion,
            format!(
                "{family} meets it from Kubernetes {v}: set kubernetes_version to \"{v}\" or later."
            ),
        ),
        None => (
            Field::AmiFamily,
            format!(
                "No {family} image meets it (family {family}, kernel floor {floor}); use ami_family \"al2023\" or \"bottlerocket\" on a newer Kubernetes version."
            ),
        ),
    }
}

/// The lowest Kubernetes version of the family whose image has containerd
/// ≥ `floor`, as a fix sentence.
fn containerd_fix(c: &Ctx<'_>, floor: crate::capability::Version) -> String {
    let Some(family) = c.family else {
        return format!("Use nodes with containerd ≥ {floor}.");
    };
    c.data
        .image
        .iter()
        .filter(|i| i.family == family && i.containerd.is_some_and(|v| v >= floor))
        .map(|i| i.kubernetes[0])
        .min()
        .map_or_else(
            || format!("No {family} image has containerd ≥ {floor}."),
            |v| format!("{family} ships containerd ≥ {floor} from Kubernetes {v}: set kubernetes_version to \"{v}\" or later."),
        )
}

pub(super) fn check_landlock(c: &mut Ctx<'_>) {
    let Some(abi) = c.sandbox.landlock_abi else {
        return;
    };
    let Some(row) = c.data.landlock_kernel(abi) else {
        return;
    };
    let (floor, sources) = (row.kernel, row.sources.clone());
    c.reason(
        &format!("Landlock ABI v{abi} first shipped in Linux {floor}"),
        &sources,
    );
    if let Some(unknown) = c.platform.unknown_kernel.clone() {
        c.warn(
            Field::Platform,
            "Landlock support unknown",
            format!("{} needs Linux ≥ {floor} with Landlock enabled. {unknown} Check from a pod there (uname -r, /sys/kernel/security/lsm) before relying on it.", c.sandbox.name),
        );
        return;
    }
    if c.platform.name == "openshift" {
        c.warn(
            Field::Platform,
            "Landlock support unknown",
            format!("{} needs Landlock ABI v{abi}; RHCOS kernels carry backports, so the kernel version does not tell. Check /sys/kernel/security/lsm on a node before relying on it.", c.sandbox.name),
        );
        return;
    }
    let kernel = c.image.map(|i| i.kernel).or(c.input.kernel_version);
    let enabled = c.image.is_none_or(|i| i.landlock_enabled);
    if let Some(k) = kernel
        && (k < floor || !enabled)
    {
        let (field, fix) = kernel_fix(c, floor, |i| i.landlock_enabled);
        let why = if k < floor {
            node_kernel(c, k)
        } else {
            "Landlock is not enabled in this image's LSM list".to_string()
        };
        c.error(
            field,
            "Landlock ABI too old",
            format!(
                "{} needs Landlock ABI v{abi}: Linux ≥ {floor} with Landlock enabled; {why}. {fix}",
                c.sandbox.name
            ),
        );
    } else if c.platform.name == "kubernetes" {
        let detail = format!(
            "Landlock must be enabled in the kernel's LSM list (check /sys/kernel/security/lsm); {} fails without it.",
            c.sandbox.name
        );
        c.warn(Field::KernelVersion, "Landlock must be enabled", detail);
    }
}

pub(super) fn check_ids_per_pod(c: &mut Ctx<'_>) {
    let Some(ids) = c.input.ids_per_pod else {
        return;
    };
    let hu_k8s = c.data.host_users.ids_per_pod_kubernetes;
    if !c.sandbox.needs_host_users_false {
        c.error(
            Field::IdsPerPod,
            "ids_per_pod needs a pod user namespace",
            format!("ids_per_pod sets the kubelet's idsPerPod for hostUsers: false pods; {} runs without one. Remove it.", c.sandbox.name),
        );
        return;
    }
    if ids == 0 || ids % 65536 != 0 {
        c.error(
            Field::IdsPerPod,
            "Invalid ids_per_pod",
            format!("ids_per_pod must be a positive multiple of 65536 (the kubelet refuses anything else); got {ids}. Use 131072 for nested images that own ids above 64535."),
        );
        return;
    }
    if c.kubernetes().is_some_and(|v| v < hu_k8s) {
        c.error(
            Field::IdsPerPod,
            "ids per pod fixed at 65536",
            format!("Kubernetes before {hu_k8s} gives each pod exactly 65536 ids; idsPerPod cannot be changed. Remove ids_per_pod or use Kubernetes ≥ {hu_k8s}."),
        );
        return;
    }
    c.out
        .kubelet_settings
        .insert("userNamespaces.idsPerPod".into(), ids.to_string());
}

pub(super) fn check_openshift_gates(c: &mut Ctx<'_>) {
    if c.platform.name != "openshift" {
        return;
    }
    let Some(v) = c.input.openshift_version else {
        return;
    };
    let Some(row) = c.data.openshift(v) else {
        let lowest = c
            .data
            .openshift
            .iter()
            .find(|o| o.gates != GateState::Absent)
            .map(|o| o.versions[0]);
        let known_hi = c.data.openshift.iter().map(|o| o.versions[1]).max();
        let detail = match (lowest, known_hi) {
            (Some(lo), _) if v < lo => format!(
                "OpenShift {v} has no user-namespace support; OpenShift {lo} is the first with it (4.20 without upgrade-blocking feature gates)."
            ),
            (_, Some(hi)) => {
                format!("The provider knows OpenShift up to {hi}; {v} is newer than its data.")
            }
            _ => format!("The provider has no data for OpenShift {v}."),
        };
        c.error(
            Field::OpenshiftVersion,
            "Unsupported OpenShift version",
            detail,
        );
        return;
    };
    let sources = row.sources.clone();
    let needs_userns = c.sandbox.needs_host_users_false;
    match row.gates {
        GateState::Absent if needs_userns => c.error(
            Field::OpenshiftVersion,
            "Unsupported OpenShift version",
            format!("OpenShift {v} does not have the user-namespace feature gates; {} needs OpenShift ≥ 4.17 (4.20 without upgrade-blocking feature gates).", c.sandbox.name),
        ),
        GateState::Preview if needs_userns => c.warn(
            Field::OpenshiftVersion,
            "Upgrade-blocking feature gates",
            format!("On OpenShift {v} user namespaces are Technology Preview: enabling them needs a CustomNoUpgrade FeatureGate, which cannot be undone and blocks upgrades. OpenShift 4.20 has them by default."),
        ),
        _ => {}
    }
    c.reason(
        &format!(
            "OpenShift {v} (Kubernetes {}): user-namespace gates {:?}",
            row.kubernetes, row.gates
        ),
        &sources,
    );
}
