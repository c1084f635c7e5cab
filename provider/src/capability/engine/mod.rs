//! Decisions: sandbox × platform × AMI family × versions × how the sandbox
//! runs → what the node and the pod need, or why it cannot work.
//!
//! `decide` runs a fixed list of checks over the data rows (the shape of
//! Karpenter's compatibility checks): [`platform`] (inputs, image, support
//! window, platform variants), [`pod`] (the mode the sandbox runs in, its
//! capabilities, seccomp, the Pod Security level) and [`node`] (user
//! namespaces, pod user namespaces, Landlock, OpenShift gates). Each check
//! reads rows and either adds requirements with a reason, or a finding
//! (error or warning) that names the input at fault.

mod node;
mod platform;
mod pod;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value as Json, json};

use super::data::{
    Agent, CapabilityData, Date, ImageRow, ModeRow, PlatformRow, SandboxRow, VariantRow,
};
use super::{CapabilityError, Version};

/// Default `user.max_user_namespaces` the provider sets where it must.
pub const DEFAULT_MAX_USER_NAMESPACES: u64 = 65536;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Architecture {
    #[default]
    X86_64,
    Arm64,
}

impl Architecture {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "x86_64" => Some(Self::X86_64),
            "arm64" => Some(Self::Arm64),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::X86_64 => "x86_64",
            Self::Arm64 => "arm64",
        }
    }
}

/// A container runtime and its version, e.g. `containerd 2.1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runtime {
    pub name: String,
    pub version: Version,
}

impl Runtime {
    /// `containerd 2.1`, `cri-o 1.30.2`.
    pub fn parse(s: &str) -> Result<Runtime, String> {
        let mut parts = s.split_whitespace();
        let (Some(name), Some(version), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!(
                "{s:?} is not \"<runtime> <version>\", e.g. \"containerd 2.1\" or \"cri-o 1.30\""
            ));
        };
        let name = name.to_ascii_lowercase();
        if name != "containerd" && name != "cri-o" {
            return Err(format!(
                "unknown container runtime {name:?}; use \"containerd\" or \"cri-o\""
            ));
        }
        let version = version
            .trim_start_matches('v')
            .parse::<Version>()
            .map_err(|e| e.to_string())?;
        Ok(Runtime { name, version })
    }
}

/// Everything a decision depends on.
#[derive(Debug, Clone)]
pub struct Input {
    pub sandbox: String,
    pub platform: String,
    pub kubernetes_version: Option<Version>,
    pub openshift_version: Option<Version>,
    pub ami_family: Option<String>,
    pub architecture: Architecture,
    pub user_namespaces: bool,
    pub kernel_version: Option<Version>,
    pub container_runtime: Option<Runtime>,
    pub seccomp_default: Option<bool>,
    pub max_user_namespaces: u64,
    /// The sandbox's process runs as uid 0 (else as a non-root user).
    pub run_as_root: bool,
    /// The kubelet's `userNamespaces.idsPerPod`, when the user sets it.
    pub ids_per_pod: Option<u64>,
    /// The date support windows are judged on.
    pub today: Date,
}

impl Input {
    pub fn new(sandbox: &str, platform: &str) -> Self {
        Self {
            sandbox: sandbox.into(),
            platform: platform.into(),
            kubernetes_version: None,
            openshift_version: None,
            ami_family: None,
            architecture: Architecture::X86_64,
            user_namespaces: true,
            kernel_version: None,
            container_runtime: None,
            seccomp_default: None,
            max_user_namespaces: DEFAULT_MAX_USER_NAMESPACES,
            run_as_root: false,
            ids_per_pod: None,
            today: today(),
        }
    }
}

/// Environment variable that fixes the date support windows are judged on
/// (`YYYY-MM-DD`): reproducible plans in tests and audits.
pub const TODAY_ENV: &str = "NESTED_PROVIDER_TODAY";

/// Today's date (UTC), or the one `NESTED_PROVIDER_TODAY` names.
pub fn today() -> Date {
    if let Some(d) = std::env::var(TODAY_ENV)
        .ok()
        .and_then(|s| s.trim().parse::<Date>().ok())
    {
        return d;
    }
    let d = time::OffsetDateTime::now_utc().date();
    Date {
        year: u16::try_from(d.year()).unwrap_or(u16::MAX),
        month: u8::from(d.month()),
        day: d.day(),
    }
}

/// The input a finding is about (its attribute path in the data source).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Sandbox,
    Platform,
    KubernetesVersion,
    OpenshiftVersion,
    AmiFamily,
    Architecture,
    UserNamespaces,
    KernelVersion,
    ContainerRuntime,
    SeccompDefault,
    RunAsRoot,
    IdsPerPod,
}

impl Field {
    pub fn attribute(self) -> &'static str {
        match self {
            Field::Sandbox => "sandbox",
            Field::Platform => "platform",
            Field::KubernetesVersion => "kubernetes_version",
            Field::OpenshiftVersion => "openshift_version",
            Field::AmiFamily => "ami_family",
            Field::Architecture => "architecture",
            Field::UserNamespaces => "user_namespaces",
            Field::KernelVersion => "kernel_version",
            Field::ContainerRuntime => "container_runtime",
            Field::SeccompDefault => "seccomp_default",
            Field::RunAsRoot => "run_as_root",
            Field::IdsPerPod => "ids_per_pod",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub error: bool,
    pub field: Field,
    pub summary: String,
    pub detail: String,
}

/// The outcome: requirements when it can work, findings when it cannot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    pub ami_family: Option<String>,
    pub ami_type: Option<String>,
    pub kernel_floor: Option<Version>,
    pub kernel_version: Option<Version>,
    pub sysctls: BTreeMap<String, String>,
    pub kubelet_settings: BTreeMap<String, String>,
    /// JSON object of pod spec fields (e.g. `hostUsers`), which live in the
    /// pod spec itself, not in its `securityContext`.
    pub pod_spec: Json,
    /// JSON object (as a Kubernetes PodSecurityContext).
    pub pod_security_context: Json,
    /// JSON object (as a Kubernetes container SecurityContext).
    pub container_security_context: Json,
    pub runtime_args: Vec<String>,
    pub node_labels: BTreeMap<String, String>,
    /// What the container image must provide (sudo, helpers, …).
    pub image_needs: Vec<String>,
    /// The Pod Security Standards level the pod's namespace must allow
    /// (`restricted`, `baseline` or `privileged`).
    pub pod_security_level: String,
    pub warnings: Vec<String>,
    pub reasons: Vec<String>,
    pub findings: Vec<Finding>,
}

impl Decision {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.error)
    }
}

/// Requirements gathered while checking.
#[derive(Default)]
struct Needs {
    capabilities: BTreeSet<String>,
    host_users_false: bool,
    proc_mount_unmasked: bool,
    allow_privilege_escalation: bool,
    seccomp_profile: Option<&'static str>,
}

struct Ctx<'a> {
    data: &'a CapabilityData,
    input: &'a Input,
    sandbox: &'a SandboxRow,
    platform: &'a PlatformRow,
    family: Option<&'a str>,
    image: Option<&'a ImageRow>,
    variant: Option<&'a VariantRow>,
    mode: Option<&'a ModeRow>,
    needs: Needs,
    out: Decision,
}

impl Ctx<'_> {
    fn error(&mut self, field: Field, summary: &str, detail: String) {
        self.out.findings.push(Finding {
            error: true,
            field,
            summary: summary.into(),
            detail,
        });
    }
    fn warn(&mut self, field: Field, summary: &str, detail: String) {
        self.out.warnings.push(format!("{summary}: {detail}"));
        self.out.findings.push(Finding {
            error: false,
            field,
            summary: summary.into(),
            detail,
        });
    }
    fn reason(&mut self, text: &str, sources: &[String]) {
        self.out
            .reasons
            .push(format!("{text} [{}]", sources.join("; ")));
    }
    fn agent(&self) -> Agent {
        if self.input.run_as_root {
            Agent::Root
        } else {
            Agent::NonRoot
        }
    }
    /// The sandbox creates its own user namespace here (a platform variant,
    /// e.g. EKS Auto Mode, can run nsjail without one).
    fn creates_user_namespace(&self) -> bool {
        !self.variant.is_some_and(|v| v.drops_user_namespaces)
    }
    /// The Kubernetes version the decision is for (EKS, your own nodes, or
    /// the OpenShift release's).
    fn kubernetes(&self) -> Option<Version> {
        self.input.kubernetes_version.or_else(|| {
            self.input
                .openshift_version
                .and_then(|v| self.data.openshift(v))
                .map(|o| o.kubernetes)
        })
    }
}

fn unknown_name(field: Field, kind: &str, name: &str, known: &[&str]) -> Finding {
    Finding {
        error: true,
        field,
        summary: format!("Unknown {kind}"),
        detail: format!(
            "{name:?} is not a {kind} this provider knows. Use one of: {}.",
            known.join(", ")
        ),
    }
}

/// Decide for `input`. Errors in the data itself are returned as `Err`.
pub fn decide(data: &CapabilityData, input: &Input) -> Result<Decision, CapabilityError> {
    let Some(sandbox) = data.sandbox(&input.sandbox) else {
        return Ok(Decision {
            findings: vec![unknown_name(
                Field::Sandbox,
                "sandbox",
                &input.sandbox,
                &data.sandbox_names(),
            )],
            ..Decision::default()
        });
    };
    let Some(platform) = data.platform(&input.platform) else {
        let known: Vec<&str> = data.platform.iter().map(|p| p.name.as_str()).collect();
        return Ok(Decision {
            findings: vec![unknown_name(
                Field::Platform,
                "platform",
                &input.platform,
                &known,
            )],
            ..Decision::default()
        });
    };

    // EKS platforms: choose the family (explicit, or the first that works).
    let candidates: Vec<&str> = match &input.ami_family {
        Some(f) => vec![f.as_str()],
        None => platform.families.iter().map(String::as_str).collect(),
    };
    if candidates.is_empty() {
        return Ok(run(data, input, sandbox, platform, None));
    }
    let mut first: Option<Decision> = None;
    for family in &candidates {
        let mut d = run(data, input, sandbox, platform, Some(family));
        if !d.has_errors() {
            if input.ami_family.is_none() && family != &candidates[0] {
                d.reasons.insert(
                    0,
                    format!(
                        "ami_family {family} was chosen because {} cannot run {} here",
                        candidates[0], sandbox.name
                    ),
                );
            }
            return Ok(d);
        }
        first.get_or_insert(d);
    }
    Ok(first.unwrap_or_default())
}

fn run<'a>(
    data: &'a CapabilityData,
    input: &'a Input,
    sandbox: &'a SandboxRow,
    platform: &'a PlatformRow,
    family: Option<&'a str>,
) -> Decision {
    let mut ctx = Ctx {
        data,
        input,
        sandbox,
        platform,
        family,
        image: None,
        variant: None,
        mode: None,
        needs: Needs::default(),
        out: Decision::default(),
    };
    for check in CHECKS {
        check(&mut ctx);
    }
    finish(ctx)
}

type Check = fn(&mut Ctx<'_>);

/// The checks, in order. Each reads rows and records needs or findings.
const CHECKS: &[Check] = &[
    platform::check_inputs_fit_the_platform,
    platform::check_family_and_image,
    platform::check_support_window,
    platform::check_variant,
    pod::check_mode,
    platform::check_capabilities_allowed,
    node::check_user_namespaces,
    node::check_host_users,
    node::check_landlock,
    node::check_ids_per_pod,
    node::check_openshift_gates,
    pod::check_seccomp,
];

fn finish(mut c: Ctx<'_>) -> Decision {
    c.out.kernel_floor = c.data.kernel_floor(c.sandbox);
    if c.platform.name == "kubernetes" {
        c.out.kernel_version = c.input.kernel_version;
    }
    // Pod: only what differs from Kubernetes defaults. `hostUsers` is a pod
    // spec field; no sandbox needs a pod-level securityContext field.
    let mut pod_spec = Map::new();
    if c.needs.host_users_false {
        pod_spec.insert("hostUsers".into(), Json::Bool(false));
    }
    // Container: drop ALL, add only what the sandbox needs; never privileged.
    let mut container = Map::new();
    container.insert(
        "allowPrivilegeEscalation".into(),
        Json::Bool(c.needs.allow_privilege_escalation),
    );
    let add: Vec<&String> = c.needs.capabilities.iter().collect();
    let mut caps = Map::new();
    if !add.is_empty() {
        caps.insert("add".into(), json!(add));
    }
    caps.insert("drop".into(), json!(["ALL"]));
    container.insert("capabilities".into(), Json::Object(caps));
    container.insert("privileged".into(), Json::Bool(false));
    if c.needs.proc_mount_unmasked {
        container.insert("procMount".into(), json!("Unmasked"));
    }
    match c.agent() {
        Agent::NonRoot => container.insert("runAsNonRoot".into(), Json::Bool(true)),
        Agent::Root => container.insert("runAsUser".into(), json!(0)),
    };
    if let Some(p) = c.needs.seccomp_profile {
        container.insert("seccompProfile".into(), json!({ "type": p }));
    }
    let level = pod::pod_security_level(&c);
    c.reason(&level.1, &c.data.pod_security.sources.clone());
    c.out.pod_security_level = level.0.to_string();
    c.out.pod_spec = Json::Object(pod_spec);
    c.out.pod_security_context = Json::Object(Map::new());
    c.out.container_security_context = Json::Object(container);
    c.out.node_labels.insert(
        format!("sandbox.nested.dev/{}", c.sandbox.name),
        "true".into(),
    );
    c.out
}
