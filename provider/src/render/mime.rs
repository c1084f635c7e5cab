//! MIME multipart documents (RFC 2045, RFC 2046 §5.1) read and written
//! the way the node's readers take them: cloud-init (Python's `email`
//! package) and nodeadm (Go's `mime/multipart`).
//!
//! Reading: a delimiter is a whole line `--boundary` (transport padding,
//! spaces or tabs, may follow); `--boundary--` closes the document; text
//! before the first delimiter (preamble) and after the close (epilogue) is
//! no part. A part keeps every header field it has (Content-Transfer-Encoding,
//! Content-Disposition, X-Merge-Type, …) and its body as written.
//!
//! Writing: the boundary occurs in no part, so no script, header or body
//! can end the document early or start a part of its own (as Python's
//! `email.generator` and cloud-init's writers choose theirs). It is derived
//! from the parts, never random: the same parts render the same bytes.

use base64::Engine;

/// The boundary the provider has always written; kept while it occurs in
/// no part, so documents rendered before stay byte for byte the same.
pub const DEFAULT_BOUNDARY: &str = "//NESTED-BOUNDARY//";

/// One body part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The Content-Type field's value, e.g. `text/x-shellscript; charset="us-ascii"`.
    pub content_type: String,
    /// The part's other header fields in their order (name, unfolded value).
    pub headers: Vec<(String, String)>,
    /// The body as written, up to and including the line break before the
    /// next delimiter (which RFC 2046 counts as part of the delimiter:
    /// readers see the body without it).
    pub body: String,
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

/// A part's body with its transfer encoding undone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Text(String),
    /// Bytes that are not UTF-8 text (e.g. gzip).
    Binary(Vec<u8>),
}

impl Part {
    /// A part with a Content-Type and no other header field.
    pub fn new(content_type: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            content_type: content_type.into(),
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// The media type, lower case, without parameters (`text/x-shellscript`).
    pub fn media_type(&self) -> String {
        media_type(&self.content_type)
    }

    /// A header field's value (case-insensitive name; Content-Type too).
    pub fn header(&self, name: &str) -> Option<&str> {
        if name.eq_ignore_ascii_case("content-type") {
            return Some(&self.content_type);
        }
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Content-Transfer-Encoding, lower case (`7bit` when absent).
    pub fn transfer_encoding(&self) -> String {
        self.header("content-transfer-encoding")
            .map(|v| v.trim().to_ascii_lowercase())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "7bit".into())
    }

    /// The file name Content-Disposition gives, if any.
    pub fn filename(&self) -> Option<String> {
        self.header("content-disposition")
            .and_then(|v| parameter(v, "filename"))
    }

    /// The body as the reader sees it: transfer encoding (base64,
    /// quoted-printable) undone. Unencoded bodies are returned as written.
    pub fn content(&self) -> Result<Content, String> {
        let bytes = match self.transfer_encoding().as_str() {
            "7bit" | "8bit" | "binary" => return Ok(Content::Text(self.body.clone())),
            "base64" => decode_base64(&self.body)?,
            "quoted-printable" => decode_quoted_printable(&self.body),
            other => {
                return Err(format!(
                    "Content-Transfer-Encoding {other} is not one the provider reads (7bit, 8bit, binary, base64, quoted-printable)"
                ));
            }
        };
        Ok(match String::from_utf8(bytes) {
            Ok(text) => Content::Text(text),
            Err(e) => Content::Binary(e.into_bytes()),
        })
    }
}

/// `text/x-shellscript; charset=…` → `text/x-shellscript`.
pub fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn decode_base64(body: &str) -> Result<Vec<u8>, String> {
    let compact: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| format!("its Content-Transfer-Encoding is base64, but the body is not: {e}"))
}

/// RFC 2045 §6.7; like Python's `quopri`, an `=` that starts no escape is
/// kept as it is.
fn decode_quoted_printable(body: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let lines: Vec<&str> = body.split('\n').collect();
    for (n, line) in lines.iter().enumerate() {
        let line = line.trim_end_matches([' ', '\t']);
        let bytes = line.as_bytes();
        let mut i = 0;
        let mut soft_break = false;
        while i < bytes.len() {
            if bytes[i] == b'=' {
                if i + 1 == bytes.len() {
                    soft_break = true;
                    break;
                }
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(b) = hex {
                    out.push(b);
                    i += 3;
                    continue;
                }
            }
            out.push(bytes[i]);
            i += 1;
        }
        if !soft_break && n + 1 < lines.len() {
            out.push(b'\n');
        }
    }
    out
}

/// A parameter of a structured header value (`boundary`, `filename`):
/// token or quoted string, name case-insensitive.
pub fn parameter(value: &str, name: &str) -> Option<String> {
    let mut params = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in value.chars() {
        if escaped {
            current.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => {
                current.push(c);
                escaped = true;
            }
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ';' if !quoted => params.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    params.push(current);
    params.into_iter().skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case(name) {
            return None;
        }
        let v = v.trim();
        Some(
            match v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                Some(inner) => unescape_quoted(inner),
                None => v.to_string(),
            },
        )
    })
}

fn unescape_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Characters Python's `str.splitlines` (and so cloud-init's parser) ends a
/// line at, besides `\n`: a boundary after one of these is a delimiter to
/// cloud-init but not to nodeadm, and a header value holding one is cut.
const OTHER_LINE_BREAKS: [char; 9] = [
    '\r', '\u{0b}', '\u{0c}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{85}', '\u{2028}', '\u{2029}',
];

/// Header fields in order: (name, unfolded value).
type Headers = Vec<(String, String)>;

/// The header block at the start of `text` (up to the first empty line),
/// unfolded, and the rest. Without an empty line every line must be a
/// header field and the body is empty (as Python reads it).
fn header_block(text: &str) -> Result<(Headers, &str), String> {
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (line, after) = rest.split_once('\n').unwrap_or((rest, ""));
        rest = after;
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            let Some((_, value)) = fields.last_mut() else {
                return Err("the first header line is indented (a continuation of nothing)".into());
            };
            value.push_str(line);
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!(
                "{:?} in the header block is not a header field; put an empty line between the headers and the body",
                truncate(line)
            ));
        };
        if name.is_empty() || !name.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(format!("{:?} is not a header field name", truncate(name)));
        }
        fields.push((name.to_string(), value.to_string()));
    }
    for (k, v) in &mut fields {
        *v = v.trim().to_string();
        if v.chars()
            .any(|c| (c.is_control() && c != '\t') || OTHER_LINE_BREAKS.contains(&c))
        {
            return Err(format!(
                "header {k} contains a control character, which readers take as a line break"
            ));
        }
    }
    Ok((fields, rest))
}

fn truncate(s: &str) -> String {
    s.chars().take(60).collect()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// `Some(is_close)` when `line` (without its line break) is a delimiter line
/// for `boundary`: `--boundary` or `--boundary--`, then only spaces or tabs.
fn delimiter(line: &str, boundary: &str) -> Option<bool> {
    let rest = line.strip_prefix("--")?.strip_prefix(boundary)?;
    let (close, padding) = match rest.strip_prefix("--") {
        Some(p) => (true, p),
        None => (false, rest),
    };
    padding
        .chars()
        .all(|c| c == ' ' || c == '\t')
        .then_some(close)
}

/// Whether `--boundary` follows one of [`OTHER_LINE_BREAKS`] in `text`.
fn boundary_after_other_break(text: &str, boundary: &str) -> bool {
    let needle = format!("--{boundary}");
    text.match_indices(&needle).any(|(at, _)| {
        text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| OTHER_LINE_BREAKS.contains(&c))
    })
}

/// Parse a multipart document (line breaks already `\n`) into its parts.
pub fn parse(text: &str) -> Result<Vec<Part>, MimeError> {
    let (fields, body) = header_block(text).map_err(MimeError::NotMultipart)?;
    let Some(content_type) = field(&fields, "content-type") else {
        return Err(MimeError::NotMultipart(
            "expected Content-Type: multipart/mixed (or a #! shell script)".into(),
        ));
    };
    if !media_type(content_type).starts_with("multipart/") {
        return Err(MimeError::NotMultipart(
            "expected Content-Type: multipart/mixed (or a #! shell script)".into(),
        ));
    }
    let boundary = parameter(content_type, "boundary")
        .ok_or_else(|| MimeError::NotMultipart("Content-Type has no boundary".into()))?;
    if boundary.is_empty() || boundary.chars().count() > 70 {
        return Err(MimeError::NotMultipart(
            "the boundary must be 1 to 70 characters (RFC 2046)".into(),
        ));
    }
    let mut texts: Vec<&str> = Vec::new();
    let mut start: Option<usize> = None;
    let mut closed = false;
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        let here = offset;
        offset += line.len();
        let Some(close) = delimiter(line.strip_suffix('\n').unwrap_or(line), &boundary) else {
            continue;
        };
        if let Some(s) = start {
            texts.push(&body[s..here]);
        } else if boundary_after_other_break(&body[..here], &boundary) {
            return Err(MimeError::NotMultipart(format!(
                "the preamble has --{boundary} after a line break cloud-init sees but nodeadm does not (CR, VT, FF, U+0085, U+2028, U+2029); remove it"
            )));
        }
        if close {
            closed = true;
            break;
        }
        start = Some(offset);
    }
    if !closed {
        return Err(MimeError::NotMultipart(format!(
            "the closing boundary --{boundary}-- is missing"
        )));
    }
    texts
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let index = i + 1;
            let problem = |problem: String| MimeError::Part { index, problem };
            if boundary_after_other_break(t, &boundary) {
                return Err(problem(format!(
                    "--{boundary} follows a line break cloud-init sees but nodeadm does not (CR, VT, FF, U+0085, U+2028, U+2029), so the two would read different parts; remove it"
                )));
            }
            let (mut fields, body) = header_block(t).map_err(problem)?;
            let at = fields
                .iter()
                .position(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                .ok_or_else(|| problem("no Content-Type".into()))?;
            let (_, content_type) = fields.remove(at);
            let part = Part {
                content_type,
                headers: fields,
                body: body.to_string(),
            };
            part.content().map_err(problem)?;
            Ok(part)
        })
        .collect()
}

/// FNV-1a (64 bit): a hash whose value never changes between builds, so a
/// boundary derived from it is the same on every machine and release.
fn fnv1a(parts: &[Part]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for p in parts {
        eat(p.content_type.as_bytes());
        eat(&[0]);
        for (k, v) in &p.headers {
            eat(k.as_bytes());
            eat(&[1]);
            eat(v.as_bytes());
            eat(&[0]);
        }
        eat(p.body.as_bytes());
        eat(&[0xff]);
    }
    h
}

fn occurs_in(parts: &[Part], boundary: &str) -> bool {
    parts.iter().any(|p| {
        p.content_type.contains(boundary)
            || p.body.contains(boundary)
            || p.headers
                .iter()
                .any(|(k, v)| k.contains(boundary) || v.contains(boundary))
    })
}

/// The boundary for `parts`: [`DEFAULT_BOUNDARY`] while no part contains
/// it, otherwise one derived from a hash of the parts (with a counter
/// until it occurs in no part).
pub fn boundary_for(parts: &[Part]) -> String {
    if !occurs_in(parts, DEFAULT_BOUNDARY) {
        return DEFAULT_BOUNDARY.to_string();
    }
    let base = format!("//NESTED-BOUNDARY-{:016x}//", fnv1a(parts));
    let mut candidate = base.clone();
    let mut n = 0u64;
    while occurs_in(parts, &candidate) {
        n += 1;
        candidate = format!("{base}{n}");
    }
    candidate
}

/// Serialise parts as one multipart/mixed document.
pub fn render(parts: &[Part]) -> String {
    let boundary = boundary_for(parts);
    let mut out =
        format!("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"{boundary}\"\n\n");
    for p in parts {
        out.push_str(&format!("--{boundary}\nContent-Type: {}\n", p.content_type));
        for (k, v) in &p.headers {
            out.push_str(&format!("{k}: {v}\n"));
        }
        out.push('\n');
        out.push_str(&p.body);
        if !p.body.is_empty() && !p.body.ends_with('\n') {
            out.push('\n');
        }
    }
    out.push_str(&format!("--{boundary}--\n"));
    out
}

#[cfg(test)]
mod tests;
