//! Which `/proc/sys` file a sysctl key names, as each writer reads the key.
//! The same file has many spellings (`user.max_user_namespaces`,
//! `user/max_user_namespaces`, `/proc/sys/user/max_user_namespaces`); a
//! contradiction check that compares spellings instead of files misses them.
//!
//! - procps `sysctl` (`-w`, `-p`, `--system`) and systemd-sysctl
//!   (`sysctl.d` files): the first separator decides. If it is `/`, the key
//!   is the path as written; if it is `.`, dots and slashes swap
//!   (procps-ng `src/sysctl.c`, `slashdot`; systemd `sysctl_normalize`).
//!   A leading `-` only means "ignore a failure". Keys in files may be
//!   globs (`*?[`), matched against the path.
//! - Bottlerocket (`settings.kernel.sysctl`): corndog turns every `.` into
//!   `/` and joins the non-empty pieces
//!   (bottlerocket-os/bottlerocket-core-kit:sources/api/corndog/src/main.rs,
//!   `sysctl_path`).

/// The path under `/proc/sys` procps and systemd write for `key`, with
/// repeated and trailing slashes collapsed (the kernel's path lookup does).
pub fn procps_path(key: &str) -> String {
    let key = key.trim();
    let key = key.strip_prefix('-').unwrap_or(key).trim();
    let swapped: String = match key.find(['.', '/']) {
        Some(i) if key.as_bytes()[i] == b'.' => key
            .chars()
            .map(|c| match c {
                '.' => '/',
                '/' => '.',
                c => c,
            })
            .collect(),
        _ => key.to_string(),
    };
    collapse(&swapped)
}

/// The path under `/proc/sys` Bottlerocket's corndog writes for `key`.
pub fn bottlerocket_path(key: &str) -> String {
    collapse(&key.replace('.', "/"))
}

/// The path under `/proc/sys` a file path names (`/proc/sys/user/x`,
/// `/proc/sys//user/./x`), if it is one.
pub fn proc_path(path: &str) -> Option<String> {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if !path.starts_with('/') || parts.len() < 3 || parts[0] != "proc" || parts[1] != "sys" {
        return None;
    }
    Some(parts[2..].join("/"))
}

fn collapse(path: &str) -> String {
    path.split('/')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether a key as written in a sysctl.d file (or on sysctl's command
/// line) names `ours` (a dotted key, e.g. `user.max_user_namespaces`):
/// the same path, or a glob over paths that matches it.
pub fn names(written: &str, ours: &str) -> bool {
    let theirs = procps_path(written);
    let ours = procps_path(ours);
    if theirs.contains(['*', '?', '[']) {
        glob(theirs.as_bytes(), ours.as_bytes())
    } else {
        theirs == ours
    }
}

/// One pattern element: a literal byte, `?`, a `[...]` class, or `*`.
enum Elem {
    Byte(u8),
    Any,
    Class { negate: bool, set: Vec<(u8, u8)> },
    Star,
}

fn elements(pattern: &[u8]) -> Vec<Elem> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            b'*' => out.push(Elem::Star),
            b'?' => out.push(Elem::Any),
            b'[' => {
                let mut j = i + 1;
                let negate = matches!(pattern.get(j), Some(b'!' | b'^'));
                if negate {
                    j += 1;
                }
                // The class ends at the first `]` after its first character.
                let close = pattern
                    .get(j..)
                    .and_then(|rest| rest.iter().skip(1).position(|&b| b == b']'));
                match close {
                    Some(p) => {
                        let end = j + 1 + p;
                        let class = &pattern[j..end];
                        let mut set = Vec::new();
                        let mut k = 0;
                        while k < class.len() {
                            if k + 2 < class.len() && class[k + 1] == b'-' {
                                set.push((class[k], class[k + 2]));
                                k += 3;
                            } else {
                                set.push((class[k], class[k]));
                                k += 1;
                            }
                        }
                        out.push(Elem::Class { negate, set });
                        i = end;
                    }
                    None => out.push(Elem::Byte(b'[')),
                }
            }
            b => out.push(Elem::Byte(b)),
        }
        i += 1;
    }
    out
}

fn matches_one(e: &Elem, c: u8) -> bool {
    match e {
        Elem::Byte(b) => *b == c,
        Elem::Any => true,
        Elem::Class { negate, set } => {
            set.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negate
        }
        Elem::Star => false,
    }
}

/// fnmatch(3) without flags (`*`, `?`, `[...]` with `!`/`^` and ranges),
/// in time bounded by pattern × text (back to the last `*` on a mismatch).
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let p = elements(pattern);
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < text.len() {
        match p.get(pi) {
            Some(Elem::Star) => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(e) if matches_one(e, text[ti]) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|e| matches!(e, Elem::Star))
}

/// Whether `text` spells `ours` (a dotted key) anywhere, with either
/// separator (or as its `/proc/sys` path): a mention the checks must
/// either evaluate or call out.
pub fn mentioned(text: &str, ours: &str) -> bool {
    let normal: String = text
        .chars()
        .map(|c| if c == '/' { '.' } else { c })
        .collect();
    let mut squeezed = String::with_capacity(normal.len());
    for c in normal.chars() {
        if !(c == '.' && squeezed.ends_with('.')) {
            squeezed.push(c);
        }
    }
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    squeezed.match_indices(ours).any(|(at, _)| {
        let before = squeezed[..at].chars().next_back();
        let after = squeezed[at + ours.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

/// Two sysctl values the kernel reads as the same: integers compared as
/// the kernel parses them (base 0: `0x` hex, leading `0` octal), other
/// values word by word.
pub fn same_value(a: &str, b: &str) -> bool {
    let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    let (wa, wb) = (words(a), words(b));
    wa.len() == wb.len()
        && wa.iter().zip(&wb).all(|(x, y)| {
            x == y || matches!((kernel_int(x), kernel_int(y)), (Some(i), Some(j)) if i == j)
        })
}

/// An integer as the kernel's `proc_dointvec` reads it (`kstrtoul` base 0).
pub fn kernel_int(s: &str) -> Option<i128> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let value = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i128::from_str_radix(hex, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        i128::from_str_radix(&digits[1..], 8).ok()?
    } else {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()?
    };
    Some(if neg { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "user.max_user_namespaces";

    #[test]
    fn every_spelling_names_the_same_file() {
        for k in [
            "user.max_user_namespaces",
            "user/max_user_namespaces",
            "-user.max_user_namespaces",
            " user//max_user_namespaces ",
            "user.*",
            "user/max_user_*",
            "us?r.max_user_namespace[rs]",
            "user.max_user_namespace[!x]",
            "*.*",
        ] {
            assert!(names(k, KEY), "{k}");
        }
        for k in [
            "user.max_user_namespaces_x",
            "user.max_ipc_namespaces",
            // The first separator is '/', so the dot is part of the name.
            "user/max_user.namespaces",
            "net.*",
        ] {
            assert!(!names(k, KEY), "{k}");
        }
        // procps swaps: a dotted key with a slash keeps the slash as a dot.
        assert_eq!(
            procps_path("net.ipv4.conf.eth0/1.rp_filter"),
            "net/ipv4/conf/eth0.1/rp_filter"
        );
        assert_eq!(
            bottlerocket_path("user/max_user_namespaces"),
            "user/max_user_namespaces"
        );
        assert_eq!(
            bottlerocket_path("user..max_user_namespaces"),
            "user/max_user_namespaces"
        );
        assert_eq!(
            proc_path("/proc/sys//user/./max_user_namespaces").as_deref(),
            Some("user/max_user_namespaces")
        );
        assert_eq!(proc_path("/proc/self/status"), None);
    }

    #[test]
    fn globs_with_many_stars_end_quickly() {
        let pattern = format!("{}b", "*a".repeat(40));
        assert!(!names(&pattern, KEY));
        assert!(names(&"*".repeat(200), KEY));
        assert!(!names("[", KEY));
        assert!(!names("user.[", KEY));
    }

    #[test]
    fn mentions_are_found_in_any_spelling_and_only_whole() {
        for t in [
            "K=user.max_user_namespaces",
            "cat /proc/sys/user/max_user_namespaces",
            "\"user/max_user_namespaces\"",
        ] {
            assert!(mentioned(t, KEY), "{t}");
        }
        assert!(!mentioned("user.max_user_namespaces_extra", KEY));
        assert!(!mentioned("user.max_ipc_namespaces", KEY));
    }

    #[test]
    fn values_compare_as_the_kernel_reads_them() {
        assert!(same_value("65536", " 65536\n"));
        assert!(same_value("0x10000", "65536"));
        assert!(same_value("0200000", "65536"));
        assert!(!same_value("0", "65536"));
        assert!(same_value("4096 87380", "4096  87380"));
        assert!(!same_value("a", "b"));
    }
}
