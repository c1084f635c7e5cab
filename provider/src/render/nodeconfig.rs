//! A user's nodeadm NodeConfig, read as YAML (any style), to find what it
//! sets under `spec.kubelet.config`.
//!
//! nodeadm decodes the part's first YAML document (sigs.k8s.io/yaml, so
//! YAML 1.1 typing) and merges every NodeConfig part in order
//! (awslabs/amazon-eks-ami:nodeadm/internal/configprovider/mime.go).

use super::yaml_read::{self, Node, Typed};

/// A NodeConfig document: a mapping whose `apiVersion` is in the
/// `node.eks.aws` group and whose `kind` is `NodeConfig`.
pub fn is_nodeconfig(text: &str) -> bool {
    let Ok(Some(doc)) = yaml_read::load_first(text) else {
        return false;
    };
    doc.get("apiVersion")
        .and_then(Node::as_str)
        .is_some_and(|v| v.starts_with("node.eks.aws/"))
        && doc.get("kind").and_then(Node::as_str) == Some("NodeConfig")
}

/// What a NodeConfig document says about one kubelet setting.
#[derive(Debug, Clone, PartialEq)]
pub enum Setting {
    /// Not set.
    Absent,
    /// Set to this value (as written, and as typed).
    Set { written: String, value: Typed },
    /// Something near it the provider cannot read with certainty.
    Unsure(String),
}

/// `path` (dotted, under `spec.kubelet.config`, e.g.
/// `userNamespaces.idsPerPod`) in `doc`.
pub fn kubelet_setting(doc: &Node, path: &str) -> Setting {
    let full: Vec<&str> = ["spec", "kubelet", "config"]
        .into_iter()
        .chain(path.split('.'))
        .collect();
    let mut node = doc;
    for (depth, key) in full.iter().enumerate() {
        let like = node.keys_like(key);
        if !like.is_empty() {
            return Setting::Unsure(format!(
                "it has {} where nodeadm reads {}; whether that key is read depends on its spelling",
                like.join(", "),
                full[..=depth].join(".")
            ));
        }
        match node.get(key) {
            Some(next) => node = next,
            None => return Setting::Absent,
        }
    }
    match node {
        Node::Scalar(s) => Setting::Set {
            written: s.text.clone(),
            value: s.typed(),
        },
        _ => Setting::Unsure(format!("{} is not a single value", full.join("."))),
    }
}

/// Whether `value` is the number `ours` (as the kubelet would read it).
pub fn same_number(value: &Typed, ours: &str) -> bool {
    let Ok(want) = ours.parse::<i128>() else {
        return matches!(value, Typed::Str(s) if s == ours);
    };
    match value {
        Typed::Int(i) => *i == want,
        Typed::Float(f) => f.fract() == 0.0 && *f == want as f64,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Node {
        yaml_read::load_first(text).unwrap().unwrap()
    }

    #[test]
    fn finds_the_setting_in_block_and_flow_style() {
        for text in [
            "spec:\n  kubelet:\n    config:\n      userNamespaces:\n        idsPerPod: 65536\n",
            "spec: {kubelet: {config: {userNamespaces: {idsPerPod: 65536}}}}\n",
            "spec:\n  kubelet:\n    config: {\"userNamespaces\": {'idsPerPod': 0x10000}}\n",
        ] {
            match kubelet_setting(&doc(text), "userNamespaces.idsPerPod") {
                Setting::Set { value, .. } => assert!(same_number(&value, "65536"), "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        assert_eq!(
            kubelet_setting(
                &doc("spec:\n  kubelet:\n    config:\n      maxPods: 58\n"),
                "userNamespaces.idsPerPod"
            ),
            Setting::Absent
        );
        assert!(matches!(
            kubelet_setting(
                &doc("spec:\n  Kubelet:\n    config: {}\n"),
                "userNamespaces.idsPerPod"
            ),
            Setting::Unsure(_)
        ));
    }

    #[test]
    fn recognises_nodeconfig_documents() {
        assert!(is_nodeconfig(
            "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec: {}\n"
        ));
        assert!(is_nodeconfig(
            "{apiVersion: node.eks.aws/v1alpha1, kind: NodeConfig, spec: {}}"
        ));
        assert!(!is_nodeconfig("#!/bin/bash\necho hi\n"));
        assert!(!is_nodeconfig(
            "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\n"
        ));
        assert!(!is_nodeconfig("[settings]\nx = 1\n"));
        assert!(!same_number(&Typed::Str("65536".into()), "131072"));
    }
}
