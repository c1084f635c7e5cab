//! A pod container's root filesystem, as a tiny image would give it, in
//! two overlay layers (as containerd's overlay snapshotter stacks an image):
//!
//! - the **base** (lower, read-only, built once per lab): an empty tree
//!   with symlinks into /usr (the host's /usr is bound in by the OCI
//!   config), a copy of the host's /etc with kubelet-style /etc/hosts, a
//!   NOPASSWD sudoers entry for `user` and iptables-nft as `iptables`; for
//!   `hostUsers: false` pods a copy chowned by +100000 (the way containerd
//!   and CRI-O remap an image), keeping setuid/setgid bits;
//! - the **upper** layer of one run: the image's own users (`root`,
//!   `nobody`, `user` with the pod's uid), /etc/subuid + /etc/subgid
//!   fitting the pod's id range, and /home/user; every write of the
//!   container lands here too.
//!
//! The overlay itself is mounted by `scripts/run.sh` inside the run's
//! private mount namespace, so it never appears on the host.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, lchown, symlink};
use std::path::Path;

use crate::assets::{chmod, mkdir, run};
use crate::error::io;
use crate::oci::USERNS_HOST_BASE;
use crate::{LabError, Pod};

/// The uid of the image's non-root user `user` when the pod runs as root.
pub const DEFAULT_USER_UID: u32 = 1000;

/// Builds the base layer at `base` (which must not exist yet).
pub fn build_base(base: &Path) -> Result<(), LabError> {
    mkdir(base, 0o755)?;
    for d in [
        "usr", "proc", "dev", "sys", "run", "opt", "mnt", "lab", "var", "home",
    ] {
        mkdir(&base.join(d), 0o755)?;
    }
    mkdir(&base.join("tmp"), 0o1777)?;
    mkdir(&base.join("var/tmp"), 0o1777)?;
    mkdir(&base.join("root"), 0o700)?;
    for (link, target) in [
        ("bin", "usr/bin"),
        ("sbin", "usr/sbin"),
        ("lib", "usr/lib"),
        ("lib64", "usr/lib64"),
    ] {
        symlink(target, base.join(link)).map_err(io(format!("symlink {link}")))?;
    }
    let etc = base.join("etc");
    run(std::process::Command::new("cp")
        .arg("-a")
        .arg("/etc")
        .arg(&etc))?;
    write(
        &etc.join("hosts"),
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tpod\n",
    )?;
    write(&etc.join("hostname"), "pod\n")?;
    let sudoers = etc.join("sudoers.d");
    mkdir(&sudoers, 0o755)?;
    write(&sudoers.join("lab"), "user ALL=(ALL) NOPASSWD: ALL\n")?;
    chmod(&sudoers.join("lab"), 0o440)?;
    // The image's iptables is iptables-nft (Debian's default; Boundary's
    // non-root path cannot take iptables-legacy's /run/xtables.lock).
    for tool in ["iptables", "iptables-restore", "iptables-save"] {
        let link = etc.join("alternatives").join(tool);
        let target = Path::new("/usr/sbin").join(format!("{tool}-nft"));
        if link.symlink_metadata().is_ok() && target.exists() {
            fs::remove_file(&link).map_err(io(format!("remove {}", link.display())))?;
            symlink(&target, &link).map_err(io(format!("symlink {}", link.display())))?;
        }
    }
    for f in [
        "subuid-", "subgid-", "passwd-", "group-", "shadow-", "gshadow-",
    ] {
        let p = etc.join(f);
        if p.exists() {
            fs::remove_file(&p).map_err(io(format!("remove {}", p.display())))?;
        }
    }
    Ok(())
}

/// Copies the base layer to `shifted` and chowns the copy by +100000.
pub fn build_shifted_base(base: &Path, shifted: &Path) -> Result<(), LabError> {
    run(std::process::Command::new("cp")
        .arg("-a")
        .arg(base)
        .arg(shifted))?;
    shift(shifted, USERNS_HOST_BASE)
}

/// The `/etc/subuid` (= `/etc/subgid`) content for the pod's user: inside
/// the pod's ids when it has its own user namespace (`user:1:999` and
/// `user:1001:64535` for uid 1000 of 65536 ids), Debian's `useradd`
/// default `user:100000:65536` otherwise.
pub fn subid_lines(pod: &Pod) -> String {
    let uid = user_uid(pod);
    if pod.host_users {
        return "user:100000:65536\n".into();
    }
    let mut s = String::new();
    if uid > 1 {
        s.push_str(&format!("user:1:{}\n", uid - 1));
    }
    if pod.ids_per_pod > uid + 1 {
        s.push_str(&format!("user:{}:{}\n", uid + 1, pod.ids_per_pod - uid - 1));
    }
    s
}

fn user_uid(pod: &Pod) -> u32 {
    if pod.run_as_user == 0 {
        DEFAULT_USER_UID
    } else {
        pod.run_as_user
    }
}

/// Writes one run's upper layer for `pod` at `upper` (a new directory),
/// shifted by +100000 when the pod has its own user namespace.
pub fn build_upper(upper: &Path, pod: &Pod) -> Result<(), LabError> {
    let etc = upper.join("etc");
    for d in [upper, &etc, &upper.join("home")] {
        mkdir(d, 0o755)?;
    }
    let uid = user_uid(pod);
    let gid = if pod.run_as_user == 0 {
        uid
    } else {
        pod.run_as_group
    };
    let mut groups = String::from("root:x:0:\ntty:x:5:\nshadow:x:42:\nnogroup:x:65534:\n");
    if ![0, 5, 42, 65534].contains(&gid) {
        groups.push_str(&format!("user:x:{gid}:\n"));
    }
    write(
        &etc.join("passwd"),
        &format!(
            "root:x:0:0:root:/root:/bin/bash\n\
             nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n\
             user:x:{uid}:{gid}::/home/user:/bin/bash\n"
        ),
    )?;
    write(&etc.join("group"), &groups)?;
    write(
        &etc.join("shadow"),
        "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\nuser:*:19000:0:99999:7:::\n",
    )?;
    chmod(&etc.join("shadow"), 0o640)?;
    lchown(etc.join("shadow"), Some(0), Some(42)).map_err(io("chown /etc/shadow"))?;
    write(&etc.join("gshadow"), "")?;
    chmod(&etc.join("gshadow"), 0o640)?;
    lchown(etc.join("gshadow"), Some(0), Some(42)).map_err(io("chown /etc/gshadow"))?;
    let subids = subid_lines(pod);
    write(&etc.join("subuid"), &subids)?;
    write(&etc.join("subgid"), &subids)?;
    let home = upper.join("home/user");
    mkdir(&home, 0o755)?;
    lchown(&home, Some(uid), Some(gid)).map_err(io("chown /home/user"))?;
    if !pod.host_users {
        shift(upper, USERNS_HOST_BASE)?;
    }
    Ok(())
}

fn write(p: &Path, text: &str) -> Result<(), LabError> {
    fs::write(p, text).map_err(io(format!("write {}", p.display())))
}

/// Chowns a tree by `+offset` (uid and gid), restoring the setuid/setgid
/// bits that chown clears.
pub fn shift(root: &Path, offset: u32) -> Result<(), LabError> {
    let meta = fs::symlink_metadata(root).map_err(io(format!("stat {}", root.display())))?;
    lchown(
        root,
        Some(meta.uid().saturating_add(offset)),
        Some(meta.gid().saturating_add(offset)),
    )
    .map_err(io(format!("chown {}", root.display())))?;
    let mode = meta.mode() & 0o7777;
    if meta.is_dir() {
        for entry in fs::read_dir(root).map_err(io(format!("read {}", root.display())))? {
            let entry = entry.map_err(io(format!("read {}", root.display())))?;
            shift(&entry.path(), offset)?;
        }
    } else if !meta.file_type().is_symlink() && mode & 0o6000 != 0 {
        fs::set_permissions(root, fs::Permissions::from_mode(mode))
            .map_err(io(format!("chmod {}", root.display())))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subids_inside_the_pod_range() {
        let pod = Pod {
            run_as_user: 1000,
            run_as_group: 1000,
            host_users: false,
            ..Pod::default()
        };
        assert_eq!(subid_lines(&pod), "user:1:999\nuser:1001:64535\n");
        let big = Pod {
            ids_per_pod: 131072,
            ..pod.clone()
        };
        assert_eq!(subid_lines(&big), "user:1:999\nuser:1001:130071\n");
        let host = Pod {
            host_users: true,
            ..pod
        };
        assert_eq!(subid_lines(&host), "user:100000:65536\n");
    }
}
