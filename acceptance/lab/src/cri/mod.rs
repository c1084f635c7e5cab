//! The node lab on the real runtime: a private containerd (2.x, 1.7 or
//! 1.6, from Debian's archive) with its CRI plugin, driven through the CRI
//! the way the kubelet drives it, running the real sandboxes in pods made
//! from the provider's outputs.
//!
//! - [`kubelet`]: the pod → CRI translation, field by field as the kubelet
//!   does it (with the kubelet source cited);
//! - [`containerd`]: the private containerd (its config is the binary's own
//!   `config default` with the lab's few changes);
//! - [`client`]: the CRI calls;
//! - [`CriLab`]: one containerd, the pod image (Debian trixie with what the
//!   provider's `image_needs` say) and the lab's `/lab` directory (workload
//!   scripts, helper binaries, nested-probe) mounted read-only into each pod
//!   as a volume, the workload run with `ExecSync`; after each pod, the OCI
//!   spec containerd generated for it.
//!
//! `acceptance/lab/cri/setup.sh` (run by `acceptance/lab/setup.sh`) fetches
//! and builds everything into `$HOME/.cache/terraform-provider-nested/lab/cri`.

pub mod client;
pub mod containerd;
pub mod kubelet;

/// The CRI's messages and client, generated from schemas/proto/cri/api.proto.
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod api {
    tonic::include_proto!("runtime.v1");
}

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value as Json;

use crate::error::io;
use crate::workload::DEFAULT_PATH;
use crate::{Lab, LabError, Pod, Workload};
use client::{CriClient, CriFailure, RuntimeVersion, StartedPod};
use containerd::Containerd;
use kubelet::{Kubelet, PodIdentity};

/// The pod image `setup.sh` builds.
pub const POD_IMAGE: &str = "localhost/nested:lab";

/// What one pod did.
#[derive(Debug, Clone)]
pub struct CriOutcome {
    /// The workload exited 0.
    pub ok: bool,
    /// Its exit code (-1 when a CRI call failed first).
    pub exit_code: i32,
    /// Its output, or the CRI call's error.
    pub output: String,
    /// The CRI call that failed before the workload could run.
    pub failure: Option<CriFailure>,
    /// The OCI spec containerd generated for the container.
    pub oci_spec: Option<Json>,
    /// RunPodSandbox + CreateContainer + StartContainer.
    pub start: Duration,
    /// The workload's ExecSync.
    pub exec: Duration,
    /// StopPodSandbox + RemovePodSandbox.
    pub teardown: Duration,
}

/// One private containerd with the lab's images, ready for pods.
pub struct CriLab {
    cache: PathBuf,
    lab_dir: PathBuf,
    work: tempfile::TempDir,
    containerd: Containerd,
    client: CriClient,
    /// containerd's own answer to `Version`.
    pub version: RuntimeVersion,
    /// How long the two image imports took.
    pub imported_in: Duration,
    pods: u32,
    /// How long a workload may run.
    pub timeout: Duration,
    /// The kubelet refuses a `hostUsers: false` pod unless the runtime
    /// reports user-namespace support (Kubernetes ≥ 1.30, #123216); false
    /// stands for an older kubelet, which sent the request regardless.
    pub kubelet_checks_user_namespaces: bool,
}

impl CriLab {
    /// Starts containerd `series` (`2`, `1.7`, `1.6`) from the set-up's
    /// cache and imports the pause and pod images. `lab` provides the
    /// `/lab` directory (scripts, helper binaries) and `probe` is copied
    /// into it.
    pub fn start(lab: &Lab, series: &str, probe: Option<&Path>) -> Result<CriLab, LabError> {
        let cache = containerd::cache_dir();
        let images = cache.join("images");
        for f in ["pause.oci.tar", "nested.oci.tar"] {
            if !images.join(f).is_file() {
                return Err(LabError::Missing(vec![format!(
                    "{} (bash acceptance/lab/cri/setup.sh builds it)",
                    images.join(f).display()
                )]));
            }
        }
        let lab_dir = lab.work_dir().join("lab");
        if let Some(p) = probe {
            let dst = lab_dir.join("bin/nested-probe");
            fs::copy(p, &dst).map_err(io(format!("copy {}", p.display())))?;
            fs::set_permissions(&dst, fs::Permissions::from_mode(0o755))
                .map_err(io("chmod nested-probe"))?;
        }
        let base =
            std::env::var_os("NODE_LAB_WORKDIR").map_or_else(std::env::temp_dir, PathBuf::from);
        let work = tempfile::Builder::new()
            .prefix(&format!("node-lab-cri-{series}-"))
            .tempdir_in(&base)
            .map_err(io("create the CRI lab's work directory"))?;
        fs::set_permissions(work.path(), fs::Permissions::from_mode(0o755))
            .map_err(io("chmod the CRI work directory"))?;
        // The node's /dev/net/tun as nodes have it: 0666 (systemd's
        // rules.d/50-udev-default.rules `KERNEL=="tun", MODE="0666"`); this
        // machine's is 0600. In a pod user namespace runc bind-mounts the
        // node's device node, so its mode is what the pod gets; the copy is
        // bound over /dev/net/tun in containerd's private mount namespace.
        fs::create_dir_all(work.path().join("dev")).map_err(io("create dev/"))?;
        run(Command::new("mknod")
            .args(["-m", "0666"])
            .arg(work.path().join("dev/tun"))
            .args(["c", "10", "200"]))?;
        let containerd = Containerd::start(
            &cache,
            series,
            &work.path().join("containerd"),
            Some(&work.path().join("dev/tun")),
        )?;
        let mut client = CriClient::connect(&containerd.socket())?;
        let version = client.version()?;
        let t = std::time::Instant::now();
        containerd.import(&cache, &images.join("pause.oci.tar"))?;
        containerd.import(&cache, &images.join("nested.oci.tar"))?;
        Ok(CriLab {
            cache,
            lab_dir,
            imported_in: t.elapsed(),
            work,
            containerd,
            client,
            version,
            pods: 0,
            timeout: Duration::from_secs(90),
            kubelet_checks_user_namespaces: true,
        })
    }

    /// The running containerd.
    pub fn containerd(&self) -> &Containerd {
        &self.containerd
    }

    /// The set-up cache this lab runs from.
    pub fn cache(&self) -> &Path {
        &self.cache
    }

    /// The kubelet's `<root-dir>/seccomp` on this node: where Localhost
    /// profiles live (the Security Profiles Operator writes under
    /// `operator/<namespace>/`).
    pub fn seccomp_root(&self) -> PathBuf {
        self.work.path().join("kubelet/seccomp")
    }

    /// Puts a Localhost profile on the node at `localhost_profile` (a pod's
    /// `localhostProfile`), as the Security Profiles Operator's daemon or a
    /// node bootstrap would; returns its path.
    pub fn install_seccomp_profile(
        &self,
        localhost_profile: &str,
        profile: &str,
    ) -> Result<PathBuf, LabError> {
        let path = self.seccomp_root().join(localhost_profile);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io("create the kubelet's seccomp directory"))?;
        }
        fs::write(&path, profile).map_err(io(format!("write {}", path.display())))?;
        Ok(path)
    }

    /// The node's copy of `/dev/net/tun` (mode 0666).
    pub fn tun_device(&self) -> PathBuf {
        self.work.path().join("dev/tun")
    }

    /// Runs `workload` in a pod made from `pod` on a node whose kubelet has
    /// `seccomp_default`: the kubelet's requests, the workload by ExecSync,
    /// the generated OCI spec read, the pod removed.
    pub fn run(
        &mut self,
        pod: &Pod,
        seccomp_default: bool,
        workload: &Workload,
    ) -> Result<CriOutcome, LabError> {
        let mut all = self.run_all(pod, seccomp_default, std::slice::from_ref(workload))?;
        all.pop()
            .ok_or_else(|| LabError::Harness("no outcome for the workload".into()))
    }

    /// As [`CriLab::run`], with each workload run in turn (ExecSync) in the
    /// same pod container: one outcome per workload. When a CRI call fails
    /// before the container runs, every outcome carries that failure.
    pub fn run_all(
        &mut self,
        pod: &Pod,
        seccomp_default: bool,
        workloads: &[Workload],
    ) -> Result<Vec<CriOutcome>, LabError> {
        self.pods += 1;
        let n = self.pods;
        let uid = format!("00000000-0000-4000-8000-{n:012}");
        let out_dir = self.work.path().join(format!("out/{n}"));
        fs::create_dir_all(&out_dir).map_err(io("create the pod's /lab/out"))?;
        fs::set_permissions(&out_dir, fs::Permissions::from_mode(0o1777))
            .map_err(io("chmod the pod's /lab/out"))?;
        let logs = self.work.path().join(format!("logs/{n}"));
        fs::create_dir_all(&logs).map_err(io("create the pod's log directory"))?;
        let id = PodIdentity {
            name: format!("lab-{n}"),
            namespace: "default".into(),
            uid: uid.clone(),
            userns_slot: n,
            cgroup_parent: format!("/node-lab/pod{uid}"),
            log_directory: logs.display().to_string(),
        };
        let kubelet = Kubelet {
            seccomp_default,
            seccomp_root: self.seccomp_root().display().to_string(),
            ..Kubelet::default()
        };
        let mounts = vec![
            mount(&self.lab_dir, "/lab", true),
            mount(&out_dir, "/lab/out", false),
        ];
        let requests = kubelet::translate(
            pod,
            &kubelet,
            &id,
            POD_IMAGE,
            &["sleep".to_string(), "infinity".to_string()],
            mounts,
        );
        // The kubelet's admission of a `hostUsers: false` pod (1.30+).
        let refused = if !pod.host_users
            && self.kubelet_checks_user_namespaces
            && !self.client.handler_supports_user_namespaces()?
        {
            Err(CriFailure {
                call: "kubelet",
                message: "the runtime handler does not report user namespace support \
                          (Status runtime_handlers features.user_namespaces): \
                          the kubelet rejects a hostUsers: false pod"
                    .into(),
                sandbox_id: None,
            })
        } else {
            Ok(())
        };
        let mut requests = requests;
        let hosts = self.work.path().join(format!("out/{n}.hosts"));
        let started = refused
            .and_then(|()| self.client.run_sandbox(&requests))
            .and_then(|(sandbox_id, ip, took)| {
                // The kubelet's managed /etc/hosts (pkg/kubelet/kubelet_pods.go
                // managedHostsFileContent), with the pod's hostname: tools that
                // resolve it (sudo) find it without DNS.
                let content = format!(
                    "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n\
                     ::1\tlocalhost ip6-localhost ip6-loopback\n\
                     fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\n\
                     fe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n{ip}\t{}\n",
                    id.name
                );
                let written = fs::write(&hosts, content).map_err(|e| CriFailure {
                    call: "kubelet (hosts file)",
                    message: e.to_string(),
                    sandbox_id: Some(sandbox_id.clone()),
                });
                written.and_then(|()| {
                    requests
                        .container
                        .mounts
                        .push(mount(&hosts, "/etc/hosts", false));
                    self.client
                        .start_container(&sandbox_id, &requests)
                        .map(|s| StartedPod {
                            run_pod_sandbox: took,
                            ..s
                        })
                })
            });
        let started = match started {
            Ok(s) => s,
            Err(f) => {
                let teardown = match &f.sandbox_id {
                    Some(s) => self.client.remove_pod(s)?,
                    None => Duration::ZERO,
                };
                let failed = CriOutcome {
                    ok: false,
                    exit_code: -1,
                    output: format!("{}: {}", f.call, f.message),
                    failure: Some(f),
                    oci_spec: None,
                    start: Duration::ZERO,
                    exec: Duration::ZERO,
                    teardown,
                };
                return Ok(vec![failed; workloads.len()]);
            }
        };
        let oci_spec: Option<Json> =
            fs::read_to_string(self.containerd.oci_spec_path(&started.container_id))
                .ok()
                .and_then(|s| serde_json::from_str(&s).ok());
        let mut results = Vec::new();
        for w in workloads {
            let r = self
                .client
                .exec(&started.container_id, exec_command(w), self.timeout);
            let failed = r.is_err();
            results.push(r);
            if failed {
                break;
            }
        }
        let teardown = self.client.remove_pod(&started.sandbox_id)?;
        let start = started.run_pod_sandbox + started.create_container + started.start_container;
        results
            .into_iter()
            .map(|r| {
                r.map(|r| CriOutcome {
                    ok: r.exit_code == 0,
                    exit_code: r.exit_code,
                    output: r.output,
                    failure: None,
                    oci_spec: oci_spec.clone(),
                    start,
                    exec: r.took,
                    teardown,
                })
            })
            .collect()
    }
}

/// A volume as the kubelet mounts it (a hostPath / ConfigMap-like bind).
fn mount(host: &Path, container: &str, readonly: bool) -> api::Mount {
    api::Mount {
        container_path: container.into(),
        host_path: host.display().to_string(),
        readonly,
        ..Default::default()
    }
}

/// The workload's command for ExecSync: its environment through `env`.
/// The image's own newuidmap/newgidmap carry the file capabilities
/// (`cri/image-users.sh`), so the crun lab's `/lab/fcaps` copies are not put
/// in PATH; rootless podman runs with its default network.
pub fn exec_command(workload: &Workload) -> Vec<String> {
    let job = workload.job();
    let mut cmd = vec![
        "env".to_string(),
        "NODE_LAB_PODMAN_NETWORK=default".to_string(),
    ];
    for e in job.env {
        if e.starts_with("NODE_LAB_FCAPS=") {
            continue;
        }
        match e.strip_prefix("PATH=/lab/fcaps:") {
            Some(rest) if rest == DEFAULT_PATH => cmd.push(format!("PATH={rest}")),
            _ => cmd.push(e),
        }
    }
    cmd.extend(job.args);
    cmd
}

fn run(cmd: &mut Command) -> Result<(), LabError> {
    let text = format!("{cmd:?}");
    let out = cmd.output().map_err(io(format!("run {text}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(LabError::Command {
            command: text,
            detail: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}
