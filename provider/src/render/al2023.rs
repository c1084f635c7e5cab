//! Amazon Linux user data: a MIME multipart document.
//!
//! AL2023 nodes bootstrap with nodeadm: kubelet settings go in a
//! `NodeConfig` part (`application/node.eks.aws`), and since NodeConfig has
//! no sysctl field, sysctls go in a `text/x-shellscript` part. AL2 takes the
//! shell part only. User parts keep their order and come first; the
//! provider's parts follow, so nodeadm applies the provider's NodeConfig
//! last.

use std::collections::BTreeMap;

use super::mime;
use super::yaml;

pub use super::mime::{MimeError, Part};

/// The MIME type nodeadm reads a NodeConfig part from.
pub const NODECONFIG_CONTENT_TYPE: &str = "application/node.eks.aws";

/// Cluster fields a NodeConfig needs when the node group uses a custom AMI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterInfo {
    pub name: String,
    pub api_server_endpoint: String,
    pub certificate_authority: String,
    pub service_cidr: String,
}

/// Text that parses as a TOML document with at least one key, and has no
/// MIME headers: Bottlerocket settings.
fn is_toml(text: &str) -> bool {
    let has_content_type = text
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .lines()
        .any(|l| {
            l.split_once(':')
                .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("content-type"))
        });
    !has_content_type && text.parse::<toml::Table>().is_ok_and(|t| !t.is_empty())
}

/// The sysctl shell part.
pub fn sysctl_part(sysctls: &BTreeMap<String, String>) -> Option<Part> {
    if sysctls.is_empty() {
        return None;
    }
    let mut lines = String::new();
    for (k, v) in sysctls {
        lines.push_str(&format!("{k} = {v}\n"));
    }
    Some(Part::new(
        "text/x-shellscript; charset=\"us-ascii\"",
        format!(
            "#!/bin/bash\n# Written by terraform-provider-nested: kernel settings the sandbox needs.\nset -euo pipefail\ncat > /etc/sysctl.d/90-nested-sandbox.conf <<'SYSCTL'\n{lines}SYSCTL\nsysctl -p /etc/sysctl.d/90-nested-sandbox.conf\n"
        ),
    ))
}

/// The nodeadm NodeConfig part (kubelet settings; for custom AMIs the
/// cluster and the kubelet flags that register the node's labels and
/// taints, which nothing else applies there).
pub fn nodeconfig_part(
    kubelet: &BTreeMap<String, String>,
    cluster: Option<&ClusterInfo>,
    kubelet_flags: &[String],
) -> Option<Part> {
    if kubelet.is_empty() && cluster.is_none() && kubelet_flags.is_empty() {
        return None;
    }
    let mut spec = serde_json::Map::new();
    if let Some(c) = cluster {
        spec.insert(
            "cluster".into(),
            serde_json::json!({
                "name": c.name,
                "apiServerEndpoint": c.api_server_endpoint,
                "certificateAuthority": c.certificate_authority,
                "cidr": c.service_cidr,
            }),
        );
    }
    let mut kubelet_spec = serde_json::Map::new();
    if !kubelet.is_empty() {
        let mut config = serde_json::Map::new();
        for (path, value) in kubelet {
            insert_dotted(&mut config, path, value);
        }
        kubelet_spec.insert("config".into(), serde_json::Value::Object(config));
    }
    if !kubelet_flags.is_empty() {
        kubelet_spec.insert("flags".into(), serde_json::json!(kubelet_flags));
    }
    if !kubelet_spec.is_empty() {
        spec.insert("kubelet".into(), serde_json::Value::Object(kubelet_spec));
    }
    let doc = serde_json::json!({
        "apiVersion": "node.eks.aws/v1alpha1",
        "kind": "NodeConfig",
        "spec": serde_json::Value::Object(spec),
    });
    Some(Part::new(
        NODECONFIG_CONTENT_TYPE,
        format!("---\n{}", yaml::to_yaml(&doc)),
    ))
}

/// `userNamespaces.idsPerPod` = "131072" → {"userNamespaces": {"idsPerPod": 131072}}
fn insert_dotted(map: &mut serde_json::Map<String, serde_json::Value>, path: &str, value: &str) {
    let mut parts = path.split('.').peekable();
    let mut cur = map;
    while let Some(p) = parts.next() {
        if parts.peek().is_none() {
            let v = value
                .parse::<i64>()
                .map(serde_json::Value::from)
                .unwrap_or_else(|_| serde_json::Value::from(value));
            cur.insert(p.to_string(), v);
            return;
        }
        let next = cur
            .entry(p.to_string())
            .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
        if !next.is_object() {
            *next = serde_json::Value::Object(serde_json::Map::new());
        }
        let serde_json::Value::Object(m) = next else {
            return;
        };
        cur = m;
    }
}

/// Serialise parts as one multipart/mixed document (with a boundary that
/// occurs in none of them).
pub fn render(parts: &[Part]) -> String {
    mime::render(parts)
}

/// The Content-Type of a bare `#!` script: us-ascii when it is, else UTF-8.
fn script_content_type(text: &str) -> String {
    let charset = if text.is_ascii() { "us-ascii" } else { "utf-8" };
    format!("text/x-shellscript; charset=\"{charset}\"")
}

/// Parse a user's document into its parts, in order: a `#!` script or a
/// bare NodeConfig is one part; anything else must be a MIME multipart
/// document (read as RFC 2046 says, see [`mime::parse`]).
pub fn parse(text: &str) -> Result<Vec<Part>, MimeError> {
    let text = text.replace("\r\n", "\n");
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    if text.starts_with("#!") {
        return Ok(vec![Part::new(script_content_type(&text), text)]);
    }
    if is_nodeconfig(&text) {
        return Ok(vec![Part::new(NODECONFIG_CONTENT_TYPE, text)]);
    }
    let start = text.trim_start();
    if ["---", "apiVersion:", "kind:", "{"]
        .iter()
        .any(|p| start.starts_with(p))
        && text.contains("node.eks.aws/")
        && text.contains("NodeConfig")
        && let Err(e) = super::yaml_read::load_all(&text)
    {
        return Err(MimeError::NotMultipart(format!(
            "this looks like a nodeadm NodeConfig, but it is not YAML nodeadm can read ({e})"
        )));
    }
    if is_toml(&text) {
        return Err(MimeError::Toml);
    }
    mime::parse(&text)
}

/// A bare nodeadm NodeConfig YAML document (no MIME headers), taken as one
/// `application/node.eks.aws` part: block or flow style.
fn is_nodeconfig(text: &str) -> bool {
    super::nodeconfig::is_nodeconfig(text)
}

/// The user's parts (in their order, as [`parse`] read them) followed by
/// the provider's.
pub fn render_merged(mut theirs: Vec<Part>, ours: &[Part]) -> String {
    theirs.extend(ours.iter().cloned());
    render(&theirs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sysctls() -> BTreeMap<String, String> {
        [("user.max_user_namespaces".to_string(), "65536".to_string())].into()
    }

    #[test]
    fn renders_shell_and_nodeconfig_parts_deterministically() {
        let kubelet = [("userNamespaces.idsPerPod".to_string(), "131072".to_string())].into();
        let parts: Vec<Part> = [
            sysctl_part(&sysctls()),
            nodeconfig_part(&kubelet, None, &[]),
        ]
        .into_iter()
        .flatten()
        .collect();
        let a = render(&parts);
        assert_eq!(a, render(&parts));
        assert!(a.starts_with(
            "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"//NESTED-BOUNDARY//\"\n"
        ));
        assert!(a.contains("user.max_user_namespaces = 65536\n"));
        assert!(a.contains(
            "Content-Type: application/node.eks.aws\n\n---\napiVersion: \"node.eks.aws/v1alpha1\"\n"
        ));
        assert!(
            a.contains("      userNamespaces:\n        idsPerPod: 131072\n"),
            "{a}"
        );
        let back = parse(&a).unwrap();
        assert_eq!(back, parts);
    }

    #[test]
    fn custom_ami_nodeconfig_carries_the_cluster() {
        let cluster = ClusterInfo {
            name: "prod".into(),
            api_server_endpoint: "https://example.eks.amazonaws.com".into(),
            certificate_authority: "Q0E=".into(),
            service_cidr: "10.100.0.0/16".into(),
        };
        let flags = ["--node-labels=sandbox.nested.dev/podman=true".to_string()];
        let p = nodeconfig_part(&BTreeMap::new(), Some(&cluster), &flags).unwrap();
        assert!(
            p.body.contains("  cluster:\n    name: \"prod\"\n    apiServerEndpoint: \"https://example.eks.amazonaws.com\"\n"),
            "{}",
            p.body
        );
        assert!(p.body.contains("    cidr: \"10.100.0.0/16\"\n"));
        assert!(
            p.body
                .contains("    flags:\n      - \"--node-labels=sandbox.nested.dev/podman=true\"\n"),
            "{}",
            p.body
        );
    }

    #[test]
    fn user_parts_keep_their_order_before_ours() {
        let user = render(&[
            Part::new("text/x-shellscript", "#!/bin/bash\necho one\n"),
            Part::new("text/cloud-config", "runcmd: [two]\n"),
        ]);
        let merged = render_merged(parse(&user).unwrap(), &[sysctl_part(&sysctls()).unwrap()]);
        let parts = parse(&merged).unwrap();
        assert_eq!(parts.len(), 3);
        assert!(parts[0].body.contains("echo one"));
        assert!(parts[1].body.contains("two"));
        assert!(parts[2].body.contains("user.max_user_namespaces"));
    }

    #[test]
    fn a_bare_nodeconfig_is_one_nodeadm_part() {
        let doc = "---\napiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    config:\n      maxPods: 58\n";
        let parts = parse(doc).unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].content_type, NODECONFIG_CONTENT_TYPE);
        assert!(parts[0].body.contains("maxPods: 58"));
    }

    #[test]
    fn a_nodeconfig_that_is_not_yaml_says_so() {
        let e = parse("apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec: {kubelet: [\n")
            .unwrap_err();
        assert!(
            e.to_string().contains("looks like a nodeadm NodeConfig"),
            "{e}"
        );
        // Flow style is YAML too.
        let parts =
            parse("{apiVersion: node.eks.aws/v1alpha1, kind: NodeConfig, spec: {}}\n").unwrap();
        assert_eq!(parts[0].content_type, NODECONFIG_CONTENT_TYPE);
    }

    #[test]
    fn a_bare_script_is_one_part_and_garbage_is_an_error() {
        let parts = parse("#!/bin/sh\necho hi\n").unwrap();
        assert_eq!(parts.len(), 1);
        assert!(parse("hello").is_err());
        assert!(parse("Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nx\n").is_err());
    }
}
