//! The names the data uses, as enums: sandboxes, platforms and AMI
//! families. Each name is written once, here; the data file's rows
//! deserialize into these (a misspelt name fails to parse), and schemas
//! offer exactly these values.

use std::fmt;

use serde::Deserialize;

macro_rules! named {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in the data's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Every name, in the data's order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The value named `s` exactly (names are case-sensitive).
            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named!(
    /// A nested sandbox.
    SandboxKind {
        Nsjail = "nsjail",
        Landjail = "landjail",
        Bubblewrap = "bubblewrap",
        Podman = "podman",
    }
);

named!(
    /// Where the pods run.
    PlatformKind {
        Eks = "eks",
        EksAutoMode = "eks_auto_mode",
        EksFargate = "eks_fargate",
        Openshift = "openshift",
        Kubernetes = "kubernetes",
        Gke = "gke",
        GkeAutopilot = "gke_autopilot",
        Aks = "aks",
    }
);

named!(
    /// A GKE or AKS node image, named as the cloud's API and Terraform
    /// provider name it: GKE's node pool `image_type`, AKS's `os_sku`.
    NodeImage {
        CosContainerd = "COS_CONTAINERD",
        UbuntuContainerd = "UBUNTU_CONTAINERD",
        AzureLinux = "AzureLinux",
        AzureLinux3 = "AzureLinux3",
        Ubuntu = "Ubuntu",
        Ubuntu2204 = "Ubuntu2204",
        Ubuntu2404 = "Ubuntu2404",
    }
);

named!(
    /// An EKS node image family.
    AmiFamily {
        Bottlerocket = "bottlerocket",
        Al2023 = "al2023",
        Al2 = "al2",
    }
);

named!(
    /// A node's CPU architecture, as EKS and the SSM parameters name it.
    #[derive(Default)]
    Architecture {
        #[default]
        X86_64 = "x86_64",
        Arm64 = "arm64",
    }
);

named!(
    /// A variant of a family's node image (EKS `amiType` suffixes,
    /// Bottlerocket's `aws-k8s-<version>-<variant>`): they can differ in
    /// kernel and runtime (Bottlerocket's FIPS images run older kernels).
    #[derive(Default)]
    ImageVariant {
        #[default]
        Standard = "standard",
        Nvidia = "nvidia",
        Neuron = "neuron",
        Fips = "fips",
        NvidiaFips = "nvidia_fips",
    }
);

named!(
    /// The OCI runtime a container runtime starts containers with.
    OciRuntimeKind {
        Runc = "runc",
        Crun = "crun",
    }
);

named!(
    /// A container runtime.
    RuntimeKind {
        Containerd = "containerd",
        CriO = "cri-o",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in SandboxKind::ALL {
            assert_eq!(SandboxKind::parse(s.as_str()), Some(*s));
        }
        assert_eq!(
            PlatformKind::parse("eks_auto_mode"),
            Some(PlatformKind::EksAutoMode)
        );
        assert_eq!(AmiFamily::parse("Bottlerocket"), None, "names are exact");
        assert_eq!(AmiFamily::NAMES, ["bottlerocket", "al2023", "al2"]);
    }
}
