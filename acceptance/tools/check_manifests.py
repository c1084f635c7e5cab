"""Check every manifest the provider rendered against schemas and rules no
one in this project wrote.

- Kubernetes objects (Job, DaemonSet, ServiceAccount, ClusterRole,
  ClusterRoleBinding): Kubernetes' own OpenAPI schemas of the cluster's
  release, strict (unknown fields refused), as PyPI kubernetes-validate
  ships them, with the jsonschema validator.
- Karpenter NodePool and EC2NodeClass (v1.0.0, v1.9.2, v1.14.1), OpenShift
  SecurityContextConstraints and FeatureGate (each release, and on 4.18/4.19
  each feature set's SCC CRD): the upstream rules for the fields the provider
  renders, transcribed by hand with a citation each in
  acceptance/fixtures/upstream-rules.toml (see upstream-rules.md there). Field
  sets are strict (a field upstream does not have is refused, and so is one
  whose rules are not transcribed); types, nullable, required, enums,
  patterns, lengths, bounds and sizes are checked; the CEL rules are
  evaluated by the CEL C++ implementation (PyPI cel-expr-python) with its
  strings extension; the Kubernetes CEL library's `find`
  (k8s.io/apiserver/pkg/cel/library/regex.go: the first match of a regular
  expression, "" if none) is added. metadata is Kubernetes' ObjectMeta
  (kubernetes-validate, strict).
- Pod Security admission: acceptance/tools/pod_security_upstream.py.
- OpenShift SCC admission of the probe pods and of the profile's pod
  (scc_admits, transcribed with file:line citations), with the built-in SCCs'
  fields from the rule table.

Usage: check_manifests.py CASES.json. Prints "checked N manifests" and
exits 0, or names each manifest and the rule it breaks and exits 1.
"""

import copy
import json
import pathlib
import re
import sys
import tomllib

import kubernetes_validate
import jsonschema
import yaml
from cel_expr_python import cel
from cel_expr_python.ext import ext_strings

from pod_security_upstream import evaluate as pss_evaluate

RULES_FILE = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "upstream-rules.toml"
KARPENTER_VERSIONS = ["v1.0.0", "v1.9.2", "v1.14.1"]
# The Kubernetes release of each OpenShift minor (OpenShift release notes:
# "OpenShift Container Platform 4.N is based on Kubernetes 1.M").
OPENSHIFT_KUBERNETES = {"4.16": "1.29", "4.17": "1.30", "4.18": "1.31", "4.19": "1.32",
                        "4.20": "1.33", "4.21": "1.34", "4.22": "1.35", "4.23": "1.36"}


class Broken(Exception):
    """A manifest breaks an upstream rule."""


# ---------------------------------------------------------------- CEL

def _find(text, pattern):
    m = re.search(pattern, text)
    return m.group(0) if m else ""


CEL_ENV = cel.NewEnv(
    variables={"self": cel.Type.DYN},
    extensions=[ext_strings.ExtStrings()],
    functions=[cel.FunctionDecl("find", [cel.Overload(
        "string_find_string", cel.Type.STRING, [cel.Type.STRING, cel.Type.STRING],
        is_member=True, impl=_find)])],
)
STATS = {"cel_rules_run": 0, "validations": 0}
_COMPILED = {}


def cel_true(rule, value):
    expr = _COMPILED.get(rule)
    if expr is None:
        expr = _COMPILED[rule] = CEL_ENV.compile(rule)
    STATS["cel_rules_run"] += 1
    return expr.eval(data={"self": value}).plain_value() is True


# ------------------------------------------------------- the rule table

def _versions(key):
    return key.split()


class Rules:
    """acceptance/fixtures/upstream-rules.toml, indexed by (schema, version)."""

    def __init__(self, path=RULES_FILE):
        table = tomllib.loads(path.read_text())
        self.schemas = {s["id"]: s for s in table["schema"]}
        self.fields = {}  # (schema, version, path) -> row
        self.cel = {}  # (schema, version, path) -> [row]
        for kind, rows in (("field", table["field"]), ("cel", table["cel"])):
            for row in rows:
                schema = self.schemas[row["schema"]]
                for key, lines in row["lines"].items():
                    for v in _versions(key):
                        if v not in schema["files"]:
                            raise ValueError(f"{row['schema']} {row['path']!r}: no file for version {v}")
                        cited = dict(row, cite=f"{schema['files'][v]}:{lines}")
                        k = (row["schema"], v, row["path"])
                        if kind == "field":
                            if k in self.fields:
                                raise ValueError(f"two rows for {k}")
                            self.fields[k] = cited
                        else:
                            self.cel.setdefault(k, []).append(cited)
        self.builtin_sccs = {}
        for b in table["builtin_scc"]:
            scc = {v["field"]: v["value"] for v in b["value"]}
            self.builtin_sccs[b["name"]] = {"releases": set(b["files"]), "scc": scc,
                                            "open_to_all": b.get("open_to_all"), "files": b["files"]}

    def versions(self, schema):
        return list(self.schemas[schema]["files"])


RULES = Rules()
TYPES = {"string": str, "integer": int, "boolean": bool, "array": list, "object": dict,
         "map": dict, "object_meta": dict}


def _join(path, key):
    return f"{path}.{key}" if path else key


def _walk(value, schema, version, path, at, where, kubernetes):
    """Check `value` (at row path `path`, object path `at`) and below."""
    row = RULES.fields.get((schema, version, path))
    if row is None:
        raise Broken(f"{where}: {at or '(root)'}: no rule row for {path!r} at {schema} {version} "
                     "(a field upstream has whose rules are not transcribed: add them to acceptance/fixtures/upstream-rules.toml)")
    cite = row["cite"]
    if value is None:
        if row.get("nullable"):
            return
        raise Broken(f"{where}: {at}: null is not allowed [{cite}]")
    want = TYPES[row["type"]]
    if not isinstance(value, want) or (want is int and isinstance(value, bool)):
        raise Broken(f"{where}: {at or '(root)'}: {value!r} is not of type {row['type']} [{cite}]")
    if "enum" in row and value not in row["enum"]:
        raise Broken(f"{where}: {at}: {value!r} is not one of {row['enum']} [{cite}]")
    if "pattern" in row and not re.search(row["pattern"], value):
        raise Broken(f"{where}: {at}: {value!r} does not match {row['pattern']!r} [{cite}]")
    for key, test, what in (("min_length", lambda v, n: len(v) >= n, "shorter than"),
                            ("max_length", lambda v, n: len(v) <= n, "longer than"),
                            ("minimum", lambda v, n: v >= n, "less than"),
                            ("maximum", lambda v, n: v <= n, "greater than"),
                            ("min_items", lambda v, n: len(v) >= n, "fewer items than"),
                            ("max_items", lambda v, n: len(v) <= n, "more items than"),
                            ("max_properties", lambda v, n: len(v) <= n, "more properties than")):
        if key in row and not test(value, row[key]):
            raise Broken(f"{where}: {at}: {what} {row[key]} [{cite}]")
    if row["type"] == "object_meta":
        errors = list(jsonschema.Draft202012Validator(object_meta_schema(kubernetes)).iter_errors(value))
        if errors:
            raise Broken(f"{where}: {at}: {errors[0].message} (Kubernetes {kubernetes} ObjectMeta, strict)")
    elif row["type"] == "object":
        for key in value:
            if key not in row["fields"]:
                raise Broken(f"{where}: {_join(at, key)}: unknown field {key!r} "
                             f"(upstream has {', '.join(row['fields'])}) [{cite}]")
        for key in row.get("required", []):
            if key not in value:
                raise Broken(f"{where}: {at or '(root)'}: required field {key!r} is missing [{cite}]")
        for key, sub in value.items():
            _walk(sub, schema, version, _join(path, key), _join(at, key), where, kubernetes)
    elif row["type"] == "map":
        for key, sub in value.items():
            _walk(sub, schema, version, path + "{}", _join(at, key), where, kubernetes)
    elif row["type"] == "array":
        for i, sub in enumerate(value):
            _walk(sub, schema, version, path + "[]", f"{at}.{i}", where, kubernetes)
    for rule in RULES.cel.get((schema, version, path), []):
        if not cel_true(rule["rule"], value):
            raise Broken(f"{where}: {at or '(root)'}: CEL rule {rule['rule']!r} is false "
                         f"({rule['message']}) [{rule['cite']}]")


OBJECT_META = {}


def object_meta_schema(kubernetes):
    """Kubernetes' ObjectMeta for the metadata of custom resources."""
    if kubernetes not in OBJECT_META:
        defs = json.loads((pathlib.Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
                           / f"v{kubernetes}.0-local-strict" / "_definitions.json").read_text())
        schema = copy.deepcopy(defs["$defs"]["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"])
        schema["$defs"] = defs["$defs"]
        OBJECT_META[kubernetes] = json.loads(
            json.dumps(schema).replace("/api/_definitions.json#/$defs/", "#/$defs/"))
    return OBJECT_META[kubernetes]


def check_custom_resource(obj, schema, version, kubernetes, name):
    """A custom resource against the rule table's rows for `schema` at `version`."""
    s = RULES.schemas[schema]
    where = f"{name} against {s['files'][version]}"
    if (obj.get("apiVersion"), obj.get("kind")) != (s["api_version"], s["kind"]):
        raise Broken(f"{where}: apiVersion/kind {obj.get('apiVersion')}/{obj.get('kind')}")
    _walk(obj, schema, version, "", "", where, kubernetes)
    STATS["validations"] += 1


def check_kubernetes(obj, kubernetes, name):
    try:
        kubernetes_validate.validate(obj, kubernetes, strict=True)
    except kubernetes_validate.ValidationError as e:
        path = ".".join(str(p) for p in e.path) or "(root)"
        raise Broken(f"{name}: Kubernetes {kubernetes} OpenAPI (strict): {path}: {e.message}") from None
    except kubernetes_validate.utils.SchemaNotFoundError as e:
        raise Broken(f"{name}: no Kubernetes {kubernetes} schema: {e.message}") from None
    STATS["validations"] += 1


# ------------------------------------------------------ SCC admission
#
# Transcribed from openshift/apiserver-library-go@release-4.20 (commit
# f0d44ef6e53b), pkg/securitycontextconstraints/ (P below), Apache-2.0: the
# refusals that apply to the pods the provider writes. Admission first fills
# in what the container leaves unset (P/sccmatching/provider.go:151-251,
# CreateContainerSecurityContext), then validates (provider.go:257-389).

NAMESPACE_UID_RANGE = (1000680000, 1000689999)  # an example openshift.io/sa.scc.uid-range, 1000680000/10000


def scc_admits(scc, pod_spec, where):
    """SCC admission of a pod; [] when admitted."""
    problems = []
    # P/sccmatching/provider.go:284-285: RequirePodLevel needs hostUsers: false.
    if scc.get("userNamespaceLevel") == "RequirePodLevel" and pod_spec.get("hostUsers") is not False:
        problems.append("Host Users must be set to false (userNamespaceLevel RequirePodLevel)")
    for c in pod_spec.get("containers", []):
        sc = c.get("securityContext") or {}
        caps = sc.get("capabilities") or {}
        # P/capabilities/mustrunas.go:87-92: "*" allows every capability;
        # 94-103: an added capability must be in defaultAddCapabilities or
        # allowedCapabilities ("capability may not be added").
        allowed = set(scc.get("allowedCapabilities") or []) | set(scc.get("defaultAddCapabilities") or [])
        if "*" not in (scc.get("allowedCapabilities") or []):
            extra = [x for x in caps.get("add") or [] if x not in allowed]
            if extra:
                problems.append(f"capability {extra} may not be added")
            # 105-114: every requiredDropCapabilities entry must be in the
            # container's drop set (taken literally: ALL covers only "ALL").
            drops = set(caps.get("drop") or [])
            for need in scc.get("requiredDropCapabilities") or []:
                if need not in drops:
                    problems.append(f"{need} is required to be dropped but was not found")
        # P/sccmatching/provider.go:343-346: privileged.
        if sc.get("privileged") and not scc.get("allowPrivilegedContainer"):
            problems.append("Privileged containers are not allowed")
        # provider.go:248-251 fills in false when the SCC says false and the
        # container says nothing; 378-389 then refuses true.
        if sc.get("allowPrivilegeEscalation") and scc.get("allowPrivilegeEscalation") is False:
            problems.append("Allowing privilege escalation for containers is not allowed")
        # runAsUser: provider.go:156-162 generates a uid when the container
        # names none, then the strategy validates it.
        ru = scc.get("runAsUser") or {}
        uid, non_root = sc.get("runAsUser"), sc.get("runAsNonRoot")
        kind = ru.get("type")
        if kind == "MustRunAs":
            # P/user/mustrunas.go:33-35 (Generate: the SCC's uid), 38-50.
            uid = ru.get("uid") if uid is None else uid
            if uid != ru.get("uid"):
                problems.append(f"runAsUser {uid} must be: {ru.get('uid')}")
        elif kind == "MustRunAsRange":
            lo, hi = ru.get("uidRangeMin"), ru.get("uidRangeMax")
            if lo is None and hi is None:
                # P/sccmatching/matcher.go:228-229,385-390: an SCC without a
                # range takes the namespace's openshift.io/sa.scc.uid-range.
                lo, hi = NAMESPACE_UID_RANGE
            # P/user/mustrunasrange.go:36-38 (Generate: UIDRangeMin), 41-55.
            uid = lo if uid is None else uid
            if not lo <= uid <= hi:
                problems.append(f"runAsUser {uid}: must be in the ranges: [{lo}, {hi}]")
        elif kind == "MustRunAsNonRoot":
            # P/user/nonroot.go:26-42 (Generate returns no uid: 20-22).
            if non_root is None and uid is None:
                problems.append("runAsNonRoot: must be true")
            elif non_root is False:
                problems.append("runAsNonRoot: must be true")
            elif uid == 0:
                problems.append("running with the root UID is forbidden")
        # The kubelet then refuses runAsNonRoot with uid 0: kubernetes/kubernetes
        # pkg/kubelet/kuberuntime/security_context_others.go:41-43 (commit
        # 1f671eec38a8, verifyRunAsNonRoot).
        if non_root is True and uid == 0:
            problems.append("container's runAsUser breaks non-root policy (runAsNonRoot with uid 0 assigned by the SCC)")
        # P/seccomp/strategy.go:117-150 validateProfile, with the field's type
        # as its annotation value (176-196 seccompAnnotationForField).
        profile = {"RuntimeDefault": "runtime/default", "Unconfined": "unconfined"}.get(
            (sc.get("seccompProfile") or {}).get("type"), "")
        listed = [p for p in scc.get("seccompProfiles") or [] if p != "*"]
        any_profile = "*" in (scc.get("seccompProfiles") or [])
        if not any_profile:
            if not listed and profile:
                problems.append("seccomp may not be set")
            elif listed and profile and profile not in listed:
                problems.append(f"{profile} is not an allowed seccomp profile")
        # P/selinux/mustrunas.go:54-57: a set type must be the SCC's.
        want = ((scc.get("seLinuxContext") or {}).get("seLinuxOptions") or {}).get("type")
        have = (sc.get("seLinuxOptions") or {}).get("type")
        if want and have and want != have:
            problems.append(f"seLinuxOptions.type {have}: must be {want}")
    return [f"{where}: SCC refuses the pod: {p}" for p in problems]


# --------------------------------------------------------------- cases

def docs_of(text):
    return [d for d in yaml.safe_load_all(text) if d is not None]


def pod_security(name, pod_spec, claimed, kubernetes):
    version = tuple(int(x) for x in kubernetes.split("."))
    failed = pss_evaluate(pod_spec, claimed, version)
    if failed:
        raise Broken(f"{name}: Pod Security {claimed} (policy {kubernetes}) refuses the pod: {failed}")
    stricter = {"privileged": "baseline", "baseline": "restricted"}.get(claimed)
    if stricter and not pss_evaluate(pod_spec, stricter, version):
        raise Broken(f"{name}: claims {claimed}, but Pod Security {stricter} (policy {kubernetes}) admits the pod")
    STATS["validations"] += 1


def check_probe(name, text, kubernetes, claimed):
    (job,) = docs_of(text)
    check_kubernetes(job, kubernetes, name)
    spec = job["spec"]["template"]["spec"]
    pod_security(name, spec, claimed, kubernetes)
    return job


def builtin_scc(name, release, where):
    """A built-in SCC's fields (rule table), refused where the release has none."""
    b = RULES.builtin_sccs.get(name)
    if b is None or release not in b["releases"]:
        raise Broken(f"{where}: OpenShift {release} has no built-in SCC {name!r} in the rule table")
    return b


def check_capability(name, case, out, profiles):
    platform = case["platform"]
    kubernetes = OPENSHIFT_KUBERNETES[case["openshift_version"]] if platform == "openshift" \
        else case["kubernetes_version"]
    job = check_probe(f"{name}.probe_manifest", out["probe_manifest"], kubernetes, out["pod_security_level"])
    n = 1
    if platform == "openshift":
        key = (case["sandbox"], case.get("run_as_root", False), case["openshift_version"])
        prof = profiles.get(key)
        if prof is None:
            raise Broken(f"{name}: no nested_openshift_profile for {key} although nested_capability accepts it")
        annotations = job["spec"]["template"]["metadata"].get("annotations") or {}
        scc_name = annotations.get("openshift.io/required-scc")
        if scc_name != prof["scc_name"]:
            raise Broken(f"{name}.probe_manifest: openshift.io/required-scc {scc_name!r}, the profile's SCC is {prof['scc_name']!r}")
        release = case["openshift_version"]
        if prof["scc_manifest"]:
            scc, open_to_all = docs_of(prof["scc_manifest"])[0], False
        else:
            b = builtin_scc(scc_name, release, f"{name}.probe_manifest")
            scc, open_to_all = b["scc"], bool(b["open_to_all"])
        problems = scc_admits(scc, job["spec"]["template"]["spec"], f"{name}.probe_manifest with SCC {scc_name}")
        if problems:
            raise Broken("; ".join(problems))
        grant = f"oc adm policy add-scc-to-user {scc_name} -z default"
        if not open_to_all and grant not in out["probe_manifest"]:
            raise Broken(f"{name}.probe_manifest: does not say that service account default must be allowed to use {scc_name} ({grant!r})")
        if not open_to_all and not any(f"use SCC {scc_name}" in w for w in out["warnings"]):
            raise Broken(f"{name}: warnings do not name the grant of SCC {scc_name}")
    return n


def check_profile(name, case, out):
    release = case["openshift_version"]
    kubernetes = OPENSHIFT_KUBERNETES[release]
    n = 0
    fg = out["feature_gate_manifest"]
    if fg:
        check_custom_resource(docs_of(fg)[0], "FeatureGate", release, kubernetes, f"{name}.feature_gate_manifest")
        n += 1
    scc_text = out["scc_manifest"]
    pod_spec = {
        **json.loads(out["pod_spec"]),
        "containers": [{"name": "sandbox", "image": "x", "securityContext": json.loads(out["container_security_context"])}],
    }
    if scc_text:
        scc = docs_of(scc_text)[0]
        n += 1
        gated = f"{release}-Default" in RULES.versions("SecurityContextConstraints")
        if not gated:
            check_custom_resource(scc, "SecurityContextConstraints", release, kubernetes, f"{name}.scc_manifest")
        else:
            # Before the gate rolls out the API serves the Default CRD; after,
            # the CustomNoUpgrade one.
            check_custom_resource(scc, "SecurityContextConstraints", f"{release}-CustomNoUpgrade", kubernetes,
                                  f"{name}.scc_manifest (after feature_gate_manifest)")
            try:
                check_custom_resource(scc, "SecurityContextConstraints", f"{release}-Default", kubernetes,
                                      f"{name}.scc_manifest (before feature_gate_manifest)")
            except Broken as e:
                wait = "oc wait crd/securitycontextconstraints.security.openshift.io"
                if not (fg and scc_text.startswith("# Apply this SCC only after") and wait in scc_text):
                    raise Broken(f"{e}; and the manifest does not say to apply it only after feature_gate_manifest ({wait})") from None
                if not any("only after feature_gate_manifest" in w for w in out["warnings"]):
                    raise Broken(f"{e}; and no warning says so") from None
    else:
        scc = builtin_scc(out["scc_name"], release, f"{name}.scc_name")["scc"]
    problems = scc_admits(scc, pod_spec, f"{name}: pod_spec + container_security_context with SCC {out['scc_name']}")
    if problems:
        raise Broken("; ".join(problems))
    if scc_text:
        # Exactly: the SCC allows no capability the pod does not add, and
        # no user the pod does not run as.
        adds = set((json.loads(out["container_security_context"]).get("capabilities") or {}).get("add") or [])
        if set(scc.get("allowedCapabilities") or []) != adds:
            raise Broken(f"{name}.scc_manifest: allowedCapabilities {scc.get('allowedCapabilities')} != the pod's {sorted(adds)}")
        root = json.loads(out["container_security_context"]).get("runAsUser") == 0
        other = dict(pod_spec, containers=[dict(pod_spec["containers"][0], securityContext=dict(
            pod_spec["containers"][0]["securityContext"], runAsUser=1000 if root else 0, runAsNonRoot=None))])
        if not scc_admits(scc, other, ""):
            raise Broken(f"{name}.scc_manifest: admits the pod also as {'uid 1000' if root else 'root'}")
    if out["pod_annotations"].get("openshift.io/required-scc") != out["scc_name"]:
        raise Broken(f"{name}: pod_annotations do not name scc_name")
    return n


def check_karpenter(name, case, out):
    kubernetes = case["kubernetes_version"]
    n = 0
    nc = docs_of(out["node_class_manifest"])[0]
    np = docs_of(out["node_pool_manifest"])[0]
    for version in KARPENTER_VERSIONS:
        check_custom_resource(np, "NodePool", version, kubernetes, f"{name}.node_pool_manifest")
        if case["mode"] == "karpenter":
            check_custom_resource(nc, "EC2NodeClass", version, kubernetes, f"{name}.node_class_manifest")
    # EKS Auto Mode's NodeClass (eks.amazonaws.com/v1) has no public CRD.
    n += 2 if case["mode"] == "karpenter" else 1
    if out.get("sysctl_daemonset_manifest"):
        for i, doc in enumerate(docs_of(out["sysctl_daemonset_manifest"])):
            check_kubernetes(doc, kubernetes, f"{name}.sysctl_daemonset_manifest[{i}] {doc.get('kind')}")
            n += 1
    check_probe(f"{name}.probe_manifest", out["probe_manifest"], kubernetes, out["pod_security_level"])
    return n + 1


def main():
    cases = json.loads(pathlib.Path(sys.argv[1]).read_text())
    profiles = {}
    for name, entry in cases.items():
        if entry["source"] == "nested_openshift_profile" and not entry["case"].get("dev_spaces"):
            c = entry["case"]
            profiles[(c["sandbox"], c.get("run_as_root", False), c["openshift_version"])] = entry["out"]
    failures = []
    manifests = 0
    unchecked = 0
    for name, entry in sorted(cases.items()):
        case, out, source = entry["case"], entry["out"], entry["source"]
        try:
            if source == "nested_capability":
                manifests += check_capability(name, case, out, profiles)
            elif source == "nested_openshift_profile":
                manifests += check_profile(name, case, out)
            elif source == "nested_karpenter_pool":
                manifests += check_karpenter(name, case, out)
                if case["mode"] == "auto_mode":
                    unchecked += 1
        except Broken as e:
            failures.append(str(e))
        except Exception as e:  # noqa: BLE001 - a crash of the checker names its case
            failures.append(f"{name}: {type(e).__name__}: {e}")
    for f in failures:
        print(f"FAIL {f}")
    print(f"checked {manifests} manifests in {len(cases)} cases ({STATS['validations']} validations, "
          f"{STATS['cel_rules_run']} CEL rule evaluations; rule table: {len(RULES.fields)} field and "
          f"{sum(map(len, RULES.cel.values()))} CEL rules by version; "
          f"{unchecked} EKS Auto Mode NodeClass manifests have no public schema)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
