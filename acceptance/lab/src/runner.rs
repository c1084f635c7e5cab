//! Running one bundle with crun: `unshare --mount --propagation private`
//! → cgroup2 on /sys/fs/cgroup and the rootfs overlay (both private to that
//! namespace) → optionally an
//! outer user namespace with the node's `user.max_user_namespaces` →
//! `crun --cgroup-manager=disabled run`. Output (stdout and stderr, merged)
//! is collected; on timeout the container, then the process group, is
//! killed; the container's state is always deleted.

use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::LabError;
use crate::error::io;

/// Output kept in memory (the rest is read and dropped).
const KEEP: usize = 4 << 20;

/// The bundle's subdirectory that `scripts/run.sh`, when it exists, turns
/// into the pod's service-account token volume: a tmpfs (private to the
/// run's mount namespace) with `token`, `ca.crt` and `namespace`.
pub const TOKEN_DIR: &str = "token";

/// What is needed to run one bundle.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// The bundle directory (config.json + rootfs).
    pub bundle: PathBuf,
    /// A unique container id.
    pub id: String,
    /// crun's path.
    pub crun: PathBuf,
    /// crun's `--root`.
    pub state: PathBuf,
    /// The scripts directory holding run.sh and outer-userns.sh.
    pub scripts: PathBuf,
    /// The rootfs base layer (overlay lowerdir).
    pub lower: PathBuf,
    /// The node's `user.max_user_namespaces` to emulate, if any.
    pub max_user_namespaces: Option<u64>,
    /// How long the container may run.
    pub timeout: Duration,
}

/// The container's exit code (128 + signal when killed by one) and its
/// merged output.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub exit_code: i32,
    pub output: String,
}

/// Runs the bundle; see the module doc.
pub fn run(spec: &RunSpec) -> Result<RunResult, LabError> {
    let (reader, writer) = std::io::pipe().map_err(io("create the output pipe"))?;
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "--", "/bin/sh"])
        .arg(spec.scripts.join("run.sh"))
        .arg(&spec.bundle)
        .arg(&spec.crun)
        .arg(&spec.state)
        .arg(&spec.id)
        .arg(&spec.lower)
        .args(spec.max_user_namespaces.map(|n| n.to_string()))
        .stdin(if spec.max_user_namespaces.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(writer.try_clone().map_err(io("clone the output pipe"))?)
        .stderr(writer)
        .process_group(0);
    let mut child = cmd
        .spawn()
        .map_err(io("start unshare (package util-linux)"))?;
    // Close the parent's copies of the pipe's write end.
    drop(cmd);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(collect(reader));
    });

    let started = Instant::now();
    if spec.max_user_namespaces.is_some()
        && let Err(e) = map_outer_userns(&mut child)
    {
        kill(spec, &mut child);
        return Err(e);
    }
    let status = loop {
        match child.try_wait().map_err(io("wait for crun"))? {
            Some(status) => break Some(status),
            None if started.elapsed() > spec.timeout => break None,
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    let Some(status) = status else {
        kill(spec, &mut child);
        delete(spec);
        let output = rx.recv_timeout(Duration::from_secs(2)).unwrap_or_default();
        return Err(LabError::TimedOut {
            after: spec.timeout,
            output,
        });
    };
    delete(spec);
    // The pipe closes when the container's last process is gone (its PID
    // namespace dies with its init); do not wait forever regardless.
    let output = rx
        .recv_timeout(Duration::from_secs(5))
        .unwrap_or_else(|_| "[node-lab: the output pipe stayed open]".into());
    let exit_code = status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(-1);
    Ok(RunResult { exit_code, output })
}

/// Reads the merged output to its end, keeping the first [`KEEP`] bytes.
fn collect(mut reader: std::io::PipeReader) -> String {
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match reader.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = KEEP.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// Writes the outer user namespace's id maps once the child is in it,
/// then lets it go on (outer-userns.sh waits for a line on stdin).
fn map_outer_userns(child: &mut Child) -> Result<(), LabError> {
    let pid = child.id();
    let ours = std::fs::read_link("/proc/self/ns/user").map_err(io("read /proc/self/ns/user"))?;
    let theirs = Path::new("/proc").join(pid.to_string()).join("ns/user");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match std::fs::read_link(&theirs) {
            Ok(ns) if ns != ours => break,
            Ok(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            Ok(_) => {
                return Err(LabError::Harness(
                    "the outer user namespace did not appear within 10 s".into(),
                ));
            }
            Err(e) => {
                return Err(LabError::Io {
                    what: format!(
                        "the run wrapper exited before creating the outer user namespace ({})",
                        theirs.display()
                    ),
                    source: e,
                });
            }
        }
    }
    for map in ["uid_map", "gid_map"] {
        let p = Path::new("/proc").join(pid.to_string()).join(map);
        std::fs::write(&p, "0 0 4294967294\n").map_err(io(format!("write {}", p.display())))?;
    }
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(b"go\n")
            .map_err(io("release the outer user namespace"))?;
    }
    Ok(())
}

/// Kills the container (its init; the PID namespace goes with it), then
/// the wrapper's process group, and reaps the wrapper.
fn kill(spec: &RunSpec, child: &mut Child) {
    let _ = Command::new(&spec.crun)
        .arg("--root")
        .arg(&spec.state)
        .args(["kill", &spec.id, "KILL"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

/// Removes crun's state for the container, whatever happened.
fn delete(spec: &RunSpec) {
    let _ = Command::new(&spec.crun)
        .arg("--root")
        .arg(&spec.state)
        .args(["delete", "--force", &spec.id])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}
