//! Pure parsers for the /proc and /sys files the probe reads. No I/O here,
//! so every rule is unit-tested against fixtures.

/// Capability names by bit number (`include/uapi/linux/capability.h`),
/// without the `CAP_` prefix, as Kubernetes spells them in
/// `securityContext.capabilities`.
pub const CAPABILITY_NAMES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// The bit number of a capability name (with or without `CAP_`, any case).
pub fn capability_bit(name: &str) -> Option<u32> {
    let upper = name.to_ascii_uppercase();
    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
    CAPABILITY_NAMES
        .iter()
        .position(|n| *n == bare)
        .and_then(|i| u32::try_from(i).ok())
}

/// Names of the bits set in a capability mask; unknown bits as `CAP_<n>`.
pub fn capability_names(mask: u64) -> Vec<String> {
    (0..64u32)
        .filter(|bit| mask & (1u64 << bit) != 0)
        .map(|bit| {
            usize::try_from(bit)
                .ok()
                .and_then(|i| CAPABILITY_NAMES.get(i))
                .map_or_else(|| format!("CAP_{bit}"), |n| (*n).to_string())
        })
        .collect()
}

/// The fields of /proc/self/status the probe uses. `None` when absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcStatus {
    pub cap_eff: Option<u64>,
    pub cap_prm: Option<u64>,
    pub cap_bnd: Option<u64>,
    pub cap_amb: Option<u64>,
    pub no_new_privs: Option<bool>,
    pub seccomp: Option<u32>,
    pub seccomp_filters: Option<u32>,
    pub threads: Option<u32>,
}

impl ProcStatus {
    /// Whether capability `bit` is in the effective set.
    pub fn effective(&self, bit: u32) -> Option<bool> {
        self.cap_eff.map(|m| m & (1u64 << bit) != 0)
    }

    /// Whether capability `bit` is in the bounding set.
    pub fn bounding(&self, bit: u32) -> Option<bool> {
        self.cap_bnd.map(|m| m & (1u64 << bit) != 0)
    }
}

/// Parses /proc/<pid>/status.
pub fn parse_status(text: &str) -> ProcStatus {
    let mut s = ProcStatus::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        let hex = || u64::from_str_radix(value, 16).ok();
        match key {
            "CapEff" => s.cap_eff = hex(),
            "CapPrm" => s.cap_prm = hex(),
            "CapBnd" => s.cap_bnd = hex(),
            "CapAmb" => s.cap_amb = hex(),
            "NoNewPrivs" => {
                s.no_new_privs = match value {
                    "0" => Some(false),
                    "1" => Some(true),
                    _ => None,
                }
            }
            "Seccomp" => s.seccomp = value.parse().ok(),
            "Seccomp_filters" => s.seccomp_filters = value.parse().ok(),
            "Threads" => s.threads = value.parse().ok(),
            _ => {}
        }
    }
    s
}

/// Human name of a /proc/self/status `Seccomp` mode.
pub fn seccomp_mode_name(mode: u32) -> &'static str {
    match mode {
        0 => "disabled",
        1 => "strict",
        2 => "filter",
        _ => "unknown mode",
    }
}

/// One line of /proc/<pid>/uid_map or gid_map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdMapLine {
    pub inside: u32,
    pub outside: u32,
    pub count: u32,
}

/// Parses a uid_map/gid_map file. `None` if any non-empty line is malformed.
pub fn parse_id_map(text: &str) -> Option<Vec<IdMapLine>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut it = l.split_whitespace().map(str::parse::<u32>);
            let line = IdMapLine {
                inside: it.next()?.ok()?,
                outside: it.next()?.ok()?,
                count: it.next()?.ok()?,
            };
            if it.next().is_some() {
                return None;
            }
            Some(line)
        })
        .collect()
}

/// The initial user namespace shows exactly `0 0 4294967295`; anything else
/// means the process runs in a (child) user namespace.
pub fn is_initial_user_namespace(map: &[IdMapLine]) -> bool {
    map == [IdMapLine {
        inside: 0,
        outside: 0,
        count: u32::MAX,
    }]
}

/// Parses /sys/kernel/security/lsm (`capability,landlock,yama,...`).
pub fn parse_lsm_list(text: &str) -> Vec<String> {
    text.trim()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The cgroup v2 path of the process from /proc/self/cgroup (`0::/path`).
pub fn parse_cgroup_v2_path(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(|p| p.trim().to_string())
}

/// Parses cgroup.controllers / cgroup.subtree_control.
pub fn parse_controllers(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

/// One line of /proc/self/mountinfo (the fields the probe uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    pub mount_point: String,
    pub fstype: String,
    pub source: String,
}

/// Undoes mountinfo's octal escapes (`\040` for a space, etc.).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            let oct = bytes
                .get(i + 1..i + 4)
                .and_then(|o| std::str::from_utf8(o).ok())
                .and_then(|o| u8::from_str_radix(o, 8).ok());
            if let Some(v) = oct {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses /proc/self/mountinfo; malformed lines are skipped.
pub fn parse_mountinfo(text: &str) -> Vec<MountEntry> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let mount_point = left.split_whitespace().nth(4)?;
            let mut r = right.split_whitespace();
            let fstype = r.next()?;
            let source = r.next().unwrap_or("");
            Some(MountEntry {
                mount_point: unescape(mount_point),
                fstype: fstype.to_string(),
                source: unescape(source),
            })
        })
        .collect()
}

/// Mounts stacked on paths below /proc (the masks and read-only binds a
/// container runtime adds with `procMount: Default`). binfmt_misc on
/// /proc/sys/fs/binfmt_misc sits on a permanently empty directory and does
/// not block a new procfs mount, so it is left out.
pub fn proc_overmounts(mounts: &[MountEntry]) -> Vec<String> {
    mounts
        .iter()
        .filter(|m| m.mount_point.starts_with("/proc/"))
        .filter(|m| m.fstype != "binfmt_misc" && m.fstype != "autofs")
        .map(|m| m.mount_point.clone())
        .collect()
}

/// The filesystem types mounted exactly at `path` (the last one is on top).
pub fn fstypes_at<'a>(mounts: &'a [MountEntry], path: &str) -> Vec<&'a str> {
    mounts
        .iter()
        .filter(|m| m.mount_point == path)
        .map(|m| m.fstype.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS_ROOT: &str = "Name:\tcat\nUmask:\t0022\nState:\tR (running)\nTgid:\t42\nUid:\t0\t0\t0\t0\nThreads:\t1\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\nSpeculation_Store_Bypass:\tthread vulnerable\n";

    // A typical Kubernetes pod: runtime default caps + NET_ADMIN, a seccomp
    // filter (RuntimeDefault) and allowPrivilegeEscalation: false.
    const STATUS_POD: &str = "Name:\tsh\nThreads:\t3\nCapInh:\t0000000000000000\nCapPrm:\t00000000a80435fb\nCapEff:\t00000000a80435fb\nCapBnd:\t00000000a80435fb\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t1\n";

    #[test]
    fn parses_status_of_root() {
        let s = parse_status(STATUS_ROOT);
        assert_eq!(s.cap_eff, Some(0x1ff_ffff_ffff));
        assert_eq!(s.cap_bnd, Some(0x1ff_ffff_ffff));
        assert_eq!(s.cap_amb, Some(0));
        assert_eq!(s.no_new_privs, Some(false));
        assert_eq!(s.seccomp, Some(0));
        assert_eq!(s.seccomp_filters, Some(0));
        assert_eq!(s.threads, Some(1));
        assert_eq!(capability_names(s.cap_eff.unwrap_or(0)).len(), 41);
    }

    #[test]
    fn parses_status_of_a_restricted_pod() {
        let s = parse_status(STATUS_POD);
        assert_eq!(s.no_new_privs, Some(true));
        assert_eq!(s.seccomp, Some(2));
        assert_eq!(s.seccomp_filters, Some(1));
        assert_eq!(s.threads, Some(3));
        let names = capability_names(s.cap_eff.unwrap_or(0));
        assert_eq!(
            names,
            [
                "CHOWN",
                "DAC_OVERRIDE",
                "FOWNER",
                "FSETID",
                "KILL",
                "SETGID",
                "SETUID",
                "SETPCAP",
                "NET_BIND_SERVICE",
                "NET_ADMIN",
                "NET_RAW",
                "SYS_CHROOT",
                "MKNOD",
                "AUDIT_WRITE",
                "SETFCAP"
            ]
        );
        let net_admin = capability_bit("NET_ADMIN").unwrap_or(99);
        assert_eq!(s.effective(net_admin), Some(true));
        let sys_admin = capability_bit("cap_sys_admin").unwrap_or(99);
        assert_eq!(s.effective(sys_admin), Some(false));
        assert_eq!(s.bounding(sys_admin), Some(false));
    }

    #[test]
    fn missing_or_garbled_status_fields_are_none() {
        let s = parse_status("Name:\tx\nCapEff:\tzz\nNoNewPrivs:\t7\n");
        assert_eq!(s.cap_eff, None);
        assert_eq!(s.no_new_privs, None);
        assert_eq!(s.seccomp, None);
        assert_eq!(s.effective(12), None);
    }

    #[test]
    fn capability_bits_and_unknown_bits() {
        assert_eq!(capability_bit("SETFCAP"), Some(31));
        assert_eq!(capability_bit("CAP_CHECKPOINT_RESTORE"), Some(40));
        assert_eq!(capability_bit("NOPE"), None);
        assert_eq!(capability_names(1 << 12 | 1 << 45), ["NET_ADMIN", "CAP_45"]);
        assert!(capability_names(0).is_empty());
    }

    #[test]
    fn initial_user_namespace_map_is_the_identity() {
        let host = parse_id_map("         0          0 4294967295\n").unwrap_or_default();
        assert!(is_initial_user_namespace(&host));

        let mapped_root = parse_id_map("         0       1000          1\n").unwrap_or_default();
        assert!(!is_initial_user_namespace(&mapped_root));

        // Kubernetes hostUsers: false: a 65536-wide range at a high offset.
        let pod = parse_id_map("0 1879048192 65536\n").unwrap_or_default();
        assert_eq!(
            pod,
            [IdMapLine {
                inside: 0,
                outside: 1_879_048_192,
                count: 65536
            }]
        );
        assert!(!is_initial_user_namespace(&pod));

        // Two lines, the first of which looks like the identity.
        let multi = parse_id_map("0 0 4294967295\n5 5 1\n").unwrap_or_default();
        assert!(!is_initial_user_namespace(&multi));

        assert_eq!(parse_id_map("0 0\n"), None);
        assert_eq!(parse_id_map("a b c\n"), None);
        assert_eq!(parse_id_map("0 0 1 9\n"), None);
        // An empty map (user namespace before its map was written).
        assert_eq!(parse_id_map(""), Some(vec![]));
        assert!(!is_initial_user_namespace(&[]));
    }

    #[test]
    fn lsm_list() {
        assert_eq!(
            parse_lsm_list("lockdown,capability,landlock,yama,selinux,bpf\n"),
            [
                "lockdown",
                "capability",
                "landlock",
                "yama",
                "selinux",
                "bpf"
            ]
        );
        assert!(parse_lsm_list("\n").is_empty());
        assert_eq!(parse_lsm_list("capability,yama"), ["capability", "yama"]);
    }

    #[test]
    fn cgroup_files() {
        let hybrid = "9:name=systemd:/\n4:memory:/kubepods/x\n0::/\n";
        assert_eq!(parse_cgroup_v2_path(hybrid).as_deref(), Some("/"));
        let v2 = "0::/kubepods.slice/kubepods-burstable.slice/cri-containerd-abc.scope\n";
        assert_eq!(
            parse_cgroup_v2_path(v2).as_deref(),
            Some("/kubepods.slice/kubepods-burstable.slice/cri-containerd-abc.scope")
        );
        assert_eq!(parse_cgroup_v2_path("4:memory:/x\n"), None);
        assert_eq!(
            parse_controllers("cpuset cpu io memory hugetlb pids rdma misc\n"),
            [
                "cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"
            ]
        );
        assert!(parse_controllers("\n").is_empty());
    }

    // /proc/self/mountinfo of a container with procMount: Default (runc's
    // masked paths and read-only paths), cgroup v2 read-only.
    const MOUNTINFO_MASKED: &str = "\
1290 1205 0:300 / / rw,relatime master:1 - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w
1291 1290 0:303 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
1292 1290 0:304 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
1297 1290 0:308 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw
1210 1291 0:303 /bus /proc/bus ro,nosuid,nodev,noexec,relatime - proc proc rw
1211 1291 0:303 /sys /proc/sys ro,nosuid,nodev,noexec,relatime - proc proc rw
1213 1291 0:312 / /proc/acpi ro,relatime - tmpfs tmpfs ro
1214 1291 0:304 /null /proc/kcore rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
1220 1211 0:50 / /proc/sys/fs/binfmt_misc rw,relatime - binfmt_misc binfmt_misc rw
1230 1290 8:1 /data /mnt/with\\040space rw - ext4 /dev/sda1 rw
";

    #[test]
    fn mountinfo_overmounts_under_proc() {
        let m = parse_mountinfo(MOUNTINFO_MASKED);
        assert_eq!(m.len(), 10);
        assert_eq!(
            proc_overmounts(&m),
            ["/proc/bus", "/proc/sys", "/proc/acpi", "/proc/kcore"]
        );
        assert_eq!(fstypes_at(&m, "/sys/fs/cgroup"), ["cgroup2"]);
        assert_eq!(fstypes_at(&m, "/proc"), ["proc"]);
        assert_eq!(m[9].mount_point, "/mnt/with space");
        assert_eq!(m[9].source, "/dev/sda1");
    }

    #[test]
    fn mountinfo_unmasked_and_hybrid_cgroups() {
        let text = "\
22 27 0:21 / /proc rw,relatime - proc proc rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
40 31 0:40 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
41 31 0:41 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
garbage line
";
        let m = parse_mountinfo(text);
        assert_eq!(m.len(), 4);
        assert!(proc_overmounts(&m).is_empty());
        assert_eq!(fstypes_at(&m, "/sys/fs/cgroup"), ["tmpfs"]);
        assert_eq!(fstypes_at(&m, "/sys/fs/cgroup/unified"), ["cgroup2"]);
    }

    #[test]
    fn seccomp_modes() {
        assert_eq!(seccomp_mode_name(0), "disabled");
        assert_eq!(seccomp_mode_name(2), "filter");
        assert_eq!(seccomp_mode_name(9), "unknown mode");
    }
}
