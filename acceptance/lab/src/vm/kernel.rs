//! [`Kernel`]: a Debian cloud kernel package as `setup.sh` caches it.

use std::path::{Path, PathBuf};

use crate::LabError;
use crate::error::io;

/// Where `setup.sh` caches the kernels, one directory per series:
/// `$HOME/.cache/terraform-provider-nested/lab/kernels` (or
/// `NODE_LAB_KERNELS`). The VM images are cached there too.
pub fn kernels_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("NODE_LAB_KERNELS") {
        return PathBuf::from(d);
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from);
    home.join(".cache/terraform-provider-nested/lab/kernels")
}

/// A cached kernel: `kernel.deb` (for its modules), `vmlinuz`, `config`
/// (the package's `/boot/config-*`), `release` and `package`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kernel {
    /// The series asked for, e.g. `6.12`.
    pub series: String,
    /// The cache directory of this series.
    pub dir: PathBuf,
    /// `uname -r` of the kernel, e.g. `6.12.95+deb12-cloud-amd64`.
    pub release: String,
    /// The Debian package, e.g. `linux-image-6.1.0-57-cloud-amd64`.
    pub package: String,
    /// The package's version, e.g. `6.1.192-3`.
    pub package_version: String,
}

impl Kernel {
    /// The cached kernel of `series`, or a [`LabError::Missing`] that says
    /// `setup.sh` fetches it.
    pub fn cached(series: &str) -> Result<Kernel, LabError> {
        let dir = kernels_dir().join(series);
        let missing: Vec<&str> = ["kernel.deb", "vmlinuz", "config", "release", "package"]
            .into_iter()
            .filter(|f| !dir.join(f).is_file())
            .collect();
        if !missing.is_empty() {
            return Err(LabError::Missing(vec![format!(
                "Debian's linux-image-{series}.*-cloud-amd64 in {} (no {})",
                dir.display(),
                missing.join(", ")
            )]));
        }
        let read = |f: &str| {
            std::fs::read_to_string(dir.join(f))
                .map_err(io(format!("read {}", dir.join(f).display())))
        };
        let package = read("package")?;
        let field = |name: &str| {
            package
                .lines()
                .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
                .unwrap_or_default()
        };
        Ok(Kernel {
            series: series.to_string(),
            release: read("release")?.trim().to_string(),
            package: field("Package:"),
            package_version: field("Version:"),
            dir,
        })
    }

    /// `vmlinuz`.
    pub fn vmlinuz(&self) -> PathBuf {
        self.dir.join("vmlinuz")
    }

    /// The package's kernel config.
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("config")
    }

    /// A `CONFIG_*` value of the package's kernel config (quotes removed);
    /// `None` when unset.
    pub fn config(&self, key: &str) -> Result<Option<String>, LabError> {
        let text = std::fs::read_to_string(self.config_path())
            .map_err(io(format!("read {}", self.config_path().display())))?;
        Ok(config_value(&text, key))
    }
}

/// `KEY=value` of a kernel config text, quotes removed.
pub fn config_value(text: &str, key: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        .map(|v| v.trim_matches('"').to_string())
}

/// Whether a path exists as a file (for error messages elsewhere).
pub(crate) fn need_file(path: &Path, what: &str) -> Result<(), LabError> {
    if path.is_file() {
        Ok(())
    } else {
        Err(LabError::Missing(vec![format!(
            "{what} ({})",
            path.display()
        )]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_values() {
        let text =
            "# CONFIG_NET_9P is not set\nCONFIG_LSM=\"landlock,lockdown\"\nCONFIG_USER_NS=y\n";
        assert_eq!(
            config_value(text, "CONFIG_LSM").as_deref(),
            Some("landlock,lockdown")
        );
        assert_eq!(config_value(text, "CONFIG_USER_NS").as_deref(), Some("y"));
        assert_eq!(config_value(text, "CONFIG_NET_9P"), None);
        assert_eq!(config_value(text, "CONFIG_USER"), None);
    }
}
