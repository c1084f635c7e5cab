//! The kernels test's cells: one sandbox on one kernel — what the provider
//! decides, the scenarios that test it, and the verdict.

use std::collections::BTreeMap;

use nested_provider::capability::{CapabilityData, Decision, Input, Runtime, Version, decide};
use node_lab::LabVersions;
use node_lab::vm::{Scenario, ScenarioResult};
use serde_json::{Value as Json, json};

/// The sandboxes, each run by a non-root agent.
const SANDBOXES: [&str; 4] = ["landjail", "bubblewrap", "podman", "nsjail"];
/// The engine's inputs besides the sandbox and the kernel.
const PLATFORM: &str = "kubernetes";
const RUNTIME: &str = "containerd 2.0";
const KUBERNETES: &str = "1.33";

/// The inputs every decision shares, for the results file.
pub fn inputs() -> Json {
    json!({
        "platform": PLATFORM,
        "container_runtime": RUNTIME,
        "kubernetes_version": KUBERNETES,
        "run_as_root": false,
        "service_account_token": "the kubelet's projected token volume (tmpfs), idmapped with the pod's mapping when hostUsers is false",
    })
}

fn data() -> &'static CapabilityData {
    CapabilityData::embedded().unwrap()
}

fn version(s: &str) -> Version {
    s.parse().unwrap()
}

fn decide_for(sandbox: &str, kernel: Version) -> Decision {
    let mut input = Input::new(sandbox, PLATFORM);
    input.kernel_version = Some(kernel);
    input.container_runtime = Some(Runtime::parse(RUNTIME).unwrap());
    input.kubernetes_version = Some(version(KUBERNETES));
    input.run_as_root = false;
    decide(data(), &input).unwrap()
}

/// The Landlock ABI the provider's data gives a kernel series.
pub fn expected_abi(series: &str) -> Option<u32> {
    let kernel = version(series);
    data()
        .landlock_abi
        .iter()
        .filter(|row| row.kernel <= kernel)
        .map(|row| row.abi)
        .max()
}

/// One sandbox on one kernel.
pub struct Cell {
    /// The sandbox.
    pub sandbox: &'static str,
    /// The provider's decision for this kernel.
    pub decision: Decision,
    /// The decision whose outputs run: this one, or, when refused, the one
    /// for a node at the sandbox's kernel floor.
    pub runs: Decision,
    /// The kernel floor used when refused.
    pub floor: Option<Version>,
}

/// The cells of one kernel series.
pub fn cells_for(series: &str) -> Vec<Cell> {
    let kernel = version(series);
    SANDBOXES
        .iter()
        .map(|&sandbox| {
            let decision = decide_for(sandbox, kernel);
            let floor = decision.has_errors().then(|| {
                decision.kernel_floor.unwrap_or_else(|| {
                    panic!("{sandbox} on {series}: refused without a kernel floor")
                })
            });
            let runs = floor.map_or_else(|| decision.clone(), |f| decide_for(sandbox, f));
            assert!(
                !runs.has_errors(),
                "{sandbox}: refused at its own kernel floor {floor:?}"
            );
            Cell {
                sandbox,
                decision,
                runs,
                floor,
            }
        })
        .collect()
}

impl Cell {
    fn no_user_namespace(&self) -> bool {
        self.runs
            .runtime_args
            .iter()
            .any(|a| a == "--no-user-namespace")
    }

    fn host_users_false(&self) -> bool {
        self.runs.pod_spec["hostUsers"] == json!(false)
    }

    fn scenario(&self, name: String, workload: &str, env: Vec<String>, token: bool) -> Scenario {
        Scenario {
            env,
            service_account_token: token,
            ..outputs_scenario(&self.runs, name, workload)
        }
    }

    /// The workload, the probe in the same pod and, for `hostUsers:
    /// false`, the workload without the token volume.
    pub fn scenarios(&self) -> Vec<Scenario> {
        let (workload, env) = match self.sandbox {
            "nsjail" if self.no_user_namespace() => (
                "nsjail-no-userns".to_string(),
                vec!["BOUNDARY_NO_USER_NAMESPACE=true".to_string()],
            ),
            s => (s.to_string(), Vec::new()),
        };
        let mut out = vec![
            self.scenario(self.sandbox.into(), &workload, Vec::new(), true),
            self.scenario(
                format!("{}/probe", self.sandbox),
                &format!("probe:{}", self.sandbox),
                env,
                true,
            ),
        ];
        if self.host_users_false() {
            out.push(self.scenario(
                format!("{}/without-token-volume", self.sandbox),
                &workload,
                Vec::new(),
                false,
            ));
        }
        out
    }
}

/// `decision`'s outputs run by a non-root agent (uid 1000) as `workload`,
/// with the kubelet's token volume, on a node without `seccompDefault` or
/// AppArmor.
pub fn outputs_scenario(decision: &Decision, name: String, workload: &str) -> Scenario {
    Scenario {
        name,
        pod_spec: decision.pod_spec.clone(),
        pod_security_context: decision.pod_security_context.clone(),
        container_security_context: decision.container_security_context.clone(),
        uid: 1000,
        workload: workload.into(),
        env: Vec::new(),
        service_account_token: true,
        devices: decision.devices.clone(),
        seccomp_default: false,
        apparmor_default: None,
        timeout_secs: Some(120),
    }
}

/// A run's result in a record: works or fails, and the line that shows it.
pub fn outcome(ok: bool, message: String) -> Json {
    json!({ "result": if ok { "works" } else { "fails" }, "message": message })
}

/// The line that shows what happened, with run-specific parts (bundle
/// paths, ports, pids) blanked.
pub fn evidence(output: &str) -> String {
    const MARKERS: [&str; 11] = [
        "Got Landlock ABI",
        "Failed to make / slave",
        "mount_setattr",
        "landjail: PASS",
        "PASS:",
        "INNER:",
        "FAIL",
        "not permitted",
        "Permission denied",
        "Invalid argument",
        "exit ",
    ];
    let lines: Vec<&str> = output
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let line = MARKERS
        .iter()
        .find_map(|m| lines.iter().find(|l| l.contains(m)))
        .or(lines.last())
        .copied()
        .unwrap_or("");
    scrub(line)
}

fn scrub(line: &str) -> String {
    let mut s = line.split_whitespace().collect::<Vec<_>>().join(" ");
    while let Some(i) = s.find("/bundles/node-lab-") {
        let start = s[..i].rfind(['`', ' ', '\'', '"']).map_or(0, |p| p + 1);
        let id = i + "/bundles/".len();
        let end = s[id..].find('/').map_or(s.len(), |p| id + p);
        s.replace_range(start..end, "<bundle>");
    }
    // `s` has no trailing whitespace (joined words), so the shared
    // blanking's trim changes nothing.
    super::common::blank_numbers(&s, false)
}

/// Judges one cell from the results; returns its record and what failed.
pub fn evaluate(
    cell: &Cell,
    results: &BTreeMap<String, ScenarioResult>,
    versions: &LabVersions,
) -> (Json, Vec<String>) {
    let get = |name: String| {
        results
            .get(&name)
            .unwrap_or_else(|| panic!("no result for {name}"))
    };
    let w = get(cell.sandbox.to_string());
    let p = get(format!("{}/probe", cell.sandbox));
    let control = results.get(&format!("{}/without-token-volume", cell.sandbox));
    let errors: Vec<&str> = cell
        .decision
        .findings
        .iter()
        .filter(|f| f.error)
        .map(|f| f.summary.as_str())
        .collect();
    let label = cell.sandbox;
    let mut problems = Vec::new();
    let refused = cell.decision.has_errors();
    if !refused && !w.ok {
        problems.push(format!(
            "{label}: the provider says it works; it failed: {}\n{}",
            evidence(&w.output),
            w.output
        ));
    }
    if refused {
        if w.ok {
            problems.push(format!(
                "{label}: the provider refuses it ({errors:?}); it runs"
            ));
        }
        for e in &errors {
            let reason_shown = if e.contains("Landlock") {
                let abi = versions.landlock_abi.unwrap_or(0);
                w.output
                    .contains(&format!("Got Landlock ABI v{abi}, wanted 4"))
            } else if e.contains("pod user namespaces") {
                w.output.contains("mount_setattr")
                    && w.output.contains("/token`")
                    && w.output.contains("Invalid argument")
                    && control.is_some_and(|c| c.ok)
            } else {
                problems.push(format!(
                    "{label}: no expectation for the provider's reason {e:?}"
                ));
                continue;
            };
            if !reason_shown {
                problems.push(format!(
                    "{label}: refused for {e:?}, but it did not fail for that reason: {}\n{}",
                    evidence(&w.output),
                    w.output
                ));
            }
        }
    }
    if p.ok != w.ok {
        problems.push(format!(
            "{label}: nested-probe says runnable={}, the sandbox ok={}: {}",
            p.ok,
            w.ok,
            evidence(&p.output)
        ));
    }
    let mut record = json!({
        "sandbox": cell.sandbox,
        "agent": "non_root",
        "provider": {
            "decision": if refused { "refused" } else { "works" },
            "errors": errors,
            "kernel_floor": cell.decision.kernel_floor.map(|v| v.to_string()),
        },
        "ran_outputs_for": cell.floor.map_or_else(|| "this kernel".to_string(), |f| format!("a node at the kernel floor {f}")),
        "outputs": {
            "pod_spec": cell.runs.pod_spec,
            "container_security_context": cell.runs.container_security_context,
            "runtime_args": cell.runs.runtime_args,
        },
        "observed": outcome(w.ok, evidence(&w.output)),
        "probe": {
            "container_started": p.report.is_some(),
            "runnable": p.ok,
            "agrees": p.ok == w.ok,
            "message": evidence(&p.output),
        },
        "proven": problems.is_empty(),
    });
    if let Some(c) = control {
        record["without_token_volume"] = outcome(c.ok, evidence(&c.output));
    }
    (record, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_blanks_run_specific_parts() {
        let out = "x\nmount_setattr `/tmp/node-lab-SJsmgR/bundles/node-lab-110-0-219171932/token`: Invalid argument\n";
        assert_eq!(
            evidence(out),
            "mount_setattr `<bundle>/token`: Invalid argument"
        );
        assert_eq!(
            evidence(
                "[boundary uid 1000] PASS: proxy got from 192.168.100.2:34570: hello-from-jail"
            ),
            "[boundary uid 1000] PASS: proxy got from 192.168.100.2:N: hello-from-jail"
        );
    }
}
