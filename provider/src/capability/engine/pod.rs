//! Checks of what the pod itself must carry: the mode the sandbox runs in
//! (root or not, with or without its own user namespace) and the
//! capabilities, escalation and image contents that mode needs; the seccomp
//! profile, given the node's default; and the Pod Security Standards level
//! the result needs.

use super::{Ctx, Field};
use crate::capability::data::Agent;

/// The sandbox's mode row: its capabilities, escalation and image needs.
pub(super) fn check_mode(c: &mut Ctx<'_>) {
    let s = c.sandbox;
    c.reason(&s.reason, &s.sources);
    let agent = c.agent();
    let userns = c.creates_user_namespace();
    let Some(mode) = c.data.mode_for(&s.name, agent, userns) else {
        return;
    };
    c.mode = Some(mode);
    if let Some(e) = &mode.error {
        c.error(
            Field::RunAsRoot,
            &format!("{} cannot run as root", s.name),
            e.clone(),
        );
        return;
    }
    c.reason(&mode.reason, &mode.sources);
    c.needs
        .capabilities
        .extend(mode.capabilities.iter().cloned());
    c.needs.allow_privilege_escalation |= mode.allow_privilege_escalation;
    c.out.image_needs.extend(mode.image_needs.iter().cloned());
    let who = match agent {
        Agent::Root => "as root (run_as_root = true)",
        Agent::NonRoot => "as a non-root user (run_as_root = false)",
    };
    let caps = if mode.capabilities.is_empty() {
        "no capability".to_string()
    } else {
        mode.capabilities.join(", ")
    };
    c.out.reasons.push(format!(
        "{} runs {who}{}: it gets {caps} after dropping ALL{}",
        s.name,
        match (s.name.as_str(), userns) {
            ("nsjail", false) => ", without its own user namespace",
            _ => "",
        },
        if mode.allow_privilege_escalation {
            ", and privilege escalation stays allowed"
        } else {
            ", without privilege escalation"
        }
    ));
}

/// The seccomp profile the pod must name. A sandbox that RuntimeDefault
/// stops needs `Unconfined` wherever the node applies RuntimeDefault to
/// pods that name none; one that works under RuntimeDefault gets it
/// explicitly when that lets the pod meet the restricted standard.
pub(super) fn check_seccomp(c: &mut Ctx<'_>) {
    let Some(mode) = c.mode else { return };
    if mode.error.is_some() {
        return;
    }
    if mode.seccomp_runtime_default {
        c.needs.seccomp_profile = Some("RuntimeDefault");
        return;
    }
    if !mode.runtime_default_blocks {
        return;
    }
    let (default_on, whose) = match (c.image, c.input.seccomp_default) {
        (Some(img), _) => (
            img.seccomp_default,
            format!(
                "{} on Kubernetes {} runs pods without a profile under RuntimeDefault",
                c.family.unwrap_or_default(),
                img.kubernetes[0]
            ),
        ),
        (None, Some(on)) => (
            on,
            "seccomp_default = true: the kubelet runs pods without a profile under RuntimeDefault"
                .to_string(),
        ),
        (None, None) => (false, String::new()),
    };
    if default_on {
        c.needs.seccomp_profile = Some("Unconfined");
        c.out.reasons.push(format!(
            "{whose}, which stops {} (namespace-creating clone/unshare without SYS_ADMIN, and pivot_root on containerd), so the pod names seccompProfile Unconfined",
            c.sandbox.name
        ));
    } else if c.platform.name != "openshift" {
        c.out.reasons.push(format!(
            "{} fails under RuntimeDefault seccomp; the node runs pods without a profile Unconfined, so the pod names none (a cluster that enables seccompDefault needs seccompProfile Unconfined)",
            c.sandbox.name
        ));
    }
}

/// The Pod Security Standards level the pod needs, and why.
pub(super) fn pod_security_level(c: &Ctx<'_>) -> (&'static str, String) {
    let pss = &c.data.pod_security;
    let n = &c.needs;
    let outside_baseline: Vec<&str> = n
        .capabilities
        .iter()
        .filter(|cap| !pss.baseline_capabilities.contains(cap))
        .map(String::as_str)
        .collect();
    let unmasked_ok_in_baseline = n.host_users_false
        && c.kubernetes()
            .is_some_and(|v| v >= pss.unmasked_baseline_from);
    let mut privileged = Vec::new();
    if !outside_baseline.is_empty() {
        privileged.push(format!("adds {}", outside_baseline.join(", ")));
    }
    if n.seccomp_profile == Some("Unconfined") {
        privileged.push("seccompProfile Unconfined".into());
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
        && c.agent() == Agent::NonRoot
        && n.seccomp_profile == Some("RuntimeDefault")
        && !n.proc_mount_unmasked;
    if restricted {
        (
            "restricted",
            "Pod Security: the pod meets restricted (drop ALL, no escalation, runAsNonRoot, RuntimeDefault seccomp)".into(),
        )
    } else {
        (
            "baseline",
            "Pod Security: the pod needs a namespace that allows baseline (pod-security.kubernetes.io/enforce: baseline or privileged)".into(),
        )
    }
}
