//! The one parser for `kubernetes_version` (resource and data sources): a
//! Kubernetes minor as EKS writes it, `"1.33"`.

use crate::capability::Version;

use super::quoted;

/// `"1.33"` → 1.33. Refuses `"v1.33"`, `"1.33.0"` and `"01.33"`, saying
/// what to write instead.
pub fn kubernetes_minor(text: &str) -> Result<Version, String> {
    let shown = quoted(text);
    let fix = |v: &str| {
        format!(
            "{shown} is not a Kubernetes minor version; write {v:?} (major.minor, as EKS names versions)"
        )
    };
    let plain = |p: &str| {
        !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && (p == "0" || !p.starts_with('0'))
    };
    let core = text.trim();
    let without_v = core.strip_prefix(['v', 'V']).unwrap_or(core);
    let parts: Vec<&str> = without_v.split('.').collect();
    let suggestion = match parts.as_slice() {
        [ma, mi, ..]
            if [ma, mi]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) =>
        {
            let trim0 = |p: &str| p.trim_start_matches('0').to_string();
            let (ma, mi) = (trim0(ma), trim0(mi));
            format!(
                "{}.{}",
                if ma.is_empty() { "0" } else { &ma },
                if mi.is_empty() { "0" } else { &mi }
            )
        }
        _ => "1.33".to_string(),
    };
    match parts.as_slice() {
        [ma, mi] if core == text && without_v == core && plain(ma) && plain(mi) => {
            let major: u32 = ma.parse().map_err(|_| fix(&suggestion))?;
            let minor: u32 = mi.parse().map_err(|_| fix(&suggestion))?;
            Ok(Version {
                major,
                minor,
                patch: 0,
            })
        }
        _ => Err(fix(&suggestion)),
    }
}

/// A dotted release (`"6.12"`, `"1.9.0"`, optionally `v`-prefixed) written
/// exactly: no spaces or other characters around it. `example` is shown in
/// the fix.
pub fn dotted(text: &str, example: &str) -> Result<Version, String> {
    let body = text.strip_prefix('v').unwrap_or(text);
    let exact = !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    match body.parse::<Version>() {
        Ok(v) if exact => Ok(v),
        _ => Err(format!(
            "{} is not a version; write one like \"{example}\"",
            quoted(text)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_versions_are_written_exactly() {
        assert_eq!(dotted("6.12", "6.12").unwrap().to_string(), "6.12");
        assert_eq!(dotted("v1.9.0", "1.9.0").unwrap().to_string(), "1.9");
        assert_eq!(dotted("6.8.0", "6.12").unwrap().to_string(), "6.8");
        for bad in ["", "6.12\n", " 6.12", "6", "6.x", "6.12.1.1", "\u{0}", "v"] {
            let e = dotted(bad, "6.12").unwrap_err();
            assert!(e.contains("\"6.12\""), "{bad:?}: {e}");
        }
    }

    #[test]
    fn only_major_minor_is_accepted() {
        assert_eq!(kubernetes_minor("1.33").unwrap().to_string(), "1.33");
        assert_eq!(kubernetes_minor("1.9").unwrap().to_string(), "1.9");
        for (bad, fix) in [
            ("1.33.0", "\"1.33\""),
            ("01.33", "\"1.33\""),
            ("v1.33", "\"1.33\""),
            (" 1.33", "\"1.33\""),
            ("1.033", "\"1.33\""),
            ("one.thirty", "\"1.33\""),
            ("", "\"1.33\""),
        ] {
            let e = kubernetes_minor(bad).unwrap_err();
            assert!(e.contains(fix), "{bad:?}: {e}");
        }
    }
}
