//! The probe image `make probe-image` built (scripts/probe-image.sh, the
//! release's probe/Containerfile) run the way a user without root runs it:
//! loaded from its OCI archive into a rootless podman (uid 65534, its own
//! storage) and started with Debian's runc. The image must hold the probe
//! and nothing else, start as its entrypoint, and give a verdict that
//! follows what the runtime granted (the kernel and the runtime are the
//! oracles, not the probe's own data).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::{PermissionsExt, chown};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The unprivileged user podman runs as (Debian's `nobody`; it has no
/// /etc/subuid range, so podman maps its one id to root in the container).
const USER: u32 = 65534;

fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => panic!("no probe image for {other}"),
    }
}

/// The OCI archive `make probe-image` wrote (the tests never build it).
fn archive() -> PathBuf {
    let p = acceptance::target_dir().join(format!(
        "probe-image/nested-probe_{VERSION}_linux_{}.oci.tar",
        arch()
    ));
    assert!(
        p.exists(),
        "{} is missing: `make probe-image` builds it (`make test` runs it first)",
        p.display()
    );
    p
}

/// A rootless podman: uid 65534 with its own HOME (storage) and runtime
/// directory. runc, not crun: Debian 12's crun refuses a hybrid cgroup
/// hierarchy even with cgroups disabled, runc does not.
struct Rootless {
    dir: tempfile::TempDir,
}

impl Rootless {
    fn new() -> Self {
        assert!(
            node_lab::host::is_root(),
            "the rootless run needs root to become uid {USER} (the node lab runs as root)"
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        for sub in ["home", "run"] {
            let p = dir.path().join(sub);
            std::fs::create_dir(&p).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o700)).unwrap();
            chown(&p, Some(USER), Some(USER)).unwrap();
        }
        Self { dir }
    }

    fn podman(&self, args: &[&str]) -> Output {
        Command::new("setpriv")
            .args([
                &format!("--reuid={USER}"),
                &format!("--regid={USER}"),
                "--clear-groups",
                "--",
                "podman",
                "--runtime",
                "runc",
            ])
            .args(args)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
            .env("HOME", self.dir.path().join("home"))
            .env("XDG_RUNTIME_DIR", self.dir.path().join("run"))
            .output()
            .expect("setpriv/podman (bash acceptance/lab/setup.sh installs podman and runc)")
    }

    /// Copies the archive where uid 65534 can read it and loads it.
    fn load(&self, archive: &Path) -> String {
        let copy = self.dir.path().join("nested-probe.oci.tar");
        std::fs::copy(archive, &copy).unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = self.podman(&["load", "-i", copy.to_str().unwrap()]);
        assert!(out.status.success(), "podman load: {}", text(&out));
        let loaded = String::from_utf8_lossy(&out.stdout);
        let image = loaded
            .lines()
            .find_map(|l| l.strip_prefix("Loaded image: "))
            .unwrap_or_else(|| panic!("podman load named no image: {}", text(&out)))
            .trim()
            .to_string();
        assert!(
            image.ends_with(&format!("/nested-probe:{VERSION}")),
            "the archive holds {image}, not nested-probe:{VERSION}"
        );
        image
    }

    /// `podman run --rm --network none [flags] image args` (the probe needs
    /// no network: its Landlock check connects over the container's loopback).
    fn run(&self, flags: &[&str], image: &str, args: &[&str]) -> Output {
        let mut all = vec!["run", "--rm", "--network", "none"];
        all.extend_from_slice(flags);
        all.push(image);
        all.extend_from_slice(args);
        self.podman(&all)
    }
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn report(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}):\n{}", text(out)))
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no check {name} in the report"))
}

#[test]
fn the_probe_image_runs_rootless_and_reports_what_the_runtime_granted() {
    let podman = Rootless::new();
    let image = podman.load(&archive());

    // The image: one layer, the probe as its entrypoint, this platform.
    let out = podman.podman(&["image", "inspect", &image]);
    assert!(out.status.success(), "podman image inspect: {}", text(&out));
    let inspect: Value = serde_json::from_slice(&out.stdout).unwrap();
    let inspect = &inspect[0];
    assert_eq!(
        inspect["RootFS"]["Layers"].as_array().map(Vec::len),
        Some(1),
        "{inspect:#}"
    );
    assert_eq!(
        inspect["Config"]["Entrypoint"],
        serde_json::json!(["/nested-probe"])
    );
    assert_eq!(inspect["Architecture"], arch());

    // Started by its entrypoint, the probe reports from inside the container.
    let out = podman.run(&[], &image, &["--json"]);
    assert!(
        out.status.success(),
        "podman run {image} --json: {}",
        text(&out)
    );
    let r = report(&out);
    assert_eq!(r["probe_version"], VERSION);
    // The container shares the kernel: the probe must read the host's release.
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    assert_eq!(r["kernel_release"], release.trim());
    // Rootless podman always starts the container in a user namespace.
    assert_eq!(check(&r, "userns.current")["value"], true, "{r:#}");
    for sandbox in ["nsjail", "landjail", "bubblewrap", "podman"] {
        assert!(
            r["verdicts"][sandbox]["runnable"].is_boolean(),
            "no verdict for {sandbox}: {r:#}"
        );
    }

    // What the runtime grants decides the report: SYS_ADMIN is outside
    // podman's default capability set; granted, the probe sees it.
    assert_eq!(check(&r, "cap.sys_admin")["status"], "fail", "{r:#}");
    let out = podman.run(&["--cap-add", "SYS_ADMIN"], &image, &["--json"]);
    assert!(
        out.status.success(),
        "podman run --cap-add SYS_ADMIN: {}",
        text(&out)
    );
    assert_eq!(check(&report(&out), "cap.sys_admin")["status"], "ok");

    // The exit code of `--sandbox X` is the verdict's.
    for sandbox in ["landjail", "bubblewrap"] {
        let runnable = r["verdicts"][sandbox]["runnable"] == true;
        let out = podman.run(&[], &image, &["--sandbox", sandbox, "--json"]);
        assert_eq!(
            out.status.code(),
            Some(if runnable { 0 } else { 1 }),
            "--sandbox {sandbox}: {}",
            text(&out)
        );
    }

    // Nothing but the probe: there is no shell to start.
    let out = podman.run(&["--entrypoint", "/bin/sh"], &image, &["-c", "true"]);
    assert!(
        !out.status.success(),
        "a shell ran in the probe image: {}",
        text(&out)
    );
    let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(
        err.contains("no such file or directory") || err.contains("not found"),
        "{}",
        text(&out)
    );
}
