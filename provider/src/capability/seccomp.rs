//! Localhost seccomp profiles: containerd's own RuntimeDefault, as it
//! generates it for a container without the capabilities that widen it
//! (`schemas/seccomp-containerd-runtime-default.json`, a copy of what
//! containerd wrote into a container's OCI spec, checked against containerd
//! by the node lab), plus the syscalls one sandbox mode makes that
//! RuntimeDefault refuses (the `localhost_adds` of its `[[mode]]` row). The
//! node lab runs each sandbox under the profile on containerd 2.x and 1.7
//! and without each added syscall (acceptance/lab/tests/cri_seccomp.rs).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::CapabilityError;
use super::kinds::Architecture;

const RUNTIME_DEFAULT_JSON: &str =
    include_str!("../../../schemas/seccomp-containerd-runtime-default.json");

/// containerd's RuntimeDefault, the part every architecture shares and
/// each architecture's own part.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeDefaultProfile {
    /// The containerd release the rules were read from.
    pub runtime: String,
    pub sources: Vec<String>,
    #[serde(rename = "defaultAction")]
    pub default_action: String,
    /// The rules, in containerd's order, without the architecture's own.
    pub syscalls: Vec<Json>,
    pub architectures: BTreeMap<Architecture, ArchitectureRules>,
}

/// `arches()` and the `switch runtime.GOARCH` rule of `DefaultProfile`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchitectureRules {
    pub architectures: Vec<String>,
    pub syscalls: Vec<String>,
}

impl RuntimeDefaultProfile {
    /// The embedded profile, parsed once per process.
    pub fn embedded() -> Result<&'static RuntimeDefaultProfile, CapabilityError> {
        static PROFILE: OnceLock<Result<RuntimeDefaultProfile, CapabilityError>> = OnceLock::new();
        PROFILE
            .get_or_init(|| {
                serde_json::from_str(RUNTIME_DEFAULT_JSON).map_err(|e| {
                    CapabilityError::Data(format!(
                        "schemas/seccomp-containerd-runtime-default.json: {e}"
                    ))
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// RuntimeDefault as containerd generates it on `arch` (OCI
    /// `linux.seccomp`), or `None` for an architecture the data lacks.
    pub fn for_architecture(&self, arch: Architecture) -> Option<Json> {
        let own = self.architectures.get(&arch)?;
        let mut syscalls = self.syscalls.clone();
        syscalls.push(allow(&own.syscalls));
        Some(json!({
            "defaultAction": self.default_action,
            "architectures": own.architectures,
            "syscalls": syscalls,
        }))
    }

    /// The Localhost profile: RuntimeDefault on `arch` plus `adds` allowed
    /// whatever their arguments. A file in this format is what containerd
    /// loads for `seccompProfile: Localhost` (contrib/seccomp/seccomp.go
    /// `WithProfile`: the JSON into the OCI spec's `linux.seccomp`) and what
    /// the Security Profiles Operator writes from a `SeccompProfile`'s spec.
    pub fn with_adds(&self, arch: Architecture, adds: &[String]) -> Option<Json> {
        let mut p = self.for_architecture(arch)?;
        if let Some(rules) = p["syscalls"].as_array_mut() {
            rules.push(allow(adds));
        }
        Some(p)
    }
}

/// An unconditional allow rule, written as containerd writes one (no
/// `args`).
fn allow(names: &[String]) -> Json {
    json!({ "names": names, "action": "SCMP_ACT_ALLOW" })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// Literal facts from containerd/containerd:contrib/seccomp/seccomp_default.go.
    #[test]
    fn the_profile_is_containerds_runtime_default() {
        let p = RuntimeDefaultProfile::embedded().unwrap();
        assert_eq!(p.default_action, "SCMP_ACT_ERRNO");
        let x86 = p.for_architecture(Architecture::X86_64).unwrap();
        assert_eq!(
            x86["architectures"],
            json!(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
        );
        let arm = p.for_architecture(Architecture::Arm64).unwrap();
        assert_eq!(
            arm["architectures"],
            json!(["SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64"])
        );
        let rules = x86["syscalls"].as_array().unwrap();
        let allowed = |name: &str| {
            rules.iter().any(|r| {
                r["action"] == "SCMP_ACT_ALLOW"
                    && r["args"].as_array().is_none_or(Vec::is_empty)
                    && r["names"].as_array().unwrap().iter().any(|n| n == name)
            })
        };
        // Without SYS_ADMIN: no unshare, mount, pivot_root; clone only
        // without namespace flags (CLONE_NEWNS|NEWUTS|NEWIPC|NEWUSER|NEWPID|
        // NEWNET|NEWCGROUP = 0x7e020000), clone3 ENOSYS.
        for name in [
            "unshare",
            "mount",
            "umount2",
            "pivot_root",
            "setns",
            "clone",
            "keyctl",
        ] {
            assert!(!allowed(name), "{name}");
        }
        for name in ["read", "landlock_create_ruleset", "ptrace", "arch_prctl"] {
            assert!(allowed(name), "{name}");
        }
        assert!(rules.iter().any(|r| r["names"] == json!(["clone"])
            && r["args"][0]["value"] == json!(0x7e02_0000_u64)
            && r["args"][0]["op"] == "SCMP_CMP_MASKED_EQ"));
        assert!(
            rules
                .iter()
                .any(|r| r["names"] == json!(["clone3"]) && r["errnoRet"] == 38)
        );
    }
}
