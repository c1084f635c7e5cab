//! Decisions: sandbox × platform × AMI family × versions × how the sandbox
//! runs → what the node and the pod need, or why it cannot work.
//!
//! `decide` resolves the rows that apply to the input once ([`Facts`]:
//! sandbox, platform, family, image, variant, mode), runs a fixed list of
//! independent checks over them (the shape of Karpenter's compatibility
//! predicates) — [`platform`] (inputs, image, support window, variants),
//! [`pod`] (the mode's capabilities, seccomp, the Pod Security level) and
//! [`node`] (user namespaces, pod user namespaces, Landlock, OpenShift
//! gates) — and merges what each returns ([`Contribution`]: requirements
//! with their reasons, findings that name the input at fault). No check
//! sees another's result; a refusal two checks both find is reported once.

mod image;
mod managed;
#[cfg(test)]
mod managed_tests;
mod node;
mod platform;
mod pod;
#[cfg(test)]
mod release_tests;
mod seccomp;
#[cfg(test)]
mod seccomp_tests;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value as Json, json};

use super::data::{
    Agent, CapabilityData, Date, Evidence, FamilyRow, ImageRow, ModeRow, PlatformRow, SandboxRow,
    VariantRow,
};
use super::kinds::{
    AmiFamily, Architecture, ImageVariant, NodeImage, OciRuntimeKind, PlatformKind, RuntimeKind,
    SandboxKind,
};
use super::node_image::NodeImageRow;
use super::release::{PinnedRelease, Release};
use super::{CapabilityError, Version};

/// Default `user.max_user_namespaces` the provider sets where it must.
pub const DEFAULT_MAX_USER_NAMESPACES: u64 = 65536;

/// A container runtime and its version, e.g. `containerd 2.1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runtime {
    pub name: RuntimeKind,
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
        let lower = name.to_ascii_lowercase();
        let Some(name) = RuntimeKind::parse(&lower) else {
            return Err(format!(
                "unknown container runtime {lower:?}; use {}",
                RuntimeKind::NAMES
                    .iter()
                    .map(|n| format!("\"{n}\""))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ));
        };
        let version = version
            .trim_start_matches('v')
            .parse::<Version>()
            .map_err(|e| e.to_string())?;
        Ok(Runtime { name, version })
    }
}

/// `runc 1.2.5`, `crun 1.9`: an OCI runtime and its version.
pub fn parse_oci_runtime(s: &str) -> Result<(OciRuntimeKind, Version), String> {
    let shown = super::release::shown;
    let mut parts = s.split(' ');
    let (Some(name), Some(version), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!(
            "{} is not \"<runtime> <version>\", e.g. \"runc 1.2\" or \"crun 1.9\"",
            shown(s)
        ));
    };
    if s.chars().any(char::is_control) {
        return Err(format!(
            "{} has a control character; write \"<runtime> <version>\", e.g. \"runc 1.2\"",
            shown(s)
        ));
    }
    let kind = OciRuntimeKind::parse(&name.to_ascii_lowercase()).ok_or_else(|| {
        format!(
            "unknown OCI runtime {}; use \"runc\" or \"crun\"",
            shown(name)
        )
    })?;
    let version = version
        .trim_start_matches('v')
        .parse::<Version>()
        .map_err(|_| format!("{} is not a version like \"1.2.5\"", shown(version)))?;
    Ok((kind, version))
}

/// Everything a decision depends on.
#[derive(Debug, Clone)]
pub struct Input {
    pub sandbox: String,
    pub platform: String,
    pub kubernetes_version: Option<Version>,
    pub openshift_version: Option<Version>,
    pub ami_family: Option<String>,
    /// The image variant (`standard` when unset).
    pub ami_variant: Option<String>,
    /// The exact node image release, as the user wrote it (`v20251016`,
    /// `bottlerocket@v1.52.0`, an EKS `releaseVersion`; `latest` or unset:
    /// the newest the data knows).
    pub ami_release: Option<String>,
    /// GKE / AKS: the node image (GKE `image_type`, AKS `os_sku`, e.g.
    /// `COS_CONTAINERD`, `AzureLinux`); unset: the first of the platform's
    /// that can run the sandbox.
    pub node_image: Option<String>,
    /// Warn about the release: none pinned while older releases answer
    /// differently, or one newer than the data. Off where the release is
    /// whatever EKS gives the nodes (a node group created or refreshed
    /// without a pin, `terraform query`, a Karpenter `latest` alias).
    pub release_warnings: bool,
    pub architecture: Architecture,
    pub user_namespaces: bool,
    pub kernel_version: Option<Version>,
    pub container_runtime: Option<Runtime>,
    /// The OCI runtime and its version on your own nodes (`runc 1.2`).
    pub oci_runtime: Option<(OciRuntimeKind, Version)>,
    pub seccomp_default: Option<bool>,
    pub max_user_namespaces: u64,
    /// The sandbox's process runs as uid 0 (else as a non-root user).
    pub run_as_root: bool,
    /// The kubelet's `userNamespaces.idsPerPod`, when the user sets it.
    pub ids_per_pod: Option<u64>,
    /// `seccomp_profile = "localhost"`: where RuntimeDefault stops the
    /// sandbox, name a Localhost profile (RuntimeDefault plus the syscalls
    /// the sandbox makes) instead of Unconfined.
    pub seccomp_localhost: bool,
    /// Warn, where the pod ends up Unconfined although a Localhost profile
    /// is proven, that it has no syscall filter (`nested_capability` with
    /// `seccomp_profile` unset; not where the user chose `unconfined`).
    pub seccomp_tradeoff_warning: bool,
    /// The date support windows are judged on.
    pub today: Date,
}

impl Input {
    pub fn new(sandbox: &str, platform: &str) -> Self {
        Self {
            sandbox: sandbox.into(),
            platform: platform.into(),
            kubernetes_version: None,
            openshift_version: None,
            ami_family: None,
            ami_variant: None,
            ami_release: None,
            node_image: None,
            release_warnings: true,
            architecture: Architecture::X86_64,
            user_namespaces: true,
            kernel_version: None,
            container_runtime: None,
            oci_runtime: None,
            seccomp_default: None,
            max_user_namespaces: DEFAULT_MAX_USER_NAMESPACES,
            run_as_root: false,
            ids_per_pod: None,
            seccomp_localhost: false,
            seccomp_tradeoff_warning: false,
            today: today(),
        }
    }
}

/// Environment variable that fixes the date support windows are judged on
/// (`YYYY-MM-DD`): reproducible plans in tests and audits.
pub const TODAY_ENV: &str = "NESTED_PROVIDER_TODAY";

/// Today's date (UTC), or the one `NESTED_PROVIDER_TODAY` names.
pub fn today() -> Date {
    if let Some(d) = std::env::var(TODAY_ENV)
        .ok()
        .and_then(|s| s.trim().parse::<Date>().ok())
    {
        return d;
    }
    let d = time::OffsetDateTime::now_utc().date();
    Date {
        year: u16::try_from(d.year()).unwrap_or(u16::MAX),
        month: u8::from(d.month()),
        day: d.day(),
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
    AmiVariant,
    AmiRelease,
    /// GKE's `image_type`.
    ImageType,
    /// AKS's `os_sku`.
    OsSku,
    Architecture,
    UserNamespaces,
    KernelVersion,
    ContainerRuntime,
    OciRuntime,
    SeccompDefault,
    RunAsRoot,
    IdsPerPod,
    SeccompProfile,
}

impl Field {
    pub fn attribute(self) -> &'static str {
        match self {
            Field::Sandbox => "sandbox",
            Field::Platform => "platform",
            Field::KubernetesVersion => "kubernetes_version",
            Field::OpenshiftVersion => "openshift_version",
            Field::AmiFamily => "ami_family",
            Field::AmiVariant => "ami_variant",
            Field::AmiRelease => "ami_release",
            Field::ImageType => "image_type",
            Field::OsSku => "os_sku",
            Field::Architecture => "architecture",
            Field::UserNamespaces => "user_namespaces",
            Field::KernelVersion => "kernel_version",
            Field::ContainerRuntime => "container_runtime",
            Field::OciRuntime => "oci_runtime",
            Field::SeccompDefault => "seccomp_default",
            Field::RunAsRoot => "run_as_root",
            Field::IdsPerPod => "ids_per_pod",
            Field::SeccompProfile => "seccomp_profile",
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

/// A Localhost seccomp profile: containerd's RuntimeDefault plus the
/// syscalls one sandbox mode makes.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalhostProfile {
    /// The Security Profiles Operator's `SeccompProfile` name, e.g.
    /// `nested-bubblewrap-root`.
    pub name: String,
    /// `localhostProfile`: the file under the kubelet's `<root-dir>/seccomp`
    /// (`operator/<name>.json`, where the operator writes it).
    pub localhost_profile: String,
    /// The syscalls added to RuntimeDefault.
    pub adds: Vec<String>,
    /// The profile (OCI `linux.seccomp` JSON).
    pub profile: Json,
}

/// The outcome: requirements when it can work, findings when it cannot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    pub ami_family: Option<AmiFamily>,
    pub ami_type: Option<String>,
    /// GKE / AKS: the node image the decision is judged on.
    pub node_image: Option<NodeImage>,
    pub kernel_floor: Option<Version>,
    pub kernel_version: Option<Version>,
    /// The node image the decision is judged on (EKS platforms).
    pub image: Option<JudgedImage>,
    pub sysctls: BTreeMap<String, String>,
    /// Sysctls the sandbox needs at least at a value, whether the provider
    /// writes them (`sysctls`) or the image's default gives them: a user's
    /// bootstrap settings must not lower them (`user.max_user_namespaces`
    /// ≥ 1 for a sandbox that creates a user namespace).
    pub sysctl_floors: BTreeMap<String, u64>,
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
    /// What the container image must provide (sudo, helpers, …).
    pub image_needs: Vec<String>,
    /// The Localhost seccomp profile the pod names (`seccomp_profile =
    /// "localhost"`), which must be on the node before the pod starts.
    pub seccomp_localhost: Option<LocalhostProfile>,
    /// Character devices the sandbox uses in the container (the sandbox
    /// row's `devices`, e.g. `/dev/net/tun` for podman's rootless network).
    pub devices: Vec<String>,
    /// The Pod Security Standards level the pod's namespace must allow
    /// (`restricted`, `baseline` or `privileged`).
    pub pod_security_level: String,
    pub warnings: Vec<String>,
    pub reasons: Vec<String>,
    pub findings: Vec<Finding>,
}

impl Decision {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.error)
    }
}

/// The node image a decision was judged on: which releases of which
/// variant, and what they give a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JudgedImage {
    pub family: AmiFamily,
    pub variant: ImageVariant,
    /// The release the user pinned, canonical (`v20251016`); `None` when
    /// the newest known was assumed.
    pub pinned: Option<Release>,
    /// The releases the image row covers ("v20251016 to v20260714").
    pub releases: String,
    pub kernel: Version,
    pub containerd: Option<Version>,
    pub landlock_enabled: bool,
    pub seccomp_default: bool,
    /// The image's default `user.max_user_namespaces` (`None`: the
    /// kernel's, non-zero).
    pub max_user_namespaces: Option<u64>,
    pub evidence: Evidence,
}

/// The rows that apply to a decision, resolved once from the input; every
/// check reads these and nothing else.
pub(super) struct Facts<'a> {
    data: &'a CapabilityData,
    input: &'a Input,
    sandbox: &'a SandboxRow,
    platform: &'a PlatformRow,
    family: Option<AmiFamily>,
    family_row: Option<&'a FamilyRow>,
    /// The family is one the platform runs.
    family_allowed: bool,
    /// The image variant asked for (standard when unset).
    image_variant: ImageVariant,
    /// The release the user pinned, if it parses for the family.
    pin: Option<PinnedRelease>,
    /// Why the pinned release does not parse for the family.
    pin_error: Option<String>,
    /// The image rows of the family, variant, architecture and Kubernetes
    /// version, oldest release first.
    image_rows: Vec<&'a ImageRow>,
    image: Option<&'a ImageRow>,
    variant: Option<&'a VariantRow>,
    mode: Option<&'a ModeRow>,
    agent: Agent,
    /// The sandbox creates its own user namespace here (a platform variant,
    /// e.g. EKS Auto Mode, can run nsjail without one).
    creates_user_namespace: bool,
    /// The Kubernetes version the decision is for (EKS, your own nodes, or
    /// the OpenShift release's).
    kubernetes: Option<Version>,
    /// GKE / AKS: the node image judged, and its row for the Kubernetes
    /// version (none when the data has no row for it).
    node_image: Option<NodeImage>,
    node_image_row: Option<&'a NodeImageRow>,
}

impl<'a> Facts<'a> {
    fn resolve(
        data: &'a CapabilityData,
        input: &'a Input,
        sandbox: &'a SandboxRow,
        platform: &'a PlatformRow,
        family: Option<AmiFamily>,
        node_image: Option<NodeImage>,
    ) -> Facts<'a> {
        let family_allowed = family
            .is_some_and(|f| platform.families.contains(&f) || platform.also_accepts.contains(&f));
        let image_variant = input
            .ami_variant
            .as_deref()
            .and_then(ImageVariant::parse)
            .unwrap_or_default();
        let image_rows = match (family, input.kubernetes_version) {
            (Some(f), Some(k8s)) if family_allowed => {
                data.image_releases(f, image_variant, input.architecture, k8s)
            }
            _ => Vec::new(),
        };
        let format = family.and_then(|f| data.release_format(f));
        let (pin, pin_error) = match (format, input.ami_release.as_deref()) {
            (Some(fmt), Some(text)) => match fmt.parse_pin(text) {
                Ok(p) => (p, None),
                Err(e) => (None, Some(e)),
            },
            _ => (None, None),
        };
        let image = release_row(&image_rows, pin.as_ref().map(|p| p.release));
        let variant = data.variant.iter().find(|v| {
            v.sandbox == sandbox.name
                && v.platforms.contains(&platform.name)
                && (v.families.is_empty() || family.is_some_and(|f| v.families.contains(&f)))
        });
        let agent = if input.run_as_root {
            Agent::Root
        } else {
            Agent::NonRoot
        };
        let creates_user_namespace = !variant.is_some_and(|v| v.drops_user_namespaces);
        let kubernetes = input.kubernetes_version.or_else(|| {
            input
                .openshift_version
                .and_then(|v| data.openshift(v))
                .map(|o| o.kubernetes)
        });
        Facts {
            data,
            input,
            sandbox,
            platform,
            family,
            family_row: family.and_then(|f| data.family(f)),
            family_allowed,
            image_variant,
            pin,
            pin_error,
            image_rows,
            image,
            variant,
            mode: data.mode_for(sandbox.name, agent, creates_user_namespace),
            agent,
            creates_user_namespace,
            kubernetes,
            node_image,
            node_image_row: node_image
                .zip(input.kubernetes_version)
                .and_then(|(n, k8s)| data.node_image(platform.name, n, k8s)),
        }
    }

    /// The EKS platforms: they run node images of AMI families.
    fn is_eks(&self) -> bool {
        !self.platform.families.is_empty()
    }

    /// The same facts judged on another image row of the same family,
    /// variant and Kubernetes version.
    fn with_image(&self, image: &'a ImageRow) -> Facts<'a> {
        Facts {
            image: Some(image),
            image_rows: self.image_rows.clone(),
            pin: self.pin.clone(),
            pin_error: self.pin_error.clone(),
            ..*self
        }
    }

    /// "al2023 v20250807" / "bottlerocket (fips) v1.43.0" when a release is
    /// pinned, else the family ("al2023").
    /// The nodes' container runtime and, where known, its version: the
    /// user's `container_runtime`, else the image's containerd, else CRI-O
    /// on OpenShift.
    fn container_runtime(&self) -> Option<(RuntimeKind, Option<Version>)> {
        match &self.input.container_runtime {
            Some(r) => Some((r.name, Some(r.version))),
            None if self.platform.needs_openshift_version => Some((RuntimeKind::CriO, None)),
            None => self
                .image
                .and_then(|i| i.containerd)
                .or(self.node_image_row.and_then(|r| r.containerd))
                .map(|v| (RuntimeKind::Containerd, Some(v))),
        }
    }

    /// The input that chooses the node image on this platform.
    fn node_image_field(&self) -> Field {
        node_image_field(self.platform)
    }

    /// The nodes' kernel series: the image's, else the one the user gave.
    fn kernel(&self) -> Option<Version> {
        self.image
            .map(|i| i.kernel)
            .or(self.node_image_row.map(|r| r.kernel))
            .or(self.input.kernel_version)
    }

    /// Landlock is in the node kernel's LSM list: `None` where no source
    /// says (a GKE/AKS image whose row leaves it open); the user's own
    /// nodes are taken to have it (a warning says to check).
    fn landlock_enabled(&self) -> Option<bool> {
        match (self.image, self.node_image_row) {
            (Some(i), _) => Some(i.landlock_enabled),
            (None, Some(r)) => r.landlock_enabled,
            (None, None) => Some(true),
        }
    }

    /// The image's default `user.max_user_namespaces` (`None`: the
    /// kernel's, non-zero).
    fn image_max_user_namespaces(&self) -> Option<u64> {
        self.image
            .and_then(|i| i.max_user_namespaces)
            .or(self.node_image_row.and_then(|r| r.max_user_namespaces))
    }

    /// The nodes are described by an image row (EKS or GKE/AKS), not by
    /// the user.
    fn has_image_facts(&self) -> bool {
        self.image.is_some() || self.node_image_row.is_some()
    }

    fn image_name(&self) -> String {
        if let Some(n) = self.node_image {
            return n.to_string();
        }
        let family = self.family.map_or("node", |f| f.as_str());
        let variant = match self.image_variant {
            ImageVariant::Standard => String::new(),
            v => format!(" {v}"),
        };
        match &self.pin {
            Some(p) => format!("{family}{variant} {}", p.release),
            None => format!("{family}{variant}"),
        }
    }
}

/// The input that chooses the node image on `platform`: AKS's `os_sku`,
/// else GKE's `image_type`.
fn node_image_field(platform: &PlatformRow) -> Field {
    match platform.node_image_setting.as_deref() {
        Some("os_sku") => Field::OsSku,
        _ => Field::ImageType,
    }
}

/// The image row a release falls in: the one with the latest first release
/// not after it; the newest row when no release is pinned. `None` when the
/// release is older than every row (or there are none).
fn release_row<'a>(rows: &[&'a ImageRow], pin: Option<Release>) -> Option<&'a ImageRow> {
    match pin {
        None => rows.last().copied(),
        Some(r) => rows
            .iter()
            .rev()
            .find(|row| row.first_release().is_none_or(|first| first <= r))
            .copied(),
    }
}

/// What one check contributes: requirements (with reasons) and findings.
#[derive(Default)]
pub(super) struct Contribution {
    findings: Vec<Finding>,
    reasons: Vec<String>,
    capabilities: BTreeSet<String>,
    host_users_false: bool,
    proc_mount_unmasked: bool,
    /// The container names `appArmorProfile: Unconfined`.
    apparmor_unconfined: bool,
    allow_privilege_escalation: bool,
    seccomp_profile: Option<&'static str>,
    /// The Localhost profile the pod names (`seccomp_profile` is then
    /// `Localhost`).
    localhost_profile: Option<LocalhostProfile>,
    sysctls: BTreeMap<String, String>,
    sysctl_floors: BTreeMap<String, u64>,
    kubelet_settings: BTreeMap<String, String>,
    runtime_args: Vec<String>,
    image_needs: Vec<String>,
}

impl Contribution {
    fn error(&mut self, field: Field, summary: &str, detail: String) {
        self.findings.push(Finding {
            error: true,
            field,
            summary: summary.into(),
            detail,
        });
    }
    fn warn(&mut self, field: Field, summary: &str, detail: String) {
        self.findings.push(Finding {
            error: false,
            field,
            summary: summary.into(),
            detail,
        });
    }
    /// A reason with its sources.
    fn reason(&mut self, text: &str, sources: &[String]) {
        self.reasons
            .push(format!("{text} [{}]", sources.join("; ")));
    }
    /// A reason that follows from other rows' sources already given.
    fn note(&mut self, text: String) {
        self.reasons.push(text);
    }

    /// Add `other` to this one. Findings already present (the same
    /// severity, input and summary) are not repeated.
    fn merge(&mut self, other: Contribution) {
        for f in other.findings {
            let seen = self
                .findings
                .iter()
                .any(|g| g.error == f.error && g.field == f.field && g.summary == f.summary);
            if !seen {
                self.findings.push(f);
            }
        }
        self.reasons.extend(other.reasons);
        self.capabilities.extend(other.capabilities);
        self.host_users_false |= other.host_users_false;
        self.proc_mount_unmasked |= other.proc_mount_unmasked;
        self.apparmor_unconfined |= other.apparmor_unconfined;
        self.allow_privilege_escalation |= other.allow_privilege_escalation;
        self.seccomp_profile = other.seccomp_profile.or(self.seccomp_profile);
        if other.localhost_profile.is_some() {
            self.localhost_profile = other.localhost_profile;
        }
        self.sysctls.extend(other.sysctls);
        for (k, v) in other.sysctl_floors {
            let floor = self.sysctl_floors.entry(k).or_insert(v);
            *floor = (*floor).max(v);
        }
        self.kubelet_settings.extend(other.kubelet_settings);
        self.runtime_args.extend(other.runtime_args);
        self.image_needs.extend(other.image_needs);
    }
}

/// "a" or "an" before `word` (by its first letter: "an AMI family").
fn article(word: &str) -> &'static str {
    match word.chars().next().map(|c| c.to_ascii_lowercase()) {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

fn unknown_name(field: Field, kind: &str, name: &str, known: &[&str]) -> Finding {
    Finding {
        error: true,
        field,
        summary: format!("Unknown {kind}"),
        detail: match known.iter().find(|k| k.eq_ignore_ascii_case(name)) {
            Some(k) => format!(
                "{name:?} is not {} {kind} this provider knows: names are {}; write {k:?}.",
                article(kind),
                if k.chars().any(|c| c.is_ascii_uppercase()) {
                    "case-sensitive"
                } else {
                    "lower case"
                }
            ),
            None => format!(
                "{name:?} is not {} {kind} this provider knows. Use one of: {}.",
                article(kind),
                known.join(", ")
            ),
        },
    }
}

/// Decide for `input`. Errors in the data itself are returned as `Err`.
pub fn decide(data: &CapabilityData, input: &Input) -> Result<Decision, CapabilityError> {
    let refuse = |f: Finding| {
        Ok(Decision {
            findings: vec![f],
            ..Decision::default()
        })
    };
    let Some(sandbox) = SandboxKind::parse(&input.sandbox).and_then(|k| data.sandbox(k)) else {
        return refuse(unknown_name(
            Field::Sandbox,
            "sandbox",
            &input.sandbox,
            &data.sandbox_names(),
        ));
    };
    let Some(platform) = PlatformKind::parse(&input.platform).and_then(|k| data.platform(k)) else {
        let known: Vec<&str> = data.platform.iter().map(|p| p.name.as_str()).collect();
        return refuse(unknown_name(
            Field::Platform,
            "platform",
            &input.platform,
            &known,
        ));
    };
    if let Some(v) = &input.ami_variant
        && ImageVariant::parse(v).is_none()
    {
        return refuse(unknown_name(
            Field::AmiVariant,
            "image variant",
            v,
            ImageVariant::NAMES,
        ));
    }
    let asked = match &input.ami_family {
        Some(f) => match AmiFamily::parse(f) {
            Some(k) => Some(k),
            None => {
                let known: Vec<&str> = data.family.iter().map(|f| f.name.as_str()).collect();
                return refuse(unknown_name(Field::AmiFamily, "AMI family", f, &known));
            }
        },
        None => None,
    };

    let asked_image = match &input.node_image {
        Some(n) => match NodeImage::parse(n) {
            Some(k) => Some(k),
            None => {
                let field = node_image_field(platform);
                let known: Vec<&str> = if platform.node_images.is_empty() {
                    NodeImage::NAMES.to_vec()
                } else {
                    platform.node_images.iter().map(|n| n.as_str()).collect()
                };
                return refuse(unknown_name(field, field.attribute(), n, &known));
            }
        },
        None => None,
    };
    // GKE / AKS: choose the node image (explicit, or the first that works).
    if !platform.node_images.is_empty() {
        let candidates = asked_image.map_or_else(|| platform.node_images.clone(), |n| vec![n]);
        return Ok(first_that_works(
            &candidates,
            asked_image.is_some(),
            |n| {
                run(Facts::resolve(
                    data,
                    input,
                    sandbox,
                    platform,
                    None,
                    Some(*n),
                ))
            },
            node_image_field(platform).attribute(),
            sandbox.name,
        ));
    }
    // EKS platforms: choose the family (explicit, or the first that works).
    let candidates: Vec<AmiFamily> = match asked {
        Some(f) => vec![f],
        None => platform.families.clone(),
    };
    if candidates.is_empty() {
        return Ok(run(Facts::resolve(
            data,
            input,
            sandbox,
            platform,
            None,
            asked_image,
        )));
    }
    Ok(first_that_works(
        &candidates,
        asked.is_some(),
        |family| {
            run(Facts::resolve(
                data,
                input,
                sandbox,
                platform,
                Some(*family),
                None,
            ))
        },
        "ami_family",
        sandbox.name,
    ))
}

/// The decision for the first candidate (node image or AMI family) that
/// can run the sandbox, with a reason when it is not the first; else the
/// first candidate's refusal.
fn first_that_works<T: std::fmt::Display>(
    candidates: &[T],
    asked: bool,
    decide_for: impl Fn(&T) -> Decision,
    attribute: &str,
    sandbox: SandboxKind,
) -> Decision {
    let mut first: Option<Decision> = None;
    for candidate in candidates {
        let mut d = decide_for(candidate);
        if !d.has_errors() {
            if let Some(preferred) = candidates
                .first()
                .filter(|p| !asked && p.to_string() != candidate.to_string())
            {
                d.reasons.insert(
                    0,
                    format!(
                        "{attribute} {candidate} was chosen because {preferred} cannot run {sandbox} here"
                    ),
                );
            }
            return d;
        }
        first.get_or_insert(d);
    }
    first.unwrap_or_default()
}

fn run(facts: Facts<'_>) -> Decision {
    let mut d = run_checks(&facts);
    if let Some(w) = image::older_releases_differ(&facts, &d) {
        d.warnings.push(format!("{}: {}", w.summary, w.detail));
        d.findings.push(w);
    }
    d
}

fn run_checks(facts: &Facts<'_>) -> Decision {
    let mut all = Contribution::default();
    for check in CHECKS {
        all.merge(check(facts));
    }
    finish(facts, all)
}

type Check = fn(&Facts<'_>) -> Contribution;

/// The checks, in order (the order of their findings and reasons).
const CHECKS: &[Check] = &[
    platform::check_inputs_fit_the_platform,
    platform::check_family_and_image,
    image::check_variant_and_release,
    platform::check_support_window,
    platform::check_variant,
    pod::check_mode,
    platform::check_capabilities_allowed,
    managed::check_node_image,
    managed::check_capability_allowlist,
    managed::check_apparmor,
    node::check_user_namespaces,
    node::check_host_users,
    node::check_landlock,
    node::check_ids_per_pod,
    node::check_openshift_gates,
    seccomp::check_seccomp,
];

fn finish(f: &Facts<'_>, mut all: Contribution) -> Decision {
    // Pod: only what differs from Kubernetes defaults. `hostUsers` is a pod
    // spec field; no sandbox needs a pod-level securityContext field.
    let mut pod_spec = Map::new();
    if all.host_users_false {
        pod_spec.insert("hostUsers".into(), Json::Bool(false));
    }
    // Container: drop ALL, add only what the sandbox needs; never privileged.
    let mut container = Map::new();
    container.insert(
        "allowPrivilegeEscalation".into(),
        Json::Bool(all.allow_privilege_escalation),
    );
    let add: Vec<&String> = all.capabilities.iter().collect();
    let mut caps = Map::new();
    if !add.is_empty() {
        caps.insert("add".into(), json!(add));
    }
    caps.insert("drop".into(), json!(["ALL"]));
    container.insert("capabilities".into(), Json::Object(caps));
    container.insert("privileged".into(), Json::Bool(false));
    if all.proc_mount_unmasked {
        container.insert("procMount".into(), json!("Unmasked"));
    }
    if all.apparmor_unconfined {
        container.insert("appArmorProfile".into(), json!({ "type": "Unconfined" }));
    }
    match f.agent {
        Agent::NonRoot => container.insert("runAsNonRoot".into(), Json::Bool(true)),
        Agent::Root => container.insert("runAsUser".into(), json!(0)),
    };
    match (&all.localhost_profile, all.seccomp_profile) {
        (Some(l), _) => {
            container.insert(
                "seccompProfile".into(),
                json!({ "type": "Localhost", "localhostProfile": l.localhost_profile }),
            );
        }
        (None, Some(p)) => {
            container.insert("seccompProfile".into(), json!({ "type": p }));
        }
        (None, None) => {}
    }
    let (level, why) = pod::pod_security_level(f, &all);
    all.reason(&why, &f.data.pod_security.sources);
    let ami_type = match (f.family_row, f.family_allowed && !f.platform.owns_bootstrap) {
        (Some(row), true) => row
            .ami_type
            .get(&f.image_variant)
            .and_then(|by_arch| by_arch.get(&f.input.architecture))
            .cloned(),
        _ => None,
    };
    let kernel_version = f.kernel();
    Decision {
        ami_family: f.family.filter(|_| f.family_allowed),
        ami_type,
        node_image: f.node_image,
        kernel_floor: f.data.kernel_floor(f.sandbox),
        kernel_version,
        image: image::judged(f),
        sysctls: all.sysctls,
        sysctl_floors: all.sysctl_floors,
        kubelet_settings: all.kubelet_settings,
        pod_spec: Json::Object(pod_spec),
        pod_security_context: Json::Object(Map::new()),
        container_security_context: Json::Object(container),
        runtime_args: all.runtime_args,
        node_labels: BTreeMap::from([(
            format!("sandbox.nested.dev/{}", f.sandbox.name),
            "true".to_string(),
        )]),
        image_needs: all.image_needs,
        seccomp_localhost: all.localhost_profile,
        devices: f.sandbox.devices.clone(),
        pod_security_level: level.to_string(),
        warnings: all
            .findings
            .iter()
            .filter(|x| !x.error)
            .map(|x| format!("{}: {}", x.summary, x.detail))
            .collect(),
        reasons: all.reasons,
        findings: all.findings,
    }
}
