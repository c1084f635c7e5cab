//! The kernels test's AppArmor cells: the provider's `appArmorProfile:
//! Unconfined` for bubblewrap and podman on nodes that enforce AppArmor
//! (the `[apparmor]` row), run on a Debian kernel whose AppArmor is active,
//! with containerd's own default profile loaded as containerd loads it.
//!
//! The decision is the one for an AKS Ubuntu 24.04 node pool (Kubernetes
//! 1.34), the node image whose rows say AppArmor is enforced. Its outputs
//! run with the node's default profile in force (as containerd's CRI
//! applies it to a container that names none): they must work; the same
//! pod without `appArmorProfile` gets containerd's profile and must fail
//! (its `deny mount,`); nested-probe must agree both times. Ubuntu's
//! `kernel.apparmor_restrict_unprivileged_userns` is an Ubuntu kernel
//! patch that Debian's kernel does not carry, so the node-prep half of the
//! answer is not shown here.

use std::collections::BTreeMap;

use nested_provider::capability::{CapabilityData, Decision, Input, decide};
use node_lab::apparmor::CONTAINERD_DEFAULT_PROFILE;
use node_lab::vm::{Scenario, ScenarioResult};
use serde_json::{Value as Json, json};

use super::cells::{evidence, outcome, outputs_scenario};

/// The sandboxes the `[apparmor]` row gives `Unconfined`.
const SANDBOXES: [&str; 2] = ["bubblewrap", "podman"];
/// The node pool whose decision runs.
const PLATFORM: &str = "aks";
const NODE_IMAGE: &str = "Ubuntu2404";
const KUBERNETES: &str = "1.34";
/// The kernel series the cells run on (AppArmor active, Linux ≥ 6.3 for
/// the idmapped token volume of a `hostUsers: false` pod).
pub const SERIES: &str = "6.12";

/// The inputs of the decisions, for the results file.
pub fn inputs() -> Json {
    json!({
        "platform": PLATFORM,
        "os_sku": NODE_IMAGE,
        "kubernetes_version": KUBERNETES,
        "run_as_root": false,
        "node": "AppArmor enforced; containerd's default profile (cri-containerd.apparmor.d) read from the containerd 2.x binary of the CRI lab, rendered as its loadData does and loaded with apparmor_parser -Kr",
        "not_shown": "kernel.apparmor_restrict_unprivileged_userns (Ubuntu's kernel patch; Debian's kernel has no such sysctl)",
    })
}

/// One sandbox's decision for the AppArmor node.
pub struct AppArmorCell {
    pub sandbox: &'static str,
    pub decision: Decision,
}

/// The cells, each checked to carry the answer under test.
pub fn cells() -> Vec<AppArmorCell> {
    let data = CapabilityData::embedded().unwrap();
    SANDBOXES
        .iter()
        .map(|&sandbox| {
            let mut input = Input::new(sandbox, PLATFORM);
            input.node_image = Some(NODE_IMAGE.into());
            input.kubernetes_version = Some(KUBERNETES.parse().unwrap());
            input.run_as_root = false;
            let decision = decide(data, &input).unwrap();
            assert!(
                !decision.has_errors(),
                "{sandbox} on {PLATFORM} {NODE_IMAGE}: refused: {:?}",
                decision.findings
            );
            assert_eq!(
                decision.container_security_context["appArmorProfile"],
                json!({"type": "Unconfined"}),
                "{sandbox} on {PLATFORM} {NODE_IMAGE}: the answer under test is missing"
            );
            AppArmorCell { sandbox, decision }
        })
        .collect()
}

impl AppArmorCell {
    fn name(&self, what: &str) -> String {
        format!("apparmor/{}{what}", self.sandbox)
    }

    fn scenario(&self, name: String, workload: &str, context: Json) -> Scenario {
        Scenario {
            container_security_context: context,
            apparmor_default: Some(CONTAINERD_DEFAULT_PROFILE.into()),
            ..outputs_scenario(&self.decision, name, workload)
        }
    }

    /// The provider's outputs, then the same pod without `appArmorProfile`,
    /// each with the sandbox and with the probe.
    pub fn scenarios(&self) -> Vec<Scenario> {
        let outputs = self.decision.container_security_context.clone();
        let mut without = outputs.clone();
        if let Some(m) = without.as_object_mut() {
            m.remove("appArmorProfile");
        }
        let probe = format!("probe:{}", self.sandbox);
        vec![
            self.scenario(self.name(""), self.sandbox, outputs.clone()),
            self.scenario(self.name("/probe"), &probe, outputs),
            self.scenario(
                self.name("/without-unconfined"),
                self.sandbox,
                without.clone(),
            ),
            self.scenario(self.name("/without-unconfined/probe"), &probe, without),
        ]
    }

    /// Judges the cell; returns its record and what failed.
    pub fn evaluate(&self, results: &BTreeMap<String, ScenarioResult>) -> (Json, Vec<String>) {
        let get = |what: &str| {
            let name = self.name(what);
            results
                .get(&name)
                .unwrap_or_else(|| panic!("no result for {name}"))
        };
        let (w, p) = (get(""), get("/probe"));
        let (wo, wop) = (get("/without-unconfined"), get("/without-unconfined/probe"));
        let label = self.sandbox;
        let mut problems = Vec::new();
        if !w.ok {
            problems.push(format!(
                "{label}: the provider's outputs (appArmorProfile Unconfined) failed under AppArmor: {}\n{}",
                evidence(&w.output),
                w.output
            ));
        }
        if wo.ok {
            problems.push(format!(
                "{label}: without appArmorProfile (containerd's default profile) it still runs: the provider grants too much"
            ));
        } else if !wo.output.to_lowercase().contains("permission denied") {
            problems.push(format!(
                "{label}: without appArmorProfile it failed, but not with AppArmor's EACCES: {}\n{}",
                evidence(&wo.output),
                wo.output
            ));
        }
        for (probe, run, what) in [(p, w, "with"), (wop, wo, "without")] {
            if probe.ok != run.ok {
                problems.push(format!(
                    "{label} {what} Unconfined: nested-probe says runnable={}, the sandbox ok={}: {}",
                    probe.ok,
                    run.ok,
                    evidence(&probe.output)
                ));
            }
        }
        let record = json!({
            "sandbox": label,
            "agent": "non_root",
            "outputs": {
                "pod_spec": self.decision.pod_spec,
                "container_security_context": self.decision.container_security_context,
                "devices": self.decision.devices,
            },
            "observed": outcome(w.ok, evidence(&w.output)),
            "without_unconfined": outcome(wo.ok, denial(&wo.output)),
            "probe_agrees": p.ok == w.ok && wop.ok == wo.ok,
            "proven": problems.is_empty(),
        });
        (record, problems)
    }
}

/// The line that shows the denial (`permission denied`, any case), without
/// a logger's timestamp and level (podman logs through logrus:
/// `time="…" level=error msg="…"`); else [`evidence`].
fn denial(output: &str) -> String {
    let Some(line) = output
        .lines()
        .find(|l| l.to_lowercase().contains("permission denied"))
    else {
        return evidence(output);
    };
    let message = match line.split_once("msg=\"") {
        Some((_, m)) => m.trim_end().trim_end_matches('"'),
        None => line,
    };
    evidence(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_denial_loses_the_loggers_timestamp() {
        let out = "x\ntime=\"2026-12-05T23:57:50Z\" level=error msg=\"While applying layer: remount /, flags: 0x44000: permission denied\"\nexit status 1\n";
        assert_eq!(
            denial(out),
            "While applying layer: remount /, flags: 0xN: permission denied"
        );
    }
}
