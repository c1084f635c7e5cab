//! URLs the provider calls or writes into a node's bootstrap settings: an
//! `http(s)://host[:port][/path]` with a host, a port from 1 to 65535 when
//! given, and no whitespace or control characters (which an HTTP client
//! would send as they are, or a TOML/YAML document would carry to the node).

use super::quoted;

/// What is wrong with `s` as an `http(s)://` URL with a host, if anything
/// (`https_only`: only `https://`).
fn url_problem(s: &str, https_only: bool) -> Option<String> {
    if let Some(c) = s.chars().find(|c| c.is_control() || c.is_whitespace()) {
        return Some(format!(
            "contains {}, which no URL has",
            match c {
                '\n' => "a newline".to_string(),
                ' ' => "a space".to_string(),
                c => format!("the control character U+{:04X}", u32::from(c)),
            }
        ));
    }
    let rest = match (s.strip_prefix("https://"), s.strip_prefix("http://")) {
        (Some(r), _) => r,
        (None, Some(_)) if https_only => return Some("is not an https:// URL".into()),
        (None, Some(r)) => r,
        (None, None) if https_only => return Some("is not an https:// URL".into()),
        (None, None) => return Some("is not an http:// or https:// URL".into()),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    // `[::1]:5000` or `host:5000`.
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        match v6.split_once(']') {
            Some((h, tail)) => (h, tail.strip_prefix(':')),
            None => return Some("has an unclosed [ in its host".into()),
        }
    } else {
        match host_port.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Some("has no host".into());
    }
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._:%".contains(c))
    {
        return Some(format!(
            "has the host {}, which is not a host name or IP address",
            quoted(host)
        ));
    }
    // RFC 1035: a name of at most 253 characters, labels of at most 63.
    if host.len() > 253 || host.split('.').any(|label| label.len() > 63) {
        return Some(format!(
            "has a host of {} characters; host names have at most 253, and at most 63 between dots",
            host.chars().count()
        ));
    }
    match port {
        None => None,
        Some(p) => match p.parse::<u32>() {
            Ok(n) if (1..=65535).contains(&n) && !p.starts_with('+') => None,
            _ => Some(format!(
                "has the port {}, but ports are 1 to 65535",
                quoted(p)
            )),
        },
    }
}

/// An endpoint the provider sends AWS calls to (`endpoints.*`).
pub fn endpoint(s: &str) -> Result<(), String> {
    match url_problem(s, false) {
        None => Ok(()),
        Some(problem) => Err(format!(
            "{} {problem}. Use a full URL such as \"https://eks.us-east-1.amazonaws.com\" or \"http://127.0.0.1:5000\".",
            quoted(s)
        )),
    }
}

/// A cluster's API server URL, as EKS gives it (`https://…`).
pub fn api_server(s: &str) -> Result<(), String> {
    match url_problem(s, true) {
        None => Ok(()),
        Some(problem) => Err(format!(
            "{} {problem}; use the cluster's endpoint, e.g. \"https://ABCDEF0123456789.gr7.us-east-1.eks.amazonaws.com\" (aws_eks_cluster.this.endpoint).",
            quoted(s)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_need_a_scheme_a_host_and_a_real_port() {
        for ok in [
            "http://127.0.0.1:5000",
            "https://eks.us-east-1.amazonaws.com/",
            "http://[::1]:8080/x",
            "http://localhost",
        ] {
            assert!(endpoint(ok).is_ok(), "{ok}: {:?}", endpoint(ok));
        }
        for bad in [
            "http://127.0.0.1:99999",
            "http://127.0.0.1:0",
            "http://host:port",
            "http://",
            "ftp://x",
            "http://a\nb",
            "http://a\u{0}b",
            "http://a b",
            "http://a\"b",
            "http://[::1",
            "",
        ] {
            assert!(endpoint(bad).is_err(), "{bad:?}");
        }
        assert!(endpoint("http://a\u{7}b").unwrap_err().contains("U+0007"));
    }

    #[test]
    fn api_servers_are_https_with_a_host() {
        assert!(api_server("https://ABC.gr7.us-east-1.eks.amazonaws.com").is_ok());
        for bad in ["http://x", "https://", "https:///path", "x", "https://a\nb"] {
            assert!(api_server(bad).is_err(), "{bad:?}");
        }
        let huge = format!("https://{}", "a".repeat(1 << 20));
        assert!(api_server(&huge).unwrap_err().len() < 400);
        assert!(api_server(&format!("https://{}.com", "a".repeat(64))).is_err());
    }
}
