//! Contradictions between the user's own Amazon Linux parts and what the
//! sandbox needs. The provider's parts come after the user's, so at boot
//! they would win silently, or lose at the next reboot (a `sysctl.d` file
//! sorting after ours); a user part that sets a sysctl or a kubelet
//! setting the sandbox needs to another value is refused instead, naming
//! the part, the key, both values and the fix.
//!
//! Each part is read as its reader takes it (cloud-init's part types,
//! `text/plain` sniffed by its first line; nodeadm for NodeConfig parts),
//! with its transfer encoding undone: shell scripts by [`super::shell`],
//! NodeConfig as YAML ([`super::nodeconfig`]), cloud-config's `write_files`,
//! `bootcmd` and `runcmd`. What cannot be read with certainty is a
//! [`Doubt`], which callers show as a warning at `bootstrap_extra_settings`.

use std::collections::BTreeMap;

use base64::Engine;

use super::al2023::{NODECONFIG_CONTENT_TYPE, Part};
use super::mime::Content;
use super::nodeconfig::{self, Setting};
use super::shell::{self, Finding};
use super::sysctl_key;
use super::yaml_read::{self, Node};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "your part {index} ({media}) sets {key} to {theirs}, but the sandbox needs {ours} ({how}); remove that setting from your document (the provider writes {key} itself)"
)]
pub struct Contradiction {
    /// 1-based, in the user's document.
    pub index: usize,
    /// The part's media type.
    pub media: String,
    pub key: String,
    pub theirs: String,
    pub ours: String,
    /// Where and how, e.g. "line 3: `sysctl -w user.max_user_namespaces=0`".
    pub how: String,
}

/// Something in a part that may change what the sandbox needs, which the
/// provider cannot evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doubt {
    pub index: usize,
    pub media: String,
    pub key: String,
    pub ours: String,
    pub why: String,
}

impl std::fmt::Display for Doubt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "your part {} ({}): {}. The sandbox needs {} to be {}; make sure this part does not change it, or remove it.",
            self.index, self.media, self.why, self.key, self.ours
        )
    }
}

/// What the sandbox needs, as the checks take it.
struct Needs<'a> {
    /// Sysctls the provider writes (exact values).
    sysctls: &'a BTreeMap<String, String>,
    /// Sysctls that must stay at least at a value.
    floors: &'a BTreeMap<String, u64>,
    kubelet: &'a BTreeMap<String, String>,
    /// Every sysctl key above, for the scanners.
    keys: BTreeMap<String, String>,
    /// The kubelet settings' leaf names (`idsPerPod`), whose mention in a
    /// script cannot be evaluated.
    leaves: Vec<String>,
}

impl Needs<'_> {
    /// What the sandbox needs of `key`, as said to the user: `65536`, or
    /// `at least 1`.
    fn ours(&self, key: &str) -> String {
        if let Some(v) = self.sysctls.get(key).or_else(|| self.kubelet.get(key)) {
            return v.clone();
        }
        if let Some(floor) = self.floors.get(key) {
            return format!("at least {floor}");
        }
        self.kubelet
            .iter()
            .find(|(k, _)| k.rsplit('.').next() == Some(key))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// Whether `value` for the sysctl `key` is what the sandbox needs.
    fn satisfied(&self, key: &str, value: &str) -> bool {
        if let Some(ours) = self.sysctls.get(key) {
            return sysctl_key::same_value(value, ours);
        }
        match (self.floors.get(key), sysctl_key::kernel_int(value.trim())) {
            (Some(floor), Some(v)) => v >= i128::from(*floor),
            // Not a number: the kernel refuses the write.
            _ => true,
        }
    }

    fn all_keys(&self) -> impl Iterator<Item = &String> {
        self.keys.keys().chain(self.kubelet.keys())
    }
}

/// The first contradiction between the user's `parts` and the sandbox's
/// `sysctls` and `kubelet` settings, or what could not be read.
pub fn check(
    parts: &[Part],
    sysctls: &BTreeMap<String, String>,
    floors: &BTreeMap<String, u64>,
    kubelet: &BTreeMap<String, String>,
) -> Result<Vec<Doubt>, Box<Contradiction>> {
    let keys = sysctls
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .chain(floors.iter().map(|(k, v)| (k.clone(), v.to_string())))
        .collect();
    let needs = Needs {
        sysctls,
        floors,
        kubelet,
        keys,
        leaves: kubelet
            .keys()
            .filter_map(|k| k.rsplit('.').next().map(str::to_string))
            .collect(),
    };
    let mut doubts = Vec::new();
    let mut more = 0usize;
    for (i, part) in parts.iter().enumerate() {
        let index = i + 1;
        let media = part.media_type();
        let mut doubt = |key: &str, why: String| {
            let d = Doubt {
                index,
                media: media.clone(),
                key: key.to_string(),
                ours: needs.ours(key),
                why,
            };
            if doubts.contains(&d) {
                return;
            }
            if doubts.len() >= MAX_DOUBTS {
                more += 1;
            } else {
                doubts.push(d);
            }
        };
        let text = match part.content() {
            Ok(Content::Text(t)) => t,
            Ok(Content::Binary(bytes)) => {
                let what = if bytes.starts_with(&[0x1f, 0x8b]) {
                    "is gzip-compressed, which the provider cannot read"
                } else {
                    "is binary, which the provider cannot read"
                };
                for key in needs.all_keys() {
                    doubt(key, what.to_string());
                }
                continue;
            }
            Err(e) => {
                for key in needs.all_keys() {
                    doubt(key, e.clone());
                }
                continue;
            }
        };
        let findings = match kind(&media, &text) {
            Kind::NodeConfig => {
                nodeconfig_findings(&text, &needs, &mut doubt).map_err(|(key, theirs, how)| {
                    Box::new(Contradiction {
                        index,
                        media: media.clone(),
                        ours: needs.ours(&key),
                        key,
                        theirs,
                        how,
                    })
                })?;
                continue;
            }
            Kind::Shell => shell::scan(&text, &needs.keys, &needs.leaves)
                .into_iter()
                .map(|f| (f, None))
                .collect(),
            Kind::CloudConfig => cloud_config(&text, &needs, &mut doubt),
            Kind::Include => {
                for key in needs.all_keys() {
                    doubt(
                        key,
                        "includes content from URLs, which the provider cannot read".into(),
                    );
                }
                continue;
            }
            Kind::Other => {
                for key in needs.keys.keys() {
                    if sysctl_key::mentioned(&text, key) {
                        doubt(
                            key,
                            format!(
                                "mentions {key}, but the provider cannot evaluate a {media} part"
                            ),
                        );
                    }
                }
                for leaf in &needs.leaves {
                    if text.contains(leaf.as_str()) {
                        doubt(
                            leaf,
                            format!(
                                "mentions {leaf}, but the provider cannot evaluate a {media} part"
                            ),
                        );
                    }
                }
                continue;
            }
        };
        for (finding, place) in findings {
            match finding {
                Finding::Sets {
                    line,
                    key,
                    value,
                    how,
                    conditional,
                } => {
                    if needs.satisfied(&key, &value) {
                        continue;
                    }
                    let at = place.unwrap_or_else(|| format!("line {line}"));
                    if conditional {
                        doubt(
                            &key,
                            format!("{at}: {how} sets it to {value} when a condition holds"),
                        );
                    } else {
                        let ours = needs.ours(&key);
                        return Err(Box::new(Contradiction {
                            index,
                            media,
                            key,
                            theirs: value,
                            ours,
                            how: format!("{at}: {how}"),
                        }));
                    }
                }
                Finding::Doubt { line, key, why } => {
                    let at = place.unwrap_or_else(|| format!("line {line}"));
                    doubt(&key, format!("{at}: {why}"));
                }
            }
        }
    }
    if more > 0
        && let Some(last) = doubts.last_mut()
    {
        last.why.push_str(&format!(
            " (and {more} more places the provider cannot evaluate)"
        ));
    }
    Ok(doubts)
}

/// Warnings one document gives at most; the rest are counted in the last.
const MAX_DOUBTS: usize = 10;

enum Kind {
    NodeConfig,
    Shell,
    CloudConfig,
    Include,
    Other,
}

/// The part's type as its reader takes it: cloud-init reads `text/plain`
/// (and a part without a type) by its first line
/// (canonical/cloud-init:cloudinit/handlers/__init__.py, `INCLUSION_TYPES_MAP`).
fn kind(media: &str, text: &str) -> Kind {
    if media == NODECONFIG_CONTENT_TYPE {
        return Kind::NodeConfig;
    }
    let sniffed = if matches!(media, "text/plain" | "text/x-not-multipart") {
        let t = text.trim_start_matches('\u{feff}');
        if t.starts_with("#!") || t.starts_with("#cloud-boothook") {
            "text/x-shellscript"
        } else if t.starts_with("#cloud-config-archive") {
            "text/cloud-config-archive"
        } else if t.starts_with("#cloud-config") {
            "text/cloud-config"
        } else if t.starts_with("#include") {
            "text/x-include-url"
        } else {
            media
        }
    } else {
        media
    };
    match sniffed {
        "text/x-shellscript"
        | "text/x-shellscript-per-boot"
        | "text/x-shellscript-per-instance"
        | "text/x-shellscript-per-once"
        | "text/cloud-boothook" => Kind::Shell,
        "text/cloud-config" => Kind::CloudConfig,
        "text/x-include-url" | "text/x-include-once-url" => Kind::Include,
        _ => Kind::Other,
    }
}

type Place = Option<String>;

/// nodeadm's `decodeIfBase64`: a body that is standard base64 (line breaks
/// aside) is decoded first
/// (awslabs/amazon-eks-ami:nodeadm/internal/configprovider/encoding.go).
fn nodeadm_decoded(text: &str) -> Result<String, &'static str> {
    let compact: String = text.chars().filter(|c| *c != '\n' && *c != '\r').collect();
    match base64::engine::general_purpose::STANDARD.decode(compact.as_bytes()) {
        Ok(bytes) if bytes.starts_with(&[0x1f, 0x8b]) => {
            Err("is gzip-compressed, which the provider cannot read")
        }
        Ok(bytes) => {
            String::from_utf8(bytes).map_err(|_| "is binary, which the provider cannot read")
        }
        Err(_) => Ok(text.to_string()),
    }
}

/// The NodeConfig's kubelet settings against ours: `Err((key, theirs,
/// how))` for a contradiction.
fn nodeconfig_findings(
    text: &str,
    needs: &Needs<'_>,
    doubt: &mut impl FnMut(&str, String),
) -> Result<(), (String, String, String)> {
    let text = match nodeadm_decoded(text) {
        Ok(t) => t,
        Err(why) => {
            for key in needs.kubelet.keys() {
                doubt(key, why.to_string());
            }
            return Ok(());
        }
    };
    let docs = match yaml_read::load_all(&text) {
        Ok(d) => d,
        Err(e) => {
            for key in needs.kubelet.keys() {
                doubt(key, format!("is not YAML the provider can read ({e})"));
            }
            return Ok(());
        }
    };
    for (n, doc) in docs.iter().enumerate() {
        for (key, ours) in needs.kubelet {
            match nodeconfig::kubelet_setting(doc, key) {
                Setting::Absent => {}
                Setting::Unsure(why) => doubt(key, why),
                Setting::Set { written, value } => {
                    if nodeconfig::same_number(&value, ours) {
                        continue;
                    }
                    let how = format!("spec.kubelet.config.{key}: {written}");
                    if n == 0 {
                        return Err((key.clone(), written, how));
                    }
                    doubt(
                        key,
                        format!(
                            "YAML document {} sets {how}, but nodeadm reads only the first document",
                            n + 1
                        ),
                    );
                }
            }
        }
    }
    Ok(())
}

/// A cloud-config's `write_files`, `bootcmd` and `runcmd`, read as the
/// script they amount to; other keys that mention a key are doubts.
fn cloud_config(
    text: &str,
    needs: &Needs<'_>,
    doubt: &mut impl FnMut(&str, String),
) -> Vec<(Finding, Place)> {
    let doc = match yaml_read::load_first(text) {
        Ok(Some(doc)) => doc,
        Ok(None) => return Vec::new(),
        Err(e) => {
            for key in needs.keys.keys() {
                if sysctl_key::mentioned(text, key) {
                    doubt(
                        key,
                        format!("mentions {key}, but is not YAML the provider can read ({e})"),
                    );
                }
            }
            return Vec::new();
        }
    };
    let mut files: Vec<(String, Option<String>, usize)> = Vec::new();
    if let Some(Node::Seq(entries)) = doc.get("write_files") {
        for e in entries {
            let Some(path) = e.get("path").and_then(Node::as_str) else {
                continue;
            };
            let content = e
                .get("content")
                .and_then(|c| c.as_scalar())
                .map(|s| s.text.clone())
                .unwrap_or_default();
            let encoding = e
                .get("encoding")
                .and_then(Node::as_str)
                .unwrap_or("text")
                .to_ascii_lowercase();
            let decoded = match encoding.as_str() {
                "b64" | "base64" => base64::engine::general_purpose::STANDARD
                    .decode(
                        content
                            .chars()
                            .filter(|c| !c.is_ascii_whitespace())
                            .collect::<String>(),
                    )
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok()),
                "text" | "text/plain" => Some(content),
                _ => None,
            };
            files.push((path.to_string(), decoded, 0));
        }
    }
    let mut scripts: Vec<(String, usize)> = Vec::new();
    for section in ["bootcmd", "runcmd"] {
        if let Some(Node::Seq(items)) = doc.get(section) {
            for item in items {
                match item {
                    Node::Scalar(s) => scripts.push((s.text.clone(), 0)),
                    Node::Seq(args) => {
                        let words: Vec<String> = args
                            .iter()
                            .filter_map(|a| a.as_scalar().map(|s| quote(&s.text)))
                            .collect();
                        scripts.push((words.join(" "), 0));
                    }
                    Node::Map(_) => {}
                }
            }
        }
    }
    let mut out: Vec<(Finding, Place)> =
        shell::scan_with_files(&files, &scripts, &needs.keys, &needs.leaves)
            .into_iter()
            .map(|f| (f, Some("write_files/bootcmd/runcmd".to_string())))
            .collect();
    if let Node::Map(entries) = &doc {
        for (k, v) in entries {
            let name = k.as_scalar().map(|s| s.text.as_str()).unwrap_or_default();
            if matches!(name, "write_files" | "bootcmd" | "runcmd") {
                continue;
            }
            let scalars = v.scalars();
            for key in needs.keys.keys() {
                if scalars.iter().any(|s| sysctl_key::mentioned(s, key)) {
                    out.push((
                        Finding::Doubt {
                            line: 0,
                            key: key.clone(),
                            why: format!(
                                "its {name} mentions {key}, which the provider cannot evaluate"
                            ),
                        },
                        Some(format!("cloud-config {name}")),
                    ));
                }
            }
        }
    }
    out
}

/// A word the shell reads back as `s`.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests;
