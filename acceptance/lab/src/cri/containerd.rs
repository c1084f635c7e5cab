//! A private containerd with its CRI plugin: its own root, state, temp
//! directory and socket under the lab's work directory, started in a
//! private mount + network namespace (so its hard-coded /run/containerd and
//! /var/lib/cni, the shims' sockets and the pods' veths exist only there),
//! from the Debian packages `acceptance/lab/cri/setup.sh` unpacked. Nothing
//! is installed over the system's packages.
//!
//! The configuration is `containerd config default` of that very binary
//! with a few keys changed, each for a reason given beside it; a key that is
//! not where the version's default config has it is an error.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::LabError;
use crate::error::io;

/// The starter: a private mount + network namespace with tmpfs /run and
/// /var, loopback up, then containerd.
const NAMESPACE_SCRIPT: &str = include_str!("../../cri/containerd-ns.sh");

/// The set-up's cache (`acceptance/lab/cri/setup.sh`).
pub fn cache_dir() -> PathBuf {
    std::env::var_os("NODE_LAB_CRI").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()))
                .join(".cache/terraform-provider-nested/lab/cri")
        },
        PathBuf::from,
    )
}

/// A running private containerd.
#[derive(Debug)]
pub struct Containerd {
    /// `2`, `1.7` or `1.6`.
    pub series: String,
    /// Its work directory (root, state, temp, socket, log, CNI config).
    pub dir: PathBuf,
    /// How long from spawn until the socket answered.
    pub started_in: Duration,
    child: Option<Child>,
}

impl Containerd {
    /// The CRI socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.join("containerd.sock")
    }

    /// containerd's state directory (bundles with the generated config.json).
    pub fn state(&self) -> PathBuf {
        self.dir.join("state")
    }

    /// The generated OCI spec of a container (or sandbox) `id`.
    pub fn oci_spec_path(&self, id: &str) -> PathBuf {
        self.state()
            .join("io.containerd.runtime.v2.task/k8s.io")
            .join(id)
            .join("config.json")
    }

    /// The log containerd wrote.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("containerd.log")).unwrap_or_default()
    }

    /// Starts containerd `series` from `cache` with its work directory
    /// `dir` (created), the CNI bridge configured, and waits for its socket.
    /// `tun`, when given, is bound over `/dev/net/tun` in its namespace (the
    /// node's device as the node has it).
    pub fn start(
        cache: &Path,
        series: &str,
        dir: &Path,
        tun: Option<&Path>,
    ) -> Result<Containerd, LabError> {
        let bin = cache.join("containerd").join(series);
        let containerd = bin.join("containerd");
        if !containerd.exists() {
            return Err(LabError::Missing(vec![format!(
                "{} (containerd {series})",
                containerd.display()
            )]));
        }
        for d in ["root", "state", "tmp", "opt", "verifier", "cni"] {
            fs::create_dir_all(dir.join(d)).map_err(io(format!("create {}/{d}", dir.display())))?;
        }
        let default = output(Command::new(&containerd).args(["config", "default"]))?;
        let config = configure(&default, series, cache, dir)?;
        fs::write(dir.join("config.toml"), config).map_err(io("write config.toml"))?;
        fs::write(dir.join("cni/10-lab.conflist"), CNI_CONFIG)
            .map_err(io("write the CNI config"))?;
        let log =
            fs::File::create(dir.join("containerd.log")).map_err(io("create containerd.log"))?;
        let log2 = log.try_clone().map_err(io("containerd.log"))?;
        let path = format!(
            "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            bin.display()
        );
        let started = Instant::now();
        let child = Command::new("unshare")
            .args([
                "--mount",
                "--net",
                "--propagation",
                "private",
                "/bin/sh",
                "-c",
            ])
            .arg(NAMESPACE_SCRIPT)
            .arg("containerd-ns")
            .arg(&containerd)
            .arg(dir.join("config.toml"))
            .arg(tun.map(|t| t.display().to_string()).unwrap_or_default())
            .env("PATH", path)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(io("start unshare + containerd"))?;
        let mut me = Containerd {
            series: series.to_string(),
            dir: dir.to_path_buf(),
            started_in: Duration::ZERO,
            child: Some(child),
        };
        let socket = me.socket();
        while !socket.exists() {
            if let Some(c) = me.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                return Err(LabError::Harness(format!(
                    "containerd {series} exited ({status}):\n{}",
                    tail(&me.log(), 30)
                )));
            }
            if started.elapsed() > Duration::from_secs(30) {
                return Err(LabError::Harness(format!(
                    "containerd {series} did not open {} in 30 s:\n{}",
                    socket.display(),
                    tail(&me.log(), 30)
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        me.started_in = started.elapsed();
        Ok(me)
    }

    /// `ctr images import` of an OCI archive into the CRI's namespace.
    pub fn import(&self, cache: &Path, archive: &Path) -> Result<(), LabError> {
        let ctr = cache.join("containerd").join(&self.series).join("ctr");
        output(
            Command::new(ctr)
                .arg("--address")
                .arg(self.socket())
                .args(["--namespace", "k8s.io", "images", "import"])
                .arg(archive),
        )
        .map(drop)
    }

    /// Stops containerd and every shim it started; removes the pods'
    /// cgroups under `/node-lab`.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        // Shims outlive containerd by design; ours name our socket.
        let pattern = format!("containerd-shim-runc-v2 .*{}", self.dir.display());
        let _ = Command::new("pkill")
            .args(["-KILL", "-f", &pattern])
            .status();
        remove_cgroups();
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Removes the lab's pod cgroups (children first).
fn remove_cgroups() {
    let Ok(controllers) = fs::read_dir("/sys/fs/cgroup") else {
        return;
    };
    let mut roots: Vec<PathBuf> = controllers
        .flatten()
        .map(|c| c.path().join("node-lab"))
        .collect();
    roots.push(PathBuf::from("/sys/fs/cgroup/node-lab"));
    for root in roots.into_iter().filter(|r| r.is_dir()) {
        let _ = Command::new("find")
            .arg(&root)
            .args(["-depth", "-type", "d", "-exec", "rmdir", "{}", ";"])
            .stderr(Stdio::null())
            .status();
    }
}

/// The pod network: a bridge with host-local addresses, inside containerd's
/// private network namespace (the kernel here has no dummy link; a pod
/// needs an interface).
const CNI_CONFIG: &str = r#"{
  "cniVersion": "1.0.0",
  "name": "node-lab",
  "plugins": [
    {"type": "bridge", "bridge": "lab0", "isGateway": true, "ipMasq": false,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.89.0.0/16"}]],
              "routes": [{"dst": "0.0.0.0/0"}]}}
  ]
}
"#;

/// `containerd config default` with the lab's changes. Config version 3
/// (containerd 2.x) and 2 (1.6, 1.7) name the CRI plugin's tables
/// differently.
pub fn configure(
    default: &str,
    series: &str,
    cache: &Path,
    dir: &Path,
) -> Result<String, LabError> {
    let mut doc: toml_edit::DocumentMut = default
        .parse()
        .map_err(|e| LabError::Harness(format!("containerd {series} config default: {e}")))?;
    let p = |sub: &str| dir.join(sub).display().to_string();
    let runc = cache.join("runc/runc").display().to_string();
    let cni_bin = cache.join("cni").display().to_string();
    let version = doc.get("version").and_then(|v| v.as_integer()).unwrap_or(1);
    let mut edits: Vec<(Vec<&str>, toml_edit::Value)> = vec![
        (vec!["root"], p("root").into()),
        (vec!["state"], p("state").into()),
        // Without it, containerd 2.x puts idmapped lower dirs under /tmp.
        (vec!["temp"], p("tmp").into()),
        (vec!["grpc", "address"], p("containerd.sock").into()),
        (vec!["ttrpc", "address"], p("containerd.sock.ttrpc").into()),
        (
            vec!["plugins", "io.containerd.internal.v1.opt", "path"],
            p("opt").into(),
        ),
    ];
    let cri: Vec<&str> = if version >= 3 {
        vec!["plugins", "io.containerd.cri.v1.runtime"]
    } else {
        vec!["plugins", "io.containerd.grpc.v1.cri"]
    };
    let under = |tail: &[&'static str]| {
        let mut v = cri.clone();
        v.extend_from_slice(tail);
        v
    };
    // Root here lacks CAP_SYS_RESOURCE: a sandbox asking for -998 would
    // fail with only "can't get final child's PID from pipe: EOF".
    edits.push((under(&["restrict_oom_score_adj"]), true.into()));
    edits.push((
        under(&["containerd", "runtimes", "runc", "options", "BinaryName"]),
        runc.into(),
    ));
    edits.push((under(&["cni", "conf_dir"]), p("cni").into()));
    if version >= 3 {
        edits.push((
            vec![
                "plugins",
                "io.containerd.cri.v1.images",
                "pinned_images",
                "sandbox",
            ],
            "localhost/pause:lab".into(),
        ));
        let mut bins = toml_edit::Array::new();
        bins.push(cni_bin);
        edits.push((under(&["cni", "bin_dirs"]), bins.into()));
        edits.push((under(&["enable_cdi"]), false.into()));
        edits.push((
            vec![
                "plugins",
                "io.containerd.image-verifier.v1.bindir",
                "bin_dir",
            ],
            p("verifier").into(),
        ));
        edits.push((
            vec!["plugins", "io.containerd.nri.v1.nri", "disable"],
            true.into(),
        ));
    } else {
        edits.push((under(&["sandbox_image"]), "localhost/pause:lab".into()));
        edits.push((under(&["cni", "bin_dir"]), cni_bin.into()));
        if series != "1.6" {
            edits.push((under(&["enable_cdi"]), false.into()));
            edits.push((
                vec!["plugins", "io.containerd.nri.v1.nri", "disable"],
                true.into(),
            ));
        }
    }
    for (path, value) in edits {
        set(&mut doc, &path, value)
            .map_err(|e| LabError::Harness(format!("containerd {series} config: {e}")))?;
    }
    Ok(doc.to_string())
}

/// Sets an existing key; an absent key or table is an error naming it.
fn set(
    doc: &mut toml_edit::DocumentMut,
    path: &[&str],
    value: toml_edit::Value,
) -> Result<(), String> {
    let (last, tables) = path.split_last().ok_or("empty key path")?;
    let mut item = doc.as_item_mut();
    for t in tables {
        item = item
            .get_mut(t)
            .ok_or_else(|| format!("no [{}] in the default config", path.join(".")))?;
    }
    let slot = item
        .get_mut(last)
        .ok_or_else(|| format!("no key {} in the default config", path.join(".")))?;
    *slot = toml_edit::Item::Value(value);
    Ok(())
}

fn output(cmd: &mut Command) -> Result<String, LabError> {
    let text = format!("{cmd:?}");
    let out = cmd.output().map_err(io(format!("run {text}")))?;
    if !out.status.success() {
        return Err(LabError::Command {
            command: text,
            detail: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
