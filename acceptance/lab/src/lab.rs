//! [`Lab`]: runs a [`Workload`] in the container kubelet + containerd (or
//! CRI-O) would create for a [`Pod`] on a [`Node`], on this machine's
//! kernel with crun, and reports an [`Outcome`].

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::assets::WorkDir;
use crate::error::io;
use crate::oci::{Mount, OciOptions};
use crate::workload::{Helper, PROBE_REPORT};
use crate::{LabError, LabVersions, Node, Pod, Workload, host, oci, rootfs, runner};

/// What a workload did in its pod container.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The workload succeeded (exit code 0).
    pub ok: bool,
    /// The container's exit code (crun's own when the container could not
    /// start, 128 + N when killed by signal N).
    pub exit_code: i32,
    /// stdout and stderr, merged, trimmed to a few KB (head and tail).
    pub output: String,
    /// Wall time of the whole run: bundle, container, clean-up.
    pub took: Duration,
    /// The probe's JSON report ([`Workload::Probe`] only).
    pub report: Option<serde_json::Value>,
}

/// Per-run knobs that are not pod or node fields.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Syscalls to fail with an errno, e.g. `("landlock_create_ruleset", 38)`
    /// (ENOSYS: a kernel without Landlock).
    pub deny_syscalls: Vec<(String, u32)>,
    /// Overrides the lab's timeout for this run.
    pub timeout: Option<Duration>,
}

/// The node lab: a work directory, crun, the profiles and helper binaries.
#[derive(Debug)]
pub struct Lab {
    work: WorkDir,
    _tmp: Option<tempfile::TempDir>,
    crun: PathBuf,
    landjail: Option<PathBuf>,
    proxy: Option<PathBuf>,
    probe: Option<PathBuf>,
    timeout: Duration,
    keep_bundles: bool,
    runs: AtomicU64,
    /// Whether the +100000 base layer exists (built on first use).
    shifted: Mutex<bool>,
}

/// Default time a container may run.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Output longer than this is cut in the middle.
const OUTPUT_LIMIT: usize = 8 << 10;

impl Lab {
    /// Checks it can run (root, crun, bwrap, podman, sudo, iptables-nft,
    /// profiles present) and says precisely what is missing and that
    /// `bash acceptance/lab/setup.sh` installs it. Then builds a work
    /// directory under `$TMPDIR` (or `NODE_LAB_WORKDIR`), removed on drop
    /// unless `NODE_LAB_KEEP=1`. Helper binaries are looked up next to the
    /// running executable, in `NODE_LAB_BIN_DIR`, `$CARGO_TARGET_DIR/debug`
    /// and `<workspace>/target/debug`; the probe also in `NESTED_PROBE`.
    pub fn new() -> Result<Lab, LabError> {
        host::check()?;
        let crun = host::usr_tool("crun")
            .ok_or_else(|| LabError::Missing(vec!["crun (package crun)".into()]))?;
        let keep_bundles = std::env::var_os("NODE_LAB_KEEP").is_some_and(|v| v == "1");
        let base =
            std::env::var_os("NODE_LAB_WORKDIR").map_or_else(std::env::temp_dir, PathBuf::from);
        std::fs::create_dir_all(&base).map_err(io(format!("create {}", base.display())))?;
        let tmp = tempfile::Builder::new()
            .prefix("node-lab-")
            .tempdir_in(&base)
            .map_err(io("create the lab's work directory"))?;
        let work = WorkDir::build(tmp.path())?;
        let mut lab = Lab {
            work,
            _tmp: None,
            crun,
            landjail: None,
            proxy: None,
            probe: None,
            timeout: DEFAULT_TIMEOUT,
            keep_bundles,
            runs: AtomicU64::new(0),
            shifted: Mutex::new(false),
        };
        if keep_bundles {
            // Leave the directory for inspection.
            let _ = tmp.keep();
        } else {
            lab._tmp = Some(tmp);
        }
        let dirs = binary_dirs();
        lab.landjail = find_in(&dirs, "landjail");
        lab.proxy = find_in(&dirs, "lab-proxy");
        lab.probe = std::env::var_os("NESTED_PROBE")
            .map(PathBuf::from)
            .or_else(|| find_in(&dirs, "nested-probe"));
        for (path, name) in [(&lab.landjail, "landjail"), (&lab.proxy, "lab-proxy")] {
            if let Some(p) = path {
                lab.work.add_binary(p, name)?;
            }
        }
        Ok(lab)
    }

    /// Uses this `nested-probe` binary for [`Workload::Probe`].
    pub fn with_probe(mut self, path: impl Into<PathBuf>) -> Self {
        self.probe = Some(path.into());
        // Copied into /lab/bin at its first use.
        let _ = std::fs::remove_file(self.work.lab().join("bin/nested-probe"));
        self
    }

    /// Uses `landjail` and `lab-proxy` from this directory.
    pub fn with_helper_dir(mut self, dir: &Path) -> Result<Self, LabError> {
        for (slot, name) in [
            (&mut self.landjail, "landjail"),
            (&mut self.proxy, "lab-proxy"),
        ] {
            let p = dir.join(name);
            if p.is_file() {
                self.work.add_binary(&p, name)?;
                *slot = Some(p);
            }
        }
        Ok(self)
    }

    /// Sets how long a container may run (default 60 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The work directory (bundles, assets).
    pub fn work_dir(&self) -> &Path {
        &self.work.root
    }

    /// Kernel release, crun, bwrap and podman versions, Landlock ABI and
    /// the LSM list.
    pub fn versions(&self) -> LabVersions {
        host::versions()
    }

    /// Runs `workload` in the pod container for `pod` on `node`.
    pub fn run(&self, pod: &Pod, node: &Node, workload: &Workload) -> Result<Outcome, LabError> {
        self.run_with(pod, node, workload, &RunOptions::default())
    }

    /// [`Lab::run`] with per-run options.
    pub fn run_with(
        &self,
        pod: &Pod,
        node: &Node,
        workload: &Workload,
        options: &RunOptions,
    ) -> Result<Outcome, LabError> {
        let started = Instant::now();
        if let Some(n) = node.max_user_namespaces
            && n > i32::MAX as u64
        {
            return Err(LabError::Unsupported(format!(
                "max_user_namespaces = {n}: the kernel accepts at most 2147483647"
            )));
        }
        let job = workload.job();
        for helper in &job.helpers {
            self.ensure_helper(*helper)?;
        }
        for d in &pod.devices {
            self.work.device_copy(d)?;
        }
        let n = self.runs.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let id = format!("node-lab-{}-{n}-{nanos}", std::process::id());
        let bundle = self.work.bundles().join(&id);
        let result = self.run_bundle(pod, node, &job, options, &bundle, &id);
        if !self.keep_bundles {
            let _ = std::fs::remove_dir_all(&bundle);
        }
        let (run, report) = result?;
        Ok(Outcome {
            ok: run.exit_code == 0,
            exit_code: run.exit_code,
            output: trim(&run.output),
            took: started.elapsed(),
            report,
        })
    }

    fn run_bundle(
        &self,
        pod: &Pod,
        node: &Node,
        job: &crate::workload::Job,
        options: &RunOptions,
        bundle: &Path,
        id: &str,
    ) -> Result<(runner::RunResult, Option<serde_json::Value>), LabError> {
        crate::assets::mkdir(bundle, 0o755)?;
        let out = bundle.join("out");
        crate::assets::mkdir(&out, 0o777)?;
        crate::assets::mkdir(&bundle.join("rootfs"), 0o755)?;
        crate::assets::mkdir(&bundle.join("work"), 0o755)?;
        rootfs::build_upper(&bundle.join("upper"), pod)?;
        let lower = self.base_layer(pod.host_users)?;
        let mounts = [
            Mount::bind_ro(self.work.lab(), "/lab"),
            Mount::bind_rw(&out, "/lab/out"),
        ];
        // run.sh mounts a tmpfs with the token files here.
        let token_volume = bundle.join(runner::TOKEN_DIR);
        if pod.service_account_token {
            crate::assets::mkdir(&token_volume, 0o755)?;
        }
        let oci_options = OciOptions {
            device_nodes_dir: Some(self.work.devices()),
            deny_syscalls: options.deny_syscalls.clone(),
            env: job.env.clone(),
            token_volume: pod.service_account_token.then_some(token_volume),
        };
        let config = oci::oci_config_with(pod, node, &job.args, &mounts, &oci_options)?;
        let text = serde_json::to_string_pretty(&config)
            .map_err(|e| LabError::Harness(format!("config.json: {e}")))?;
        std::fs::write(bundle.join("config.json"), text).map_err(io("write config.json"))?;
        let run = runner::run(&runner::RunSpec {
            bundle: bundle.to_path_buf(),
            id: id.to_string(),
            crun: self.crun.clone(),
            state: self.work.crun_state(),
            scripts: self.work.scripts(),
            lower,
            max_user_namespaces: node.max_user_namespaces,
            timeout: options.timeout.unwrap_or(self.timeout),
        })?;
        let report_path = out.join(Path::new(PROBE_REPORT).file_name().unwrap_or_default());
        let report = std::fs::read_to_string(report_path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        Ok((run, report))
    }

    /// The rootfs base layer for a pod (the +100000 copy for `hostUsers: false`).
    fn base_layer(&self, host_users: bool) -> Result<PathBuf, LabError> {
        if host_users {
            return Ok(self.work.base());
        }
        let mut built = self.shifted.lock().map_err(|_| {
            LabError::Harness("a previous run panicked while building the base layer".into())
        })?;
        if !*built {
            let _ = std::fs::remove_dir_all(self.work.shifted_base());
            rootfs::build_shifted_base(&self.work.base(), &self.work.shifted_base())?;
            *built = true;
        }
        Ok(self.work.shifted_base())
    }

    fn ensure_helper(&self, helper: Helper) -> Result<(), LabError> {
        let (path, name, hint) = match helper {
            Helper::Landjail => (
                &self.landjail,
                "landjail",
                "build it with `cargo build -p node-lab`",
            ),
            Helper::Proxy => (
                &self.proxy,
                "lab-proxy",
                "build it with `cargo build -p node-lab`",
            ),
            Helper::Probe => (
                &self.probe,
                "nested-probe",
                "build it with `cargo build -p nested-probe`, or pass its path to Lab::with_probe",
            ),
        };
        let installed = self.work.lab().join("bin").join(name);
        match path {
            Some(_) if installed.is_file() => Ok(()),
            Some(p) => self.work.add_binary(p, name),
            None => Err(LabError::HelperMissing {
                what: format!("helper binary {name}"),
                looked_in: binary_dirs(),
                hint: hint.into(),
            }),
        }
    }
}

/// Where helper binaries are looked for.
pub(crate) fn binary_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os("NODE_LAB_BIN_DIR") {
        dirs.push(PathBuf::from(d));
    }
    if let Ok(exe) = std::env::current_exe()
        && let Some(dir) = exe.parent()
    {
        dirs.push(dir.to_path_buf());
        if let Some(up) = dir.parent() {
            dirs.push(up.to_path_buf());
        }
    }
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        dirs.push(PathBuf::from(t).join("debug"));
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/debug");
    dirs.push(workspace);
    dirs
}

pub(crate) fn find_in(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
    dirs.iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// Cuts long output in the middle: the start says what ran, the end why
/// it failed.
fn trim(text: &str) -> String {
    if text.len() <= OUTPUT_LIMIT {
        return text.to_string();
    }
    let head_end = floor_boundary(text, OUTPUT_LIMIT / 4);
    let tail_start = floor_boundary(text, text.len() - OUTPUT_LIMIT * 3 / 4);
    format!(
        "{}\n[… {} bytes cut …]\n{}",
        &text[..head_end],
        tail_start - head_end,
        &text[tail_start..]
    )
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_keeps_head_and_tail() {
        let long = format!("START{}END", "é".repeat(10_000));
        let t = trim(&long);
        assert!(t.starts_with("START") && t.ends_with("END"), "{}", t.len());
        assert!(t.len() < OUTPUT_LIMIT + 100);
        assert_eq!(trim("short"), "short");
    }
}
