//! [`boot`]: one kernel, one batch of scenarios, one QEMU run.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::kernel::need_file;
use super::{Kernel, Scenario, ScenarioResult, kernels_dir, parse_console};
use crate::assets::{chmod, mkdir, run};
use crate::error::io;
use crate::{LabError, LabVersions, SeccompProfileSource, host, lab, seccomp};

/// The VM's scripts, by file name.
const SCRIPTS: [(&str, &str); 4] = [
    ("vm-usr.sh", include_str!("../../scripts/vm-usr.sh")),
    (
        "vm-initramfs.sh",
        include_str!("../../scripts/vm-initramfs.sh"),
    ),
    ("vm-init.sh", include_str!("../../scripts/vm-init.sh")),
    ("vm-stage2.sh", include_str!("../../scripts/vm-stage2.sh")),
];

/// The binaries the guest runs: `node-lab` (the batch) and the helpers
/// the workloads need.
const BINARIES: [&str; 4] = ["node-lab", "landjail", "lab-proxy", "nested-probe"];

/// Host tools [`boot`] uses, with their Debian packages.
const TOOLS: [(&str, &str); 6] = [
    ("qemu-system-x86_64", "qemu-system-x86"),
    ("mke2fs", "e2fsprogs"),
    ("xz", "xz-utils"),
    ("busybox", "busybox-static"),
    ("dpkg-deb", "dpkg"),
    ("ldd", "libc-bin"),
];

/// The VM's size and time limit.
#[derive(Debug, Clone)]
pub struct VmOptions {
    /// Memory, MiB.
    pub memory_mib: u32,
    /// Virtual CPUs (TCG runs one host thread each).
    pub cpus: u32,
    /// The whole VM run is killed after this.
    pub timeout: Duration,
    /// AppArmor profiles (name, text) the guest loads at boot with
    /// `apparmor_parser -Kr`, as containerd loads its default profile.
    pub apparmor_profiles: Vec<(String, String)>,
}

impl Default for VmOptions {
    /// 1 GiB, 1 vCPU, 10 minutes.
    fn default() -> Self {
        VmOptions {
            memory_mib: 1024,
            cpus: 1,
            timeout: Duration::from_secs(600),
            apparmor_profiles: Vec::new(),
        }
    }
}

/// What one VM run gave.
#[derive(Debug, Clone)]
pub struct VmRun {
    /// The guest's kernel and tools, as the lab inside reports them.
    pub versions: LabVersions,
    /// One result per scenario, in order.
    pub results: Vec<ScenarioResult>,
    /// Preparing the images (cached after the first run) and the job.
    pub prepare: Duration,
    /// From starting QEMU to the batch's start (boot), host wall time.
    pub boot: Duration,
    /// From starting QEMU to its exit.
    pub run: Duration,
    /// The serial console, as printed.
    pub console: String,
    /// The AppArmor profile loads (`NAME rc=0 …`), in order.
    pub apparmor_loads: Vec<String>,
}

/// Boots `kernel` and runs `scenarios` inside; see the module doc.
pub fn boot(
    kernel: &Kernel,
    scenarios: &[Scenario],
    options: &VmOptions,
) -> Result<VmRun, LabError> {
    let started = Instant::now();
    if !host::is_root() {
        return Err(LabError::NotRoot);
    }
    let missing: Vec<String> = TOOLS
        .iter()
        .filter(|(tool, _)| host::usr_tool(tool).is_none())
        .map(|(tool, pkg)| format!("{tool} (package {pkg})"))
        .collect();
    if !missing.is_empty() {
        return Err(LabError::Missing(missing));
    }
    let moby = seccomp::profile_path(SeccompProfileSource::Moby).ok_or_else(|| {
        LabError::Missing(vec![
            "moby's seccomp profile (golang-github-docker-docker-dev)".into(),
        ])
    })?;
    need_file(&kernel.vmlinuz(), "the kernel")?;
    let tmp = tempfile::Builder::new()
        .prefix("node-lab-vm-")
        .tempdir()
        .map_err(io("create the VM's work directory"))?;
    let scripts = tmp.path().join("scripts");
    mkdir(&scripts, 0o755)?;
    for (name, text) in SCRIPTS {
        let p = scripts.join(name);
        std::fs::write(&p, text).map_err(io(format!("write {}", p.display())))?;
        chmod(&p, 0o755)?;
    }
    let usr = script_output(&scripts.join("vm-usr.sh"), &kernels_dir())?;
    let initramfs = script_output(&scripts.join("vm-initramfs.sh"), &kernel.dir)?;
    let initrd = tmp.path().join("initrd");
    let job = Job {
        scripts: &scripts,
        scenarios,
        moby: &moby,
        apparmor_profiles: &options.apparmor_profiles,
    };
    job_archive(tmp.path(), &job, &initramfs, &initrd)?;
    let prepare = started.elapsed();

    let qemu_started = Instant::now();
    let (console, stderr, status, begin) = qemu(kernel, &initrd, &usr, options)?;
    let run = qemu_started.elapsed();
    let tail = || {
        let lines: Vec<&str> = console.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    };
    let parsed = parse_console(&console)?;
    let Some(versions) = parsed.versions else {
        return Err(LabError::Harness(format!(
            "the VM ({}) printed no results (QEMU {status}; {}); console:\n{}",
            kernel.release,
            stderr.trim(),
            tail()
        )));
    };
    if !parsed.ended || parsed.results.len() != scenarios.len() {
        return Err(LabError::Harness(format!(
            "the VM ({}) stopped after {} of {} scenarios (QEMU {status}); console:\n{}",
            kernel.release,
            parsed.results.len(),
            scenarios.len(),
            tail()
        )));
    }
    if let Some(failed) = parsed
        .apparmor_loads
        .iter()
        .find(|l| l.split_whitespace().nth(1).is_none_or(|rc| rc != "rc=0"))
    {
        return Err(LabError::Harness(format!(
            "the VM ({}) could not load an AppArmor profile: {failed}",
            kernel.release
        )));
    }
    if parsed.apparmor_loads.len() != options.apparmor_profiles.len() {
        return Err(LabError::Harness(format!(
            "the VM ({}) loaded {} of {} AppArmor profiles; console:\n{}",
            kernel.release,
            parsed.apparmor_loads.len(),
            options.apparmor_profiles.len(),
            tail()
        )));
    }
    Ok(VmRun {
        versions,
        results: parsed.results,
        apparmor_loads: parsed.apparmor_loads,
        prepare,
        boot: begin.map_or(run, |b| b.duration_since(qemu_started)),
        run,
        console,
    })
}

/// Runs a cache-building script; its last line of output is the path.
fn script_output(script: &Path, arg: &Path) -> Result<PathBuf, LabError> {
    let out = Command::new("/bin/sh")
        .arg(script)
        .arg(arg)
        .output()
        .map_err(io(format!("run {}", script.display())))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    match stdout.lines().last() {
        Some(p) if out.status.success() && Path::new(p.trim()).is_file() => {
            Ok(PathBuf::from(p.trim()))
        }
        _ => Err(LabError::Command {
            command: format!("{} {}", script.display(), arg.display()),
            detail: format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        }),
    }
}

/// What the guest gets besides the binaries and /etc.
struct Job<'a> {
    scripts: &'a Path,
    scenarios: &'a [Scenario],
    moby: &'a Path,
    apparmor_profiles: &'a [(String, String)],
}

/// Writes `initrd`: the kernel's cached initramfs followed by the job's
/// cpio archive (`/job/init.sh`, `/job/etc` = the host's /etc, `/job/lab`
/// = stage2.sh, scenarios.json, moby.json, `apparmor/<name>` and the
/// binaries).
fn job_archive(tmp: &Path, job_in: &Job, initramfs: &Path, initrd: &Path) -> Result<(), LabError> {
    let Job {
        scripts,
        scenarios,
        moby,
        apparmor_profiles,
    } = *job_in;
    let root = tmp.join("job-root");
    let job = root.join("job");
    let lab_dir = job.join("lab");
    mkdir(&lab_dir.join("bin"), 0o755)?;
    let copy = |from: &Path, to: &Path| {
        std::fs::copy(from, to).map(drop).map_err(io(format!(
            "copy {} to {}",
            from.display(),
            to.display()
        )))
    };
    copy(&scripts.join("vm-init.sh"), &job.join("init.sh"))?;
    copy(&scripts.join("vm-stage2.sh"), &lab_dir.join("stage2.sh"))?;
    copy(moby, &lab_dir.join("moby.json"))?;
    let text = serde_json::to_string_pretty(scenarios)
        .map_err(|e| LabError::Harness(format!("scenarios.json: {e}")))?;
    std::fs::write(lab_dir.join("scenarios.json"), text).map_err(io("write scenarios.json"))?;
    if !apparmor_profiles.is_empty() {
        mkdir(&lab_dir.join("apparmor"), 0o755)?;
    }
    for (name, text) in apparmor_profiles {
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            return Err(LabError::Harness(format!("AppArmor profile name {name:?}")));
        }
        std::fs::write(lab_dir.join("apparmor").join(name), text)
            .map_err(io(format!("write the AppArmor profile {name}")))?;
    }
    let dirs = lab::binary_dirs();
    for name in BINARIES {
        let found = match name {
            "nested-probe" => std::env::var_os("NESTED_PROBE").map(PathBuf::from),
            _ => None,
        }
        .or_else(|| lab::find_in(&dirs, name))
        .ok_or_else(|| LabError::HelperMissing {
            what: format!("binary {name} (for the VM)"),
            looked_in: dirs.clone(),
            hint: "build it with `cargo build -p node-lab -p nested-probe`".into(),
        })?;
        let dst = lab_dir.join("bin").join(name);
        copy(&found, &dst)?;
        chmod(&dst, 0o755)?;
    }
    run(Command::new("cp")
        .arg("-a")
        .arg("/etc")
        .arg(job.join("etc")))?;
    let archive = tmp.join("job.cpio");
    let file = std::fs::File::create(&archive).map_err(io("create job.cpio"))?;
    run(Command::new("/bin/sh")
        .args([
            "-c",
            "cd \"$1\" && find . | busybox cpio -o -H newc 2>/dev/null",
            "sh",
        ])
        .arg(&root)
        .stdout(file))?;
    let mut out = std::fs::read(initramfs).map_err(io(format!("read {}", initramfs.display())))?;
    // The kernel reads an uncompressed archive after a compressed one only
    // at a 4-byte boundary (zeros in between are skipped).
    out.resize(out.len().next_multiple_of(4), 0);
    out.extend(std::fs::read(&archive).map_err(io("read job.cpio"))?);
    std::fs::write(initrd, out).map_err(io("write the initrd"))
}

type QemuOutput = (String, String, std::process::ExitStatus, Option<Instant>);

/// Runs QEMU to its exit (the guest powers off) or the timeout; returns
/// the console, QEMU's stderr, its status and when the batch began.
fn qemu(
    kernel: &Kernel,
    initrd: &Path,
    usr: &Path,
    options: &VmOptions,
) -> Result<QemuOutput, LabError> {
    let mut cmd = Command::new("qemu-system-x86_64");
    cmd.args(["-accel", "tcg", "-cpu", "max", "-nodefaults", "-no-reboot"])
        .args(["-display", "none", "-serial", "stdio", "-nic", "none"])
        .args(["-m", &options.memory_mib.to_string()])
        .args(["-smp", &options.cpus.to_string()])
        .arg("-kernel")
        .arg(kernel.vmlinuz())
        .arg("-initrd")
        .arg(initrd)
        .args(["-append", "console=ttyS0 panic=-1 quiet"])
        .arg("-drive")
        .arg(format!(
            "file={},if=virtio,format=raw,readonly=on",
            usr.display()
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd.spawn().map_err(io("start qemu-system-x86_64"))?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let console = std::thread::spawn(move || {
        let mut text = String::new();
        let mut begin = None;
        if let Some(mut out) = stdout {
            let mut buf = [0u8; 8192];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                text.push_str(&String::from_utf8_lossy(&buf[..n]));
                if begin.is_none() && text.contains(super::BEGIN_LINE) {
                    begin = Some(Instant::now());
                }
            }
        }
        (text, begin)
    });
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut err) = stderr {
            let _ = err.read_to_string(&mut text);
        }
        text
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait().map_err(io("wait for QEMU"))? {
            Some(status) => break Some(status),
            None if started.elapsed() > options.timeout => break None,
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let status = match status {
        Some(s) => s,
        None => {
            let _ = child.kill();
            let status = child.wait().map_err(io("reap QEMU"))?;
            let (text, _) = console.join().unwrap_or_default();
            return Err(LabError::Harness(format!(
                "the VM ({}) did not power off within {:?} and was killed (QEMU {status}); console:\n{text}",
                kernel.release, options.timeout
            )));
        }
    };
    let (text, begin) = console.join().unwrap_or_default();
    let stderr = errors.join().unwrap_or_default();
    Ok((text, stderr, status, begin))
}
