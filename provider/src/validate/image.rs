//! Container image references (`ghcr.io/org/probe:0.1.0`,
//! `registry:5000/team/img@sha256:…`), checked with the grammar the
//! container runtimes parse them with: distribution/reference's
//! `ReferenceRegexp` (the expression below is built from its `regexp.go`
//! fragments, literally), its 255-character name limit, and go-digest's
//! algorithms and lengths. A reference the kubelet would pull as something
//! else, or not at all, is refused with what to write instead.

use std::sync::OnceLock;

use regex_lite::Regex;

use super::quoted;

// distribution/reference:regexp.go@00a09fa3 (constants of the same names).
const ALPHANUMERIC: &str = r"[a-z0-9]+";
const SEPARATOR: &str = r"(?:[._]|__|[-]+)";
const DOMAIN_NAME_COMPONENT: &str = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const OPTIONAL_PORT: &str = r"(?::[0-9]+)?";
const TAG: &str = r"[\w][\w.-]{0,127}";
const DIGEST: &str = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}";
const IPV6_ADDRESS: &str = r"\[(?:[a-fA-F0-9:]+)\]";

/// distribution/reference:reference.go (`NameTotalLengthMax`).
const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// opencontainers/go-digest:algorithm.go: the algorithms a digest may name
/// and the length of their lowercase hex encoding.
const DIGEST_ALGORITHMS: [(&str, usize); 3] = [("sha256", 64), ("sha384", 96), ("sha512", 128)];

const EXAMPLE: &str = "e.g. \"ghcr.io/nested-sandbox/nested-probe:0.1.0\" or \"registry.example.com:5000/team/probe@sha256:<64 hex digits>\"";

/// `referencePat`: `^(name)(?::(tag))?(?:@(digest))?$`.
fn reference_regexp() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        let domain_name = format!(r"{DOMAIN_NAME_COMPONENT}(?:\.{DOMAIN_NAME_COMPONENT})*");
        let host = format!("(?:{domain_name}|{IPV6_ADDRESS})");
        let domain_and_port = format!("{host}{OPTIONAL_PORT}");
        let path_component = format!("{ALPHANUMERIC}(?:{SEPARATOR}{ALPHANUMERIC})*");
        let remote_name = format!("{path_component}(?:/{path_component})*");
        let name = format!("(?:{domain_and_port}/)?{remote_name}");
        Regex::new(&format!("^({name})(?::({TAG}))?(?:@({DIGEST}))?$")).ok()
    })
    .as_ref()
}

/// Check an image reference, saying what is wrong and what to write.
pub fn reference(text: &str) -> Result<(), String> {
    let shown = quoted(text);
    if text.is_empty() {
        return Err(format!(
            "the image reference is empty; name an image, {EXAMPLE}, or remove the attribute to use the default"
        ));
    }
    if text.trim() != text || text.chars().any(char::is_control) || text.contains(' ') {
        return Err(format!(
            "{shown} contains spaces or control characters, which no image reference has; write the reference alone, {EXAMPLE}"
        ));
    }
    // The longest reference: a name, a tag and a sha512 digest.
    let longest = NAME_TOTAL_LENGTH_MAX + 1 + 128 + 1 + "sha512:".len() + 128;
    if text.len() > longest {
        return Err(format!(
            "{shown} is {} characters long; an image reference is a name of at most {NAME_TOTAL_LENGTH_MAX} characters with an optional tag and digest, {EXAMPLE}",
            text.chars().count()
        ));
    }
    let Some(re) = reference_regexp() else {
        return Err("the image reference grammar failed to compile; this is a bug in the provider, please report it".into());
    };
    let Some(caps) = re.captures(text) else {
        let (name, _) = split_name(text);
        if name.chars().any(|c| c.is_ascii_uppercase()) && re.is_match(&lowercase_repository(text))
        {
            return Err(format!(
                "{shown} has upper-case letters in its repository; repositories are lower case (only the registry host and the tag may have capitals), {EXAMPLE}"
            ));
        }
        return Err(format!(
            "{shown} is not an image reference: [registry[:port]/]repository[:tag][@digest], where the repository is lower-case letters and digits separated by \".\", \"_\", \"__\", \"-\" or \"/\", and a tag is at most 128 letters, digits, \"_\", \".\" and \"-\"; {EXAMPLE}"
        ));
    };
    let name = caps.get(1).map_or("", |m| m.as_str());
    if name.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(format!(
            "{shown} has a name of {} characters; image names may have at most {NAME_TOTAL_LENGTH_MAX}",
            name.len()
        ));
    }
    if let Some(digest) = caps.get(3).map(|m| m.as_str()) {
        let (algorithm, hex) = digest.split_once(':').unwrap_or((digest, ""));
        match DIGEST_ALGORITHMS.iter().find(|(a, _)| *a == algorithm) {
            None => {
                return Err(format!(
                    "{shown} has a digest of the unknown algorithm {algorithm:?}; use sha256 (64 hex digits), sha384 or sha512"
                ));
            }
            Some((_, len))
                if hex.len() != *len
                    || !hex
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
            {
                return Err(format!(
                    "{shown} has a {algorithm} digest of {} characters; it must be {len} lower-case hex digits",
                    hex.len()
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The name part (before a tag or digest) and the rest.
fn split_name(text: &str) -> (&str, &str) {
    let without_digest = text.split('@').next().unwrap_or(text);
    // A tag follows the last ':' after the last '/'.
    let last_slash = without_digest.rfind('/').map_or(0, |i| i + 1);
    match without_digest[last_slash..].find(':') {
        Some(i) => text.split_at(last_slash + i),
        None => text.split_at(without_digest.len()),
    }
}

/// `text` with its repository (not its registry host or tag) lower-cased.
fn lowercase_repository(text: &str) -> String {
    let (name, rest) = split_name(text);
    let (host, path) = match name.split_once('/') {
        Some((h, p)) if h.contains(['.', ':']) || h == "localhost" => (format!("{h}/"), p),
        _ => (String::new(), name),
    };
    format!("{host}{}{rest}", path.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// distribution/reference:reference_test.go@48941240 (TestReferenceParse):
    /// the inputs `Parse` accepts …
    const UPSTREAM_VALID: &[&str] = &[
        "test_com",
        "test.com:tag",
        "test.com:5000",
        "test.com/repo:tag",
        "test:5000/repo",
        "test:5000/repo:tag",
        "test:5000/repo@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "test:5000/repo:tag@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "lowercase:Uppercase",
        "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
        "b.gcr.io/test.example.com/my-app:test.example.com",
        "xn--n3h.com/myimage:xn--n3h.com",
        "xn--7o8h.com/myimage:xn--7o8h.com@sha512:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "foo_bar.com:8080",
        "foo/foo_bar.com:8080",
        "192.168.1.1",
        "192.168.1.1:5000/repo:5050",
        "[2001:db8::1]/repo",
        "[2001:db8:1:2:3:4:5:6]/repo:tag",
        "[2001:db8::1]:5000/repo:tag@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "[::1]:5000/repo",
    ];

    /// … and those it refuses.
    const UPSTREAM_INVALID: &[&str] = &[
        "",
        ":justtag",
        "@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "repo@sha256:ffffffffffffffffffffffffffffffffff",
        "validname@invaliddigest:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "Uppercase:tag",
        "test:5000/Uppercase/lowercase:tag",
        "aa/asdf$$^/aa",
        "[2001:db8::1]",
        "[2001:db8::1]:5000",
        "[2001:db8::1]:tag",
        "[fe80::1%eth0]:5000/repo",
        "[fe80::1%@invalidzone]:5000/repo",
    ];

    #[test]
    fn the_upstream_test_cases_are_judged_as_upstream_judges_them() {
        for ok in UPSTREAM_VALID {
            assert!(reference(ok).is_ok(), "{ok}: {:?}", reference(ok));
        }
        let long_ok = format!("{}a:tag-puts-this-over-max", "a/".repeat(127));
        assert!(reference(&long_ok).is_ok());
        for bad in UPSTREAM_INVALID {
            assert!(reference(bad).is_err(), "{bad:?} was accepted");
        }
        let too_long = format!("{}a:tag", "a/".repeat(128));
        assert!(reference(&too_long).unwrap_err().contains("at most 255"));
    }

    #[test]
    fn refusals_say_what_to_write() {
        assert!(
            reference("ghcr.io/Org/Probe:1")
                .unwrap_err()
                .contains("upper-case")
        );
        assert!(
            reference("a\"b")
                .unwrap_err()
                .contains("not an image reference")
        );
        assert!(reference("probe\n").unwrap_err().contains("control"));
        assert!(reference("\u{0}").unwrap_err().contains("control"));
        let huge = "x".repeat(1 << 20);
        let e = reference(&huge).unwrap_err();
        assert!(e.len() < 400, "{} bytes", e.len());
        assert!(
            reference("repo@md5:ffffffffffffffffffffffffffffffff")
                .unwrap_err()
                .contains("unknown algorithm")
        );
        assert!(reference("ghcr.io/nested-sandbox/nested-probe:0.1.0").is_ok());
    }
}
