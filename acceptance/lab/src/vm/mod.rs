//! Node kernels in micro-VMs: the lab's pod containers on the kernels EKS
//! nodes run (Debian's cloud kernels 6.1 and 6.12 as stand-ins), booted
//! with QEMU (TCG: no KVM needed) on this machine.
//!
//! - [`Kernel`]: a Debian cloud kernel package that `setup.sh` fetched into
//!   [`kernels_dir`] (`vmlinuz`, its `/boot/config-*`, its modules).
//! - [`boot`] builds (and caches) the VM's pieces — an ext4 image of the
//!   lab's /usr (`scripts/vm-usr.sh`; ext4 supports idmapped mounts on every
//!   kernel here), an initramfs per kernel with busybox and the modules
//!   (`scripts/vm-initramfs.sh`) — appends the job (the node-lab binaries,
//!   nested-probe, the host's /etc, the [`Scenario`]s) as a second cpio
//!   archive, boots, and reads the results from the serial console.
//! - Inside, `node-lab batch` runs each [`Scenario`] with [`Lab`], the same
//!   pod → OCI translation and workloads as on the host ([`run_scenario`]).
//!
//! The console protocol: one line `NODE-LAB-VERSIONS {json}`, then one
//! `NODE-LAB-RESULT {json}` per scenario, between `NODE-LAB-BEGIN` and
//! `NODE-LAB-END`; kernel messages are kept off the console.

mod kernel;
mod qemu;

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use kernel::{Kernel, config_value, kernels_dir};
pub use qemu::{VmOptions, VmRun, boot};

use crate::{Lab, LabError, LabVersions, Node, Pod, RunOptions, RuntimeDefaults, Workload};

/// Prefix of the console line with the guest's [`LabVersions`].
pub const VERSIONS_LINE: &str = "NODE-LAB-VERSIONS ";
/// Prefix of the console line of one AppArmor profile loaded at boot
/// (`NAME rc=N OUTPUT`).
pub const APPARMOR_LINE: &str = "NODE-LAB-APPARMOR ";
/// Prefix of the console line with one [`ScenarioResult`].
pub const RESULT_LINE: &str = "NODE-LAB-RESULT ";
/// The console line before the batch runs (boot done).
pub const BEGIN_LINE: &str = "NODE-LAB-BEGIN";
/// The console line after the batch.
pub const END_LINE: &str = "NODE-LAB-END";

/// One run in a pod container: the provider's outputs (Kubernetes JSON),
/// the image's user and the workload, on a containerd node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// A label unique in its batch.
    pub name: String,
    /// The provider's `pod_spec` output.
    #[serde(default)]
    pub pod_spec: Value,
    /// The provider's `pod_security_context` output.
    #[serde(default)]
    pub pod_security_context: Value,
    /// The provider's `container_security_context` output.
    #[serde(default)]
    pub container_security_context: Value,
    /// The image's user (applies unless a context sets `runAsUser`).
    pub uid: u32,
    /// The workload, by the `node-lab` CLI's name ([`Workload::parse`]).
    pub workload: String,
    /// Extra environment for a probe workload.
    #[serde(default)]
    pub env: Vec<String>,
    /// [`Pod::service_account_token`].
    #[serde(default)]
    pub service_account_token: bool,
    /// The provider's `devices` output ([`Pod::devices`]).
    #[serde(default)]
    pub devices: Vec<String>,
    /// The kubelet's `seccompDefault`.
    #[serde(default)]
    pub seccomp_default: bool,
    /// The node enforces AppArmor with the runtime's default profile of
    /// this name, loaded at boot ([`VmOptions::apparmor_profiles`]).
    #[serde(default)]
    pub apparmor_default: Option<String>,
    /// How long the container may run, in seconds (default: the lab's).
    #[serde(default)]
    pub timeout_secs: Option<u64>,
}

/// What one [`Scenario`] did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioResult {
    /// The scenario's name.
    pub name: String,
    /// The workload succeeded.
    pub ok: bool,
    /// The container's exit code; -1 when the lab could not run it.
    pub exit_code: i32,
    /// The workload's output, or the lab's error.
    pub output: String,
    /// Wall time of the run, in milliseconds.
    pub took_ms: u64,
    /// The probe's JSON report, for probe workloads.
    #[serde(default)]
    pub report: Option<Value>,
}

impl Scenario {
    /// The pod and node this scenario runs on.
    pub fn pod_and_node(&self) -> Result<(Pod, Node), LabError> {
        let text = |v: &Value| {
            if v.is_null() {
                String::new()
            } else {
                v.to_string()
            }
        };
        let mut pod = Pod::from_provider_outputs(
            &text(&self.pod_spec),
            &text(&self.pod_security_context),
            &text(&self.container_security_context),
            self.uid,
        )?;
        pod.service_account_token = self.service_account_token;
        pod.devices = self.devices.clone();
        let mut node = Node::new(RuntimeDefaults::containerd()?);
        node.seccomp_default = self.seccomp_default;
        node.apparmor_default = self.apparmor_default.clone();
        Ok((pod, node))
    }
}

/// Runs one scenario with `lab`; a lab error becomes a failed result with
/// the error as its output (exit code -1).
pub fn run_scenario(lab: &Lab, scenario: &Scenario) -> ScenarioResult {
    let started = Instant::now();
    let outcome = scenario.pod_and_node().and_then(|(pod, node)| {
        let workload = Workload::parse(&scenario.workload, &scenario.env)
            .map_err(|e| LabError::Unsupported(e.to_string()))?;
        let options = RunOptions {
            timeout: scenario.timeout_secs.map(Duration::from_secs),
            ..RunOptions::default()
        };
        lab.run_with(&pod, &node, &workload, &options)
    });
    let took_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match outcome {
        Ok(o) => ScenarioResult {
            name: scenario.name.clone(),
            ok: o.ok,
            exit_code: o.exit_code,
            output: o.output,
            took_ms,
            report: o.report,
        },
        Err(e) => ScenarioResult {
            name: scenario.name.clone(),
            ok: false,
            exit_code: -1,
            output: format!("node-lab: {e}"),
            took_ms,
            report: None,
        },
    }
}

/// The guest side of [`boot`] (`node-lab batch FILE`): the lab's versions,
/// then each scenario's result, one console line each.
pub fn run_batch(scenarios: &[Scenario]) -> Result<(), LabError> {
    let lab = Lab::new()?;
    println!("{VERSIONS_LINE}{}", line(&lab.versions()));
    for s in scenarios {
        println!("{RESULT_LINE}{}", line(&run_scenario(&lab, s)));
    }
    Ok(())
}

/// One JSON object on one line (or an error object).
fn line<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|e| format!("{{\"error\":\"cannot serialise: {e}\"}}"))
}

/// What the guest printed: its versions, the results, and the uptime (s)
/// at `NODE-LAB-BEGIN`.
#[derive(Debug, Clone, Default)]
pub struct Console {
    /// The guest's [`LabVersions`].
    pub versions: Option<LabVersions>,
    /// One result per scenario, in order.
    pub results: Vec<ScenarioResult>,
    /// The guest's uptime when the batch began (boot time).
    pub begin_uptime: Option<f64>,
    /// `NODE-LAB-END` was seen.
    pub ended: bool,
    /// The AppArmor profile loads, as printed (`NAME rc=N OUTPUT`).
    pub apparmor_loads: Vec<String>,
}

/// Reads the console protocol out of the VM's serial output.
pub fn parse_console(text: &str) -> Result<Console, LabError> {
    let mut c = Console::default();
    for raw in text.lines() {
        let line = raw.trim_end_matches('\r');
        if let Some(j) = line.strip_prefix(VERSIONS_LINE) {
            c.versions = Some(
                serde_json::from_str(j)
                    .map_err(|e| LabError::Harness(format!("versions line: {e}: {j}")))?,
            );
        } else if let Some(j) = line.strip_prefix(RESULT_LINE) {
            c.results.push(
                serde_json::from_str(j)
                    .map_err(|e| LabError::Harness(format!("result line: {e}: {j}")))?,
            );
        } else if let Some(rest) = line.strip_prefix(APPARMOR_LINE) {
            c.apparmor_loads.push(rest.to_string());
        } else if let Some(rest) = line.strip_prefix(BEGIN_LINE) {
            c.begin_uptime = rest.split_whitespace().next().and_then(|u| u.parse().ok());
        } else if line.starts_with(END_LINE) {
            c.ended = true;
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn console_lines_survive_noise_and_carriage_returns() {
        let r = ScenarioResult {
            name: "x".into(),
            ok: true,
            exit_code: 0,
            output: "a\nb".into(),
            took_ms: 5,
            report: None,
        };
        let text = format!(
            "[    1.0] noise\r\nNODE-LAB-BEGIN 3.52 1.0\r\n{RESULT_LINE}{}\r\nNODE-LAB-END rc=0\r\n",
            serde_json::to_string(&r).unwrap()
        );
        let c = parse_console(&text).unwrap();
        assert_eq!(c.results, vec![r]);
        assert_eq!(c.begin_uptime, Some(3.52));
        assert!(c.ended && c.versions.is_none());
    }
}
