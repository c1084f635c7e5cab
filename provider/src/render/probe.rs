//! The `nested-probe` Job: a Kubernetes Job that runs the probe on a node
//! of the pool with exactly the pod and container settings the decision
//! computed, so `kubectl apply` right after the pool is ACTIVE proves (exit
//! 0) or disproves (exit 1, failed checks named in the log) that the sandbox
//! runs there.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json, json};

use super::yaml::to_yaml;

/// The probe image used when the configuration names none.
pub const DEFAULT_PROBE_IMAGE: &str = concat!(
    "ghcr.io/nested-sandbox/nested-probe:",
    env!("CARGO_PKG_VERSION")
);

/// A node taint the probe must tolerate to land on the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toleration {
    pub key: String,
    pub value: Option<String>,
    /// Kubernetes spelling: `NoSchedule`, `PreferNoSchedule`, `NoExecute`.
    pub effect: String,
}

/// The namespace the probe Job goes to when the configuration names none.
pub const DEFAULT_PROBE_NAMESPACE: &str = "nested-probe";

/// What the Job is made of.
#[derive(Debug, Clone)]
pub struct ProbeJob<'a> {
    /// Used in the Job name: `nested-probe-<name>`.
    pub name: &'a str,
    pub namespace: &'a str,
    /// The Pod Security Standards level the namespace must allow.
    pub pod_security_level: &'a str,
    pub sandbox: &'a str,
    pub image: &'a str,
    /// Pod spec fields (e.g. `hostUsers`).
    pub pod_spec: &'a Json,
    pub pod_security_context: &'a Json,
    pub container_security_context: &'a Json,
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<Toleration>,
    /// The arguments the sandbox is started with (`--no-user-namespace`):
    /// the probe judges that mode.
    pub runtime_args: &'a [String],
    /// On OpenShift: the SCC the pod needs (`openshift.io/required-scc`),
    /// and whether its service account must be granted `use` of it.
    pub openshift_scc: Option<RequiredScc<'a>>,
}

/// The SCC an OpenShift probe pod needs.
#[derive(Debug, Clone, Copy)]
pub struct RequiredScc<'a> {
    pub name: &'a str,
    /// Not open to every user: the service account needs `use`.
    pub needs_grant: bool,
    /// Written by `nested_openshift_profile` (`scc_manifest`), not built in.
    pub custom: bool,
}

/// The service account the probe pod runs as (the namespace's default).
pub const PROBE_SERVICE_ACCOUNT: &str = "default";

/// A Kubernetes object name: lower case alphanumerics and `-`, ≤ 63.
fn dns_label(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    out.truncate(63);
    out.trim_matches('-').to_string()
}

fn object(v: &Json) -> Map<String, Json> {
    v.as_object().cloned().unwrap_or_default()
}

/// The Job as a YAML document.
pub fn probe_job(job: &ProbeJob<'_>) -> String {
    let name = dns_label(&format!("nested-probe-{}", job.name));
    let labels = json!({
        "app.kubernetes.io/name": "nested-probe",
        "app.kubernetes.io/managed-by": "terraform-provider-nested",
        "nested.dev/sandbox": job.sandbox,
    });

    let mut container = Map::new();
    container.insert("name".into(), json!("probe"));
    container.insert("image".into(), json!(job.image));
    // The probe image is `FROM scratch` + /nested-probe (probe/Containerfile).
    container.insert("command".into(), json!(["/nested-probe"]));
    container.insert("args".into(), json!(["--sandbox", job.sandbox, "--json"]));
    // Boundary's own variable for --no-user-namespace, which the probe reads.
    if job.runtime_args.iter().any(|a| a == "--no-user-namespace") {
        container.insert(
            "env".into(),
            json!([{ "name": "BOUNDARY_NO_USER_NAMESPACE", "value": "true" }]),
        );
    }
    container.insert(
        "resources".into(),
        json!({
            "requests": { "cpu": "10m", "memory": "16Mi" },
            "limits": { "memory": "64Mi" },
        }),
    );
    container.insert(
        "securityContext".into(),
        Json::Object(object(job.container_security_context)),
    );

    let mut pod = Map::new();
    pod.insert("restartPolicy".into(), json!("Never"));
    // Pod spec fields first (hostUsers), as the decision gives them.
    for (k, v) in object(job.pod_spec) {
        pod.insert(k, v);
    }
    let pod_sc = object(job.pod_security_context);
    if !pod_sc.is_empty() {
        pod.insert("securityContext".into(), Json::Object(pod_sc));
    }
    if !job.node_selector.is_empty() {
        pod.insert("nodeSelector".into(), json!(job.node_selector));
    }
    if !job.tolerations.is_empty() {
        let tolerations: Vec<Json> = job
            .tolerations
            .iter()
            .map(|t| {
                let mut m = Map::new();
                m.insert("key".into(), json!(t.key));
                match &t.value {
                    Some(v) => {
                        m.insert("operator".into(), json!("Equal"));
                        m.insert("value".into(), json!(v));
                    }
                    None => {
                        m.insert("operator".into(), json!("Exists"));
                    }
                }
                m.insert("effect".into(), json!(t.effect));
                Json::Object(m)
            })
            .collect();
        pod.insert("tolerations".into(), Json::Array(tolerations));
    }
    pod.insert("containers".into(), json!([Json::Object(container)]));

    let mut template_meta = Map::new();
    template_meta.insert("labels".into(), labels.clone());
    if let Some(scc) = &job.openshift_scc {
        template_meta.insert(
            "annotations".into(),
            json!({ "openshift.io/required-scc": scc.name }),
        );
    }
    let label = format!(
        "pod-security.kubernetes.io/enforce={}",
        job.pod_security_level
    );
    let manifest = json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": job.namespace,
            "labels": labels,
            "annotations": { "nested.dev/namespace-needs": label },
        },
        "spec": {
            "backoffLimit": 0,
            "ttlSecondsAfterFinished": 3600,
            "template": {
                "metadata": Json::Object(template_meta),
                "spec": Json::Object(pod),
            },
        },
    });
    // A namespace that enforces a stricter level creates the Job but
    // refuses its pod, visible only in events: say so where it is read.
    format!(
        "# The namespace {ns} must allow Pod Security level {level}:\n#   kubectl create namespace {ns}\n#   kubectl label namespace {ns} --overwrite {label}\n{}{}",
        job.openshift_scc
            .map(|s| scc_note(&s, job.namespace))
            .unwrap_or_default(),
        to_yaml(&manifest),
        ns = job.namespace,
        level = job.pod_security_level,
    )
}

/// On OpenShift, SCC admission refuses the pod unless its service account
/// may `use` the SCC the pod names: the grant, where it is read.
fn scc_note(scc: &RequiredScc<'_>, namespace: &str) -> String {
    let mut out = format!(
        "# On OpenShift the pod needs SCC {name} (annotation openshift.io/required-scc).\n",
        name = scc.name
    );
    if scc.custom {
        out.push_str(&format!(
            "#   Apply nested_openshift_profile's scc_manifest ({name}) first.\n",
            name = scc.name
        ));
    }
    if scc.needs_grant {
        out.push_str(&format!(
            "#   The Job runs as service account {sa} in {namespace}, which must be allowed to use it\n#   (RBAC verb \"use\" on securitycontextconstraints/{name}, apiGroup security.openshift.io):\n#   oc adm policy add-scc-to-user {name} -z {sa} -n {namespace}\n",
            name = scc.name,
            sa = PROBE_SERVICE_ACCOUNT,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The image the release publishes is tagged with the workspace's
    /// version (root Cargo.toml): a default naming another tag would pull
    /// an image the release never built.
    #[test]
    fn the_default_probe_image_is_tagged_with_the_provider_version() {
        let cargo = include_str!("../../../Cargo.toml");
        let version = cargo
            .lines()
            .find_map(|l| l.strip_prefix("version = \""))
            .and_then(|r| r.strip_suffix('"'))
            .unwrap();
        assert_eq!(
            DEFAULT_PROBE_IMAGE,
            format!("ghcr.io/nested-sandbox/nested-probe:{version}")
        );
    }

    fn job<'a>(pod_spec: &'a Json, pod_sc: &'a Json, csc: &'a Json) -> ProbeJob<'a> {
        ProbeJob {
            name: "Agents_Pool",
            namespace: DEFAULT_PROBE_NAMESPACE,
            pod_security_level: "privileged",
            sandbox: "bubblewrap",
            image: DEFAULT_PROBE_IMAGE,
            pod_spec,
            pod_security_context: pod_sc,
            container_security_context: csc,
            node_selector: BTreeMap::from([(
                "eks.amazonaws.com/nodegroup".to_string(),
                "agents".to_string(),
            )]),
            tolerations: vec![Toleration {
                key: "sandbox".into(),
                value: Some("bwrap".into()),
                effect: "NoSchedule".into(),
            }],
            runtime_args: &[],
            openshift_scc: None,
        }
    }

    #[test]
    fn the_job_carries_the_decision_and_lands_on_the_pool() {
        let pod_spec = json!({"hostUsers": false});
        let csc =
            json!({"capabilities": {"add": ["SETFCAP"], "drop": ["ALL"]}, "procMount": "Unmasked"});
        let yaml = probe_job(&job(&pod_spec, &json!({}), &csc));
        assert!(
            yaml.contains("name: \"nested-probe-agents-pool\""),
            "{yaml}"
        );
        assert!(yaml.contains("      hostUsers: false\n"), "{yaml}");
        assert!(
            !yaml.contains("securityContext:\n        hostUsers"),
            "{yaml}"
        );
        assert!(yaml.contains("procMount: \"Unmasked\""), "{yaml}");
        assert!(
            yaml.contains("eks.amazonaws.com/nodegroup: \"agents\""),
            "{yaml}"
        );
        assert!(yaml.contains("operator: \"Equal\""), "{yaml}");
        assert!(yaml.contains("- \"--sandbox\"\n"), "{yaml}");
        assert!(yaml.contains("- \"bubblewrap\"\n"), "{yaml}");
        assert!(yaml.contains("restartPolicy: \"Never\""), "{yaml}");
        assert!(yaml.contains("namespace: \"nested-probe\""), "{yaml}");
        assert!(
            yaml.contains("kubectl label namespace nested-probe --overwrite pod-security.kubernetes.io/enforce=privileged"),
            "{yaml}"
        );
    }

    #[test]
    fn the_probe_judges_the_mode_the_sandbox_runs_in() {
        let args = vec!["--no-user-namespace".to_string()];
        let empty = json!({});
        let mut j = job(&empty, &empty, &empty);
        assert!(!probe_job(&j).contains("env:"));
        j.runtime_args = &args;
        let yaml = probe_job(&j);
        assert!(
            yaml.contains("name: \"BOUNDARY_NO_USER_NAMESPACE\""),
            "{yaml}"
        );
    }

    #[test]
    fn an_empty_pod_security_context_is_left_out() {
        let yaml = probe_job(&job(&json!({}), &json!({}), &json!({})));
        assert!(!yaml.contains("\n      securityContext:"), "{yaml}");
        assert!(!yaml.contains("hostUsers"), "{yaml}");
    }

    #[test]
    fn names_are_valid_kubernetes_names() {
        assert_eq!(
            dns_label("nested-probe-Prod:Agents"),
            "nested-probe-prod-agents"
        );
        assert_eq!(dns_label(&"x".repeat(80)).len(), 63);
    }

    #[test]
    fn an_openshift_probe_names_its_scc_and_the_grant_it_needs() {
        let empty = json!({});
        let mut j = job(&empty, &empty, &empty);
        assert!(!probe_job(&j).contains("required-scc"));
        j.openshift_scc = Some(RequiredScc {
            name: "nested-bubblewrap-root",
            needs_grant: true,
            custom: true,
        });
        let yaml = probe_job(&j);
        assert!(yaml.contains("    metadata:\n      labels:\n"), "{yaml}");
        assert!(
            yaml.contains("      annotations:\n        openshift.io/required-scc: \"nested-bubblewrap-root\"\n"),
            "{yaml}"
        );
        assert!(
            yaml.contains(
                "oc adm policy add-scc-to-user nested-bubblewrap-root -z default -n nested-probe"
            ),
            "{yaml}"
        );
        assert!(yaml.contains("scc_manifest"), "{yaml}");
    }
}
