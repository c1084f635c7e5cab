//! The seccomp profile the pod names: RuntimeDefault where the sandbox runs
//! under it; where it does not, a Localhost profile (containerd's
//! RuntimeDefault plus the syscalls the sandbox makes) when the user asks
//! for one, else Unconfined wherever the node would apply RuntimeDefault.

use super::{Contribution, Facts, Field, LocalhostProfile};
use crate::capability::data::{Agent, ModeRow};
use crate::capability::kinds::RuntimeKind;
use crate::capability::seccomp::RuntimeDefaultProfile;

/// The seccomp profile the pod must name. A sandbox that RuntimeDefault
/// stops needs `Unconfined` wherever the node applies RuntimeDefault to
/// pods that name none — or the Localhost profile, when `seccomp_profile =
/// "localhost"`; one that works under RuntimeDefault gets it explicitly, so
/// that a node whose kubelet has no `seccompDefault` does not leave it
/// Unconfined (the node lab runs each such mode under containerd's
/// RuntimeDefault: acceptance/lab/tests/cri.rs).
pub(super) fn check_seccomp(f: &Facts<'_>) -> Contribution {
    let mut c = Contribution::default();
    let Some(mode) = f.mode else { return c };
    if mode.error.is_some() {
        return c;
    }
    if mode.seccomp_runtime_default {
        c.seccomp_profile = Some("RuntimeDefault");
        return c;
    }
    if !mode.runtime_default_blocks {
        return c;
    }
    if f.input.seccomp_localhost && !f.platform.localhost_seccomp_allowed {
        c.error(
            Field::SeccompProfile,
            "No Localhost seccomp profile here",
            format!(
                "{} does not let pods name a Localhost seccomp profile (its file cannot be put on the nodes), and {} fails under RuntimeDefault.",
                f.platform.title, f.sandbox.name
            ),
        );
        return c;
    }
    if f.input.seccomp_localhost {
        match localhost_offer(f, mode) {
            Ok(profile) => {
                c.reason(
                    &format!(
                        "{} fails under RuntimeDefault seccomp, so the pod names the Localhost profile {} (seccomp_profile_json): containerd's RuntimeDefault plus {}, the syscalls {} makes that RuntimeDefault refuses without SYS_ADMIN. The file must be on the node before the pod starts: apply seccomp_profile_manifest with the Security Profiles Operator (≥ 0.10), or write the profile to /var/lib/kubelet/seccomp/{}; without it the container fails to start (CreateContainerError)",
                        f.sandbox.name,
                        profile.localhost_profile,
                        profile.adds.join(", "),
                        f.sandbox.name,
                        profile.localhost_profile
                    ),
                    &mode.sources,
                );
                c.localhost_profile = Some(profile);
            }
            Err(why) => c.error(
                Field::SeccompProfile,
                "No Localhost seccomp profile here",
                format!("{why} Set seccomp_profile = \"unconfined\"."),
            ),
        }
        return c;
    }
    let (default_on, whose) = match (f.image, f.node_image_row, f.input.seccomp_default) {
        (Some(img), _, _) => (
            img.seccomp_default,
            format!(
                "{} on Kubernetes {} runs pods without a profile under RuntimeDefault",
                f.family.map(|x| x.as_str()).unwrap_or_default(),
                img.kubernetes[0]
            ),
        ),
        (None, Some(row), _) => (
            row.seccomp_default,
            format!(
                "{} on {} runs pods without a profile under RuntimeDefault",
                row.title, f.platform.title
            ),
        ),
        (None, None, Some(on)) => (
            on,
            "seccomp_default = true: the kubelet runs pods without a profile under RuntimeDefault"
                .to_string(),
        ),
        (None, None, None) => (false, String::new()),
    };
    if default_on && !f.platform.unconfined_seccomp_allowed {
        c.error(
            Field::Platform,
            &format!("{} cannot run on {}", f.sandbox.name, f.platform.title),
            format!(
                "{whose} and does not admit seccompProfile Unconfined, and {} fails under RuntimeDefault (namespace-creating clone/unshare without SYS_ADMIN, and pivot_root on containerd). Use a platform with node pools you configure (e.g. \"gke\").",
                f.sandbox.name
            ),
        );
        return c;
    }
    if default_on {
        c.seccomp_profile = Some("Unconfined");
        c.note(format!(
            "{whose}, which stops {} (namespace-creating clone/unshare without SYS_ADMIN, and pivot_root on containerd), so the pod names seccompProfile Unconfined",
            f.sandbox.name
        ));
    } else if !f.platform.needs_openshift_version {
        c.note(format!(
            "{} fails under RuntimeDefault seccomp; the node runs pods without a profile Unconfined, so the pod names none (a cluster that enables seccompDefault needs seccompProfile Unconfined)",
            f.sandbox.name
        ));
    }
    // The profile is built only where the warning may name it.
    if let Some(profile) = f
        .input
        .seccomp_tradeoff_warning
        .then(|| localhost_offer(f, mode).ok())
        .flatten()
    {
        c.warn(
            Field::SeccompProfile,
            "The pod runs without a syscall filter",
            format!(
                "Unconfined seccomp lets {} and everything it runs make any syscall. seccomp_profile = \"localhost\" names a profile that the node lab runs {} under on containerd: RuntimeDefault plus {} (it must then be on the node: seccomp_profile_manifest); seccomp_profile = \"unconfined\" keeps Unconfined without this warning.",
                f.sandbox.name,
                f.sandbox.name,
                profile.adds.join(", ")
            ),
        );
    }
    c
}

/// The Localhost profile for this mode on this node, or why there is none.
fn localhost_offer(f: &Facts<'_>, mode: &ModeRow) -> Result<LocalhostProfile, String> {
    if mode.localhost_adds.is_empty() {
        return Err(format!(
            "The provider has no Localhost profile proven for {} in this mode.",
            f.sandbox.name
        ));
    }
    if f.container_runtime()
        .is_some_and(|(kind, _)| kind != RuntimeKind::Containerd)
    {
        return Err(
            "The Localhost profiles are containerd's RuntimeDefault plus the sandbox's syscalls, run by the node lab on containerd only; these nodes run CRI-O, whose RuntimeDefault differs."
                .into(),
        );
    }
    let base = RuntimeDefaultProfile::embedded().map_err(|e| e.to_string())?;
    let arch = f.input.architecture;
    let profile = base
        .with_adds(arch, &mode.localhost_adds)
        .ok_or_else(|| format!("The data has no RuntimeDefault rules for {arch}."))?;
    let name = match f.agent {
        Agent::NonRoot => format!("nested-{}", f.sandbox.name),
        Agent::Root => format!("nested-{}-root", f.sandbox.name),
    };
    Ok(LocalhostProfile {
        localhost_profile: format!("operator/{name}.json"),
        name,
        adds: mode.localhost_adds.clone(),
        profile,
    })
}
