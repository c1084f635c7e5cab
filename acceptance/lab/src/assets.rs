//! The lab's work directory: what every pod container shares, built once
//! per [`Lab`](crate::Lab).
//!
//! ```text
//! <work>/            0755 temporary directory
//!   lab/             bound read-only at /lab in every container
//!     scripts/       the embedded workload scripts
//!     bin/           landjail, lab-proxy, nested-probe (copies)
//!     img/busybox.tar  the local image rootless podman imports
//!     fcaps/         newuidmap/newgidmap with file capabilities
//!     out/           mount point of the run's writable /lab/out
//!   devices/         0666 copies of device nodes
//!   base/            the rootfs base layer (rootfs.rs)
//!   base-shifted/    the same chowned by +100000, built on first use
//!   crun/            crun's state directory (--root)
//!   bundles/         one OCI bundle per run, removed after it
//! ```

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::io;
use crate::{LabError, oci};

/// The embedded workload and wrapper scripts, by file name.
pub const SCRIPTS: [(&str, &str); 6] = [
    ("run.sh", include_str!("../scripts/run.sh")),
    (
        "outer-userns.sh",
        include_str!("../scripts/outer-userns.sh"),
    ),
    ("bubblewrap.sh", include_str!("../scripts/bubblewrap.sh")),
    ("podman.sh", include_str!("../scripts/podman.sh")),
    ("nsjail.sh", include_str!("../scripts/nsjail.sh")),
    (
        "nsjail-child.sh",
        include_str!("../scripts/nsjail-child.sh"),
    ),
];

/// Paths inside the work directory.
#[derive(Debug, Clone)]
pub struct WorkDir {
    /// The work directory itself.
    pub root: PathBuf,
}

impl WorkDir {
    /// What is bound at /lab.
    pub fn lab(&self) -> PathBuf {
        self.root.join("lab")
    }
    /// The scripts directory (host path).
    pub fn scripts(&self) -> PathBuf {
        self.lab().join("scripts")
    }
    /// 0666 device node copies.
    pub fn devices(&self) -> PathBuf {
        self.root.join("devices")
    }
    /// The rootfs base layer.
    pub fn base(&self) -> PathBuf {
        self.root.join("base")
    }
    /// The base layer chowned by +100000 (for `hostUsers: false`).
    pub fn shifted_base(&self) -> PathBuf {
        self.root.join("base-shifted")
    }
    /// crun's `--root`.
    pub fn crun_state(&self) -> PathBuf {
        self.root.join("crun")
    }
    /// Where bundles go.
    pub fn bundles(&self) -> PathBuf {
        self.root.join("bundles")
    }

    /// Creates the layout (scripts, image, file-capability helpers, rootfs
    /// base layer); helper binaries are added by [`WorkDir::add_binary`].
    pub fn build(root: &Path) -> Result<WorkDir, LabError> {
        let w = WorkDir {
            root: root.to_path_buf(),
        };
        chmod(root, 0o755)?;
        for d in [
            w.scripts(),
            w.lab().join("bin"),
            w.lab().join("img"),
            w.lab().join("fcaps"),
            w.lab().join("out"),
            w.devices(),
            w.crun_state(),
            w.bundles(),
        ] {
            mkdir(&d, 0o755)?;
        }
        for (name, text) in SCRIPTS {
            let p = w.scripts().join(name);
            fs::write(&p, text).map_err(io(format!("write {}", p.display())))?;
            chmod(&p, 0o755)?;
        }
        w.build_image()?;
        w.build_fcaps()?;
        crate::rootfs::build_base(&w.base())?;
        Ok(w)
    }

    /// Copies a binary into /lab/bin under `name`.
    pub fn add_binary(&self, source: &Path, name: &str) -> Result<(), LabError> {
        let dst = self.lab().join("bin").join(name);
        fs::copy(source, &dst).map_err(io(format!(
            "copy {} to {}",
            source.display(),
            dst.display()
        )))?;
        chmod(&dst, 0o755)
    }

    /// A 0666 copy of a host character device (same major/minor), named by
    /// [`oci::device_copy_name`]; created once.
    pub fn device_copy(&self, device: &str) -> Result<PathBuf, LabError> {
        let dst = self.devices().join(oci::device_copy_name(device));
        if !dst.exists() {
            let (major, minor) = oci::device_numbers(Path::new(device))?;
            run(Command::new("mknod").args(["-m", "0666"]).arg(&dst).args([
                "c",
                &major.to_string(),
                &minor.to_string(),
            ]))?;
        }
        Ok(dst)
    }

    /// `img/busybox.tar`: busybox-static plus applet symlinks, the image
    /// rootless podman imports (no registry needed).
    fn build_image(&self) -> Result<(), LabError> {
        let tree = self.root.join("img-tree");
        mkdir(&tree.join("bin"), 0o755)?;
        let busybox = crate::host::usr_tool("busybox")
            .ok_or_else(|| LabError::Missing(vec!["busybox (package busybox-static)".into()]))?;
        let dst = tree.join("bin/busybox");
        fs::copy(&busybox, &dst).map_err(io("copy busybox"))?;
        for applet in ["sh", "id", "cat", "ls", "echo", "sleep"] {
            symlink("busybox", tree.join("bin").join(applet))
                .map_err(io(format!("symlink {applet}")))?;
        }
        for d in ["etc", "tmp", "proc", "dev", "sys"] {
            mkdir(&tree.join(d), 0o755)?;
        }
        run(Command::new("tar")
            .arg("-C")
            .arg(&tree)
            .arg("-cf")
            .arg(self.lab().join("img/busybox.tar"))
            .arg("."))?;
        fs::remove_dir_all(&tree).map_err(io("remove the image tree"))
    }

    /// `fcaps/newuidmap` and `newgidmap`: copies of Debian's setuid-root
    /// helpers made 0755 with `cap_setuid=ep` / `cap_setgid=ep`, as Fedora
    /// and podman's images ship them.
    fn build_fcaps(&self) -> Result<(), LabError> {
        for (tool, cap) in [
            ("newuidmap", "cap_setuid=ep"),
            ("newgidmap", "cap_setgid=ep"),
        ] {
            let src = crate::host::usr_tool(tool)
                .ok_or_else(|| LabError::Missing(vec![format!("{tool} (package uidmap)")]))?;
            let dst = self.lab().join("fcaps").join(tool);
            fs::copy(&src, &dst).map_err(io(format!("copy {tool}")))?;
            chmod(&dst, 0o755)?;
            run(Command::new("setcap").arg(cap).arg(&dst))?;
        }
        Ok(())
    }
}

/// Creates a directory (and parents) with a mode.
pub fn mkdir(p: &Path, mode: u32) -> Result<(), LabError> {
    fs::create_dir_all(p).map_err(io(format!("create {}", p.display())))?;
    chmod(p, mode)
}

/// Sets a path's permission bits.
pub fn chmod(p: &Path, mode: u32) -> Result<(), LabError> {
    fs::set_permissions(p, fs::Permissions::from_mode(mode))
        .map_err(io(format!("chmod {mode:o} {}", p.display())))
}

/// Runs a host command of the lab's own; fails with its stderr.
pub fn run(cmd: &mut Command) -> Result<(), LabError> {
    let shown = format!("{cmd:?}");
    let out = cmd.output().map_err(|e| LabError::Command {
        command: shown.clone(),
        detail: e.to_string(),
    })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(LabError::Command {
            command: shown,
            detail: format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        })
    }
}
