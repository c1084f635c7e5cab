//! Pure helpers for rootless podman's uid/gid maps: the user's name from
//! /etc/passwd, its ranges in /etc/subuid and /etc/subgid, whether those
//! ranges exist in the current user namespace, and the argument list podman
//! passes to newuidmap/newgidmap. No I/O here.
//!
//! Podman (`containers/podman:pkg/rootless/rootless_linux.go`,
//! `tryMappingTool`) maps container id 0 to the user's own id and then the
//! subordinate ranges, sorted by start (`containers/storage:pkg/idtools/idtools.go`,
//! `parseSubidFile` matches the user name or the numeric uid), at container
//! ids 1, 1 + count₁, …

use crate::procfs::IdMapLine;

/// One `name:start:count` range of /etc/subuid or /etc/subgid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubIdRange {
    pub start: u32,
    pub count: u32,
}

impl SubIdRange {
    /// One past the last id, without overflow.
    fn end(self) -> u64 {
        u64::from(self.start) + u64::from(self.count)
    }

    /// Whether `id` lies in the range.
    pub fn contains(self, id: u32) -> bool {
        u64::from(id) >= u64::from(self.start) && u64::from(id) < self.end()
    }
}

impl std::fmt::Display for SubIdRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.start, self.count)
    }
}

/// The login name of `uid` in an /etc/passwd text.
pub fn user_name(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let _password = fields.next()?;
        let id = fields.next()?.parse::<u32>().ok()?;
        (id == uid && !name.is_empty()).then(|| name.to_string())
    })
}

/// The ranges of an /etc/subuid or /etc/subgid text that belong to the user
/// (by `name`, or by the numeric `id` as shadow and containers/storage also
/// accept), sorted by start. Comments, blank and malformed lines are
/// skipped; ranges of size 0 are dropped.
pub fn ranges_for(text: &str, name: Option<&str>, id: u32) -> Vec<SubIdRange> {
    let id_text = id.to_string();
    let mut ranges: Vec<SubIdRange> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let mut fields = l.split(':');
            let owner = fields.next()?;
            let start = fields.next()?.trim().parse::<u32>().ok()?;
            let count = fields.next()?.trim().parse::<u32>().ok()?;
            if fields.next().is_some() || count == 0 {
                return None;
            }
            let mine = Some(owner) == name || owner == id_text;
            mine.then_some(SubIdRange { start, count })
        })
        .collect();
    ranges.sort_by_key(|r| r.start);
    ranges
}

/// The ranges that are not entirely inside the ids mapped into the current
/// user namespace (the `inside` column of /proc/self/uid_map or gid_map).
/// The kernel refuses a child map that uses any id the parent does not map.
pub fn outside_of_map(ranges: &[SubIdRange], map: &[IdMapLine]) -> Vec<SubIdRange> {
    let mut mapped: Vec<(u64, u64)> = map
        .iter()
        .map(|l| {
            let start = u64::from(l.inside);
            (start, start + u64::from(l.count))
        })
        .collect();
    mapped.sort_unstable();
    ranges
        .iter()
        .copied()
        .filter(|r| !covered(u64::from(r.start), r.end(), &mapped))
        .collect()
}

/// Whether `[start, end)` is covered by the union of the sorted intervals.
fn covered(start: u64, end: u64, sorted: &[(u64, u64)]) -> bool {
    let mut next = start;
    for &(a, b) in sorted {
        if a > next {
            break;
        }
        next = next.max(b);
        if next >= end {
            return true;
        }
    }
    next >= end
}

/// The id triplets podman passes to newuidmap/newgidmap after the PID:
/// `0 <own> 1`, then each range at the next free container id.
pub fn mapping_args(own: u32, ranges: &[SubIdRange]) -> Vec<String> {
    let mut args = vec!["0".to_string(), own.to_string(), "1".to_string()];
    let mut container_id: u64 = 1;
    for r in ranges {
        args.push(container_id.to_string());
        args.push(r.start.to_string());
        args.push(r.count.to_string());
        container_id += u64::from(r.count);
    }
    args
}

/// `a:b, c:d` for a detail text.
pub fn show(ranges: &[SubIdRange]) -> String {
    if ranges.is_empty() {
        return "(none)".to_string();
    }
    ranges
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procfs::parse_id_map;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
        nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n\
        user:x:1000:1000::/home/user:/bin/bash\nbroken line\n";

    fn r(start: u32, count: u32) -> SubIdRange {
        SubIdRange { start, count }
    }

    #[test]
    fn user_names_from_passwd() {
        assert_eq!(user_name(PASSWD, 1000).as_deref(), Some("user"));
        assert_eq!(user_name(PASSWD, 0).as_deref(), Some("root"));
        assert_eq!(user_name(PASSWD, 4242), None);
        assert_eq!(user_name("", 0), None);
    }

    #[test]
    fn ranges_by_name_or_uid_sorted() {
        // The lab's in-pod file, plus noise and an entry by numeric uid.
        let text = "# comment\nuser:1001:64535\nother:5:5\nuser:1:999\n1000:70000:10\nuser:x:1\nuser:9:0\n";
        assert_eq!(
            ranges_for(text, Some("user"), 1000),
            [r(1, 999), r(1001, 64535), r(70000, 10)]
        );
        assert_eq!(ranges_for(text, None, 1000), [r(70000, 10)]);
        assert!(ranges_for("", Some("user"), 1000).is_empty());
    }

    #[test]
    fn ranges_inside_a_pod_user_namespace() {
        // hostUsers: false: the pod sees ids 0..65535.
        let pod = parse_id_map("0 100000 65536\n").unwrap_or_default();
        assert!(outside_of_map(&[r(1, 999), r(1001, 64535)], &pod).is_empty());
        // Debian's useradd default lies outside (lab scenario pm-p17).
        assert_eq!(
            outside_of_map(&[r(100000, 65536)], &pod),
            [r(100000, 65536)]
        );
        // One id too many.
        assert_eq!(outside_of_map(&[r(1001, 64536)], &pod), [r(1001, 64536)]);
        // The initial namespace maps everything.
        let host = parse_id_map("0 0 4294967295\n").unwrap_or_default();
        assert!(outside_of_map(&[r(100000, 65536)], &host).is_empty());
        // Two adjacent map lines cover a range that spans both.
        let split = parse_id_map("0 0 1\n1 1 4294967294\n").unwrap_or_default();
        assert!(outside_of_map(&[r(0, 10)], &split).is_empty());
        // A hole between two map lines.
        let holes = parse_id_map("0 500 10\n20 600 10\n").unwrap_or_default();
        assert_eq!(outside_of_map(&[r(5, 20)], &holes), [r(5, 20)]);
        assert!(outside_of_map(&[r(20, 10)], &holes).is_empty());
        assert_eq!(outside_of_map(&[r(0, 1)], &[]), [r(0, 1)]);
    }

    #[test]
    fn podman_argument_layout() {
        // As logged by podman in the lab: newuidmap PID 0 1000 1 1 1 999 1000 1001 64535.
        assert_eq!(
            mapping_args(1000, &[r(1, 999), r(1001, 64535)]).join(" "),
            "0 1000 1 1 1 999 1000 1001 64535"
        );
        assert_eq!(
            mapping_args(1000, &[r(100000, 65536)]).join(" "),
            "0 1000 1 1 100000 65536"
        );
        assert_eq!(mapping_args(7, &[]).join(" "), "0 7 1");
        assert!(r(1001, 10).contains(1010) && !r(1001, 10).contains(1011));
        assert_eq!(show(&[r(1, 2), r(5, 6)]), "1:2, 5:6");
        assert_eq!(show(&[]), "(none)");
    }
}
