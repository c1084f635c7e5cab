//! Decisions: sandbox × platform × AMI family × versions → what the node
//! and the pod need, or why it cannot work.
//!
//! `decide` runs a fixed list of checks over the data rows (the shape of
//! Karpenter's compatibility checks). Each check reads rows and either adds
//! requirements (sysctls, capabilities, pod settings) with a reason, or a
//! finding (error or warning) that names the input at fault.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value as Json, json};

use super::data::{CapabilityData, GateState, ImageRow, PlatformRow, SandboxRow, VariantRow};
use super::{CapabilityError, Version};

/// Default `user.max_user_namespaces` the provider sets where it must.
pub const DEFAULT_MAX_USER_NAMESPACES: u64 = 65536;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Architecture {
    #[default]
    X86_64,
    Arm64,
}

impl Architecture {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "x86_64" => Some(Self::X86_64),
            "arm64" => Some(Self::Arm64),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::X86_64 => "x86_64",
            Self::Arm64 => "arm64",
        }
    }
}

/// A container runtime and its version, e.g. `containerd 2.1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runtime {
    pub name: String,
    pub version: Version,
}

impl Runtime {
    /// `containerd 2.1`, `cri-o 1.30.2`.
    pub fn parse(s: &str) -> Result<Runtime, String> {
        let mut parts = s.split_whitespace();
        let (Some(name), Some(version), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!(
                "{s:?} is not \"<runtime> <version>\", e.g. \"containerd 2.1\" or \"cri-o 1.30\""
            ));
        };
        let name = name.to_ascii_lowercase();
        if name != "containerd" && name != "cri-o" {
            return Err(format!(
                "unknown container runtime {name:?}; use \"containerd\" or \"cri-o\""
            ));
        }
        let version = version
            .trim_start_matches('v')
            .parse::<Version>()
            .map_err(|e| e.to_string())?;
        Ok(Runtime { name, version })
    }
}

/// Everything a decision depends on.
#[derive(Debug, Clone)]
pub struct Input {
    pub sandbox: String,
    pub platform: String,
    pub kubernetes_version: Option<Version>,
    pub openshift_version: Option<Version>,
    pub ami_family: Option<String>,
    pub architecture: Architecture,
    pub user_namespaces: bool,
    pub kernel_version: Option<Version>,
    pub container_runtime: Option<Runtime>,
    pub seccomp_default: Option<bool>,
    pub max_user_namespaces: u64,
}

impl Input {
    pub fn new(sandbox: &str, platform: &str) -> Self {
        Self {
            sandbox: sandbox.into(),
            platform: platform.into(),
            kubernetes_version: None,
            openshift_version: None,
            ami_family: None,
            architecture: Architecture::X86_64,
            user_namespaces: true,
            kernel_version: None,
            container_runtime: None,
            seccomp_default: None,
            max_user_namespaces: DEFAULT_MAX_USER_NAMESPACES,
        }
    }
}

/// The input a finding is about (its attribute path in the data source).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Sandbox,
    Platform,
    KubernetesVersion,
    OpenshiftVersion,
    AmiFamily,
    Architecture,
    UserNamespaces,
    KernelVersion,
    ContainerRuntime,
    SeccompDefault,
}

impl Field {
    pub fn attribute(self) -> &'static str {
        match self {
            Field::Sandbox => "sandbox",
            Field::Platform => "platform",
            Field::KubernetesVersion => "kubernetes_version",
            Field::OpenshiftVersion => "openshift_version",
            Field::AmiFamily => "ami_family",
            Field::Architecture => "architecture",
            Field::UserNamespaces => "user_namespaces",
            Field::KernelVersion => "kernel_version",
            Field::ContainerRuntime => "container_runtime",
            Field::SeccompDefault => "seccomp_default",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub error: bool,
    pub field: Field,
    pub summary: String,
    pub detail: String,
}

/// The outcome: requirements when it can work, findings when it cannot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    pub ami_family: Option<String>,
    pub ami_type: Option<String>,
    pub kernel_floor: Option<Version>,
    pub kernel_version: Option<Version>,
    pub sysctls: BTreeMap<String, String>,
    pub kubelet_settings: BTreeMap<String, String>,
    /// JSON object of pod spec fields (e.g. `hostUsers`), which live in the
    /// pod spec itself, not in its `securityContext`.
    pub pod_spec: Json,
    /// JSON object (as a Kubernetes PodSecurityContext).
    pub pod_security_context: Json,
    /// JSON object (as a Kubernetes container SecurityContext).
    pub container_security_context: Json,
    pub runtime_args: Vec<String>,
    pub node_labels: BTreeMap<String, String>,
    pub warnings: Vec<String>,
    pub reasons: Vec<String>,
    pub findings: Vec<Finding>,
}

impl Decision {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.error)
    }
}

/// Requirements gathered while checking.
#[derive(Default)]
struct Needs {
    capabilities: BTreeSet<String>,
    host_users_false: bool,
    proc_mount_unmasked: bool,
    allow_privilege_escalation: bool,
    seccomp_profile: Option<String>,
}

struct Ctx<'a> {
    data: &'a CapabilityData,
    input: &'a Input,
    sandbox: &'a SandboxRow,
    platform: &'a PlatformRow,
    family: Option<&'a str>,
    image: Option<&'a ImageRow>,
    variant: Option<&'a VariantRow>,
    needs: Needs,
    out: Decision,
}

impl Ctx<'_> {
    fn error(&mut self, field: Field, summary: &str, detail: String) {
        self.out.findings.push(Finding {
            error: true,
            field,
            summary: summary.into(),
            detail,
        });
    }
    fn warn(&mut self, field: Field, summary: &str, detail: String) {
        self.out.warnings.push(format!("{summary}: {detail}"));
        self.out.findings.push(Finding {
            error: false,
            field,
            summary: summary.into(),
            detail,
        });
    }
    fn reason(&mut self, text: &str, sources: &[String]) {
        self.out
            .reasons
            .push(format!("{text} [{}]", sources.join("; ")));
    }
}

fn unknown_name(field: Field, kind: &str, name: &str, known: &[&str]) -> Finding {
    Finding {
        error: true,
        field,
        summary: format!("Unknown {kind}"),
        detail: format!(
            "{name:?} is not a {kind} this provider knows. Use one of: {}.",
            known.join(", ")
        ),
    }
}

/// Decide for `input`. Errors in the data itself are returned as `Err`.
pub fn decide(data: &CapabilityData, input: &Input) -> Result<Decision, CapabilityError> {
    let Some(sandbox) = data.sandbox(&input.sandbox) else {
        return Ok(Decision {
            findings: vec![unknown_name(
                Field::Sandbox,
                "sandbox",
                &input.sandbox,
                &data.sandbox_names(),
            )],
            ..Decision::default()
        });
    };
    let Some(platform) = data.platform(&input.platform) else {
        let known: Vec<&str> = data.platform.iter().map(|p| p.name.as_str()).collect();
        return Ok(Decision {
            findings: vec![unknown_name(
                Field::Platform,
                "platform",
                &input.platform,
                &known,
            )],
            ..Decision::default()
        });
    };

    // EKS platforms: choose the family (explicit, or the first that works).
    let candidates: Vec<&str> = match &input.ami_family {
        Some(f) => vec![f.as_str()],
        None => platform.families.iter().map(String::as_str).collect(),
    };
    if candidates.is_empty() {
        return Ok(run(data, input, sandbox, platform, None));
    }
    let mut first: Option<Decision> = None;
    for family in &candidates {
        let mut d = run(data, input, sandbox, platform, Some(family));
        if !d.has_errors() {
            if input.ami_family.is_none() && family != &candidates[0] {
                d.reasons.insert(
                    0,
                    format!(
                        "ami_family {family} was chosen because {} cannot run {} here",
                        candidates[0], sandbox.name
                    ),
                );
            }
            return Ok(d);
        }
        first.get_or_insert(d);
    }
    Ok(first.unwrap_or_default())
}

fn run<'a>(
    data: &'a CapabilityData,
    input: &'a Input,
    sandbox: &'a SandboxRow,
    platform: &'a PlatformRow,
    family: Option<&'a str>,
) -> Decision {
    let mut ctx = Ctx {
        data,
        input,
        sandbox,
        platform,
        family,
        image: None,
        variant: None,
        needs: Needs::default(),
        out: Decision::default(),
    };
    for check in CHECKS {
        check(&mut ctx);
    }
    finish(ctx)
}

type Check = fn(&mut Ctx<'_>);

/// The checks, in order. Each reads rows and records needs or findings.
const CHECKS: &[Check] = &[
    check_inputs_fit_the_platform,
    check_family_and_image,
    check_variant,
    check_capabilities_allowed,
    check_user_namespaces,
    check_host_users,
    check_landlock,
    check_ids_per_pod,
    check_openshift_gates,
    check_seccomp_default,
];

fn check_inputs_fit_the_platform(c: &mut Ctx<'_>) {
    let p = c.platform.name.as_str();
    let is_eks = !c.platform.families.is_empty();
    if c.input.openshift_version.is_some() && p != "openshift" {
        c.error(
            Field::OpenshiftVersion,
            "openshift_version needs platform \"openshift\"",
            format!("openshift_version only applies to platform \"openshift\"; remove it for platform {p:?}."),
        );
    }
    if p == "openshift" && c.input.openshift_version.is_none() {
        c.error(
            Field::OpenshiftVersion,
            "openshift_version is required",
            "Set openshift_version (e.g. \"4.20\") for platform \"openshift\".".into(),
        );
    }
    if p != "kubernetes" {
        for (set, field) in [
            (c.input.kernel_version.is_some(), Field::KernelVersion),
            (c.input.container_runtime.is_some(), Field::ContainerRuntime),
            (c.input.seccomp_default.is_some(), Field::SeccompDefault),
        ] {
            if set {
                c.error(
                    field,
                    "Node facts need platform \"kubernetes\"",
                    format!(
                        "{} describes your own nodes and only applies to platform \"kubernetes\"; platform {p:?} determines it.",
                        field.attribute()
                    ),
                );
            }
        }
    }
    if p == "kubernetes" && c.input.kernel_version.is_none() {
        c.error(
            Field::KernelVersion,
            "kernel_version is required",
            "Set kernel_version (e.g. \"6.12\") to the kernel of your nodes for platform \"kubernetes\".".into(),
        );
    }
    if c.input.ami_family.is_some() && !is_eks {
        c.error(
            Field::AmiFamily,
            "ami_family needs an EKS platform",
            format!("ami_family applies to platforms \"eks\" and \"eks_auto_mode\", not {p:?}; remove it."),
        );
    }
    if (is_eks || p == "kubernetes") && c.input.kubernetes_version.is_none() {
        c.error(
            Field::KubernetesVersion,
            "kubernetes_version is required",
            format!("Set kubernetes_version (e.g. \"1.33\") for platform {p:?}."),
        );
    }
}

fn check_family_and_image(c: &mut Ctx<'_>) {
    let Some(family) = c.family else { return };
    if !c.platform.families.iter().any(|f| f == family) {
        let known: Vec<&str> = c.data.family.iter().map(|f| f.name.as_str()).collect();
        if c.data.family(family).is_none() {
            c.out
                .findings
                .push(unknown_name(Field::AmiFamily, "AMI family", family, &known));
        } else {
            c.error(
                Field::AmiFamily,
                "AMI family not available on this platform",
                format!(
                    "{} runs only {}; ami_family {family:?} is not one of them.",
                    c.platform.title,
                    c.platform.families.join(", ")
                ),
            );
        }
        return;
    }
    c.out.ami_family = Some(family.to_string());
    c.out.ami_type = c
        .data
        .family(family)
        .and_then(|f| f.ami_type.get(c.input.architecture.as_str()).cloned());
    if c.platform.name == "eks_auto_mode" {
        // Auto Mode manages the AMI; there is no node group AMI type.
        c.out.ami_type = None;
    }
    let Some(k8s) = c.input.kubernetes_version else {
        return;
    };
    match c.data.image(family, k8s) {
        Some(img) => {
            c.image = Some(img);
            c.out.kernel_version = Some(img.kernel);
            let title = c.data.family(family).map_or(family, |f| f.title.as_str());
            let containerd = img.containerd.map_or_else(
                || "containerd not confirmed".to_string(),
                |v| format!("containerd {v}"),
            );
            let userns = img.max_user_namespaces.map_or_else(
                || "user namespaces at the kernel default".to_string(),
                |n| format!("user.max_user_namespaces = {n}"),
            );
            c.reason(
                &format!(
                    "{title} on Kubernetes {k8s}: kernel {}, {containerd}, {userns}",
                    img.kernel
                ),
                &img.sources,
            );
        }
        None => {
            let (lo, hi) = c.data.family_range(family).unwrap_or((k8s, k8s));
            let field = if c.input.ami_family.is_some() {
                Field::AmiFamily
            } else {
                Field::KubernetesVersion
            };
            let detail = if k8s > hi {
                format!(
                    "There are no {family} node images for Kubernetes {k8s}: {hi} is the last version with them. Use another ami_family (e.g. al2023 or bottlerocket)."
                )
            } else {
                format!(
                    "The provider knows {family} node images for Kubernetes {lo} to {hi}; {k8s} is outside that range."
                )
            };
            c.error(field, "No node image for this Kubernetes version", detail);
        }
    }
}

fn check_variant(c: &mut Ctx<'_>) {
    let variant = c.data.variant.iter().find(|v| {
        v.sandbox == c.sandbox.name
            && v.platforms.contains(&c.platform.name)
            && (v.families.is_empty()
                || c.family.is_some_and(|f| v.families.iter().any(|x| x == f)))
    });
    c.variant = variant;
    let Some(v) = variant else { return };
    if let Some(err) = &v.error {
        let mut detail = err.clone();
        if let Some(rec) = v.recommend.as_deref().and_then(|r| c.data.sandbox(r)) {
            let floor = c
                .data
                .kernel_floor(rec)
                .map_or_else(String::new, |f| format!(" kernel ≥ {f}"));
            detail.push_str(&format!(
                " Use sandbox = \"{}\" instead; it needs no capability, only{floor} with Landlock enabled in the kernel's LSM list.",
                rec.name
            ));
        }
        if let Some(unknown) = &c.platform.unknown_kernel {
            detail.push_str(&format!(
                " What is not known: {unknown} Check from a pod there (uname -r, /sys/kernel/security/lsm) before relying on landjail."
            ));
        }
        c.error(
            Field::Platform,
            &format!("{} cannot run on {}", c.sandbox.name, c.platform.title),
            detail,
        );
    }
    c.reason(&v.reason, &v.sources);
    if let Some(alt) = &v.alternative {
        c.out.reasons.push(alt.clone());
    }
    if let Some(w) = &v.warning {
        c.warn(Field::Platform, "Reduced isolation", w.clone());
    }
    for cap in &v.extra_capabilities {
        c.needs.capabilities.insert(cap.clone());
    }
    c.out.runtime_args.extend(v.runtime_args.iter().cloned());
    if let Some(p) = &v.seccomp_profile {
        c.needs.seccomp_profile = Some(p.clone());
    }
}

fn check_capabilities_allowed(c: &mut Ctx<'_>) {
    let s = c.sandbox;
    c.reason(&s.reason, &s.sources);
    c.needs.capabilities.extend(s.capabilities.iter().cloned());
    c.needs.allow_privilege_escalation |= s.allow_privilege_escalation;
    let errored = c
        .out
        .findings
        .iter()
        .any(|f| f.error && f.field == Field::Platform);
    if !c.platform.capabilities_allowed && !c.needs.capabilities.is_empty() && !errored {
        let caps: Vec<&str> = c.needs.capabilities.iter().map(String::as_str).collect();
        c.error(
            Field::Platform,
            &format!("{} cannot run on {}", s.name, c.platform.title),
            format!(
                "{} rejects pods that add Linux capabilities, and {} needs {}.",
                c.platform.title,
                s.name,
                caps.join(", ")
            ),
        );
    }
}

fn check_user_namespaces(c: &mut Ctx<'_>) {
    let s = c.sandbox;
    let dropped = c.variant.is_some_and(|v| v.drops_user_namespaces);
    let needs = s.needs_user_namespaces && !dropped;
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
    let wants_sysctl = c.variant.is_some_and(|v| v.sysctl_max_user_namespaces);
    if needs && (image_default == Some(0) || wants_sysctl) {
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

fn check_host_users(c: &mut Ctx<'_>) {
    if !c.sandbox.needs_host_users_false {
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
    match containerd {
        Some(v) if v < hu.containerd_ignored_below => c.error(
            Field::ContainerRuntime,
            "containerd ignores hostUsers: false",
            format!("containerd {v} silently ignores hostUsers: false, so the pod would run in the host user namespace. Use containerd ≥ {}.", hu.containerd_floor),
        ),
        Some(v) if v < hu.containerd_warn_below => c.warn(
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
            "{} needs the devices {} in the container: on CRI-O the pod annotation io.kubernetes.cri-o.Devices, elsewhere a device plugin",
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

fn check_landlock(c: &mut Ctx<'_>) {
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

fn check_ids_per_pod(c: &mut Ctx<'_>) {
    let Some(ids) = c.sandbox.ids_per_pod else {
        return;
    };
    let hu_k8s = c.data.host_users.ids_per_pod_kubernetes;
    let k8s = c.input.kubernetes_version.or_else(|| {
        c.input
            .openshift_version
            .and_then(|v| c.data.openshift(v))
            .map(|o| o.kubernetes)
    });
    if k8s.is_some_and(|v| v < hu_k8s) {
        c.warn(
            Field::KubernetesVersion,
            "ids per pod fixed at 65536",
            format!("Kubernetes before {hu_k8s} gives each pod exactly 65536 ids, so {} cannot map nested ids (newgidmap fails).", c.sandbox.name),
        );
        return;
    }
    c.out
        .kubelet_settings
        .insert("userNamespaces.idsPerPod".into(), ids.to_string());
}

fn check_openshift_gates(c: &mut Ctx<'_>) {
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

fn check_seccomp_default(c: &mut Ctx<'_>) {
    if c.input.seccomp_default == Some(true)
        && c.sandbox.needs_user_namespaces
        && c.needs.seccomp_profile.is_none()
        && !c.needs.host_users_false
    {
        c.needs.seccomp_profile = Some("Unconfined".into());
        c.out.reasons.push(format!(
            "seccomp_default = true: the runtime's default profile blocks namespace-creating clone/unshare without SYS_ADMIN, so {} runs with seccompProfile Unconfined rather than SYS_ADMIN",
            c.sandbox.name
        ));
    }
}

fn finish(mut c: Ctx<'_>) -> Decision {
    let floor = c.data.kernel_floor(c.sandbox);
    c.out.kernel_floor = floor;
    if c.platform.name == "kubernetes" {
        c.out.kernel_version = c.input.kernel_version;
    }
    // Pod: only what differs from Kubernetes defaults. `hostUsers` is a pod
    // spec field; no sandbox needs a pod-level securityContext field today.
    let mut pod_spec = Map::new();
    if c.needs.host_users_false {
        pod_spec.insert("hostUsers".into(), Json::Bool(false));
    }
    let pod = Map::new();
    // Container: drop ALL, add only what the sandbox needs; never privileged.
    let mut container = Map::new();
    container.insert(
        "allowPrivilegeEscalation".into(),
        Json::Bool(c.needs.allow_privilege_escalation),
    );
    let add: Vec<&String> = c.needs.capabilities.iter().collect();
    let mut caps = Map::new();
    if !add.is_empty() {
        caps.insert("add".into(), json!(add));
    }
    caps.insert("drop".into(), json!(["ALL"]));
    container.insert("capabilities".into(), Json::Object(caps));
    container.insert("privileged".into(), Json::Bool(false));
    if c.needs.proc_mount_unmasked {
        container.insert("procMount".into(), json!("Unmasked"));
    }
    if let Some(p) = &c.needs.seccomp_profile {
        container.insert("seccompProfile".into(), json!({ "type": p }));
    }
    c.out.pod_spec = Json::Object(pod_spec);
    c.out.pod_security_context = Json::Object(pod);
    c.out.container_security_context = Json::Object(container);
    c.out.node_labels.insert(
        format!("sandbox.nested.dev/{}", c.sandbox.name),
        "true".into(),
    );
    c.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> &'static CapabilityData {
        CapabilityData::embedded().unwrap()
    }

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    fn eks(sandbox: &str, family: Option<&str>, k8s: &str) -> Decision {
        let mut i = Input::new(sandbox, "eks");
        i.ami_family = family.map(String::from);
        i.kubernetes_version = Some(v(k8s));
        decide(data(), &i).unwrap()
    }

    fn caps(d: &Decision) -> Vec<String> {
        d.container_security_context["capabilities"]["add"]
            .as_array()
            .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    }

    fn errors(d: &Decision) -> Vec<&Finding> {
        d.findings.iter().filter(|f| f.error).collect()
    }

    #[test]
    fn nsjail_on_amazon_linux_needs_net_admin_only() {
        let d = eks("nsjail", Some("al2023"), "1.33");
        assert!(!d.has_errors(), "{:?}", d.findings);
        assert_eq!(caps(&d), ["NET_ADMIN"]);
        assert_eq!(
            d.container_security_context["capabilities"]["drop"],
            json!(["ALL"])
        );
        assert!(d.sysctls.is_empty());
        assert!(d.container_security_context.get("seccompProfile").is_none());
        assert_eq!(d.ami_type.as_deref(), Some("AL2023_x86_64_STANDARD"));
        assert_eq!(d.container_security_context["privileged"], json!(false));
    }

    #[test]
    fn nsjail_on_bottlerocket_sets_the_sysctl_and_picks_unconfined_over_sys_admin() {
        let d = eks("nsjail", Some("bottlerocket"), "1.33");
        assert!(!d.has_errors(), "{:?}", d.findings);
        assert_eq!(d.sysctls["user.max_user_namespaces"], "65536");
        assert_eq!(caps(&d), ["NET_ADMIN"]);
        assert_eq!(
            d.container_security_context["seccompProfile"]["type"],
            "Unconfined"
        );
        assert!(
            d.reasons
                .iter()
                .any(|r| r.contains("SYS_ADMIN") && r.contains("grants no capability"))
        );
        assert_eq!(d.ami_type.as_deref(), Some("BOTTLEROCKET_x86_64"));
    }

    #[test]
    fn nsjail_on_auto_mode_runs_without_user_namespaces_with_sys_admin_and_a_warning() {
        let mut i = Input::new("nsjail", "eks_auto_mode");
        i.kubernetes_version = Some(v("1.34"));
        let d = decide(data(), &i).unwrap();
        assert!(!d.has_errors(), "{:?}", d.findings);
        assert_eq!(d.runtime_args, ["--no-user-namespace"]);
        assert_eq!(caps(&d), ["NET_ADMIN", "SYS_ADMIN"]);
        assert!(d.sysctls.is_empty());
        assert!(d.warnings.iter().any(|w| w.contains("--no-user-namespace")));
    }

    #[test]
    fn nsjail_on_fargate_is_an_error_recommending_landjail_and_saying_what_is_unknown() {
        let d = decide(data(), &Input::new("nsjail", "eks_fargate")).unwrap();
        let e = errors(&d);
        assert_eq!(e.len(), 1, "{:?}", d.findings);
        assert_eq!(e[0].field, Field::Platform);
        assert!(
            e[0].detail.contains("sandbox = \"landjail\""),
            "{}",
            e[0].detail
        );
        assert!(e[0].detail.contains("kernel ≥ 6.7"), "{}", e[0].detail);
        assert!(e[0].detail.contains("Landlock enabled"), "{}", e[0].detail);
        assert!(
            e[0].detail
                .contains("Fargate does not publish its kernel version"),
            "{}",
            e[0].detail
        );
    }

    #[test]
    fn landjail_needs_kubernetes_1_33_on_eks() {
        for family in ["bottlerocket", "al2023"] {
            let d = eks("landjail", Some(family), "1.33");
            assert!(!d.has_errors(), "{family}: {:?}", d.findings);
            assert!(caps(&d).is_empty());
            assert_eq!(d.kernel_floor, Some(v("6.7")));
            let d = eks("landjail", Some(family), "1.30");
            let e = errors(&d);
            assert_eq!(e.len(), 1, "{:?}", d.findings);
            assert_eq!(e[0].field, Field::KubernetesVersion);
            assert!(
                e[0].detail.contains("set kubernetes_version to \"1.33\""),
                "{}",
                e[0].detail
            );
            assert!(e[0].detail.contains("Linux 6.1"), "{}", e[0].detail);
        }
    }

    #[test]
    fn landjail_on_al2_names_the_family() {
        let d = eks("landjail", Some("al2"), "1.32");
        let e = errors(&d);
        assert_eq!(e[0].field, Field::AmiFamily, "{:?}", d.findings);
        assert!(e[0].detail.contains("kernel floor 6.7"), "{}", e[0].detail);
    }

    #[test]
    fn bubblewrap_gets_setfcap_host_users_false_and_unmasked_proc() {
        let d = eks("bubblewrap", Some("al2023"), "1.33");
        assert!(!d.has_errors(), "{:?}", d.findings);
        assert_eq!(caps(&d), ["SETFCAP"]);
        assert_eq!(d.pod_spec["hostUsers"], json!(false));
        assert_eq!(d.container_security_context["procMount"], "Unmasked");
        let d = eks("bubblewrap", Some("bottlerocket"), "1.33");
        assert_eq!(d.sysctls["user.max_user_namespaces"], "65536");
        let d = eks("bubblewrap", Some("bottlerocket"), "1.31");
        let e = errors(&d);
        assert_eq!(e[0].field, Field::KubernetesVersion);
        // Names the floor, the family, the version and the fix.
        assert!(e[0].detail.contains("Linux ≥ 6.3"), "{}", e[0].detail);
        assert!(
            e[0].detail
                .contains("bottlerocket on Kubernetes 1.31 has Linux 6.1"),
            "{}",
            e[0].detail
        );
        assert!(
            e[0].detail.contains("set kubernetes_version to \"1.33\""),
            "{}",
            e[0].detail
        );
    }

    #[test]
    fn podman_gets_setuid_setgid_escalation_and_ids_per_pod() {
        let d = eks("podman", Some("al2023"), "1.34");
        assert!(!d.has_errors(), "{:?}", d.findings);
        assert_eq!(caps(&d), ["SETGID", "SETUID"]);
        assert_eq!(
            d.container_security_context["allowPrivilegeEscalation"],
            json!(true)
        );
        assert_eq!(d.pod_spec["hostUsers"], json!(false));
        assert_eq!(d.kubelet_settings["userNamespaces.idsPerPod"], "131072");
        assert!(d.reasons.iter().any(|r| r.contains("/dev/fuse")));
    }

    fn byo(sandbox: &str, kernel: &str, runtime: &str, k8s: &str) -> Decision {
        let mut i = Input::new(sandbox, "kubernetes");
        i.kubernetes_version = Some(v(k8s));
        i.kernel_version = Some(v(kernel));
        i.container_runtime = Some(Runtime::parse(runtime).unwrap());
        decide(data(), &i).unwrap()
    }

    #[test]
    fn host_users_on_containerd_1_6_is_an_error_and_1_7_a_warning() {
        let d = byo("bubblewrap", "6.8", "containerd 1.6.20", "1.33");
        let e = errors(&d);
        assert_eq!(e[0].field, Field::ContainerRuntime);
        assert!(e[0].detail.contains("silently ignores"));
        let d = byo("bubblewrap", "6.8", "containerd 1.7.2", "1.33");
        assert!(!d.has_errors(), "{:?}", d.findings);
        assert!(
            d.warnings
                .iter()
                .any(|w| w.contains("duplicates image storage"))
        );
        let d = byo("bubblewrap", "6.8", "containerd 2.1", "1.33");
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        let d = byo("bubblewrap", "6.8", "cri-o 1.24", "1.33");
        assert_eq!(errors(&d)[0].field, Field::ContainerRuntime);
        // CRI-O hosts usually run SELinux: bubblewrap needs a mount policy.
        let d = byo("bubblewrap", "6.8", "cri-o 1.30", "1.33");
        assert!(
            d.warnings.iter().any(|w| w.contains("container_t")),
            "{:?}",
            d.warnings
        );
    }

    #[test]
    fn old_kernels_need_slow_chown() {
        let d = byo("podman", "5.15", "containerd 2.0", "1.33");
        assert!(d.has_errors()); // below 6.3
        assert!(d.warnings.iter().any(|w| w.contains("slow_chown")));
    }

    #[test]
    fn user_namespaces_false_explains_the_alternative() {
        let mut i = Input::new("nsjail", "eks");
        i.kubernetes_version = Some(v("1.33"));
        i.user_namespaces = false;
        let d = decide(data(), &i).unwrap();
        let e = errors(&d);
        assert_eq!(e[0].field, Field::UserNamespaces);
        assert!(e[0].detail.contains("--no-user-namespace"));
        // landjail needs none: the node pins the sysctl to 0.
        let mut i = Input::new("landjail", "eks");
        i.kubernetes_version = Some(v("1.33"));
        i.ami_family = Some("al2023".into());
        i.user_namespaces = false;
        let d = decide(data(), &i).unwrap();
        assert!(!d.has_errors());
        assert_eq!(d.sysctls["user.max_user_namespaces"], "0");
    }

    #[test]
    fn al2_past_1_32_has_no_images() {
        let d = eks("nsjail", Some("al2"), "1.33");
        let e = errors(&d);
        assert_eq!(e[0].field, Field::AmiFamily);
        assert!(e[0].detail.contains("1.32 is the last version"));
    }

    #[test]
    fn omitted_family_picks_the_preferred_one_that_works() {
        let d = eks("nsjail", None, "1.33");
        assert_eq!(d.ami_family.as_deref(), Some("al2023"));
        let mut i = Input::new("podman", "eks");
        i.kubernetes_version = Some(v("1.33"));
        i.architecture = Architecture::Arm64;
        let d = decide(data(), &i).unwrap();
        assert_eq!(d.ami_type.as_deref(), Some("AL2023_ARM_64_STANDARD"));
        // Only AL2 has images for 1.27: it is chosen, and the reason says why.
        let d = eks("nsjail", None, "1.27");
        assert!(!d.has_errors(), "{:?}", d.findings);
        assert_eq!(d.ami_family.as_deref(), Some("al2"));
        assert!(
            d.reasons[0].contains("al2023 cannot run nsjail"),
            "{:?}",
            d.reasons
        );
    }

    #[test]
    fn openshift_versions() {
        let os = |ver: &str| {
            let mut i = Input::new("podman", "openshift");
            i.openshift_version = Some(v(ver));
            decide(data(), &i).unwrap()
        };
        assert!(errors(&os("4.16"))[0].detail.contains("4.17"));
        let d = os("4.19");
        assert!(!d.has_errors());
        assert!(d.warnings.iter().any(|w| w.contains("blocks upgrades")));
        let d = os("4.20");
        assert!(d.findings.is_empty(), "{:?}", d.findings);
    }

    #[test]
    fn fields_of_other_platforms_are_errors() {
        let mut i = Input::new("nsjail", "eks");
        i.kubernetes_version = Some(v("1.33"));
        i.openshift_version = Some(v("4.20"));
        i.kernel_version = Some(v("6.1"));
        let d = decide(data(), &i).unwrap();
        let fields: Vec<Field> = errors(&d).iter().map(|f| f.field).collect();
        assert!(fields.contains(&Field::OpenshiftVersion));
        assert!(fields.contains(&Field::KernelVersion));
    }

    #[test]
    fn decisions_are_deterministic() {
        let a = eks("podman", Some("bottlerocket"), "1.36");
        let b = eks("podman", Some("bottlerocket"), "1.36");
        assert_eq!(a, b);
        assert_eq!(
            a.container_security_context.to_string(),
            b.container_security_context.to_string()
        );
    }
}
