//! The release layout: scripts/release-check.sh (what `make release-check`
//! runs) assembles the assets .goreleaser.yml would publish, here from the
//! debug binary the test run already built (no release build in CI), and
//! Terraform installs the provider from the zip exactly as it would from a
//! registry download: a filesystem mirror in the "packed" layout serves the
//! release zip under its release name. The release's probe image (built
//! from the static nested-probe `make probe-image` left) is the image the
//! installed provider's `probe_manifest` names by default.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use acceptance::{PROVIDER_SOURCE, Workspace, provider_dir, repo_root, terraforms};

const NAME: &str = "terraform-provider-nested";

fn host() -> (&'static str, &'static str) {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    (os, arch)
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A throwaway RSA signing key in its own GNUPGHOME; its fingerprint.
fn gpg_key(home: &Path) -> String {
    let run = |args: &[&str]| {
        let out = Command::new("gpg")
            .env("GNUPGHOME", home)
            .args(["--batch", "--quiet", "--passphrase", ""])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&[
        "--quick-gen-key",
        "release-check test <release-check@example.invalid>",
        "rsa2048",
        "sign",
        "never",
    ]);
    let listing = run(&["--list-keys", "--with-colons"]);
    listing
        .lines()
        .find_map(|l| l.strip_prefix("fpr:"))
        .and_then(|l| l.split(':').find(|f| !f.is_empty()))
        .unwrap()
        .to_string()
}

#[test]
fn release_check_assembles_registry_assets_that_terraform_installs() {
    let version = env!("CARGO_PKG_VERSION");
    let (os, arch) = host();
    let tmp = tempfile::tempdir().unwrap();

    // The debug binary is ~1 GB of debug info; a stripped copy zips in a
    // second and is the same program.
    let built = provider_dir().unwrap().join(NAME);
    let bin = tmp.path().join(NAME);
    let stripped = Command::new("strip")
        .arg("-o")
        .arg(&bin)
        .arg(&built)
        .status()
        .is_ok_and(|s| s.success());
    if !stripped {
        std::fs::copy(&built, &bin).unwrap();
    }

    // The static probe `make probe-image` built (the tests run no cargo).
    let triple = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    let probe = acceptance::target_dir()
        .join(triple)
        .join("release/nested-probe");
    assert!(
        probe.exists(),
        "{} is missing: `make probe-image` builds it (`make test` runs it first)",
        probe.display()
    );

    let dist = tmp.path().join("dist");
    let mut cmd = Command::new("bash");
    cmd.arg(repo_root().join("scripts/release-check.sh"))
        .env("PROVIDER_BIN", &bin)
        .env("PROBE_BIN", &probe)
        .env("DIST", &dist)
        .env_remove("GPG_FINGERPRINT");
    let signed = have("gpg");
    if signed {
        let home = tmp.path().join("gnupg");
        std::fs::create_dir(&home).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let fpr = gpg_key(&home);
        cmd.env("GNUPGHOME", &home).env("GPG_FINGERPRINT", fpr);
    }
    let out = cmd.output().unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "release-check.sh failed:\n{log}");
    println!("{log}");

    // Exactly the Registry's asset names.
    let zip = format!("{NAME}_{version}_{os}_{arch}.zip");
    let manifest = format!("{NAME}_{version}_manifest.json");
    let sums = format!("{NAME}_{version}_SHA256SUMS");
    let image_archive = format!("nested-probe_{version}_{os}_{arch}.oci.tar");
    let mut expected = vec![
        zip.clone(),
        manifest.clone(),
        sums.clone(),
        image_archive.clone(),
    ];
    if signed {
        expected.push(format!("{sums}.sig"));
    }
    expected.sort();
    let mut found: Vec<String> = std::fs::read_dir(&dist)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    assert_eq!(found, expected);

    // SHA256SUMS lists the zip and the manifest, nothing else.
    let text = std::fs::read_to_string(dist.join(&sums)).unwrap();
    let mut listed: Vec<&str> = text
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    listed.sort();
    let mut want = vec![zip.as_str(), manifest.as_str()];
    want.sort();
    assert_eq!(listed, want);
    let zip_sum = text
        .lines()
        .find(|l| l.ends_with(&zip))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();

    // The zip holds only terraform-provider-nested_v<version>.
    let listing = Command::new("unzip")
        .arg("-Z1")
        .arg(dist.join(&zip))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&listing.stdout).trim(),
        format!("{NAME}_v{version}")
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dist.join(&manifest)).unwrap()).unwrap();
    assert_eq!(
        m["metadata"]["protocol_versions"],
        serde_json::json!(["6.0"])
    );

    // The image archive names the image as the release pushes it.
    let index = Command::new("tar")
        .arg("-xOf")
        .arg(dist.join(&image_archive))
        .arg("index.json")
        .output()
        .unwrap();
    assert!(index.status.success(), "{index:?}");
    let index: serde_json::Value = serde_json::from_slice(&index.stdout).unwrap();
    let image = index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"]
        .as_str()
        .unwrap_or_else(|| panic!("no image name in the archive's index.json: {index:#}"))
        .to_string();
    assert_eq!(
        image,
        format!("ghcr.io/nested-sandbox/nested-probe:{version}")
    );

    // Terraform installs it from a packed filesystem mirror (the release zip
    // under its release name), without dev_overrides, and runs it.
    let mirror = tmp.path().join("mirror");
    let pkg_dir = mirror.join(PROVIDER_SOURCE);
    std::fs::create_dir_all(&pkg_dir).unwrap();
    std::fs::copy(dist.join(&zip), pkg_dir.join(&zip)).unwrap();
    let tf = &terraforms().unwrap()[0];
    let config = format!(
        r#"terraform {{
  required_providers {{
    nested = {{
      source  = "nested-sandbox/nested"
      version = "{version}"
    }}
  }}
}}

provider "nested" {{
  offline = true
}}

output "floor" {{
  value = provider::nested::kernel_floor("landjail")
}}

data "nested_capability" "pool" {{
  sandbox            = "bubblewrap"
  platform           = "eks"
  ami_family         = "al2023"
  kubernetes_version = "1.33"
}}

output "probe_manifest" {{
  value = data.nested_capability.pool.probe_manifest
}}
"#
    );
    let ws = Workspace::new(tf, &config).unwrap();
    ws.write(
        "cli.tfrc",
        &format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"{PROVIDER_SOURCE}\"]\n  }}\n}}\n",
            mirror.display()
        ),
    )
    .unwrap();
    // A lock file holding only the zip's hash from SHA256SUMS: Terraform
    // checks the package against it ("zh:" is the SHA-256 of the zip) and
    // refuses to install on a mismatch.
    ws.write(
        ".terraform.lock.hcl",
        &format!(
            "provider \"{PROVIDER_SOURCE}\" {{\n  version     = \"{version}\"\n  constraints = \"{version}\"\n  hashes = [\n    \"zh:{zip_sum}\",\n  ]\n}}\n"
        ),
    )
    .unwrap();
    let init = ws.must(&["init", "-no-color"]).unwrap();
    assert!(
        init.stdout
            .contains(&format!("Installed nested-sandbox/nested v{version}")),
        "{}",
        init.text()
    );
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let outputs = ws.outputs().unwrap();
    assert_eq!(outputs["floor"]["value"], "6.7");
    // The default probe image is the one this release builds.
    let manifest = outputs["probe_manifest"]["value"].as_str().unwrap();
    assert!(
        manifest.contains(&format!("image: \"{image}\"")),
        "probe_manifest does not run {image}:\n{manifest}"
    );
}
