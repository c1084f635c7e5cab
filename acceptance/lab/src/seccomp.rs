//! Seccomp: finding the runtime's profile file and resolving it into the
//! plain OCI `linux.seccomp` object, the way moby (`setupSeccomp`),
//! containerd (`contrib/seccomp`) and containers/common do — against the
//! container's **bounding** capability set, for the native architecture
//! and the running kernel.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::oci::spec::{LinuxSeccomp, LinuxSyscall};
use crate::{LabError, SeccompProfileSource};

/// moby's profile inside golang-github-docker-docker-dev.
const MOBY_REL: &str =
    "usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json";
/// containers-common's profile.
const CONTAINERS_COMMON: &str = "/usr/share/containers/seccomp.json";

/// Where `setup.sh` unpacks golang-github-docker-docker-dev when the
/// package itself is not installed: `$HOME/.cache/terraform-provider-nested/lab/moby`.
pub fn moby_cache_dir() -> PathBuf {
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from);
    home.join(".cache/terraform-provider-nested/lab/moby")
}

/// The candidate paths of a profile file, in the order they are tried.
/// `NODE_LAB_MOBY_PROFILE` / `NODE_LAB_CONTAINERS_PROFILE` override.
pub fn profile_candidates(source: SeccompProfileSource) -> Vec<PathBuf> {
    let (var, defaults) = match source {
        SeccompProfileSource::Moby => (
            "NODE_LAB_MOBY_PROFILE",
            vec![
                Path::new("/").join(MOBY_REL),
                moby_cache_dir().join(MOBY_REL),
            ],
        ),
        SeccompProfileSource::ContainersCommon => (
            "NODE_LAB_CONTAINERS_PROFILE",
            vec![PathBuf::from(CONTAINERS_COMMON)],
        ),
    };
    match std::env::var_os(var) {
        Some(p) => vec![PathBuf::from(p)],
        None => defaults,
    }
}

/// The first existing profile file for `source`.
pub fn profile_path(source: SeccompProfileSource) -> Option<PathBuf> {
    profile_candidates(source).into_iter().find(|p| p.is_file())
}

/// A moby / containers-common profile file (only the fields that matter).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    default_action: String,
    default_errno_ret: Option<u32>,
    arch_map: Option<Vec<ArchMap>>,
    architectures: Option<Vec<String>>,
    flags: Option<Vec<String>>,
    syscalls: Option<Vec<Rule>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArchMap {
    architecture: String,
    sub_architectures: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    names: Option<Vec<String>>,
    name: Option<String>,
    action: String,
    args: Option<Vec<Value>>,
    errno_ret: Option<u32>,
    includes: Option<Filter>,
    excludes: Option<Filter>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Filter {
    caps: Option<Vec<String>>,
    arches: Option<Vec<String>>,
    min_kernel: Option<String>,
}

/// moby's architecture name (Go's GOARCH) and libseccomp's for this machine.
fn native_arch() -> (&'static str, &'static str) {
    match std::env::consts::ARCH {
        "aarch64" => ("arm64", "SCMP_ARCH_AARCH64"),
        _ => ("amd64", "SCMP_ARCH_X86_64"),
    }
}

/// `major.minor` of the running kernel (`6.18.44-fc` → (6, 18)).
pub fn kernel_version() -> (u32, u32) {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    parse_version(release.trim())
}

fn parse_version(s: &str) -> (u32, u32) {
    let mut parts = s
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// Reads `source`'s profile and resolves it against `bounding` (OCI
/// names). For [`SeccompProfileSource::Moby`] the three `pkey_*` calls
/// containerd adds are allowed too.
pub fn runtime_default(
    source: SeccompProfileSource,
    bounding: &[String],
) -> Result<LinuxSeccomp, LabError> {
    let path = profile_path(source).ok_or_else(|| LabError::Seccomp {
        path: profile_candidates(source)
            .into_iter()
            .next()
            .unwrap_or_default(),
        detail: "not found; `bash acceptance/lab/setup.sh` installs it".into(),
    })?;
    let text = std::fs::read_to_string(&path).map_err(|e| LabError::Seccomp {
        path: path.clone(),
        detail: e.to_string(),
    })?;
    let mut resolved =
        resolve(&text, bounding, kernel_version()).map_err(|detail| LabError::Seccomp {
            path: path.clone(),
            detail,
        })?;
    if source == SeccompProfileSource::Moby {
        resolved.syscalls.push(LinuxSyscall {
            names: vec![
                "pkey_alloc".into(),
                "pkey_free".into(),
                "pkey_mprotect".into(),
            ],
            action: "SCMP_ACT_ALLOW".into(),
            errno_ret: None,
            args: None,
        });
    }
    Ok(resolved)
}

/// Resolves a profile's text: a rule is kept when all its `includes.caps`
/// are in `bounding`, none of its `excludes.caps` are, its arch filters
/// match the native arch and its `minKernel` is at most `kernel`.
fn resolve(text: &str, bounding: &[String], kernel: (u32, u32)) -> Result<LinuxSeccomp, String> {
    let profile: Profile = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let (goarch, native) = native_arch();
    let architectures = profile
        .arch_map
        .unwrap_or_default()
        .into_iter()
        .find(|m| m.architecture == native)
        .map(|m| {
            let mut a = vec![m.architecture];
            a.extend(m.sub_architectures.unwrap_or_default());
            a
        })
        .or(profile.architectures)
        .unwrap_or_else(|| vec![native.to_string()]);
    let has = |c: &String| bounding.contains(c);
    let mut syscalls = Vec::new();
    for rule in profile.syscalls.unwrap_or_default() {
        let inc = rule.includes.unwrap_or_default();
        let exc = rule.excludes.unwrap_or_default();
        let arch_in = |f: &Option<Vec<String>>| f.as_ref().map(|a| a.iter().any(|x| x == goarch));
        if arch_in(&inc.arches) == Some(false) || arch_in(&exc.arches) == Some(true) {
            continue;
        }
        if !inc.caps.unwrap_or_default().iter().all(has) {
            continue;
        }
        if exc.caps.unwrap_or_default().iter().any(has) {
            continue;
        }
        if inc.min_kernel.is_some_and(|k| kernel < parse_version(&k)) {
            continue;
        }
        if exc.min_kernel.is_some_and(|k| kernel >= parse_version(&k)) {
            continue;
        }
        let names = match (rule.names, rule.name) {
            (Some(n), _) if !n.is_empty() => n,
            (_, Some(n)) => vec![n],
            _ => continue,
        };
        syscalls.push(LinuxSyscall {
            names,
            action: rule.action,
            errno_ret: rule.errno_ret,
            args: rule.args.filter(|a| !a.is_empty()),
        });
    }
    Ok(LinuxSeccomp {
        default_action: profile.default_action,
        default_errno_ret: profile.default_errno_ret,
        architectures,
        flags: profile.flags.filter(|f| !f.is_empty()),
        syscalls,
    })
}

/// An allow-everything filter, the base for [`deny`] when the container
/// is otherwise unconfined.
pub fn allow_all() -> LinuxSeccomp {
    let (_, native) = native_arch();
    let mut architectures = vec![native.to_string()];
    if native == "SCMP_ARCH_X86_64" {
        architectures.extend(["SCMP_ARCH_X86".to_string(), "SCMP_ARCH_X32".to_string()]);
    }
    LinuxSeccomp {
        default_action: "SCMP_ACT_ALLOW".into(),
        default_errno_ret: None,
        architectures,
        flags: None,
        syscalls: Vec::new(),
    }
}

/// Makes `name` fail with `errno` (e.g. 38 = ENOSYS emulates a kernel
/// without the call): removes it from every rule, then adds an ERRNO rule.
pub fn deny(filter: &mut LinuxSeccomp, name: &str, errno: u32) {
    for rule in &mut filter.syscalls {
        rule.names.retain(|n| n != name);
    }
    filter.syscalls.retain(|r| !r.names.is_empty());
    filter.syscalls.push(LinuxSyscall {
        names: vec![name.to_string()],
        action: "SCMP_ACT_ERRNO".into(),
        errno_ret: Some(errno),
        args: None,
    });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const PROFILE: &str = r#"{
      "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
      "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                  {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
      "syscalls": [
        {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["unshare"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
        {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}],
         "excludes": {"caps": ["CAP_SYS_ADMIN"], "arches": ["s390", "s390x"]}},
        {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
        {"names": ["new_one"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "99.1"}}
      ]}"#;

    fn names(s: &LinuxSeccomp) -> Vec<String> {
        s.syscalls.iter().flat_map(|r| r.names.clone()).collect()
    }

    #[test]
    fn caps_come_from_the_bounding_set() {
        let none = resolve(PROFILE, &[], (6, 18)).unwrap();
        assert!(names(&none).contains(&"clone".into()));
        assert!(!names(&none).contains(&"unshare".into()));
        let admin = resolve(PROFILE, &["CAP_SYS_ADMIN".into()], (6, 18)).unwrap();
        assert!(names(&admin).contains(&"unshare".into()));
        assert!(!names(&admin).contains(&"clone".into()));
        assert!(!names(&admin).contains(&"new_one".into()));
        assert_eq!(admin.default_errno_ret, Some(1));
    }

    #[test]
    fn native_arch_and_sub_arches() {
        let r = resolve(PROFILE, &[], (6, 18)).unwrap();
        if std::env::consts::ARCH == "x86_64" {
            assert_eq!(
                r.architectures,
                ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
            );
            assert!(names(&r).contains(&"arch_prctl".into()));
        }
    }

    #[test]
    fn deny_replaces_allow_rules() {
        let mut r = resolve(PROFILE, &[], (6, 18)).unwrap();
        deny(&mut r, "read", 38);
        let last = r.syscalls.last().unwrap();
        assert_eq!(
            (last.names.clone(), last.errno_ret),
            (vec!["read".into()], Some(38))
        );
        assert_eq!(names(&r).iter().filter(|n| *n == "read").count(), 1);
    }

    #[test]
    fn kernel_release_parsing() {
        assert_eq!(parse_version("6.18.44-fc-v669"), (6, 18));
        assert_eq!(parse_version("4.8"), (4, 8));
    }
}
