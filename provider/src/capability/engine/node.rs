//! Checks of what the node must give the pod: user namespaces (and the
//! sysctl that allows them), pod user namespaces (kernel, runtime,
//! Kubernetes), Landlock, ids per pod and the OpenShift feature gates.

use super::managed::node_image_fix;
use super::{Contribution, Facts, Field};
use crate::capability::Version;
use crate::capability::data::{GateState, ImageRow};
use crate::capability::kinds::{OciRuntimeKind, RuntimeKind};

pub(super) fn check_user_namespaces(f: &Facts<'_>) -> Contribution {
    let mut c = Contribution::default();
    let s = f.sandbox;
    let needs = s.needs_user_namespaces && f.creates_user_namespace;
    let image_default = f.image_max_user_namespaces();
    if needs && !f.input.user_namespaces {
        let alt = s.without_user_namespaces.clone().unwrap_or_default();
        c.error(
            Field::UserNamespaces,
            &format!("{} needs user namespaces", s.name),
            format!(
                "user_namespaces = false forbids them on the node, and {} creates one. {alt}",
                s.name
            ),
        );
        return c;
    }
    let sysctl = "user.max_user_namespaces".to_string();
    if !f.input.user_namespaces {
        // The node must not enable them: pin the sysctl to 0 where the image
        // would otherwise allow them.
        if image_default != Some(0) && f.platform.sysctls_settable && f.family.is_some() {
            c.sysctls.insert(sysctl, "0".into());
            c.note(
                "user_namespaces = false: the node sets user.max_user_namespaces = 0 (as CIS Bottlerocket check BR01040400 expects)".into(),
            );
        }
        return c;
    }
    if needs {
        // However the node gets there (the image's default or the sysctl
        // below), the sandbox's user namespace needs a limit of at least 1.
        c.sysctl_floors.insert(sysctl.clone(), 1);
    }
    if needs && image_default == Some(0) {
        if f.platform.sysctls_settable {
            c.sysctls
                .insert(sysctl, f.input.max_user_namespaces.to_string());
            c.note(format!(
                "the image ships user.max_user_namespaces = 0, so the node sets it to {}",
                f.input.max_user_namespaces
            ));
        } else {
            c.error(
                Field::Platform,
                &format!("{} needs user namespaces", s.name),
                format!(
                    "{} keeps user.max_user_namespaces at 0 and does not let bootstrap settings change it; {} cannot create its user namespace there. Use {}.",
                    f.platform.title,
                    s.name,
                    settable_platforms(f)
                ),
            );
        }
    }
    c
}

pub(super) fn check_host_users(f: &Facts<'_>) -> Contribution {
    let mut c = Contribution::default();
    if !f.sandbox.needs_host_users_false {
        return c;
    }
    if let Some(unknown) = f.platform.unknown_kernel.clone() {
        c.error(
            Field::Platform,
            &format!("{} cannot run on {}", f.sandbox.name, f.platform.title),
            format!(
                "{} needs a pod user namespace (hostUsers: false) and procMount: Unmasked, and {} documents support for neither. {unknown}",
                f.sandbox.name, f.platform.title
            ),
        );
        return c;
    }
    c.host_users_false = true;
    c.proc_mount_unmasked = f.sandbox.proc_mount_unmasked;
    let hu = &f.data.host_users;
    let sources = hu.sources.clone();
    c.reason(
        &format!(
            "hostUsers: false needs Linux ≥ {}, containerd ≥ {} (runc ≥ {} / crun ≥ {}), and Kubernetes ≥ {} or the UserNamespacesSupport gate",
            hu.kernel_floor, hu.containerd_floor, hu.runc_floor, hu.crun_floor, hu.kubernetes_default_on
        ),
        &sources,
    );
    let kernel = f.kernel();
    if let Some(k) = kernel
        && k < hu.kernel_floor
    {
        let (field, fix) = kernel_fix(f, hu.kernel_floor, false);
        c.error(
            field,
            "Kernel too old for pod user namespaces",
            format!(
                "{} needs hostUsers: false, which needs Linux ≥ {} (idmapped tmpfs mounts); {}. {fix}",
                f.sandbox.name,
                hu.kernel_floor,
                node_kernel(f, k)
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
    if let Some(r) = &f.input.container_runtime
        && r.name == RuntimeKind::CriO
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
    if let Some((oci, v)) = f.input.oci_runtime
        && f.kubernetes
            .is_none_or(|k| k >= hu.containerd_floor_kubernetes)
    {
        let floor = match oci {
            OciRuntimeKind::Runc => hu.runc_floor,
            OciRuntimeKind::Crun => hu.crun_floor,
        };
        if v < floor {
            c.error(
                Field::OciRuntime,
                "OCI runtime too old for pod user namespaces",
                format!(
                    "From Kubernetes {} on, hostUsers: false needs runc ≥ {} or crun ≥ {} (idmapped mounts); {oci} {v} cannot start such a pod. Use {oci} ≥ {floor}.",
                    hu.containerd_floor_kubernetes, hu.runc_floor, hu.crun_floor
                ),
            );
        }
    }
    let containerd = match f.container_runtime() {
        Some((RuntimeKind::Containerd, v)) => v,
        _ => None,
    };
    let k8s = f.input.kubernetes_version;
    let idmap_era = k8s.is_none_or(|v| v >= hu.containerd_floor_kubernetes);
    match containerd {
        Some(v) if v < hu.containerd_ignored_below => c.error(
            Field::ContainerRuntime,
            "containerd ignores hostUsers: false",
            format!("containerd {v} silently ignores hostUsers: false, so the pod would run in the host user namespace. Use containerd ≥ {}.", hu.containerd_floor),
        ),
        Some(v) if v < hu.containerd_floor && idmap_era => {
            let (field, fix) = if f.input.container_runtime.is_some() {
                (Field::ContainerRuntime, format!("Use containerd ≥ {}.", hu.containerd_floor))
            } else {
                containerd_fix(f, hu.containerd_floor)
            };
            let runs = if f.has_image_facts() && f.input.container_runtime.is_none() {
                format!("{} runs containerd {v}", f.image_name())
            } else {
                format!("containerd {v}")
            };
            c.error(
                field,
                "containerd too old for pod user namespaces",
                format!(
                    "From Kubernetes {} on, hostUsers: false needs containerd ≥ {}, and {runs}: the kubelet refuses such a pod. {fix}",
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
        // Your own nodes: the runtime decides whether hostUsers: false is
        // honoured at all, so it is not assumed.
        None if f.input.container_runtime.is_none() && f.platform.node_facts_from_inputs => c.error(
            Field::ContainerRuntime,
            "container_runtime is required",
            format!(
                "{} needs hostUsers: false, and on your own nodes only the container runtime tells whether it works: containerd below {} silently ignores it (the pod would run in the host user namespace), containerd below {} and CRI-O below {} refuse such pods. Set container_runtime to the nodes' runtime and version, e.g. \"containerd {}\" or \"cri-o {}\".",
                f.sandbox.name,
                hu.containerd_ignored_below,
                hu.containerd_floor,
                hu.crio_floor,
                hu.containerd_floor,
                hu.crio_floor
            ),
        ),
        None if f.input.container_runtime.is_none() && f.has_image_facts() => c.warn(
            if f.node_image.is_some() { f.node_image_field() } else { Field::AmiFamily },
            "containerd version not confirmed",
            format!("The containerd version of this image is not confirmed by a source; hostUsers: false needs containerd ≥ {}.", hu.containerd_floor),
        ),
        None => {}
    }
    if let Some(k8s) = f.input.kubernetes_version {
        if k8s < hu.kubernetes_available {
            c.error(
                Field::KubernetesVersion,
                "Kubernetes too old for pod user namespaces",
                format!(
                    "hostUsers: false exists from Kubernetes {}; {k8s} does not have it.",
                    hu.kubernetes_available
                ),
            );
        } else if k8s < hu.kubernetes_default_on && !f.platform.needs_openshift_version {
            c.warn(
                Field::KubernetesVersion,
                "UserNamespacesSupport gate is off",
                format!("On Kubernetes {k8s} the UserNamespacesSupport feature gate is off by default; enable it on the API server and kubelet, or use Kubernetes ≥ {}.", hu.kubernetes_default_on),
            );
        }
    }
    let cri_o = f
        .input
        .container_runtime
        .as_ref()
        .is_some_and(|r| r.name == RuntimeKind::CriO);
    if let Some(w) = f.sandbox.selinux_warning.clone() {
        if f.platform.selinux || cri_o {
            c.warn(Field::Platform, "SELinux mount policy", w);
        } else if let Some(note) = f.family_row.and_then(|r| r.selinux.clone()) {
            c.warn(Field::AmiFamily, "SELinux mount policy", note);
        }
    }
    if !f.sandbox.devices.is_empty() {
        c.note(format!(
            "{} uses the devices {} (see its reason): on CRI-O the pod annotation io.kubernetes.cri-o.Devices, elsewhere a device plugin",
            f.sandbox.name,
            f.sandbox.devices.join(", ")
        ));
    }
    c
}

/// "bottlerocket on Kubernetes 1.31 has Linux 6.1", "al2023 v20250807 on
/// Kubernetes 1.33 has Linux 6.12" or "this node has Linux 5.15".
fn node_kernel(f: &Facts<'_>, k: Version) -> String {
    match f.input.kubernetes_version {
        Some(v) if f.has_image_facts() => {
            format!("{} on Kubernetes {v} has Linux {k}", f.image_name())
        }
        _ => format!("this node has Linux {k}"),
    }
}

/// The first release of this image (same family, variant, architecture and
/// Kubernetes version) after the one judged that meets `meets`, as a
/// finding's field and fix: only when a release is pinned (unpinned, the
/// newest is judged already).
fn later_release_fix(f: &Facts<'_>, meets: impl Fn(&ImageRow) -> bool) -> Option<(Field, String)> {
    f.pin.as_ref()?;
    let judged = f.image?.first_release();
    let row = f
        .image_rows
        .iter()
        .find(|r| r.first_release() > judged && meets(r))?;
    let first = row.first_release()?;
    Some((
        Field::AmiRelease,
        format!(
            "{} releases from {first} meet it: pin {first} or later.",
            f.family.map_or("The image", |fam| fam.as_str())
        ),
    ))
}

/// Where to point a "kernel too old" finding and how to fix it: a later
/// release of the pinned image, else the lowest Kubernetes version of the
/// family whose image meets `floor`.
fn kernel_fix(f: &Facts<'_>, floor: Version, landlock: bool) -> (Field, String) {
    let what = if landlock {
        format!("Linux ≥ {floor} with Landlock")
    } else {
        format!("Linux ≥ {floor}")
    };
    if let Some(fix) = node_image_fix(f, &what, |r| {
        r.kernel >= floor && (!landlock || r.landlock_enabled != Some(false))
    }) {
        return fix;
    }
    let extra = |i: &ImageRow| !landlock || i.landlock_enabled;
    let Some(family) = f.family else {
        return (
            Field::KernelVersion,
            format!("Use nodes with Linux ≥ {floor}."),
        );
    };
    if let Some(fix) = later_release_fix(f, |i| i.kernel >= floor && extra(i)) {
        return fix;
    }
    let lowest = f
        .data
        .image
        .iter()
        .filter(|i| {
            i.family == family
                && i.describes(f.image_variant, f.input.architecture)
                && i.kernel >= floor
                && extra(i)
        })
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
                "No {family} image meets it (family {family}, kernel floor {floor}); use ami_family {} on a newer Kubernetes version.",
                f.platform
                    .families
                    .iter()
                    .map(|x| format!("\"{x}\""))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        ),
    }
}

/// The lowest Kubernetes version of the family whose image has containerd
/// ≥ `floor`, as a fix sentence.
fn containerd_fix(f: &Facts<'_>, floor: Version) -> (Field, String) {
    if let Some(fix) = node_image_fix(f, &format!("containerd ≥ {floor}"), |r| {
        r.containerd.is_some_and(|v| v >= floor)
    }) {
        return fix;
    }
    let Some(family) = f.family else {
        return (
            Field::KubernetesVersion,
            format!("Use nodes with containerd ≥ {floor}."),
        );
    };
    if let Some(fix) = later_release_fix(f, |i| i.containerd.is_some_and(|v| v >= floor)) {
        return fix;
    }
    let fix = f
        .data
        .image
        .iter()
        .filter(|i| {
            i.family == family
                && i.describes(f.image_variant, f.input.architecture)
                && i.containerd.is_some_and(|v| v >= floor)
        })
        .map(|i| i.kubernetes[0])
        .min()
        .map_or_else(
            || format!("No {family} image has containerd ≥ {floor}."),
            |v| format!("{family} ships containerd ≥ {floor} from Kubernetes {v}: set kubernetes_version to \"{v}\" or later."),
        );
    (Field::KubernetesVersion, fix)
}

pub(super) fn check_landlock(f: &Facts<'_>) -> Contribution {
    let mut c = Contribution::default();
    let Some(abi) = f.sandbox.landlock_abi else {
        return c;
    };
    let Some(row) = f.data.landlock_kernel(abi) else {
        return c;
    };
    let floor = row.kernel;
    c.reason(
        &format!("Landlock ABI v{abi} first shipped in Linux {floor}"),
        &row.sources,
    );
    if let Some(unknown) = &f.platform.unknown_kernel {
        c.warn(
            Field::Platform,
            "Landlock support unknown",
            format!("{} needs Linux ≥ {floor} with Landlock enabled. {unknown} Check from a pod there (uname -r, /sys/kernel/security/lsm) before relying on it.", f.sandbox.name),
        );
        return c;
    }
    if let Some(why) = &f.platform.landlock_unknown {
        c.warn(
            Field::Platform,
            "Landlock support unknown",
            format!("{} needs Landlock ABI v{abi}; {why} Check /sys/kernel/security/lsm on a node before relying on it.", f.sandbox.name),
        );
        return c;
    }
    let kernel = f.kernel();
    let known = f.landlock_enabled();
    let enabled = known.unwrap_or(true);
    if known.is_none() && kernel.is_none_or(|k| k >= floor) {
        c.warn(
            f.node_image_field(),
            "Landlock support unknown",
            format!(
                "{} needs Landlock ABI v{abi}: Linux ≥ {floor} with Landlock enabled. {} runs Linux {}, and no source this provider knows says whether Landlock is in its LSM list; check /sys/kernel/security/lsm on a node (or run probe_manifest) before relying on it.",
                f.sandbox.name,
                f.image_name(),
                kernel.map_or_else(|| "?".to_string(), |k| k.to_string())
            ),
        );
        return c;
    }
    if let Some(k) = kernel
        && (k < floor || !enabled)
    {
        let (field, fix) = kernel_fix(f, floor, true);
        let why = if k < floor {
            node_kernel(f, k)
        } else {
            format!(
                "{} does not enable Landlock in its LSM list",
                f.image_name()
            )
        };
        c.error(
            field,
            "Landlock ABI too old",
            format!(
                "{} needs Landlock ABI v{abi}: Linux ≥ {floor} with Landlock enabled; {why}. {fix}",
                f.sandbox.name
            ),
        );
    } else if f.platform.node_facts_from_inputs {
        let detail = format!(
            "Landlock must be enabled in the kernel's LSM list (check /sys/kernel/security/lsm); {} fails without it.",
            f.sandbox.name
        );
        c.warn(Field::KernelVersion, "Landlock must be enabled", detail);
    }
    c
}

pub(super) fn check_ids_per_pod(f: &Facts<'_>) -> Contribution {
    let mut c = Contribution::default();
    let Some(ids) = f.input.ids_per_pod else {
        return c;
    };
    let hu_k8s = f.data.host_users.ids_per_pod_kubernetes;
    if !f.sandbox.needs_host_users_false {
        c.error(
            Field::IdsPerPod,
            "ids_per_pod needs a pod user namespace",
            format!("ids_per_pod sets the kubelet's idsPerPod for hostUsers: false pods; {} runs without one. Remove it.", f.sandbox.name),
        );
        return c;
    }
    if ids == 0 || ids % 65536 != 0 {
        c.error(
            Field::IdsPerPod,
            "Invalid ids_per_pod",
            format!("ids_per_pod must be a positive multiple of 65536 (the kubelet refuses anything else); got {ids}. Use 131072 for nested images that own ids above 64535."),
        );
        return c;
    }
    if f.kubernetes.is_some_and(|v| v < hu_k8s) {
        c.error(
            Field::IdsPerPod,
            "ids per pod fixed at 65536",
            format!("Kubernetes before {hu_k8s} gives each pod exactly 65536 ids; idsPerPod cannot be changed. Remove ids_per_pod or use Kubernetes ≥ {hu_k8s}."),
        );
        return c;
    }
    if let Some(img) = f.image
        && !img.ids_per_pod_setting
    {
        let (field, fix) = later_release_fix(f, |i| i.ids_per_pod_setting).unwrap_or((
            Field::IdsPerPod,
            "Remove ids_per_pod, or use a newer release.".to_string(),
        ));
        c.error(
            field,
            "No idsPerPod setting in this image",
            format!(
                "{} has no bootstrap setting for the kubelet's idsPerPod, so ids_per_pod cannot be applied. {fix}",
                f.image_name()
            ),
        );
        return c;
    }
    c.kubelet_settings
        .insert("userNamespaces.idsPerPod".into(), ids.to_string());
    c
}

pub(super) fn check_openshift_gates(f: &Facts<'_>) -> Contribution {
    let mut c = Contribution::default();
    if !f.platform.needs_openshift_version {
        return c;
    }
    let Some(v) = f.input.openshift_version else {
        return c;
    };
    let first = |state: GateState| {
        f.data
            .openshift
            .iter()
            .find(|o| o.gates == state)
            .map(|o| o.versions[0])
    };
    let (first_preview, first_default) = (first(GateState::Preview), first(GateState::Default));
    let by_default = first_default.map_or_else(String::new, |d| {
        format!(" ({d} without upgrade-blocking feature gates)")
    });
    let Some(row) = f.data.openshift(v) else {
        let known_hi = f.data.openshift.iter().map(|o| o.versions[1]).max();
        let detail = match (first_preview, known_hi) {
            (Some(lo), _) if v < lo => format!(
                "OpenShift {v} has no user-namespace support; OpenShift {lo} is the first with it{by_default}."
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
        return c;
    };
    let needs_userns = f.sandbox.needs_host_users_false;
    match row.gates {
        GateState::Absent if needs_userns => c.error(
            Field::OpenshiftVersion,
            "Unsupported OpenShift version",
            format!(
                "OpenShift {v} does not have the user-namespace feature gates; {} needs OpenShift ≥ {}{by_default}.",
                f.sandbox.name,
                first_preview.map_or_else(|| "a newer release".to_string(), |p| p.to_string())
            ),
        ),
        GateState::Preview if needs_userns => c.warn(
            Field::OpenshiftVersion,
            "Upgrade-blocking feature gates",
            format!(
                "On OpenShift {v} user namespaces are Technology Preview: enabling them needs a CustomNoUpgrade FeatureGate, which cannot be undone and blocks upgrades.{}",
                first_default.map_or_else(String::new, |d| format!(" OpenShift {d} has them by default."))
            ),
        ),
        _ => {}
    }
    c.reason(
        &format!(
            "OpenShift {v} (Kubernetes {}): user-namespace gates {:?}",
            row.kubernetes, row.gates
        ),
        &row.sources,
    );
    c
}

/// "platform \"eks\"": where the node's sysctls can be set.
fn settable_platforms(f: &Facts<'_>) -> String {
    let names: Vec<String> = f
        .data
        .platform
        .iter()
        .filter(|p| p.sysctls_settable && !p.families.is_empty())
        .map(|p| format!("platform \"{}\"", p.name))
        .collect();
    format!("{} with a managed node group", names.join(" or "))
}
