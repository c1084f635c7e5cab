//! The capability data (`schemas/capabilities.toml`): parsed into typed rows
//! and validated once, so a malformed row fails a test, never a user.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use super::kinds::{
    AmiFamily, Architecture, ImageVariant, NodeImage, PlatformKind, RuntimeKind, SandboxKind,
};
use super::release::{Release, ReleaseFormat};
use super::{CapabilityError, Version};

const CAPABILITIES_TOML: &str = include_str!("../../../schemas/capabilities.toml");

/// How sure a fact is: read in a primary source (release notes, build
/// files), or only reported (an issue, a third party).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    #[default]
    Documented,
    Reported,
}

/// A node image: a family's variants on a range of Kubernetes versions and
/// a range of its releases, with what the node gives a pod that sets
/// nothing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageRow {
    pub family: AmiFamily,
    /// The image variants the row describes.
    #[serde(default = "standard_variant")]
    pub variants: Vec<ImageVariant>,
    /// Architectures the row describes; empty = all.
    #[serde(default)]
    pub architectures: Vec<Architecture>,
    pub kubernetes: [Version; 2],
    /// The first release with these facts and the newest one the sources
    /// list, in the family's release format; absent = every release. A row
    /// applies from its first release until the next row's first.
    pub releases: Option<[String; 2]>,
    /// `releases`, parsed with the family's release format.
    #[serde(skip)]
    pub release_range: Option<[Release; 2]>,
    pub kernel: Version,
    pub containerd: Option<Version>,
    /// The runc series, where a source states it.
    pub runc: Option<Version>,
    pub landlock_enabled: bool,
    /// The image's default `user.max_user_namespaces`; `None` = kernel default (non-zero).
    pub max_user_namespaces: Option<u64>,
    /// The kubelet runs pods without a seccomp profile under RuntimeDefault.
    pub seccomp_default: bool,
    /// The image's bootstrap can set the kubelet's `idsPerPod`.
    #[serde(default = "yes")]
    pub ids_per_pod_setting: bool,
    #[serde(default)]
    pub evidence: Evidence,
    /// Known problems of these releases for `hostUsers: false` pods:
    /// warnings wherever a sandbox needs one.
    #[serde(default)]
    pub host_users_known_issues: Vec<String>,
    pub sources: Vec<String>,
}

fn standard_variant() -> Vec<ImageVariant> {
    vec![ImageVariant::Standard]
}

fn yes() -> bool {
    true
}

impl ImageRow {
    pub fn covers(&self, k8s: Version) -> bool {
        self.kubernetes[0] <= k8s && k8s <= self.kubernetes[1]
    }

    /// The row describes `variant` on `arch`.
    pub fn describes(&self, variant: ImageVariant, arch: Architecture) -> bool {
        self.variants.contains(&variant)
            && (self.architectures.is_empty() || self.architectures.contains(&arch))
    }

    /// The first release with these facts (`None`: every release).
    pub fn first_release(&self) -> Option<Release> {
        self.release_range.map(|r| r[0])
    }

    /// "v20251016 to v20260714" (or "every release").
    pub fn releases_text(&self) -> String {
        self.release_range.map_or_else(
            || "every release".to_string(),
            |[a, b]| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a} to {b}")
                }
            },
        )
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FamilyRow {
    pub name: AmiFamily,
    pub title: String,
    /// How the family numbers its node image releases.
    pub release_format: ReleaseFormat,
    /// The EKS `amiType` of each variant on each architecture.
    pub ami_type: BTreeMap<ImageVariant, BTreeMap<Architecture, String>>,
    /// Why the family should no longer be used, when it should not: warned
    /// whenever a decision uses it.
    pub retired: Option<String>,
    /// What the family's nodes enforce with SELinux, said where a sandbox
    /// that mounts needs a policy.
    pub selinux: Option<String>,
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformRow {
    pub name: PlatformKind,
    pub title: String,
    /// Families the platform runs, in order of preference.
    pub families: Vec<AmiFamily>,
    /// Families it runs only when `ami_family` names them.
    #[serde(default)]
    pub also_accepts: Vec<AmiFamily>,
    /// The user describes the nodes (kernel, runtime, seccomp default).
    #[serde(default)]
    pub node_facts_from_inputs: bool,
    /// The platform owns the node's bootstrap: no AMI type, no user data.
    #[serde(default)]
    pub owns_bootstrap: bool,
    /// Decisions need `openshift_version` (its rows carry the Kubernetes
    /// version and the feature gates).
    #[serde(default)]
    pub needs_openshift_version: bool,
    /// Nodes run SELinux (CRI-O): sandboxes that mount need a policy.
    #[serde(default)]
    pub selinux: bool,
    /// Why the kernel version does not tell whether Landlock is there.
    pub landlock_unknown: Option<String>,
    pub sysctls_settable: bool,
    pub capabilities_allowed: bool,
    /// What is not known about the platform's kernel, said plainly.
    pub unknown_kernel: Option<String>,
    /// The platform runs its own builds of the family's images, whose facts
    /// are only reported: said with every decision there.
    pub images_reported: Option<String>,
    /// GKE and AKS: the node images (`[[node_image]]` rows) the platform
    /// runs, in the order the provider tries them when `node_image` is
    /// unset.
    #[serde(default)]
    pub node_images: Vec<NodeImage>,
    /// The node pool setting that chooses the node image, as the cloud's
    /// Terraform provider names it (`image_type`, `os_sku`).
    pub node_image_setting: Option<String>,
    /// The only capabilities pods may add (GKE Autopilot); `None`: any
    /// (where `capabilities_allowed`).
    pub allowed_capabilities: Option<Vec<String>>,
    /// Capabilities pods may add only after the cluster opts in, with how.
    #[serde(default)]
    pub capability_opt_ins: BTreeMap<String, String>,
    /// Pods may name `seccompProfile: Unconfined`.
    #[serde(default = "yes")]
    pub unconfined_seccomp_allowed: bool,
    /// Pods may name a Localhost seccomp profile (its file must be put on
    /// the node).
    #[serde(default = "yes")]
    pub localhost_seccomp_allowed: bool,
    /// Privileged pods are admitted, so a node-prep DaemonSet can set what
    /// no node pool setting can.
    #[serde(default = "yes")]
    pub privileged_allowed: bool,
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LandlockRow {
    pub abi: u32,
    pub kernel: Version,
    pub sources: Vec<String>,
}

/// What `hostUsers: false` needs from a node.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostUsersRow {
    pub kernel_floor: Version,
    pub containerd_floor: Version,
    /// From this Kubernetes version hostUsers: false needs `containerd_floor`.
    pub containerd_floor_kubernetes: Version,
    pub containerd_ignored_below: Version,
    pub crio_floor: Version,
    /// The OCI runtimes' floors for `hostUsers: false` from Kubernetes
    /// `containerd_floor_kubernetes` on.
    pub runc_floor: Version,
    pub crun_floor: Version,
    pub kubernetes_default_on: Version,
    pub kubernetes_available: Version,
    pub overlay_idmap_kernel: Version,
    pub ids_per_pod_kubernetes: Version,
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxRow {
    pub name: SandboxKind,
    pub title: String,
    #[serde(default)]
    pub needs_user_namespaces: bool,
    #[serde(default)]
    pub needs_host_users_false: bool,
    #[serde(default)]
    pub proc_mount_unmasked: bool,
    pub landlock_abi: Option<u32>,
    #[serde(default)]
    pub devices: Vec<String>,
    /// The sandbox mounts file systems in the container (its own root,
    /// proc): an AppArmor profile that denies mount stops it.
    #[serde(default)]
    pub mounts: bool,
    pub without_user_namespaces: Option<String>,
    pub selinux_warning: Option<String>,
    pub reason: String,
    pub sources: Vec<String>,
}

/// How the sandbox's process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agent {
    NonRoot,
    Root,
}

impl Agent {
    pub fn as_str(self) -> &'static str {
        match self {
            Agent::NonRoot => "non_root",
            Agent::Root => "root",
        }
    }
}

/// The pod settings a sandbox needs when its process runs as `agent` (and,
/// for nsjail, with or without its own user namespace).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeRow {
    pub sandbox: SandboxKind,
    pub agent: Agent,
    /// `None`: the row applies with and without the sandbox's own user namespace.
    pub user_namespace: Option<bool>,
    pub capabilities: Vec<String>,
    #[serde(default)]
    pub allow_privilege_escalation: bool,
    /// RuntimeDefault seccomp stops the sandbox with these capabilities.
    #[serde(default)]
    pub runtime_default_blocks: bool,
    /// The sandbox works under RuntimeDefault: the provider sets it, so the
    /// pod can meet the restricted Pod Security Standard.
    #[serde(default)]
    pub seccomp_runtime_default: bool,
    /// Where RuntimeDefault stops the sandbox: the syscalls it makes that
    /// containerd's RuntimeDefault refuses. Added to it, they are the
    /// Localhost profile offered instead of Unconfined (the node lab runs
    /// the sandbox under it and without each one).
    #[serde(default)]
    pub localhost_adds: Vec<String>,
    #[serde(default)]
    pub image_needs: Vec<String>,
    pub error: Option<String>,
    pub reason: String,
    pub sources: Vec<String>,
}

/// What a container runtime gives a container that asks for nothing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeRow {
    pub name: RuntimeKind,
    pub default_capabilities: Vec<String>,
    pub masked_paths: Vec<String>,
    pub readonly_paths: Vec<String>,
    pub runtime_default: String,
    /// `runtime_default` as syscall names, where the lab checks it against
    /// the profile the runtime generates.
    #[serde(default)]
    pub runtime_default_syscalls: Option<RuntimeDefaultSyscalls>,
    pub sources: Vec<String>,
}

/// What a runtime's RuntimeDefault seccomp profile does with the syscalls
/// nested sandboxes use.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeDefaultSyscalls {
    /// Allowed only when CAP_SYS_ADMIN is in the bounding set.
    pub with_sys_admin: Vec<String>,
    /// Never allowed (fail with EPERM), whatever the capabilities.
    pub never: Vec<String>,
    /// Answered with ENOSYS, so that callers fall back (clone3 → clone).
    pub enosys: Vec<String>,
    /// Allowed to every container.
    pub allowed: Vec<String>,
}

/// The Pod Security Standards facts the level of a pod follows from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PodSecurityRow {
    pub baseline_capabilities: Vec<String>,
    pub restricted_capabilities: Vec<String>,
    pub unmasked_baseline_from: Version,
    pub sources: Vec<String>,
}

/// A Kubernetes version's support window on EKS.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EksSupportRow {
    pub kubernetes: Version,
    pub end_of_standard: Date,
    pub end_of_extended: Date,
    #[serde(default)]
    pub evidence: Evidence,
    pub sources: Vec<String>,
}

/// A calendar date, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl std::str::FromStr for Date {
    type Err = String;
    fn from_str(s: &str) -> Result<Date, String> {
        let bad = || format!("{s:?} is not a date like \"2026-12-01\"");
        let mut it = s.split('-');
        let (Some(y), Some(m), Some(d), None) = (it.next(), it.next(), it.next(), it.next()) else {
            return Err(bad());
        };
        let date = Date {
            year: y.parse().map_err(|_| bad())?,
            month: m.parse().map_err(|_| bad())?,
            day: d.parse().map_err(|_| bad())?,
        };
        if y.len() != 4 || !(1..=12).contains(&date.month) || !(1..=31).contains(&date.day) {
            return Err(bad());
        }
        Ok(date)
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A sandbox requirement that differs by platform or family.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantRow {
    pub sandbox: SandboxKind,
    pub platforms: Vec<PlatformKind>,
    /// Empty = any family.
    pub families: Vec<AmiFamily>,
    #[serde(default)]
    pub runtime_args: Vec<String>,
    #[serde(default)]
    pub drops_user_namespaces: bool,
    pub warning: Option<String>,
    pub error: Option<String>,
    pub recommend: Option<SandboxKind>,
    pub reason: String,
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateState {
    Absent,
    Preview,
    Default,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenShiftRow {
    pub versions: [Version; 2],
    pub kubernetes: Version,
    pub gates: GateState,
    #[serde(default)]
    pub pss_gate: bool,
    pub sources: Vec<String>,
}

/// The whole data file, validated.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapabilityData {
    pub image: Vec<ImageRow>,
    /// GKE and AKS node images.
    #[serde(default)]
    pub node_image: Vec<super::node_image::NodeImageRow>,
    pub apparmor: super::node_image::AppArmorRow,
    pub family: Vec<FamilyRow>,
    pub platform: Vec<PlatformRow>,
    pub landlock_abi: Vec<LandlockRow>,
    pub host_users: HostUsersRow,
    pub runtime: Vec<RuntimeRow>,
    pub sandbox: Vec<SandboxRow>,
    pub mode: Vec<ModeRow>,
    pub variant: Vec<VariantRow>,
    pub pod_security: PodSecurityRow,
    pub eks_support: Vec<EksSupportRow>,
    pub openshift: Vec<OpenShiftRow>,
    pub kubelet_setting: Vec<KubeletSettingRow>,
}

/// How a kubelet setting is written in each family's bootstrap.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeletSettingRow {
    /// KubeletConfiguration path, e.g. `userNamespaces.idsPerPod`.
    pub key: String,
    /// Bottlerocket settings path, e.g. `settings.kubernetes.ids-per-pod`.
    pub bottlerocket: String,
    pub bottlerocket_since: Version,
    pub al2023: String,
    pub sources: Vec<String>,
}

impl CapabilityData {
    /// Parse and validate a data document.
    pub fn parse(text: &str) -> Result<Self, CapabilityError> {
        let mut data: CapabilityData =
            toml::from_str(text).map_err(|e| CapabilityError::Data(e.to_string()))?;
        data.parse_release_ranges()?;
        data.check_consistency()?;
        Ok(data)
    }

    /// The embedded data, parsed once per process.
    pub fn embedded() -> Result<&'static CapabilityData, CapabilityError> {
        static DATA: OnceLock<Result<CapabilityData, CapabilityError>> = OnceLock::new();
        DATA.get_or_init(|| CapabilityData::parse(CAPABILITIES_TOML))
            .as_ref()
            .map_err(Clone::clone)
    }

    pub fn sandbox(&self, name: SandboxKind) -> Option<&SandboxRow> {
        self.sandbox.iter().find(|s| s.name == name)
    }

    pub fn platform(&self, name: PlatformKind) -> Option<&PlatformRow> {
        self.platform.iter().find(|p| p.name == name)
    }

    pub fn family(&self, name: AmiFamily) -> Option<&FamilyRow> {
        self.family.iter().find(|f| f.name == name)
    }

    /// Some image of `family` exists for `k8s` (any variant or release).
    pub fn has_image(&self, family: AmiFamily, k8s: Version) -> bool {
        self.image
            .iter()
            .any(|i| i.family == family && i.covers(k8s))
    }

    /// The image rows of one family, variant, architecture and Kubernetes
    /// version, oldest release first.
    pub fn image_releases(
        &self,
        family: AmiFamily,
        variant: ImageVariant,
        arch: Architecture,
        k8s: Version,
    ) -> Vec<&ImageRow> {
        let rows = self
            .image
            .iter()
            .filter(|i| i.family == family && i.covers(k8s) && i.describes(variant, arch));
        // Rows that name the architecture are used instead of those that
        // do not (AL2023's ARM64 NVIDIA AMIs run another kernel).
        let specific: Vec<&ImageRow> = rows
            .clone()
            .filter(|i| i.architectures.contains(&arch))
            .collect();
        let mut rows = if specific.is_empty() {
            rows.collect()
        } else {
            specific
        };
        rows.sort_by_key(|i| i.first_release());
        rows
    }

    /// How `family` numbers its releases.
    pub fn release_format(&self, family: AmiFamily) -> Option<ReleaseFormat> {
        self.family(family).map(|f| f.release_format)
    }

    fn parse_release_ranges(&mut self) -> Result<(), CapabilityError> {
        for (i, img) in self.image.iter_mut().enumerate() {
            let Some([a, b]) = &img.releases else {
                continue;
            };
            let row = || format!("image #{} ({} {})", i + 1, img.family, img.kubernetes[0]);
            let format = self
                .family
                .iter()
                .find(|f| f.name == img.family)
                .map(|f| f.release_format)
                .ok_or_else(|| CapabilityError::Row {
                    row: row(),
                    problem: "names a family without a [[family]] row".into(),
                })?;
            let parse = |s: &str| {
                format.parse_bare(s).ok_or_else(|| CapabilityError::Row {
                    row: row(),
                    problem: format!("release {s:?} is not like {:?}", format.example()),
                })
            };
            let range = [parse(a)?, parse(b)?];
            if range[0] > range[1] {
                return Err(CapabilityError::Row {
                    row: row(),
                    problem: "has an empty release range".into(),
                });
            }
            img.release_range = Some(range);
        }
        Ok(())
    }

    /// Kubernetes versions a family has images for (lowest, highest).
    pub fn family_range(&self, family: AmiFamily) -> Option<(Version, Version)> {
        let rows = self.image.iter().filter(|i| i.family == family);
        let lo = rows.clone().map(|i| i.kubernetes[0]).min()?;
        let hi = rows.map(|i| i.kubernetes[1]).max()?;
        Some((lo, hi))
    }

    pub fn landlock_kernel(&self, abi: u32) -> Option<&LandlockRow> {
        self.landlock_abi.iter().find(|l| l.abi == abi)
    }

    pub fn openshift(&self, version: Version) -> Option<&OpenShiftRow> {
        self.openshift
            .iter()
            .find(|o| o.versions[0] <= version && version <= o.versions[1])
    }

    /// The lowest kernel on which `sandbox` can work in a pod: the highest
    /// of the floors its needs imply. `None` when nothing sets a floor.
    pub fn kernel_floor(&self, sandbox: &SandboxRow) -> Option<Version> {
        let host_users = sandbox
            .needs_host_users_false
            .then_some(self.host_users.kernel_floor);
        let landlock = sandbox
            .landlock_abi
            .and_then(|abi| self.landlock_kernel(abi))
            .map(|l| l.kernel);
        host_users.into_iter().chain(landlock).max()
    }

    /// The mode row for `sandbox` run as `agent`, with or without its own
    /// user namespace: the first row that matches.
    pub fn mode_for(
        &self,
        sandbox: SandboxKind,
        agent: Agent,
        user_namespace: bool,
    ) -> Option<&ModeRow> {
        self.mode.iter().find(|m| {
            m.sandbox == sandbox
                && m.agent == agent
                && m.user_namespace.is_none_or(|u| u == user_namespace)
        })
    }

    pub fn runtime(&self, name: RuntimeKind) -> Option<&RuntimeRow> {
        self.runtime.iter().find(|r| r.name == name)
    }

    pub fn eks_support(&self, k8s: Version) -> Option<&EksSupportRow> {
        self.eks_support.iter().find(|e| e.kubernetes == k8s)
    }

    pub fn kubelet_setting(&self, key: &str) -> Option<&KubeletSettingRow> {
        self.kubelet_setting.iter().find(|k| k.key == key)
    }

    pub fn sandbox_names(&self) -> Vec<&'static str> {
        self.sandbox.iter().map(|s| s.name.as_str()).collect()
    }

    /// Rows in the data, and how many of them cite a source.
    pub fn row_counts(&self) -> (usize, usize) {
        let all: Vec<&[String]> = self
            .image
            .iter()
            .map(|r| r.sources.as_slice())
            .chain(self.node_image.iter().map(|r| r.sources.as_slice()))
            .chain(self.family.iter().map(|r| r.sources.as_slice()))
            .chain(self.platform.iter().map(|r| r.sources.as_slice()))
            .chain(self.landlock_abi.iter().map(|r| r.sources.as_slice()))
            .chain(std::iter::once(self.host_users.sources.as_slice()))
            .chain(std::iter::once(self.apparmor.sources.as_slice()))
            .chain(self.runtime.iter().map(|r| r.sources.as_slice()))
            .chain(self.sandbox.iter().map(|r| r.sources.as_slice()))
            .chain(self.mode.iter().map(|r| r.sources.as_slice()))
            .chain(self.variant.iter().map(|r| r.sources.as_slice()))
            .chain(std::iter::once(self.pod_security.sources.as_slice()))
            .chain(self.eks_support.iter().map(|r| r.sources.as_slice()))
            .chain(self.openshift.iter().map(|r| r.sources.as_slice()))
            .chain(self.kubelet_setting.iter().map(|r| r.sources.as_slice()))
            .collect();
        let sourced = all.iter().filter(|s| !s.is_empty()).count();
        (all.len(), sourced)
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
