//! Amazon Linux user data: a MIME multipart document.
//!
//! AL2023 nodes bootstrap with nodeadm: kubelet settings go in a
//! `NodeConfig` part (`application/node.eks.aws`), and since NodeConfig has
//! no sysctl field, sysctls go in a `text/x-shellscript` part. AL2 takes the
//! shell part only. User parts keep their order and come first; the
//! provider's parts follow, so nodeadm applies the provider's NodeConfig
//! last.

use std::collections::BTreeMap;

use super::yaml;

/// Fixed boundary: the same input always renders the same bytes.
pub const BOUNDARY: &str = "//NESTED-BOUNDARY//";

/// The MIME type nodeadm reads a NodeConfig part from.
pub const NODECONFIG_CONTENT_TYPE: &str = "application/node.eks.aws";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub content_type: String,
    pub body: String,
}

/// Cluster fields a NodeConfig needs when the node group uses a custom AMI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterInfo {
    pub name: String,
    pub api_server_endpoint: String,
    pub certificate_authority: String,
    pub service_cidr: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MimeError {
    #[error("not a MIME multipart document: {0}")]
    NotMultipart(String),
    #[error("part {index}: {problem}")]
    Part { index: usize, problem: String },
    /// A TOML document (Bottlerocket settings) where Amazon Linux user
    /// data belongs.
    #[error(
        "this is TOML (Bottlerocket settings), but Amazon Linux user data is a MIME multipart document (Content-Type: multipart/mixed) or a #! shell script"
    )]
    Toml,
}

/// Text that parses as a TOML document with at least one key, and has no
/// MIME headers: Bottlerocket settings.
fn is_toml(text: &str) -> bool {
    header(
        text.split("\n\n").next().unwrap_or_default(),
        "content-type",
    )
    .is_none()
        && text.parse::<toml::Table>().is_ok_and(|t| !t.is_empty())
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
    Some(Part {
        content_type: "text/x-shellscript; charset=\"us-ascii\"".into(),
        body: format!(
            "#!/bin/bash\n# Written by terraform-provider-nested: kernel settings the sandbox needs.\nset -euo pipefail\ncat > /etc/sysctl.d/90-nested-sandbox.conf <<'SYSCTL'\n{lines}SYSCTL\nsysctl -p /etc/sysctl.d/90-nested-sandbox.conf\n"
        ),
    })
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
    Some(Part {
        content_type: NODECONFIG_CONTENT_TYPE.into(),
        body: format!("---\n{}", yaml::to_yaml(&doc)),
    })
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

/// Serialise parts as one multipart/mixed document.
pub fn render(parts: &[Part]) -> String {
    let mut out =
        format!("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"{BOUNDARY}\"\n\n");
    for p in parts {
        out.push_str(&format!(
            "--{BOUNDARY}\nContent-Type: {}\n\n",
            p.content_type
        ));
        out.push_str(&p.body);
        if !p.body.ends_with('\n') {
            out.push('\n');
        }
    }
    out.push_str(&format!("--{BOUNDARY}--\n"));
    out
}

/// Parse a user's multipart document into its parts, in order. A document
/// without MIME headers is taken as a single shell script part.
pub fn parse(text: &str) -> Result<Vec<Part>, MimeError> {
    let text = text.replace("\r\n", "\n");
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    if text.starts_with("#!") {
        return Ok(vec![Part {
            content_type: "text/x-shellscript; charset=\"us-ascii\"".into(),
            body: text,
        }]);
    }
    if is_nodeconfig(&text) {
        return Ok(vec![Part {
            content_type: NODECONFIG_CONTENT_TYPE.into(),
            body: text,
        }]);
    }
    if is_toml(&text) {
        return Err(MimeError::Toml);
    }
    let Some((headers, body)) = text.split_once("\n\n") else {
        return Err(MimeError::NotMultipart(
            "no blank line after the headers".into(),
        ));
    };
    let content_type = header(headers, "content-type").unwrap_or_default();
    if !content_type.to_ascii_lowercase().starts_with("multipart/") {
        return Err(MimeError::NotMultipart(
            "expected Content-Type: multipart/mixed (or a #! shell script)".into(),
        ));
    }
    let boundary = content_type
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .next()
        .map(|b| b.trim_matches('"').to_string())
        .ok_or_else(|| MimeError::NotMultipart("Content-Type has no boundary".into()))?;
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut closed = false;
    for (index, chunk) in body.split(&delimiter).enumerate().skip(1) {
        if chunk.starts_with("--") {
            closed = true;
            break;
        }
        let chunk = chunk.strip_prefix('\n').unwrap_or(chunk);
        let (part_headers, part_body) =
            chunk.split_once("\n\n").ok_or_else(|| MimeError::Part {
                index,
                problem: "no blank line after the part headers".into(),
            })?;
        let content_type = header(part_headers, "content-type").ok_or_else(|| MimeError::Part {
            index,
            problem: "no Content-Type".into(),
        })?;
        parts.push(Part {
            content_type,
            body: part_body.to_string(),
        });
    }
    if !closed {
        return Err(MimeError::NotMultipart(format!(
            "the closing boundary {delimiter}-- is missing"
        )));
    }
    Ok(parts)
}

/// A bare nodeadm NodeConfig YAML document (no MIME headers), taken as one
/// `application/node.eks.aws` part.
fn is_nodeconfig(text: &str) -> bool {
    let t = text.trim_start();
    (t.starts_with("---") || t.starts_with("apiVersion:"))
        && t.contains("node.eks.aws/")
        && t.lines().any(|l| {
            l.trim()
                .strip_prefix("kind:")
                .is_some_and(|k| k.trim().trim_matches(['"', '\'']) == "NodeConfig")
        })
}

fn header(headers: &str, name: &str) -> Option<String> {
    headers.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
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
            Part {
                content_type: "text/x-shellscript".into(),
                body: "#!/bin/bash\necho one\n".into(),
            },
            Part {
                content_type: "text/cloud-config".into(),
                body: "runcmd: [two]\n".into(),
            },
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
    fn a_bare_script_is_one_part_and_garbage_is_an_error() {
        let parts = parse("#!/bin/sh\necho hi\n").unwrap();
        assert_eq!(parts.len(), 1);
        assert!(parse("hello").is_err());
        assert!(parse("Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nx\n").is_err());
    }
}
