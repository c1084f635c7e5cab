//! A Localhost seccomp profile as the file containerd loads and as the
//! Security Profiles Operator's `SeccompProfile`, which writes that file to
//! every node (kubernetes-sigs/security-profiles-operator:
//! api/seccompprofile/v1beta1/seccompprofile_types.go; cluster-scoped from
//! v0.10.0, the file at `<kubelet root>/seccomp/operator/<name>.json`).

use serde_json::{Map, Value as Json, json};

use super::yaml::to_yaml;

/// The profile file (JSON, OCI `linux.seccomp`), as the node reads it.
pub fn profile_file(profile: &Json) -> String {
    // A JSON value always serializes.
    serde_json::to_string_pretty(profile).unwrap_or_default() + "\n"
}

/// The `SeccompProfile` (security-profiles-operator.x-k8s.io/v1beta1)
/// whose spec is `profile`: the operator writes it as
/// `operator/<name>.json` under the kubelet's seccomp directory.
pub fn spo_manifest(name: &str, profile: &Json) -> String {
    let mut spec = Map::new();
    for key in ["defaultAction", "architectures"] {
        if let Some(v) = profile.get(key) {
            spec.insert(key.into(), v.clone());
        }
    }
    // The CRD's `args` has MaxItems 6 and omits empty lists.
    let syscalls: Vec<Json> = profile["syscalls"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|rule| {
            let mut r = rule.as_object().cloned().unwrap_or_default();
            if r.get("args")
                .and_then(Json::as_array)
                .is_some_and(Vec::is_empty)
            {
                r.remove("args");
            }
            Json::Object(r)
        })
        .collect();
    spec.insert("syscalls".into(), Json::Array(syscalls));
    to_yaml(&json!({
        "apiVersion": "security-profiles-operator.x-k8s.io/v1beta1",
        "kind": "SeccompProfile",
        "metadata": { "name": name },
        "spec": Json::Object(spec),
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_manifest_reads_back_as_the_profile() {
        let profile = json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [
                {"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": []},
                {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [
                    {"index": 0, "value": 2114060288u64, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
                {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}
            ]
        });
        let m = spo_manifest("nested-bubblewrap", &profile);
        assert!(m.starts_with(
            "apiVersion: \"security-profiles-operator.x-k8s.io/v1beta1\"\nkind: \"SeccompProfile\"\nmetadata:\n  name: \"nested-bubblewrap\"\nspec:\n"
        ), "{m}");
        // Empty argument lists are left out; filters and errno kept.
        assert_eq!(m.matches("args:").count(), 1, "{m}");
        assert!(m.contains("value: 2114060288"), "{m}");
        assert!(m.contains("errnoRet: 38"), "{m}");
        let file: Json = serde_json::from_str(&profile_file(&profile)).unwrap();
        assert_eq!(file, profile);
    }
}
