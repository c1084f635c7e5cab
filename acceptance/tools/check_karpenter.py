"""Re-read what nested_karpenter_pool renders with independent parsers
(PyYAML, tomllib, email) and check it field by field against the v1 CRD
structure transcribed below, and Karpenter's documented Bottlerocket merge.

Usage: check_karpenter.py CASES.json  (a map case -> outputs, see
acceptance/tests/karpenter_pool.rs). Prints "checked N documents".
"""

import email
import json
import re
import sys
import tomllib

import yaml

# ---- Transcribed facts (field names, required fields, enums, patterns) ----
# kubernetes-sigs/karpenter:pkg/apis/v1/nodepool.go (NodePoolSpec,
# NodeClaimTemplate, NodeClaimTemplateSpec, Disruption, Budget) and
# nodeclaim.go (NodeClassReference, NodeSelectorRequirementWithMinValues).
NODEPOOL_SPEC = {"template", "disruption", "limits", "weight", "replicas"}
TEMPLATE = {"metadata", "spec"}
TEMPLATE_META = {"labels", "annotations"}
TEMPLATE_SPEC = {"taints", "startupTaints", "requirements", "nodeClassRef",
                 "terminationGracePeriod", "expireAfter"}
TEMPLATE_SPEC_REQUIRED = {"requirements", "nodeClassRef"}
NODE_CLASS_REF = {"group", "kind", "name"}
REQUIREMENT = {"key", "operator", "values", "minValues"}
OPERATORS = {"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt", "Gte", "Lte"}
DISRUPTION = {"consolidateAfter", "consolidationPolicy", "consolidateWhen",
              "decisionRatioThreshold", "budgets"}
POLICIES = {"WhenEmpty", "WhenEmptyOrUnderutilized"}
BUDGET = {"reasons", "nodes", "schedule", "duration"}
DURATION_OR_NEVER = re.compile(r"^(([0-9]+(s|m|h))+|Never)$")
BUDGET_NODES = re.compile(r"^((100|[0-9]{1,2})%|[0-9]+)$")
# k8s.io/api core/v1 Taint
TAINT = {"key", "value", "effect", "timeAdded"}
EFFECTS = {"NoSchedule", "PreferNoSchedule", "NoExecute"}
# aws/karpenter-provider-aws:pkg/apis/v1/ec2nodeclass.go@v1.9.0 (EC2NodeClassSpec)
EC2_SPEC = {"subnetSelectorTerms", "securityGroupSelectorTerms",
            "capacityReservationSelectorTerms", "associatePublicIPAddress",
            "ipPrefixCount", "amiSelectorTerms", "amiFamily", "userData", "role",
            "instanceProfile", "tags", "kubelet", "blockDeviceMappings",
            "instanceStorePolicy", "detailedMonitoring", "metadataOptions", "context"}
EC2_REQUIRED = {"subnetSelectorTerms", "securityGroupSelectorTerms", "amiSelectorTerms"}
SUBNET_TERM = {"tags", "id"}
SG_TERM = {"tags", "id", "name"}
METADATA_OPTIONS = {"httpEndpoint", "httpProtocolIPv6", "httpPutResponseHopLimit", "httpTokens"}
ALIAS = re.compile(r"^[a-zA-Z0-9]+@.+$")
ALIAS_FAMILIES = {"al2", "al2023", "bottlerocket", "windows2019", "windows2022", "windows2025"}
# awsdocs/amazon-eks-user-guide:latest/ug/automode/create-node-class.adoc
AUTO_SPEC = {"role", "subnetSelectorTerms", "securityGroupSelectorTerms", "snatPolicy",
             "networkPolicy", "networkPolicyEventLogs", "ephemeralStorage", "tags"}
# aws/karpenter-provider-aws:pkg/providers/amifamily/bootstrap/bottlerocketsettings.go@v1.9.0
TYPED_KUBERNETES_V1_9 = set("""
allowed-unsafe-sysctls api-server cloud-provider cluster-certificate cluster-dns-ip
cluster-domain cluster-name container-log-max-files container-log-max-size
container-log-max-workers container-log-monitor-interval cpu-cfs-quota-enforced
cpu-manager-policy cpu-manager-policy-options cpu-manager-reconcile-period
credential-providers device-ownership-from-security-context event-burst event-qps
eviction-hard eviction-max-pod-grace-period eviction-soft eviction-soft-grace-period
hostname-override-source ids-per-pod image-gc-high-threshold-percent
image-gc-low-threshold-percent kube-api-burst kube-api-qps kube-reserved log-level
max-pods node-labels node-taints pod-pids-limit registry-burst registry-qps
seccomp-default server-tls-bootstrap shutdown-grace-period
shutdown-grace-period-for-critical-pods single-process-oom-kill static-pods
system-reserved topology-manager-policy topology-manager-scope
""".split())


# kubernetes-sigs/karpenter:pkg/apis/v1/taints.go; appended by
# aws/karpenter-provider-aws:pkg/providers/amifamily/resolver.go
UNREGISTERED = {"key": "karpenter.sh/unregistered", "effect": "NoExecute"}


class Fail(Exception):
    pass


def need(cond, what):
    if not cond:
        raise Fail(what)


def keys_within(obj, allowed, where, required=()):
    need(isinstance(obj, dict), f"{where}: not an object: {obj!r}")
    extra = set(obj) - set(allowed)
    need(not extra, f"{where}: fields not in the CRD: {sorted(extra)}")
    missing = set(required) - set(obj)
    need(not missing, f"{where}: required fields missing: {sorted(missing)}")


def check_taints(ts, where):
    need(isinstance(ts, list), f"{where}: not a list")
    for i, t in enumerate(ts):
        keys_within(t, TAINT, f"{where}[{i}]", {"key", "effect"})
        need(t["effect"] in EFFECTS, f"{where}[{i}].effect {t['effect']!r}")


def check_node_pool(np, case, c):
    need(np["apiVersion"] == "karpenter.sh/v1" and np["kind"] == "NodePool", "NodePool kind")
    name = np["metadata"]["name"]
    keys_within(np["spec"], NODEPOOL_SPEC, "spec", {"template"})
    tpl = np["spec"]["template"]
    keys_within(tpl, TEMPLATE, "spec.template", {"spec"})
    keys_within(tpl.get("metadata", {}), TEMPLATE_META, "spec.template.metadata")
    spec = tpl["spec"]
    keys_within(spec, TEMPLATE_SPEC, "spec.template.spec", TEMPLATE_SPEC_REQUIRED)
    ref = spec["nodeClassRef"]
    keys_within(ref, NODE_CLASS_REF, "nodeClassRef", NODE_CLASS_REF)
    want = ("eks.amazonaws.com", "NodeClass") if case["mode"] == "auto_mode" else (
        "karpenter.k8s.aws", "EC2NodeClass")
    need((ref["group"], ref["kind"]) == want, f"nodeClassRef {ref}")
    need(ref["name"] == name, "nodeClassRef.name is the NodeClass's name")
    for i, r in enumerate(spec["requirements"]):
        keys_within(r, REQUIREMENT, f"requirements[{i}]", {"key", "operator"})
        need(r["operator"] in OPERATORS, f"operator {r['operator']}")
        need(r["operator"] != "In" or r.get("values"), "In needs values")
    check_taints(spec.get("taints", []), "taints")
    check_taints(spec.get("startupTaints", []), "startupTaints")
    need(DURATION_OR_NEVER.match(spec["expireAfter"]), f"expireAfter {spec['expireAfter']}")
    d = np["spec"]["disruption"]
    keys_within(d, DISRUPTION, "disruption", {"consolidateAfter"})
    need(d["consolidationPolicy"] in POLICIES, "consolidationPolicy")
    need(DURATION_OR_NEVER.match(d["consolidateAfter"]), "consolidateAfter")
    for b in d["budgets"]:
        keys_within(b, BUDGET, "budget", {"nodes"})
        need(BUDGET_NODES.match(b["nodes"]), f"budget nodes {b['nodes']}")
    labels = tpl["metadata"]["labels"]
    for k, v in c["node_labels"].items():
        need(labels.get(k) == v, f"NodePool label {k}")
    # The default sandbox taint, and the probe lands on this pool only.
    need({"key": "nested.dev/sandbox", "value": case["sandbox"], "effect": "NoSchedule"}
         in spec["taints"], "default sandbox taint")
    job = yaml.safe_load(c["probe_manifest"])
    pod = job["spec"]["template"]["spec"]
    need(pod["nodeSelector"] == {"karpenter.sh/nodepool": name}, "probe nodeSelector")
    for t in spec["taints"]:
        need(any(x["key"] == t["key"] and x["effect"] == t["effect"]
                 for x in pod.get("tolerations", [])), f"probe tolerates {t['key']}")
    return spec


def check_node_class(nc, case):
    spec = nc["spec"]
    if case["mode"] == "auto_mode":
        need(nc["apiVersion"] == "eks.amazonaws.com/v1" and nc["kind"] == "NodeClass", "kind")
        keys_within(spec, AUTO_SPEC, "NodeClass.spec",
                    {"role", "subnetSelectorTerms", "securityGroupSelectorTerms"})
        return
    need(nc["apiVersion"] == "karpenter.k8s.aws/v1" and nc["kind"] == "EC2NodeClass", "kind")
    keys_within(spec, EC2_SPEC, "EC2NodeClass.spec", EC2_REQUIRED)
    need("role" in spec or "instanceProfile" in spec, "role or instanceProfile")
    for t in spec["subnetSelectorTerms"]:
        keys_within(t, SUBNET_TERM, "subnetSelectorTerms[]")
    for t in spec["securityGroupSelectorTerms"]:
        keys_within(t, SG_TERM, "securityGroupSelectorTerms[]")
    terms = spec["amiSelectorTerms"]
    need(len(terms) == 1 and set(terms[0]) == {"alias"}, "an alias is the only term")
    alias = terms[0]["alias"]
    need(ALIAS.match(alias) and len(alias) <= 30, f"alias {alias}")
    need(alias.split("@")[0] in ALIAS_FAMILIES, "alias family")
    need(alias.split("@")[0] == case["ami_family"], "alias family is ami_family")
    keys_within(spec["metadataOptions"], METADATA_OPTIONS, "metadataOptions")
    need(1 <= spec["metadataOptions"]["httpPutResponseHopLimit"] <= 64, "hop limit")


def check_bottlerocket(case, c, nc, np_spec):
    ud = tomllib.loads(nc["spec"]["userData"])
    need(nc["spec"]["userData"] == c["user_data"], "userData is user_data")
    for k, v in c["sysctls"].items():
        need(ud["settings"]["kernel"]["sysctl"][k] == v, f"sysctl {k}")
    merged = tomllib.loads(c["karpenter_merged_user_data"])
    kube = merged["settings"]["kubernetes"]
    need(set(kube) <= TYPED_KUBERNETES_V1_9, f"untyped keys survived: {set(kube) - TYPED_KUBERNETES_V1_9}")
    # dropped: the unknown key of the user; kept: the typed one and other tables.
    need("not-a-karpenter-key" in ud["settings"]["kubernetes"], "user key in userData")
    need("not-a-karpenter-key" not in kube, "unknown key dropped")
    need(any("not-a-karpenter-key" in w for w in c["warnings"]), "drop is warned")
    need(kube["pod-pids-limit"] == 1024, "typed user key kept")
    # max-pods: Karpenter writes the instance type's pod capacity (resolver.go).
    need(ud["settings"]["kubernetes"]["max-pods"] == 58 and "max-pods" not in kube,
         "max-pods is Karpenter's, per instance type")
    need(any("max-pods" in w for w in c["warnings"]), "max-pods override is warned")
    need(merged["settings"].get("kernel") == ud["settings"].get("kernel"), "other tables pass through")
    need(kube["cluster-name"] == case["cluster_name"], "cluster-name is Karpenter's")
    want = {}
    for t in np_spec.get("taints", []) + np_spec.get("startupTaints", []) + [UNREGISTERED]:
        want.setdefault(t["key"], []).append(f"{t.get('value', '')}:{t['effect']}")
    need(kube["node-taints"] == want, f"node-taints are the NodePool's: {kube['node-taints']}")
    for k, v in c["node_labels"].items():
        need(kube["node-labels"][k] == v, f"node-label {k}")
    if "ids_per_pod" in case:
        need(kube["ids-per-pod"] == case["ids_per_pod"], "ids-per-pod kept from Karpenter 1.9.0")


def check_al2023(c, nc):
    msg = email.message_from_string(nc["spec"]["userData"])
    need(msg.is_multipart(), "AL2023 user data is MIME multipart")
    types = [p.get_content_type() for p in msg.get_payload()]
    # The user's part first; Karpenter appends its NodeConfig after all of these.
    need(types[0] == "text/x-shellscript" and "echo from-the-user" in msg.get_payload()[0].get_payload(),
         f"user part first: {types}")
    if c["sysctls"]:
        need(any("max_user_namespaces" in p.get_payload() for p in msg.get_payload()[1:]),
             "the sysctl part after the user's")
    need(c["karpenter_merged_user_data"] is None, "no Bottlerocket merge view for AL2023")


def check_auto_mode(case, c, np_spec):
    need(c["user_data"] is None and c["ami_alias"] is None, "Auto Mode takes no user data")
    s = case["sandbox"]
    csc = json.loads(c["container_security_context"])
    if s == "nsjail":
        need(c["runtime_args"] == ["--no-user-namespace"], "nsjail --no-user-namespace")
        need("SYS_ADMIN" in csc["capabilities"]["add"], "SYS_ADMIN")
    if s in ("bubblewrap", "podman"):
        docs = list(yaml.safe_load_all(c["sysctl_daemonset_manifest"]))
        kinds = [d["kind"] for d in docs]
        need(kinds == ["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "DaemonSet"], kinds)
        ds = docs[-1]["spec"]["template"]["spec"]
        need(ds["containers"][0]["securityContext"] == {"privileged": True}, "privileged")
        need(any("privileged" in w for w in c["warnings"]), "privileged is warned")
        startup = [t["key"] for t in np_spec["startupTaints"]]
        need(startup and all(any(t["key"] == k for t in ds["tolerations"]) for k in startup),
             "DaemonSet tolerates the startup taint")
        script = ds["containers"][0]["command"][2]
        need(f"echo {c['sysctls']['user.max_user_namespaces']} > /proc/sys/user/max_user_namespaces" in script, "sysctl")
        for t in np_spec["startupTaints"]:
            need(f"{t['key']}:{t['effect']}-" in script, f"the DaemonSet removes {t['key']}")
        # The taint goes only after the sysctl is written (set -e stops before).
        need(script.index("max_user_namespaces") < script.index("kubectl taint"), "order")
        need(json.loads(c["pod_spec"]).get("hostUsers") is False, "hostUsers: false")
    else:
        need(c["sysctl_daemonset_manifest"] is None, "no DaemonSet without the work-around")


def main():
    cases = json.load(open(sys.argv[1]))
    n = 0
    for name, entry in sorted(cases.items()):
        case, c = entry["case"], entry["out"]
        try:
            nc = yaml.safe_load(c["node_class_manifest"])
            np_spec = check_node_pool(yaml.safe_load(c["node_pool_manifest"]), case, c)
            check_node_class(nc, case)
            n += 3
            if case["mode"] == "auto_mode":
                check_auto_mode(case, c, np_spec)
            elif case["ami_family"] == "bottlerocket":
                check_bottlerocket(case, c, nc, np_spec)
                n += 2
            else:
                check_al2023(c, nc)
                n += 1
        except (Fail, KeyError, TypeError) as e:
            print(f"{name}: {type(e).__name__}: {e}")
            sys.exit(1)
    print(f"checked {n} documents in {len(cases)} cases")


if __name__ == "__main__":
    main()
