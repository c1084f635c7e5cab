//! Checks of what the pod itself must carry: the mode the sandbox runs in
//! (root or not, with or without its own user namespace) and the
//! capabilities, escalation and image contents that mode needs; the seccomp
//! profile, given the node's default; and the Pod Security Standards level
//! the result needs.

use super::{Contribution, Facts, Field};
use crate::capability::data::Agent;

/// The sandbox's mode row: its capabilities, escalation and image needs.
pub(super) fn check_mode(f: &Facts<'_>) -> Contribution {
    let mut c = Contribution::default();
    let s = f.sandbox;
    c.reason(&s.reason, &s.sources);
    let Some(mode) = f.mode else {
        return c;
    };
    if let Some(e) = &mode.error {
        c.error(
            Field::RunAsRoot,
            &format!("{} cannot run as root", s.name),
            e.clone(),
        );
        return c;
    }
    c.reason(&mode.reason, &mode.sources);
    c.capabilities.extend(mode.capabilities.iter().cloned());
    c.allow_privilege_escalation = mode.allow_privilege_escalation;
    c.image_needs.extend(mode.image_needs.iter().cloned());
    let who = match f.agent {
        Agent::Root => "as root (run_as_root = true)",
        Agent::NonRoot => "as a non-root user (run_as_root = false)",
    };
    let caps = if mode.capabilities.is_empty() {
        "no capability".to_string()
    } else {
        mode.capabilities.join(", ")
    };
    let without_userns = if s.needs_user_namespaces && !f.creates_user_namespace {
        ", without its own user namespace"
    } else {
        ""
    };
    let escalation = if mode.allow_privilege_escalation {
        ", and privilege escalation stays allowed"
    } else {
        ", without privilege escalation"
    };
    c.note(format!(
        "{} runs {who}{without_userns}: it gets {caps} after dropping ALL{escalation}",
        s.name
    ));
    c
}

/// The Pod Security Standards level the pod needs, and why.
pub(super) fn pod_security_level(f: &Facts<'_>, n: &Contribution) -> (&'static str, String) {
    let pss = &f.data.pod_security;
    let outside_baseline: Vec<&str> = n
        .capabilities
        .iter()
        .filter(|cap| !pss.baseline_capabilities.contains(cap))
        .map(String::as_str)
        .collect();
    let unmasked_ok_in_baseline = n.host_users_false
        && f.kubernetes
            .is_some_and(|v| v >= pss.unmasked_baseline_from);
    let mut privileged = Vec::new();
    if !outside_baseline.is_empty() {
        privileged.push(format!("adds {}", outside_baseline.join(", ")));
    }
    if n.seccomp_profile == Some("Unconfined") {
        privileged.push("seccompProfile Unconfined".into());
    }
    if n.apparmor_unconfined {
        privileged.push("appArmorProfile Unconfined".into());
    }
    if n.proc_mount_unmasked && !unmasked_ok_in_baseline {
        privileged.push(format!(
            "procMount Unmasked (baseline allows it for hostUsers: false pods from policy version {})",
            pss.unmasked_baseline_from
        ));
    }
    if !privileged.is_empty() {
        return (
            "privileged",
            format!(
                "Pod Security: the pod's namespace needs pod-security.kubernetes.io/enforce: privileged, because the pod {}",
                privileged.join(" and ")
            ),
        );
    }
    let restricted = n
        .capabilities
        .iter()
        .all(|cap| pss.restricted_capabilities.contains(cap))
        && !n.allow_privilege_escalation
        && f.agent == Agent::NonRoot
        && (n.seccomp_profile == Some("RuntimeDefault") || n.localhost_profile.is_some())
        && !n.proc_mount_unmasked;
    if restricted {
        (
            "restricted",
            "Pod Security: the pod meets restricted (drop ALL, no escalation, runAsNonRoot, RuntimeDefault or Localhost seccomp)".into(),
        )
    } else {
        (
            "baseline",
            "Pod Security: the pod needs a namespace that allows baseline (pod-security.kubernetes.io/enforce: baseline or privileged)".into(),
        )
    }
}
