"""Pod Security Standards checks, transcribed from the upstream admission
controller (not from the provider's data): kubernetes/pod-security-admission
at v0.35.0 (commit 10e6c1c6e18a2981bab6b401583650caf6b10164), Apache-2.0.

No implementation of Pod Security admission is installable here (it is Go,
k8s.io/pod-security-admission; no registry this project may use ships it),
so each check below is the upstream function's logic and literal values,
cited as policy/<file>.go:<line>, for the fields a pod can set. Each check
applies from its MinimumVersion; a later version of the same check replaces
it (policy/checks.go, VersionedCheck). `evaluate(pod_spec, level, version)`
returns the failed checks (empty: the pod is admitted at that level and
policy version).
"""

BASELINE = "baseline"
RESTRICTED = "restricted"


def _containers(spec):
    # policy/visitor.go: visitContainers covers containers, initContainers
    # and ephemeralContainers.
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for c in spec.get(key) or []:
            yield c


def _sc(c):
    return c.get("securityContext") or {}


def _user_namespace_pod(spec):
    # policy/helpers.go:41 relaxPolicyForUserNamespacePod: hostUsers set to false.
    return spec.get("hostUsers") is False


# policy/check_privileged.go:49,56 (baseline, 1.0): privileged must not be true.
def privileged_1_0(spec):
    bad = [c["name"] for c in _containers(spec) if _sc(c).get("privileged") is True]
    return bad and f"privileged: containers {bad} set securityContext.privileged=true"


# policy/check_hostNamespaces.go:51,58-69 (baseline, 1.0).
def host_namespaces_1_0(spec):
    bad = [k for k in ("hostNetwork", "hostPID", "hostIPC") if spec.get(k) is True]
    return bad and f"host namespaces: {bad}"


# policy/check_hostPorts.go:53,60-68 (baseline, 1.0): no container port sets hostPort.
def host_ports_1_0(spec):
    bad = [p["hostPort"] for c in _containers(spec) for p in c.get("ports") or []
           if p.get("hostPort", 0) != 0]
    return bad and f"hostPort {bad}"


# policy/check_hostPathVolumes.go:51,58-63 (baseline, 1.0).
def host_path_volumes_1_0(spec):
    bad = [v["name"] for v in spec.get("volumes") or [] if "hostPath" in v]
    return bad and f"hostPath volumes {bad}"


# policy/check_capabilities_baseline.go:62-75 (the allowed list), 79 (baseline, 1.0).
CAPABILITIES_ALLOWED_1_0 = {
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}


def capabilities_baseline_1_0(spec):
    bad = sorted({cap for c in _containers(spec)
                  for cap in (_sc(c).get("capabilities") or {}).get("add") or []
                  if cap not in CAPABILITIES_ALLOWED_1_0})
    return bad and f"non-default capabilities {bad} in securityContext.capabilities.add"


# policy/check_procMount_baseline.go:66 procMount_1_0: procMount unset or "Default".
def proc_mount_1_0(spec):
    bad = [c["name"] for c in _containers(spec)
           if _sc(c).get("procMount") not in (None, "Default")]
    return bad and f"procMount: containers {bad} set securityContext.procMount to a value other than Default"


# policy/check_procMount_baseline.go:58,100 (baseline, 1.35): any value for
# a pod with hostUsers: false, else procMount_1_0.
def proc_mount_1_35_baseline(spec):
    return None if _user_namespace_pod(spec) else proc_mount_1_0(spec)


# policy/check_seccompProfile_baseline.go:75-78 validSeccomp; 68,121 (baseline,
# 1.19): a set seccompProfile.type (pod or container) must be RuntimeDefault
# or Localhost.
VALID_SECCOMP = {"RuntimeDefault", "Localhost"}


def seccomp_baseline_1_19(spec):
    bad = []
    pod = (spec.get("securityContext") or {}).get("seccompProfile")
    if pod and pod.get("type") not in VALID_SECCOMP:
        bad.append("pod")
    bad += [c["name"] for c in _containers(spec)
            if _sc(c).get("seccompProfile") and _sc(c)["seccompProfile"].get("type") not in VALID_SECCOMP]
    return bad and f"seccompProfile: {bad} set a type other than RuntimeDefault or Localhost"


# policy/check_seccompProfile_restricted.go:54,60,69-155 (restricted, 1.19/1.25;
# replaces the baseline check): the pod or every container sets RuntimeDefault
# or Localhost, none sets another type.
def seccomp_restricted_1_25(spec):
    bad = seccomp_baseline_1_19(spec)
    if bad:
        return bad
    pod = (spec.get("securityContext") or {}).get("seccompProfile")
    if pod:
        return None
    unset = [c["name"] for c in _containers(spec) if not _sc(c).get("seccompProfile")]
    return unset and f"seccompProfile: pod or containers {unset} must set securityContext.seccompProfile.type to RuntimeDefault or Localhost"


# policy/check_allowPrivilegeEscalation.go:52,57,64-93 (restricted, 1.8/1.25):
# every container sets allowPrivilegeEscalation=false.
def allow_privilege_escalation_1_25(spec):
    bad = [c["name"] for c in _containers(spec) if _sc(c).get("allowPrivilegeEscalation") is not False]
    return bad and f"allowPrivilegeEscalation != false: containers {bad}"


# policy/check_capabilities_restricted.go:30-31 (ALL, NET_BIND_SERVICE),
# 65,71,79-145 (restricted, 1.22/1.25): drop includes ALL, add only NET_BIND_SERVICE.
def capabilities_restricted_1_25(spec):
    problems = []
    for c in _containers(spec):
        caps = _sc(c).get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            problems.append(f"{c['name']} must set securityContext.capabilities.drop=[\"ALL\"]")
        extra = [x for x in caps.get("add") or [] if x != "NET_BIND_SERVICE"]
        if extra:
            problems.append(f"{c['name']} must not include {extra} in securityContext.capabilities.add")
    return problems and "unrestricted capabilities: " + "; ".join(problems)


# policy/check_runAsNonRoot.go:56,78 (restricted, 1.0): no pod or container
# sets false, and the pod or every container sets true.
def run_as_non_root_1_0(spec):
    pod = (spec.get("securityContext") or {}).get("runAsNonRoot")
    if pod is False:
        return "runAsNonRoot != true: pod sets false"
    bad = [c["name"] for c in _containers(spec)
           if _sc(c).get("runAsNonRoot") is False or (_sc(c).get("runAsNonRoot") is None and pod is not True)]
    return bad and f"runAsNonRoot != true: containers {bad}"


# policy/check_runAsNonRoot.go:60,67 (restricted, 1.35): any value with hostUsers: false.
def run_as_non_root_1_35(spec):
    return None if _user_namespace_pod(spec) else run_as_non_root_1_0(spec)


# policy/check_runAsUser.go:57,79 (restricted, 1.23): no runAsUser 0 (pod or container).
def run_as_user_1_23(spec):
    bad = []
    if (spec.get("securityContext") or {}).get("runAsUser") == 0:
        bad.append("pod")
    bad += [c["name"] for c in _containers(spec) if _sc(c).get("runAsUser") == 0]
    return bad and f"runAsUser=0: {bad}"


# policy/check_runAsUser.go:61,68 (restricted, 1.35): any value with hostUsers: false.
def run_as_user_1_35(spec):
    return None if _user_namespace_pod(spec) else run_as_user_1_23(spec)


# policy/check_restrictedVolumes.go:80,88,94-102 (restricted, 1.0): only these
# volume sources (replaces hostPathVolumes).
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                      "persistentVolumeClaim", "projected", "secret"}


def restricted_volumes_1_0(spec):
    bad = [v["name"] for v in spec.get("volumes") or []
           if not (set(v) - {"name"}) <= RESTRICTED_VOLUMES]
    return bad and f"restricted volume types: {bad}"


# (id, level, [(minimum version, check)], ids it overrides from that version)
CHECKS = [
    ("privileged", BASELINE, [((1, 0), privileged_1_0)], []),
    ("hostNamespaces", BASELINE, [((1, 0), host_namespaces_1_0)], []),
    ("hostPorts", BASELINE, [((1, 0), host_ports_1_0)], []),
    ("hostPathVolumes", BASELINE, [((1, 0), host_path_volumes_1_0)], []),
    ("capabilities_baseline", BASELINE, [((1, 0), capabilities_baseline_1_0)], []),
    ("procMount", BASELINE, [((1, 0), proc_mount_1_0), ((1, 35), proc_mount_1_35_baseline)], []),
    ("seccompProfile_baseline", BASELINE, [((1, 19), seccomp_baseline_1_19)], []),
    ("seccompProfile_restricted", RESTRICTED, [((1, 19), seccomp_restricted_1_25)], ["seccompProfile_baseline"]),
    ("allowPrivilegeEscalation", RESTRICTED, [((1, 8), allow_privilege_escalation_1_25)], []),
    ("capabilities_restricted", RESTRICTED, [((1, 22), capabilities_restricted_1_25)], []),
    ("runAsNonRoot", RESTRICTED, [((1, 0), run_as_non_root_1_0), ((1, 35), run_as_non_root_1_35)], []),
    ("runAsUser", RESTRICTED, [((1, 23), run_as_user_1_23), ((1, 35), run_as_user_1_35)], []),
    ("restrictedVolumes", RESTRICTED, [((1, 0), restricted_volumes_1_0)], ["hostPathVolumes"]),
    # policy/check_procMount_restricted.go:50 (restricted, 1.35): procMount_1_0,
    # overriding the baseline procMount check.
    ("procMount_restricted", RESTRICTED, [((1, 35), proc_mount_1_0)], ["procMount"]),
]


def evaluate(spec, level, version):
    """The failed checks of `level` (baseline, restricted) at policy `version`."""
    if level == "privileged":
        return []
    levels = {BASELINE} if level == BASELINE else {BASELINE, RESTRICTED}
    active = {}
    overridden = set()
    for cid, lvl, versions, overrides in CHECKS:
        if lvl not in levels:
            continue
        chosen = [fn for (v, fn) in versions if v <= version]
        if not chosen:
            continue
        active[cid] = chosen[-1]
        if lvl == RESTRICTED and level == RESTRICTED:
            overridden.update(overrides)
    failed = []
    for cid, fn in active.items():
        if cid in overridden:
            continue
        problem = fn(spec)
        if problem:
            failed.append(f"{cid}: {problem}")
    return failed
