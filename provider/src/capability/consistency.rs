//! Consistency checks of the capability data: every row cites a source,
//! names only things that exist, and image rows do not overlap. Run once
//! when the data is parsed, so a malformed row fails a test, never a user.

use super::CapabilityError;
use super::data::{Agent, CapabilityData, ImageRow};
use super::kinds::{AmiFamily, Architecture, ImageVariant, SandboxKind};

/// Linux capability names (capabilities(7), without the CAP_ prefix).
pub const KNOWN_CAPABILITIES: [&str; 41] = [
    "AUDIT_CONTROL",
    "AUDIT_READ",
    "AUDIT_WRITE",
    "BLOCK_SUSPEND",
    "BPF",
    "CHECKPOINT_RESTORE",
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "IPC_LOCK",
    "IPC_OWNER",
    "KILL",
    "LEASE",
    "LINUX_IMMUTABLE",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "MKNOD",
    "NET_ADMIN",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_RAW",
    "PERFMON",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYSLOG",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_CHROOT",
    "SYS_MODULE",
    "SYS_NICE",
    "SYS_PACCT",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "WAKE_ALARM",
];

impl CapabilityData {
    pub(super) fn check_consistency(&self) -> Result<(), CapabilityError> {
        let row = |row: String, problem: &str| CapabilityError::Row {
            row,
            problem: problem.to_string(),
        };
        let sourced = |sources: &[String]| sources.iter().any(|s| !s.trim().is_empty());
        let families: Vec<AmiFamily> = self.family.iter().map(|f| f.name).collect();
        let sandboxes: Vec<SandboxKind> = self.sandbox.iter().map(|s| s.name).collect();
        self.check_node_images()?;

        for f in &self.family {
            let name = format!("family {:?}", f.name);
            if !sourced(&f.sources) {
                return Err(row(name, "has no source"));
            }
            let standard = f.ami_type.get(&ImageVariant::Standard);
            if Architecture::ALL
                .iter()
                .any(|a| standard.is_none_or(|m| !m.contains_key(a)))
            {
                return Err(row(name, "has no standard ami_type for every architecture"));
            }
        }
        for (i, img) in self.image.iter().enumerate() {
            let name = format!("image #{} ({} {})", i + 1, img.family, img.kubernetes[0]);
            if !sourced(&img.sources) {
                return Err(row(name, "has no source"));
            }
            let Some(family) = self.family(img.family) else {
                return Err(row(name, "names a family without a [[family]] row"));
            };
            if img.kubernetes[0] > img.kubernetes[1] {
                return Err(row(name, "has an empty Kubernetes range"));
            }
            if img.variants.is_empty()
                || img
                    .variants
                    .iter()
                    .any(|v| !family.ami_type.contains_key(v))
            {
                return Err(row(name, "names a variant its family has no ami_type for"));
            }
            if let Some(o) = self.image[..i].iter().find(|o| images_overlap(o, img)) {
                return Err(row(
                    name,
                    &format!(
                        "overlaps the row for {} {} to {} ({}) of the same family, variant and architecture",
                        o.family,
                        o.kubernetes[0],
                        o.kubernetes[1],
                        o.releases_text()
                    ),
                ));
            }
        }
        for p in &self.platform {
            let name = format!("platform {:?}", p.name);
            if !sourced(&p.sources) {
                return Err(row(name, "has no source"));
            }
            if p.families
                .iter()
                .chain(&p.also_accepts)
                .any(|f| !families.contains(f))
            {
                return Err(row(name, "names an unknown family"));
            }
        }
        for l in &self.landlock_abi {
            if !sourced(&l.sources) {
                return Err(row(format!("landlock_abi {}", l.abi), "has no source"));
            }
        }
        if !sourced(&self.host_users.sources) {
            return Err(row("host_users".into(), "has no source"));
        }
        for s in &self.sandbox {
            let name = format!("sandbox {:?}", s.name);
            if !sourced(&s.sources) {
                return Err(row(name, "has no source"));
            }
            if s.reason.trim().is_empty() {
                return Err(row(name, "has no reason"));
            }
            if sandboxes.iter().filter(|n| **n == s.name).count() > 1 {
                return Err(row(name, "is listed twice"));
            }
            if let Some(abi) = s.landlock_abi
                && !self.landlock_abi.iter().any(|l| l.abi == abi)
            {
                return Err(row(name, "needs a Landlock ABI with no kernel row"));
            }
            if s.needs_user_namespaces && s.without_user_namespaces.is_none() {
                return Err(row(name, "needs user namespaces but says no alternative"));
            }
        }
        for (i, v) in self.variant.iter().enumerate() {
            let name = format!("variant #{} ({})", i + 1, v.sandbox);
            if !sourced(&v.sources) {
                return Err(row(name, "has no source"));
            }
            if !sandboxes.contains(&v.sandbox) {
                return Err(row(name, "names a sandbox without a [[sandbox]] row"));
            }
            if let Some(r) = v.recommend
                && !sandboxes.contains(&r)
            {
                return Err(row(name, "recommends a sandbox without a [[sandbox]] row"));
            }
        }
        for k in &self.kubelet_setting {
            if !sourced(&k.sources) {
                return Err(row(format!("kubelet_setting {:?}", k.key), "has no source"));
            }
        }
        let known = |caps: &[String]| {
            caps.iter()
                .all(|c| KNOWN_CAPABILITIES.contains(&c.as_str()))
        };
        for (i, m) in self.mode.iter().enumerate() {
            let name = format!("mode #{} ({} {})", i + 1, m.sandbox, m.agent.as_str());
            if !sourced(&m.sources) {
                return Err(row(name, "has no source"));
            }
            if !sandboxes.contains(&m.sandbox) {
                return Err(row(name, "names a sandbox without a [[sandbox]] row"));
            }
            if !known(&m.capabilities) {
                return Err(row(name, "adds a capability the provider does not know"));
            }
            if !m.localhost_adds.is_empty() && !m.runtime_default_blocks {
                return Err(row(
                    name,
                    "has localhost_adds but RuntimeDefault does not stop it: no Localhost profile is needed",
                ));
            }
        }
        for s in &self.sandbox {
            for agent in [Agent::NonRoot, Agent::Root] {
                for userns in [true, false] {
                    if self.mode_for(s.name, agent, userns).is_none() {
                        return Err(row(
                            format!("sandbox {:?}", s.name),
                            &format!(
                                "has no mode row for agent {} (user namespace {userns})",
                                agent.as_str()
                            ),
                        ));
                    }
                }
            }
        }
        for r in &self.runtime {
            let name = format!("runtime {:?}", r.name);
            if !sourced(&r.sources) {
                return Err(row(name, "has no source"));
            }
            if !known(&r.default_capabilities) {
                return Err(row(name, "names a capability the provider does not know"));
            }
        }
        if !sourced(&self.pod_security.sources) {
            return Err(row("pod_security".into(), "has no source"));
        }
        if !known(&self.pod_security.baseline_capabilities) {
            return Err(row(
                "pod_security".into(),
                "names a capability the provider does not know",
            ));
        }
        for e in &self.eks_support {
            let name = format!("eks_support {}", e.kubernetes);
            if !sourced(&e.sources) {
                return Err(row(name, "has no source"));
            }
            if e.end_of_standard > e.end_of_extended {
                return Err(row(name, "ends extended support before standard support"));
            }
        }
        for o in &self.openshift {
            if !sourced(&o.sources) {
                return Err(row(format!("openshift {}", o.versions[0]), "has no source"));
            }
        }
        Ok(())
    }
}

/// Two image rows describe one image: the same family, a shared variant
/// and architecture, overlapping Kubernetes ranges, and the same first
/// release (rows with different first releases follow each other).
fn images_overlap(a: &ImageRow, b: &ImageRow) -> bool {
    // Rows that name an architecture replace those that do not, so only
    // rows of the same kind can overlap.
    let shared_arch = (a.architectures.is_empty() && b.architectures.is_empty())
        || a.architectures.iter().any(|x| b.architectures.contains(x));
    a.family == b.family
        && a.variants.iter().any(|v| b.variants.contains(v))
        && shared_arch
        && a.kubernetes[0] <= b.kubernetes[1]
        && b.kubernetes[0] <= a.kubernetes[1]
        && a.first_release() == b.first_release()
}
