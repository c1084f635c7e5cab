//! GKE and AKS node images (`[[node_image]]` rows): what a node pool of one
//! image type (GKE `image_type`) or OS SKU (AKS `os_sku`) on a range of
//! Kubernetes versions gives a pod that sets nothing. The clouds choose the
//! exact build; the rows hold what their release notes and build files say
//! of the images a version runs.

use serde::Deserialize;

use super::data::{CapabilityData, Evidence};
use super::kinds::{NodeImage, PlatformKind};
use super::{CapabilityError, Version};

/// One node image on a range of Kubernetes versions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeImageRow {
    pub name: NodeImage,
    /// Other names of the same image on these versions (AKS's `AzureLinux`
    /// and `AzureLinux3` from Kubernetes 1.32).
    #[serde(default)]
    pub aliases: Vec<NodeImage>,
    /// The platforms that run it.
    pub platforms: Vec<PlatformKind>,
    /// What the image is, e.g. "Container-Optimized OS (cos-121)".
    pub title: String,
    pub kubernetes: [Version; 2],
    pub kernel: Version,
    pub containerd: Option<Version>,
    /// Landlock is in the kernel's LSM list; `None`: no source says.
    pub landlock_enabled: Option<bool>,
    /// The image's default `user.max_user_namespaces`; `None` = kernel
    /// default (non-zero).
    pub max_user_namespaces: Option<u64>,
    /// The kubelet runs pods without a seccomp profile under RuntimeDefault.
    pub seccomp_default: bool,
    /// The platform accepts `hostUsers: false` pods on these nodes; `None`:
    /// judged by kernel, containerd and Kubernetes alone.
    pub host_users: Option<bool>,
    /// containerd applies its default AppArmor profile (`deny mount`) to
    /// containers that name none; `None`: no source says.
    pub apparmor: Option<bool>,
    /// `kernel.apparmor_restrict_unprivileged_userns = 1` (Ubuntu ≥ 23.10):
    /// an AppArmor-unconfined process without CAP_SYS_ADMIN cannot create a
    /// user namespace.
    #[serde(default)]
    pub apparmor_restricts_userns: bool,
    #[serde(default)]
    pub evidence: Evidence,
    pub sources: Vec<String>,
}

/// What AppArmor on a node does to a nested sandbox in a pod.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppArmorRow {
    /// What containerd's default profile denies that a sandbox needs.
    pub default_profile_denies: String,
    /// The sysctl of Ubuntu's restriction of unprivileged user namespaces.
    pub restrict_sysctl: String,
    /// The Kubernetes version from which the container's
    /// `securityContext.appArmorProfile` field exists (before it, the
    /// annotation).
    pub field_kubernetes: Version,
    pub sources: Vec<String>,
}

impl NodeImageRow {
    pub fn covers(&self, k8s: Version) -> bool {
        self.kubernetes[0] <= k8s && k8s <= self.kubernetes[1]
    }

    /// The row describes the image `name` (its own name or an alias).
    pub fn is(&self, name: NodeImage) -> bool {
        self.name == name || self.aliases.contains(&name)
    }
}

impl CapabilityData {
    /// The row of `image` on `platform` for Kubernetes `k8s`.
    pub fn node_image(
        &self,
        platform: PlatformKind,
        image: NodeImage,
        k8s: Version,
    ) -> Option<&NodeImageRow> {
        self.node_image
            .iter()
            .find(|r| r.is(image) && r.platforms.contains(&platform) && r.covers(k8s))
    }

    /// Kubernetes versions `image` has rows for on `platform` (lowest,
    /// highest).
    pub fn node_image_range(
        &self,
        platform: PlatformKind,
        image: NodeImage,
    ) -> Option<(Version, Version)> {
        let rows = self
            .node_image
            .iter()
            .filter(|r| r.is(image) && r.platforms.contains(&platform));
        let lo = rows.clone().map(|r| r.kubernetes[0]).min()?;
        let hi = rows.map(|r| r.kubernetes[1]).max()?;
        Some((lo, hi))
    }

    /// Every node image row names a platform whose `node_images` list it,
    /// and no two rows of one image and platform overlap.
    pub(super) fn check_node_images(&self) -> Result<(), CapabilityError> {
        for (i, row) in self.node_image.iter().enumerate() {
            let name = || format!("node_image #{} ({} {})", i + 1, row.name, row.kubernetes[0]);
            if row.kubernetes[0] > row.kubernetes[1] {
                return Err(CapabilityError::Row {
                    row: name(),
                    problem: "has an empty Kubernetes range".into(),
                });
            }
            if row.sources.is_empty() {
                return Err(CapabilityError::Row {
                    row: name(),
                    problem: "cites no source".into(),
                });
            }
            for (p, n) in row.platforms.iter().flat_map(|p| {
                std::iter::once(&row.name)
                    .chain(&row.aliases)
                    .map(move |n| (p, n))
            }) {
                let listed = self
                    .platform(*p)
                    .is_some_and(|pr| pr.node_images.contains(n));
                if !listed {
                    return Err(CapabilityError::Row {
                        row: name(),
                        problem: format!("names platform {p}, whose node_images do not list {n}"),
                    });
                }
            }
            let overlaps = self.node_image[..i].iter().any(|o| {
                (o.is(row.name) || row.aliases.iter().any(|a| o.is(*a)))
                    && o.platforms.iter().any(|p| row.platforms.contains(p))
                    && o.kubernetes[0] <= row.kubernetes[1]
                    && row.kubernetes[0] <= o.kubernetes[1]
            });
            if overlaps {
                return Err(CapabilityError::Row {
                    row: name(),
                    problem: "overlaps an earlier row of the same image and platform".into(),
                });
            }
        }
        Ok(())
    }
}
