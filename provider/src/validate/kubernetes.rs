//! Kubernetes label and taint syntax, as the API server checks it
//! (kubernetes/apimachinery `pkg/util/validation/validation.go`:
//! `IsQualifiedName`, `IsValidLabelValue`, `IsDNS1123Subdomain`), so a node
//! group whose labels the kubelet could never register is refused at plan.

use super::limits::Limits;

fn is_alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`: the name part of a key, and
/// every non-empty label value.
fn is_name_syntax(s: &str) -> bool {
    let mut chars = s.chars();
    let (Some(first), Some(last)) = (chars.next(), s.chars().last()) else {
        return false;
    };
    is_alnum(first)
        && is_alnum(last)
        && s.chars()
            .all(|c| is_alnum(c) || c == '-' || c == '_' || c == '.')
}

/// A DNS-1123 subdomain: lowercase labels of `[a-z0-9-]`, joined by dots,
/// each starting and ending with a letter or digit.
fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|label| {
            !label.is_empty()
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// A DNS-1123 label (a namespace name): lower-case letters, digits and
/// `-`, starting and ending with a letter or digit, within the limit.
pub fn dns_label(s: &str, limits: &Limits) -> Result<(), String> {
    let shown = super::quoted(s);
    let max = limits.kubernetes.dns_label.max;
    let n = s.chars().count() as u64;
    if n == 0 {
        return Err(
            "the name is empty; a namespace is a DNS-1123 label such as \"nested-probe\"".into(),
        );
    }
    if n > max {
        return Err(format!(
            "{shown} is {n} characters long; a DNS-1123 label has at most {max}"
        ));
    }
    let ok = s
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if !ok {
        return Err(format!(
            "{shown} is not a DNS-1123 label: lower-case letters, digits and \"-\", starting and ending with a letter or digit, e.g. \"nested-probe\""
        ));
    }
    Ok(())
}

/// A label or taint key: `[prefix/]name`.
pub fn qualified_name(key: &str, limits: &Limits) -> Result<(), String> {
    let shown = super::quoted(key);
    let name_max = limits.kubernetes.label_name.max;
    let prefix_max = limits.kubernetes.label_prefix.max;
    if key.is_empty() {
        return Err(
            "the key is empty; a key is a name such as \"dedicated\" or \"example.com/dedicated\""
                .into(),
        );
    }
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix {
        if p.is_empty() {
            return Err(format!(
                "{shown} has an empty prefix before \"/\"; use \"name\" or \"example.com/name\""
            ));
        }
        if p.chars().count() as u64 > prefix_max || !is_dns_subdomain(p) {
            return Err(format!(
                "the prefix of {shown} must be a lowercase DNS subdomain of at most {prefix_max} characters (letters, digits, \"-\" and \".\"), e.g. \"example.com\""
            ));
        }
        if name.contains('/') {
            return Err(format!(
                "{shown} has more than one \"/\"; a key is \"prefix/name\""
            ));
        }
    }
    if name.is_empty() {
        return Err(format!(
            "{shown} has an empty name after \"/\"; write \"prefix/name\", e.g. \"example.com/dedicated\""
        ));
    }
    if name.chars().count() as u64 > name_max {
        return Err(format!(
            "the name part of {shown} is {} characters long; Kubernetes allows at most {name_max}",
            name.chars().count()
        ));
    }
    if !is_name_syntax(name) {
        return Err(format!(
            "{shown} must start and end with a letter or digit and contain only letters, digits, \"-\", \"_\" and \".\" (with an optional \"prefix/\")"
        ));
    }
    Ok(())
}

/// A label value (also a taint value): empty, or name syntax within the limit.
pub fn label_value(value: &str, limits: &Limits) -> Result<(), String> {
    let max = limits.kubernetes.label_value.max;
    if value.is_empty() {
        return Ok(());
    }
    let shown = super::quoted(value);
    if value.chars().count() as u64 > max {
        return Err(format!(
            "{shown} is {} characters long; Kubernetes allows at most {max}",
            value.chars().count()
        ));
    }
    if !is_name_syntax(value) {
        return Err(format!(
            "{shown} must start and end with a letter or digit and contain only letters, digits, \"-\", \"_\" and \".\""
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l() -> &'static Limits {
        Limits::embedded().unwrap()
    }

    #[test]
    fn keys_follow_the_api_server() {
        for good in [
            "workload",
            "sandbox.nested.dev/nsjail",
            "a",
            "k8s.io/x_y.z-1",
            "A1",
        ] {
            assert!(qualified_name(good, l()).is_ok(), "{good}");
        }
        for bad in [
            "",
            "bad key!",
            "-lead",
            "trail-",
            "/name",
            "Example.com/name",
            "a/b/c",
            "é",
        ] {
            assert!(qualified_name(bad, l()).is_err(), "{bad:?}");
        }
        let long = "a".repeat(64);
        assert!(
            qualified_name(&long, l())
                .unwrap_err()
                .contains("at most 63")
        );
        let long_prefix = format!("{}/n", "a".repeat(254));
        assert!(qualified_name(&long_prefix, l()).is_err());
    }

    #[test]
    fn dns_labels_follow_the_api_server() {
        for ok in ["nested-probe", "a", "0x", &"a".repeat(63)] {
            assert!(dns_label(ok, l()).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Nested",
            "-a",
            "a-",
            "a.b",
            "a_b",
            "a\"b",
            "a\nb",
            "\u{0}",
            &"a".repeat(64),
        ] {
            assert!(dns_label(bad, l()).is_err(), "{bad:?}");
        }
        let huge = "x".repeat(1 << 20);
        assert!(dns_label(&huge, l()).unwrap_err().len() < 300);
    }

    #[test]
    fn values_follow_the_api_server() {
        assert!(label_value("", l()).is_ok());
        assert!(label_value("agents-1.x_y", l()).is_ok());
        assert!(label_value("has space", l()).is_err());
        assert!(label_value(&"v".repeat(64), l()).is_err());
        // A 1 MB value is refused without echoing it whole.
        let huge = "x".repeat(1 << 20);
        let msg = label_value(&huge, l()).unwrap_err();
        assert!(msg.len() < 300, "{} bytes", msg.len());
    }
}
