"""Capability data (schemas/capabilities.toml, karpenter.toml, the decision
matrix and lab results) → the tables of the guides (for scripts/docgen.py)."""

from __future__ import annotations

from docgen_common import (
    DocError,
    source_md,
    sources_md,
    table,
)

# --------------------------------------------------------------------------
# Capability data → tables and the decision matrix


def ver(s: str) -> tuple[int, ...]:
    return tuple(int(p) for p in s.split("."))


def vstr(v: tuple[int, ...]) -> str:
    return ".".join(str(p) for p in v)


MATRIX_PATH = "schemas/decision-matrix.json"
LAB_PATH = "schemas/lab-results.json"
CRI_LAB_PATH = "schemas/lab-results-cri.json"
KERNELS_PATH = "schemas/lab-kernels.json"


class Capabilities:
    """The rows of capabilities.toml (shown with their sources) and the
    decision matrix the provider's engine wrote (schemas/decision-matrix.json,
    kept equal to the engine by provider/tests/decision_matrix.rs). Nothing
    here decides anything: every verdict comes from the engine, every
    "proven" mark from the node lab (schemas/lab-results.json)."""

    def __init__(self, data: dict, matrix: dict, lab: dict | None, kernels: dict | None = None,
                 cri_lab: dict | None = None):
        self.d = data
        self.hu = data["host_users"]
        self.matrix = matrix
        self.lab = lab or {"runs": []}
        self.kernels = kernels or {"kernels": []}
        self.cri_lab = cri_lab or {"runs": []}

    def family_title(self, name):
        return next(f["title"] for f in self.d["family"] if f["name"] == name)

    def landlock_floor(self, abi):
        row = next((r for r in self.d["landlock_abi"] if r["abi"] == abi), None)
        return ver(row["kernel"]) if row else None

    def sandboxes(self):
        return [s["name"] for s in self.d["sandbox"]]

    def proven(self, row: dict, sandbox: str, agent: str) -> list[str]:
        """Lab runs that proved this cell: the sandbox with the engine's
        outputs for this node profile worked, and failed without each grant."""
        def matches(r):
            return (r["sandbox"] == sandbox and r["agent"] == agent
                    and r["node"].get("ami_family") == row.get("ami_family")
                    and r["node"].get("kubernetes") in kube_list(row)
                    and "standard" in row.get("variants", ["standard"])
                    and not row.get("architectures")
                    and row.get("releases") in (None, r["node"].get("releases"))
                    and r["platform"] == row["platform"] and r["proven"])
        out = [f"kernel {r['kernel']}" for r in self.lab["runs"] if matches(r)]
        cri = [f"containerd {r['node']['containerd']}.x CRI" for r in self.cri_lab["runs"] if matches(r)]
        return sorted(set(out)) + sorted(set(cri))

    def cell_markdown(self, row: dict, sandbox: str, agent: str) -> str:
        c = row["cells"][sandbox][agent]
        symbol = {"no": "✘", "warn": "⚠", "yes": "✔"}[c["verdict"]]
        if c["verdict"] == "no":
            return f"{symbol} {'; '.join(c['errors'])}"
        parts = []
        caps = c["capabilities"]
        parts.append("adds " + ", ".join(f"`{x}`" for x in caps) if caps else "no capability")
        if c["sysctls"]:
            parts.append("node sets " + ", ".join(f"`{k}`" for k in c["sysctls"]))
        if c["seccomp_profile"]:
            parts.append(f"seccomp `{c['seccomp_profile']}`")
        if c.get("apparmor_unconfined"):
            parts.append("AppArmor `Unconfined`")
        if c["runtime_args"]:
            parts.append(" ".join(f"`{a}`" for a in c["runtime_args"]))
        parts.append(f"PSS {c['pod_security_level']}")
        parts += [w.lower() for w in c["warnings"]]
        proof = self.proven(row, sandbox, agent)
        # Coder's Boundary (nsjail jail) and landjail are re-enacted from
        # their source in the lab; bubblewrap and podman are the real ones.
        runs = [r for r in self.lab["runs"] + self.cri_lab["runs"] if r["sandbox"] == sandbox]
        how = "re-enacted" if any(r.get("workload") == "re-enacted" for r in runs) else "proven"
        mark = f" · 🧪 {how} in the node lab ({', '.join(proof)})" if proof else ""
        if not proof and "node_image" in row:
            mark = " · sourced"
        return f"{symbol} {'; '.join(parts)}{mark}"

    def rows(self, platform: str) -> list[dict]:
        return [r for r in self.matrix["rows"] if r["platform"] == platform]


def image_variants(row: dict) -> str:
    """`standard, nvidia` or `nvidia on arm64`: the images a row describes."""
    text = ", ".join(row.get("variants", ["standard"]))
    if row.get("architectures"):
        text += " on " + ", ".join(row["architectures"])
    return text


def kube_list(row: dict) -> list[str]:
    if "kubernetes_versions" not in row:
        return []
    lo, hi = (ver(x) for x in row["kubernetes_versions"])
    return [f"{lo[0]}.{m}" for m in range(lo[1], hi[1] + 1)]


def krange(lo: tuple, hi: tuple) -> str:
    return vstr(lo) if lo == hi else f"{vstr(lo)}–{vstr(hi)}"


def capability_table(caps: Capabilities, name: str) -> str:
    d = caps.d
    sbs = caps.sandboxes()
    head = ["Node image"] + [f"`{s}`" for s in sbs]
    if name in ("eks-matrix", "auto-mode-matrix", "eks-root-matrix"):
        platform = "eks_auto_mode" if name == "auto-mode-matrix" else "eks"
        agent = "root" if name == "eks-root-matrix" else "non_root"
        rows = []
        for r in caps.rows(platform):
            lo, hi = (ver(x) for x in r["kubernetes_versions"])
            label = f"{caps.family_title(r['ami_family'])}"
            if platform == "eks":
                label += f" ({image_variants(r)})"
            label += f" · Kubernetes {krange(lo, hi)}"
            if r.get("releases"):
                label += f" · releases {r['releases']}"
            label += (f" · kernel {r['kernel']} · containerd {r['containerd'] or 'unconfirmed'}"
                      f" · Landlock {'on' if r['landlock_enabled'] else 'off'}")
            rows.append([label] + [caps.cell_markdown(r, sb, agent) for sb in sbs])
        return table(head, rows)
    if name in ("node-pool-matrix", "node-pool-root-matrix"):
        # GKE and AKS: one row per node image row and run of Kubernetes
        # versions with the same answers.
        agent = "root" if name == "node-pool-root-matrix" else "non_root"
        titles = {p["name"]: p["title"] for p in d["platform"]}
        rows = []
        for platform in ("gke", "gke_autopilot", "aks"):
            for r in caps.rows(platform):
                lo, hi = (ver(x) for x in r["kubernetes_versions"])
                names = " / ".join(f"`{n}`" for n in [r["node_image"]] + r["aliases"])
                landlock = {True: "on", False: "off", None: "not stated"}[r["landlock_enabled"]]
                label = (f"{titles[platform]} · {names} ({r['title']}) · Kubernetes {krange(lo, hi)}"
                         f" · kernel {r['kernel']} · containerd {r['containerd'] or 'unconfirmed'}"
                         f" · Landlock {landlock}")
                if r["evidence"] == "reported":
                    label += " · reported"
                rows.append([label] + [caps.cell_markdown(r, sb, agent) for sb in sbs])
        return table(head, rows)
    if name == "other-matrix":
        rows = []
        for r in caps.rows("eks_fargate"):
            rows.append(["EKS Fargate"] + [caps.cell_markdown(r, sb, "non_root") for sb in sbs])
        for r in caps.rows("openshift"):
            lo, hi = (ver(x) for x in r["openshift_versions"])
            rows.append([f"OpenShift {krange(lo, hi)} (Kubernetes {r['kubernetes']})"]
                        + [caps.cell_markdown(r, sb, "non_root") for sb in sbs])
        return table(["Platform"] + [f"`{s}`" for s in sbs], rows)
    if name == "judged-on":
        return caps.matrix["judged_on"]
    if name == "lab-versions":
        lab = caps.lab
        return (f"Linux {lab.get('kernel_release', '?')} (Landlock ABI {lab.get('landlock_abi', '?')}), "
                f"{lab.get('crun', '?')}; nested-probe agreed with the sandbox in "
                f"{lab['probe_agreement']['agree']} of "
                f"{lab['probe_agreement']['agree'] + lab['probe_agreement']['disagree']} runs")
    if name == "kernel-matrix":
        # schemas/lab-kernels.json: the provider's answer for a node of each
        # kernel series next to what the real sandbox did on that kernel.
        ks = caps.kernels["kernels"]
        if not ks:
            return "_No kernel runs recorded._"
        sbs = caps.sandboxes()
        rows = []
        for k in ks:
            cells = {c["sandbox"]: c for c in k["cells"] if c["agent"] == "non_root"}
            label = (f"Linux {k['series']} · {k['proven_on']} · Landlock ABI {k['landlock_abi']}")
            row = [label]
            for sb in sbs:
                c = cells.get(sb)
                if c is None:
                    row.append("—")
                    continue
                said = ("works" if c["provider"]["decision"] == "works"
                        else "refused: " + "; ".join(c["provider"]["errors"]))
                seen = "works" if c["observed"]["result"] == "works" else f"fails: `` {c['observed']['message']} ``"
                mark = "🧪 " if c["proven"] else "✘ disagrees: "
                probe = "probe agrees" if c["probe"]["agrees"] else "probe disagrees"
                row.append(f"{mark}provider: {said}; observed: {seen}; {probe}")
            rows.append(row)
        inputs = caps.kernels.get("inputs", {})
        lab = caps.kernels.get("lab", {})
        foot = (f"\n\nInputs: platform `{inputs.get('platform')}`, `{inputs.get('container_runtime')}`, "
                f"Kubernetes {inputs.get('kubernetes_version')}, non-root agent; every pod carries "
                f"{inputs.get('service_account_token')}. Refused cells ran the outputs the engine gives "
                f"at the sandbox's kernel floor. Tools: {', '.join(lab.values())}.")
        return table(["Kernel"] + [f"`{s}`" for s in sbs], rows) + foot
    if name == "lab-runs":
        rows = []
        for r in caps.lab["runs"]:
            node = r["node"]
            where = (f"{r['platform']} · {caps.family_title(node['ami_family'])} {node['kubernetes']}"
                     f" · seccompDefault {'on' if node['seccomp_default'] else 'off'}"
                     f" · max_user_namespaces {node['max_user_namespaces'] if node['max_user_namespaces'] is not None else 'kernel default'}")
            who = {"non_root": "non-root", "root": "root"}[r["agent"]]
            if r["decision"] == "runs":
                result = "✔ runs with the provider's outputs" if r["works"] else "✘ does not run"
                without = "<br>".join(f"without {k}: `{v['message']}`" for k, v in r["without"].items()) or "nothing granted to remove"
                if r.get("api_only"):
                    without += "<br>" + "; ".join(r["api_only"]) + ": enforced by the API server, not the kernel"
            else:
                result = "✘ refused: " + "; ".join(r["errors"])
                rep = r.get("reproduced")
                without = (f"reproduced: `{rep['message']}`" if rep else
                           "not reproducible on this kernel (a kernel-version or platform rule)")
            rows.append([f"`{r['sandbox']}`", who, where, result, without])
        return table(["Sandbox", "Runs as", "Node profile", "Result", "Minimality / reproduction"], rows)
    if name == "sandboxes":
        rows = []
        for s in d["sandbox"]:
            needs = []
            if s.get("needs_user_namespaces"):
                needs.append("unprivileged user namespaces on the node")
            if s.get("needs_host_users_false"):
                needs.append("`hostUsers: false`")
            if s.get("proc_mount_unmasked"):
                needs.append("`procMount: Unmasked`")
            if s.get("landlock_abi"):
                floor = caps.landlock_floor(s["landlock_abi"])
                needs.append(f"Landlock ABI v{s['landlock_abi']} (Linux ≥ {vstr(floor)}, Landlock enabled)")
            if s.get("devices"):
                needs.append("devices " + ", ".join(f"`{x}`" for x in s["devices"]))
            rows.append([f"`{s['name']}`", s["title"], "; ".join(needs) or "—",
                         s["reason"], sources_md(s["sources"])])
        return table(["Sandbox", "What it is", "Needs", "Why", "Sources"], rows)
    if name == "modes":
        rows = []
        for m in d["mode"]:
            who = {"non_root": "non-root", "root": "root"}[m["agent"]]
            if "user_namespace" in m:
                who += ", " + ("own user namespace" if m["user_namespace"] else "`--no-user-namespace`")
            if m.get("error"):
                gets = "**Refused**: " + m["error"]
            else:
                gets = ", ".join(f"`{c}`" for c in m["capabilities"]) or "no capability"
                if m.get("allow_privilege_escalation"):
                    gets += "; `allowPrivilegeEscalation: true`"
                if m.get("runtime_default_blocks"):
                    gets += "; `Unconfined` where the node applies RuntimeDefault"
                if m.get("seccomp_runtime_default"):
                    gets += "; `RuntimeDefault`"
            image = "; ".join(m.get("image_needs", [])) or "—"
            rows.append([f"`{m['sandbox']}`", who, gets, image, m["reason"],
                         sources_md(m["sources"])])
        return table(["Sandbox", "Runs as", "Pod gets (after drop ALL)", "Image must provide",
                      "Why", "Sources"], rows)
    if name == "runtimes":
        rows = [[f"`{r['name']}`", ", ".join(f"`{c}`" for c in r["default_capabilities"]),
                 r["runtime_default"], sources_md(r["sources"])] for r in d["runtime"]]
        return table(["Runtime", "Default capabilities", "RuntimeDefault seccomp",
                      "Sources"], rows)
    if name == "variants":
        rows = []
        def sentence(text: str) -> str:
            text = text.strip()
            return text if text.endswith(".") else text + "."

        for v in d.get("variant", []):
            effect = []
            if v.get("error"):
                effect.append("**Rejected**: " + sentence(v["error"]))
                if v.get("recommend"):
                    effect.append(f"Recommends `{v['recommend']}`.")
            if v.get("runtime_args"):
                effect.append("Runtime arguments " + " ".join(f"`{a}`" for a in v["runtime_args"]) + ".")
            if v.get("warning"):
                effect.append("Warning: " + sentence(v["warning"]))
            where = ", ".join(f"`{p}`" for p in v["platforms"])
            fams = ", ".join(f"`{f}`" for f in v.get("families", [])) or "any"
            rows.append([f"`{v['sandbox']}`", where, fams, " ".join(effect) or "—",
                         v["reason"], sources_md(v["sources"])])
        return table(["Sandbox", "Platform", "AMI family", "Effect", "Why", "Sources"], rows)
    if name == "platforms":
        rows = []
        for p in d["platform"]:
            fams = ", ".join(f"`{f}`" for f in (p["families"] or p.get("node_images", []))) or "—"
            extra = p.get("unknown_kernel", "")
            rows.append([f"`{p['name']}`", p["title"], fams,
                         "yes" if p["sysctls_settable"] else "no",
                         "yes" if p["capabilities_allowed"] else "no", extra,
                         sources_md(p["sources"])])
        return table(["`platform`", "What it is", "AMI families / node images (preference order)",
                      "Node sysctls settable", "Pods may add capabilities", "Unknown",
                      "Sources"], rows)
    if name == "images":
        rows = []
        for img in d["image"]:
            lo, hi = (ver(x) for x in img["kubernetes"])
            userns = img.get("max_user_namespaces")
            releases = img.get("releases")
            rows.append([f"`{img['family']}`", image_variants(img), krange(lo, hi),
                         "every release" if not releases else
                         (releases[0] if releases[0] == releases[1] else f"{releases[0]} to {releases[1]}"),
                         img["kernel"],
                         img.get("containerd", "not confirmed"),
                         "yes" if img["landlock_enabled"] else "no",
                         "kernel default" if userns is None else str(userns),
                         "RuntimeDefault" if img["seccomp_default"] else "Unconfined",
                         "yes" if img.get("ids_per_pod_setting", True) else "no",
                         img.get("evidence", "documented"),
                         sources_md(img["sources"])])
        return table(["AMI family", "Variants", "Kubernetes", "Releases", "Kernel", "containerd",
                      "Landlock enabled", "`user.max_user_namespaces`",
                      "Pods without a seccomp profile", "idsPerPod setting", "Evidence",
                      "Sources"], rows)
    if name == "families":
        rows = [[f"`{f['name']}`", f["title"],
                 ", ".join(f"`{t}` ({variant}, {arch})" for variant, by_arch in f["ami_type"].items()
                           for arch, t in sorted(by_arch.items())),
                 sources_md(f["sources"])] for f in d["family"]]
        return table(["`ami_family`", "Name", "EKS `amiType`", "Sources"], rows)
    if name == "landlock":
        rows = [[f"v{r['abi']}", r["kernel"], sources_md(r["sources"])]
                for r in d["landlock_abi"]]
        return table(["Landlock ABI", "First Linux release", "Sources"], rows)
    if name == "host-users":
        hu = d["host_users"]
        rows = [
            ["Linux kernel", f"≥ {hu['kernel_floor']} (idmapped tmpfs); below "
             f"{hu['overlay_idmap_kernel']} containerd needs `slow_chown`"],
            ["containerd", f"≥ {hu['containerd_floor']} from Kubernetes {hu['containerd_floor_kubernetes']} "
             f"(the kubelet refuses the pod otherwise); {hu['containerd_ignored_below']}.x "
             f"only for Kubernetes 1.25/1.26, copying image files per pod; older releases "
             f"ignore `hostUsers: false`"],
            ["CRI-O", f"≥ {hu['crio_floor']}"],
            ["Kubernetes", f"available from {hu['kubernetes_available']}; "
             f"UserNamespacesSupport on by default from {hu['kubernetes_default_on']}; "
             f"`idsPerPod` configurable from {hu['ids_per_pod_kubernetes']}"],
        ]
        return (table(["Component", "Needs"], rows) + "\n\nSources: "
                + "; ".join(source_md(s) for s in hu["sources"]))
    if name == "openshift":
        words = {"absent": "absent", "preview": "Tech Preview (CustomNoUpgrade FeatureGate, "
                 "blocks upgrades)", "default": "on by default"}
        rows = []
        for o in d["openshift"]:
            lo, hi = (ver(x) for x in o["versions"])
            rows.append([krange(lo, hi), o["kubernetes"], words[o["gates"]],
                         sources_md(o["sources"])])
        return table(["OpenShift", "Kubernetes", "User-namespace feature gates", "Sources"],
                     rows)
    raise DocError(f"unknown capabilities table {name!r}")


def karpenter_table(k: dict, name: str) -> str:
    """A table of schemas/karpenter.toml, every row with its sources."""
    if name == "merge-rules":
        rows = [[", ".join(f"`{x}`" for x in r["keys"]),
                 r["effect"] + (f" (when {r['when']})" if r.get("when") else ""),
                 r["instead"], sources_md(r["sources"])] for r in k["bottlerocket_merge"]]
        return table(["Bottlerocket user-data keys", "Karpenter", "For a sandbox pool", "Sources"], rows)
    if name == "typed-keys":
        rows = [[f"{r['since']}", ", ".join(f"`{x}`" for x in r["keys"]), sources_md(r["sources"])]
                for r in k["typed_kubernetes_keys"]]
        return table(["Karpenter from", "`settings.kubernetes` keys kept", "Sources"], rows)
    if name == "al2023":
        rows = [[r["rule"], sources_md(r["sources"])] for r in k["al2023_merge"]]
        return table(["AL2023 rule", "Sources"], rows)
    if name == "auto-mode":
        a = k["auto_mode"]
        rows = [["User data, AMI choice, kubelet block, sysctls", "none"],
                ["`user.max_user_namespaces`", str(a["max_user_namespaces"])],
                ["SELinux", a["selinux"]],
                ["Longest node lifetime", f"{a['max_expire_after_hours']}h"],
                ["Refused without the work-around", ", ".join(f"`{s}`" for s in a["workaround_sandboxes"])],
                ["The work-around", a["workaround"]],
                ["Sources", sources_md(a["sources"])]]
        return table(["EKS Auto Mode", ""], rows)
    raise DocError(f"unknown karpenter table {name!r}")
