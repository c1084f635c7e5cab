//! Contradictions between the user's own Amazon Linux parts and what the
//! sandbox needs. The provider's parts come after the user's, so at boot
//! they would win silently; a user part that sets a sysctl or a kubelet
//! setting the sandbox needs to another value is refused instead, naming
//! the part, the key and both values (as the Bottlerocket merge does).
//!
//! Read where the values are written the usual ways: sysctl lines
//! (`key = value` in a sysctl.d file, `sysctl -w key=value`), writes to
//! `/proc/sys/…`, and a NodeConfig's leaf key (`idsPerPod: 65536`).

use std::collections::BTreeMap;

use super::al2023::{NODECONFIG_CONTENT_TYPE, Part};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "your part {index} sets {key} to {theirs}, but the sandbox needs {ours}; remove that setting from your document (the provider writes {key} itself)"
)]
pub struct Contradiction {
    /// 1-based, in the user's document.
    pub index: usize,
    pub key: String,
    pub theirs: String,
    pub ours: String,
}

fn unquote(v: &str) -> &str {
    v.trim().trim_matches(['"', '\''])
}

/// The value a shell or sysctl.d line gives `key`, if it sets it.
fn sysctl_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let line = line.trim();
    if line.starts_with('#') {
        return None;
    }
    let proc_path = format!("/proc/sys/{}", key.replace('.', "/"));
    if let Some(pos) = line.find(&proc_path) {
        // echo 0 > /proc/sys/user/max_user_namespaces
        let before = line[..pos].trim_end().strip_suffix('>')?.trim_end();
        return before
            .strip_prefix("echo")
            .map(|v| v.split_whitespace().last().unwrap_or_default())
            .map(unquote);
    }
    let at = line.find(key)?;
    let rest = line[at + key.len()..].trim_start();
    let value = rest.strip_prefix('=')?.trim();
    let value = value.split_whitespace().next().unwrap_or_default();
    Some(unquote(value))
}

/// The value a NodeConfig line gives the leaf of `path`
/// (`userNamespaces.idsPerPod` → `idsPerPod: 65536`), if it sets it.
fn nodeconfig_value<'a>(line: &'a str, path: &str) -> Option<&'a str> {
    let leaf = path.rsplit('.').next().unwrap_or(path);
    let rest = line.trim().strip_prefix(leaf)?.strip_prefix(':')?;
    let value = rest.split('#').next().unwrap_or_default().trim();
    (!value.is_empty()).then(|| unquote(value))
}

/// The first contradiction between the user's `parts` and the sandbox's
/// `sysctls` and `kubelet` settings.
pub fn check(
    parts: &[Part],
    sysctls: &BTreeMap<String, String>,
    kubelet: &BTreeMap<String, String>,
) -> Result<(), Contradiction> {
    for (i, part) in parts.iter().enumerate() {
        let nodeconfig = part.content_type.starts_with(NODECONFIG_CONTENT_TYPE);
        for line in part.body.lines() {
            let found = if nodeconfig {
                kubelet
                    .iter()
                    .find_map(|(k, ours)| Some((k, ours, nodeconfig_value(line, k)?)))
            } else {
                sysctls
                    .iter()
                    .find_map(|(k, ours)| Some((k, ours, sysctl_value(line, k)?)))
            };
            if let Some((key, ours, theirs)) = found
                && theirs != ours
            {
                return Err(Contradiction {
                    index: i + 1,
                    key: key.clone(),
                    theirs: theirs.to_string(),
                    ours: ours.clone(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(content_type: &str, body: &str) -> Part {
        Part {
            content_type: content_type.into(),
            body: body.into(),
        }
    }

    fn needs() -> (BTreeMap<String, String>, BTreeMap<String, String>) {
        (
            [("user.max_user_namespaces".into(), "65536".into())].into(),
            [("userNamespaces.idsPerPod".into(), "131072".into())].into(),
        )
    }

    #[test]
    fn a_sysctl_set_otherwise_is_a_contradiction_however_it_is_written() {
        let (s, k) = needs();
        for body in [
            "#!/bin/bash\nsysctl -w user.max_user_namespaces=0\n",
            "#!/bin/bash\necho 'user.max_user_namespaces = 0' > /etc/sysctl.d/99.conf\n",
            "#!/bin/bash\necho 0 > /proc/sys/user/max_user_namespaces\n",
        ] {
            let e = check(&[part("text/x-shellscript", body)], &s, &k).unwrap_err();
            assert_eq!(e.key, "user.max_user_namespaces", "{body}");
            assert_eq!((e.theirs.as_str(), e.ours.as_str()), ("0", "65536"));
            assert_eq!(e.index, 1);
        }
    }

    #[test]
    fn the_same_value_comments_and_other_keys_are_fine() {
        let (s, k) = needs();
        let parts = [
            part(
                "text/x-shellscript",
                "#!/bin/bash\n# sysctl -w user.max_user_namespaces=0\nsysctl -w user.max_user_namespaces=65536\nsysctl -w net.ipv4.ip_forward=1\n",
            ),
            part(
                NODECONFIG_CONTENT_TYPE,
                "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    config:\n      maxPods: 58\n",
            ),
        ];
        assert_eq!(check(&parts, &s, &k), Ok(()));
    }

    #[test]
    fn a_kubelet_setting_set_otherwise_in_a_nodeconfig_is_a_contradiction() {
        let (s, k) = needs();
        let parts = [
            part("text/x-shellscript", "#!/bin/bash\necho hi\n"),
            part(
                NODECONFIG_CONTENT_TYPE,
                "spec:\n  kubelet:\n    config:\n      userNamespaces:\n        idsPerPod: 65536 # ours\n",
            ),
        ];
        let e = check(&parts, &s, &k).unwrap_err();
        assert_eq!(e.index, 2);
        assert!(
            e.to_string()
                .contains("sets userNamespaces.idsPerPod to 65536, but the sandbox needs 131072"),
            "{e}"
        );
    }
}
