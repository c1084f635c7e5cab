//! The node-prep DaemonSet: where no node pool setting can set a sysctl a
//! sandbox needs (EKS Auto Mode's NodeClass, GKE's and AKS's sysctl
//! allowlists), a privileged pod on each of the pool's nodes writes it and
//! then removes the pool's startup taint, so that no sandbox pod lands on
//! the node before it is prepared.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use crate::render::Taint;
use crate::render::yaml::to_yaml;

/// Which nodes, what to set, and with what.
pub struct NodePrep<'a> {
    /// The name of the DaemonSet, its ServiceAccount and RBAC objects.
    pub name: &'a str,
    /// The labels that select the pool's nodes.
    pub node_selector: &'a BTreeMap<String, String>,
    /// The pool's taints (tolerated).
    pub taints: &'a [Taint],
    /// The taints the DaemonSet removes once the sysctls are set.
    pub startup_taints: &'a [Taint],
    pub sysctls: &'a BTreeMap<String, String>,
    pub image: &'a str,
    pub namespace: &'a str,
}

const MANAGED_BY: &str = "terraform-provider-nested";

/// The startup taint a prepared pool carries until the DaemonSet has set
/// the sysctls.
pub const PENDING_TAINT_KEY: &str = "nested.dev/user-namespaces-pending";

/// The DaemonSet's default image: a shell and kubectl.
pub const DEFAULT_IMAGE: &str = "docker.io/alpine/k8s:1.33.4";

/// The startup taint a pool's nodes carry until the DaemonSet has set the
/// sysctls and removed it.
pub fn startup_taint() -> Taint {
    Taint {
        key: PENDING_TAINT_KEY.into(),
        value: "true".into(),
        effect: "NoSchedule".into(),
    }
}

/// The privileged DaemonSet on a pool's nodes that sets the sysctls no
/// node pool setting can, then removes the startup taint (with the
/// ServiceAccount and RBAC it needs for that).
pub fn daemonset(p: &NodePrep<'_>) -> String {
    let name = p.name.to_string();
    let (sysctls, image, namespace) = (p.sysctls, p.image, p.namespace);
    let writes: Vec<String> = sysctls
        .iter()
        .map(|(k, v)| format!("echo {v} > /proc/sys/{}", k.replace('.', "/")))
        .collect();
    let untaint: Vec<String> = p
        .startup_taints
        .iter()
        .map(|t| {
            // Retried until the taint is gone; "not found" means it already is.
            format!(
                "until kubectl taint node \"$NODE_NAME\" {k}:{e}- 2>/tmp/taint.err || grep -q 'not found' /tmp/taint.err; do sleep 5; done",
                k = t.key,
                e = t.effect
            )
        })
        .collect();
    let script = format!(
        "set -eu\n{}\n{}\nexec sleep infinity\n",
        writes.join("\n"),
        untaint.join("\n")
    );
    let mut tolerations: Vec<Json> = p
        .taints
        .iter()
        .chain(p.startup_taints.iter())
        .map(|t| json!({ "key": t.key, "operator": "Exists", "effect": t.effect }))
        .collect();
    tolerations.dedup();
    let labels = json!({
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/managed-by": MANAGED_BY,
    });
    let docs = [
        json!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": { "name": name, "namespace": namespace },
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": { "name": name },
            "rules": [{ "apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "patch"] }],
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": { "name": name },
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name },
            "subjects": [{ "kind": "ServiceAccount", "name": name, "namespace": namespace }],
        }),
        json!({
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": { "name": name, "namespace": namespace, "labels": labels },
            "spec": {
                "selector": { "matchLabels": { "app.kubernetes.io/name": name } },
                "template": {
                    "metadata": { "labels": labels },
                    "spec": {
                        "serviceAccountName": name,
                        "nodeSelector": p.node_selector,
                        "tolerations": tolerations,
                        "containers": [{
                            "name": "sysctl",
                            "image": image,
                            "command": ["/bin/sh", "-c", script],
                            "env": [{
                                "name": "NODE_NAME",
                                "valueFrom": { "fieldRef": { "fieldPath": "spec.nodeName" } },
                            }],
                            "securityContext": { "privileged": true },
                        }],
                    },
                },
            },
        }),
    ];
    docs.iter().map(to_yaml).collect::<Vec<_>>().join("---\n")
}
