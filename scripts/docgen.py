#!/usr/bin/env python3
"""Generate the Terraform Registry documentation in docs/.

Inputs (nothing else is read):
  schemas/provider-schema.json   what the provider serves (`terraform providers schema -json`)
  schemas/capabilities.toml      the capability rows, each with its sources
  schemas/karpenter.toml         the Karpenter and EKS Auto Mode rows, each with its sources
  examples/                      the tfplugindocs example files embedded in the pages
  templates/                     hand-written pages (index, guides) with directives

Output: docs/index.md, docs/resources/, docs/data-sources/, docs/list-resources/,
docs/functions/ and docs/guides/ in the Registry layout. The output depends only on the inputs
(sorted everywhere, no dates), so `make docs-check` can regenerate into a
temporary directory and diff. Everything under docs/ except benchmarks.md
(written by `make bench`) is generated: edit the inputs, never docs/.

Directives in templates (one per `{{ ... }}`, arguments are double-quoted):
  {{ example "examples/provider/provider.tf" }}   the file in a fenced block
  {{ schema "provider" }}                         schema section (also
        "resource/<type>", "data-source/<type>", "list-resource/<type>")
  {{ description "provider" }}                    the schema's description
  {{ import "<resource type>" }}                  the Import section
  {{ capabilities "<table>" }}                    a table: the engine's decision
        matrix (schemas/decision-matrix.json, with node-lab proof from
        schemas/lab-results.json): eks-matrix, eks-root-matrix,
        auto-mode-matrix, other-matrix, judged-on, lab-versions, lab-runs;
        or capabilities.toml
        rows: sandboxes, modes, runtimes, variants, platforms, images,
        landlock, host-users, openshift, families
  {{ karpenter "<table>" }}                       a table of schemas/karpenter.toml
        rows: merge-rules, typed-keys, al2023, auto-mode
  {{ header "resource/<type>" }}                  frontmatter, title and
        description of a resource or data source page (custom templates)
  {{ link "resources/nodegroup" }}                the page's Registry URL
        (fails when no such page is generated)

Templates: templates/index.md.tmpl (required), templates/guides/*.md.tmpl,
and optionally templates/{resources,data-sources,list-resources,functions}/<name>.md.tmpl
to replace a default page.

Python 3.11 standard library only (json, tomllib).

Usage:
  scripts/docgen.py [--out DIR]     write the pages (default: docs)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROVIDER = "nested"
REGISTRY_DOCS = "https://registry.terraform.io/providers/nested-sandbox/nested/latest/docs"
SCHEMA_PATH = "schemas/provider-schema.json"
CAPABILITIES_PATH = "schemas/capabilities.toml"
KARPENTER_PATH = "schemas/karpenter.toml"

# Files in docs/ that the generator does not own.
NOT_GENERATED = {"benchmarks.md"}
# Directories of docs/ the generator owns completely.
OWNED_DIRS = ("resources", "data-sources", "list-resources", "functions", "guides")


class DocError(Exception):
    pass


# --------------------------------------------------------------------------
# Small helpers


def read(rel: str) -> str:
    path = ROOT / rel
    if not path.is_file():
        raise DocError(f"{rel}: file not found")
    return path.read_text(encoding="utf-8")


def tidy(text: str) -> str:
    """Collapse runs of spaces inside a line (a wrapped Rust string literal
    can leave some); Markdown would render them as one space anyway."""
    return re.sub(r"(?<=\S) {2,}(?=\S)", " ", text.strip())


def frontmatter(page_title: str, description: str, subcategory: str | None) -> str:
    lines = ["---", f"page_title: {json.dumps(page_title, ensure_ascii=False)}"]
    if subcategory is not None:
        lines.append(f"subcategory: {json.dumps(subcategory, ensure_ascii=False)}")
    lines.append("description: |-")
    for line in tidy(description).splitlines() or [""]:
        lines.append(f"  {line}" if line else "")
    lines.append("---")
    return "\n".join(lines) + "\n"


FENCE_LANG = {".tf": "terraform", ".hcl": "terraform", ".sh": "shell", ".yaml": "yaml",
              ".yml": "yaml", ".toml": "toml", ".json": "json"}


def fenced(rel: str) -> str:
    text = read(rel).rstrip("\n")
    lang = FENCE_LANG.get(Path(rel).suffix, "text")
    if Path(rel).name.endswith(".tftest.hcl"):
        lang = "terraform"
    return f"```{lang}\n{text}\n```"


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(cell(c) for c in r) + " |")
    return "\n".join(out)


def source_md(src: str) -> str:
    """One source as Markdown: URLs become links, repository paths code."""
    head, _, rest = src.partition(" ")
    rest = f" {rest}" if rest else ""
    trail = ""
    while head and head[-1] in ",;":
        head, trail = head[:-1], head[-1] + trail
    if head.startswith(("https://", "http://")):
        return f"<{head}>{trail}{rest}"
    if head.startswith("github.com/"):
        return f"<https://{head}>{trail}{rest}"
    m = re.match(r"^([\w.-]+/[\w.-]+):(\S*)$", head)
    if m and m.group(2):
        return f"`{head}`{trail}{rest}"
    if m:
        return f"`{m.group(1)}`:{trail}{rest}"
    return src


def sources_md(sources: list[str]) -> str:
    return "<br>".join(source_md(s) for s in sources)


# --------------------------------------------------------------------------
# Schema → Markdown (the tfplugindocs layout: Required / Optional / Read-Only,
# nested schemas below with anchors)


def type_name(t) -> str:
    if isinstance(t, str):
        return {"string": "String", "number": "Number", "bool": "Boolean",
                "dynamic": "Dynamic"}.get(t, t.capitalize())
    kind = t[0]
    if kind in ("list", "set", "map"):
        return f"{kind.capitalize()} of {type_name(t[1])}"
    if kind == "object":
        return "Object"
    if kind == "tuple":
        return "Tuple"
    raise DocError(f"unknown type {t!r}")


def hcl_type(t) -> str:
    """Type as written in HCL (function signatures)."""
    if isinstance(t, str):
        return t
    kind = t[0]
    if kind in ("list", "set", "map"):
        return f"{kind}({hcl_type(t[1])})"
    if kind == "object":
        inner = ", ".join(f"{k}={hcl_type(v)}" for k, v in sorted(t[1].items()))
        return f"object({{{inner}}})"
    if kind == "tuple":
        return "tuple([" + ", ".join(hcl_type(x) for x in t[1]) + "])"
    raise DocError(f"unknown type {t!r}")


NESTING_NAMES = {"single": "Attributes", "list": "Attributes List", "set": "Attributes Set",
                 "map": "Attributes Map"}
BLOCK_NAMES = {"single": "Block", "list": "Block List", "set": "Block Set", "map": "Block Map",
               "group": "Block"}


@dataclass
class Entry:
    name: str
    kind: str          # "(String)", "(Attributes)", …
    text: str
    group: str         # Required / Optional / Read-Only
    nested: tuple | None = None  # (anchor, label, attributes, block_types)


def describe(attr: dict) -> str:
    parts = []
    if attr.get("deprecated") or attr.get("deprecation_message"):
        msg = attr.get("deprecation_message")
        parts.append(f"**Deprecated** {tidy(msg)}" if msg else "**Deprecated**")
    if attr.get("description"):
        parts.append(tidy(attr["description"]))
    return " ".join(parts)


def flags(attr: dict) -> str:
    out = []
    if attr.get("sensitive"):
        out.append("Sensitive")
    if attr.get("write_only"):
        out.append("Write-only")
    if attr.get("deprecated") or attr.get("deprecation_message"):
        out.append("Deprecated")
    return "".join(f", {f}" for f in out)


def group_of(attr: dict) -> str:
    if attr.get("required"):
        return "Required"
    if attr.get("optional"):
        return "Optional"
    return "Read-Only"


def entries(attributes: dict, block_types: dict, anchor_prefix: str) -> list[Entry]:
    out = []
    for name in sorted(attributes):
        a = attributes[name]
        if "nested_type" in a:
            nt = a["nested_type"]
            anchor = f"{anchor_prefix}--{name}"
            kind = f"({NESTING_NAMES[nt.get('nesting_mode', 'single')]}{flags(a)})"
            out.append(Entry(name, kind, describe(a), group_of(a),
                             ("nestedatt" + anchor, name, nt.get("attributes", {}), {})))
        elif isinstance(a.get("type"), list) and a["type"][0] == "object":
            anchor = f"{anchor_prefix}--{name}"
            fields = {k: {"type": v, "computed": not (a.get("required") or a.get("optional")),
                          "optional": bool(a.get("optional")), "required": bool(a.get("required"))}
                      for k, v in a["type"][1].items()}
            out.append(Entry(name, f"(Object{flags(a)})", describe(a), group_of(a),
                             ("nestedobjatt" + anchor, name, fields, {})))
        else:
            out.append(Entry(name, f"({type_name(a['type'])}{flags(a)})", describe(a),
                             group_of(a)))
    for name in sorted(block_types):
        b = block_types[name]
        block = b.get("block", {})
        mode = b.get("nesting_mode", "single")
        label = BLOCK_NAMES.get(mode, "Block")
        limits = []
        if b.get("min_items"):
            limits.append(f"Min: {b['min_items']}")
        if b.get("max_items"):
            limits.append(f"Max: {b['max_items']}")
        group = "Required" if b.get("min_items") else "Optional"
        kind = "(" + ", ".join([label] + limits) + ")"
        anchor = f"{anchor_prefix}--{name}"
        out.append(Entry(name, kind, describe(block), group,
                         ("nestedblock" + anchor, name, block.get("attributes", {}),
                          block.get("block_types", {}))))
    return out


def entry_line(e: Entry) -> str:
    line = f"- `{e.name}` {e.kind}"
    if e.text:
        line += f" {e.text}"
    if e.nested:
        line += f" (see [below for nested schema](#{e.nested[0]}))"
    return line


def schema_markdown(block: dict, heading: str = "## Schema") -> str:
    top = entries(block.get("attributes", {}), block.get("block_types", {}), "")
    parts = [heading]
    for group in ("Required", "Optional", "Read-Only"):
        es = [e for e in top if e.group == group]
        if es:
            parts.append(f"### {group}\n\n" + "\n".join(entry_line(e) for e in es))
    queue = [(e.nested, "") for e in top if e.nested]
    while queue:
        (anchor, label, attrs, blocks), parent = queue.pop(0)
        path = f"{parent}.{label}" if parent else label
        prefix = anchor.split("--", 1)[1] if "--" in anchor else label
        nested = entries(attrs, blocks, "--" + prefix)
        section = [f'<a id="{anchor}"></a>\n### Nested Schema for `{path}`']
        for group in ("Required", "Optional", "Read-Only"):
            es = [e for e in nested if e.group == group]
            if es:
                section.append(f"{group}:\n\n" + "\n".join(entry_line(e) for e in es))
        parts.append("\n\n".join(section))
        queue.extend((e.nested, path) for e in nested if e.nested)
    return "\n\n".join(parts)


def identity_markdown(identity: dict) -> str:
    attrs = identity.get("attributes", {})
    parts = ["### Identity Schema"]
    for title, key in (("Required for import", "required_for_import"),
                       ("Optional for import", "optional_for_import")):
        names = [n for n in sorted(attrs) if attrs[n].get(key)]
        if names:
            lines = [f"- `{n}` ({type_name(attrs[n]['type'])}) {tidy(attrs[n].get('description', ''))}".rstrip()
                     for n in names]
            parts.append(f"#### {title}\n\n" + "\n".join(lines))
    return "\n\n".join(parts)


# --------------------------------------------------------------------------
# Capability data → tables and the decision matrix


def ver(s: str) -> tuple[int, ...]:
    return tuple(int(p) for p in s.split("."))


def vstr(v: tuple[int, ...]) -> str:
    return ".".join(str(p) for p in v)


MATRIX_PATH = "schemas/decision-matrix.json"
LAB_PATH = "schemas/lab-results.json"
KERNELS_PATH = "schemas/lab-kernels.json"


class Capabilities:
    """The rows of capabilities.toml (shown with their sources) and the
    decision matrix the provider's engine wrote (schemas/decision-matrix.json,
    kept equal to the engine by provider/tests/decision_matrix.rs). Nothing
    here decides anything: every verdict comes from the engine, every
    "proven" mark from the node lab (schemas/lab-results.json)."""

    def __init__(self, data: dict, matrix: dict, lab: dict | None, kernels: dict | None = None):
        self.d = data
        self.hu = data["host_users"]
        self.matrix = matrix
        self.lab = lab or {"runs": []}
        self.kernels = kernels or {"kernels": []}

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
        out = []
        for r in self.lab["runs"]:
            if (r["sandbox"] == sandbox and r["agent"] == agent
                    and r["node"].get("ami_family") == row.get("ami_family")
                    and r["node"].get("kubernetes") in kube_list(row)
                    and r["platform"] == row["platform"] and r["proven"]):
                out.append(f"kernel {r['kernel']}")
        return sorted(set(out))

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
        if c["runtime_args"]:
            parts.append(" ".join(f"`{a}`" for a in c["runtime_args"]))
        parts.append(f"PSS {c['pod_security_level']}")
        parts += [w.lower() for w in c["warnings"]]
        proof = self.proven(row, sandbox, agent)
        mark = f" · 🧪 proven in the node lab ({', '.join(proof)})" if proof else ""
        return f"{symbol} {'; '.join(parts)}{mark}"

    def rows(self, platform: str) -> list[dict]:
        return [r for r in self.matrix["rows"] if r["platform"] == platform]


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
            label = (f"{caps.family_title(r['ami_family'])} · Kubernetes {krange(lo, hi)} · "
                     f"kernel {r['kernel']} · containerd {r['containerd'] or 'unconfirmed'}")
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
            fams = ", ".join(f"`{f}`" for f in p["families"]) or "—"
            extra = p.get("unknown_kernel", "")
            rows.append([f"`{p['name']}`", p["title"], fams,
                         "yes" if p["sysctls_settable"] else "no",
                         "yes" if p["capabilities_allowed"] else "no", extra,
                         sources_md(p["sources"])])
        return table(["`platform`", "What it is", "AMI families (preference order)",
                      "Node sysctls settable", "Pods may add capabilities", "Unknown",
                      "Sources"], rows)
    if name == "images":
        rows = []
        for img in d["image"]:
            lo, hi = (ver(x) for x in img["kubernetes"])
            userns = img.get("max_user_namespaces")
            rows.append([f"`{img['family']}`", krange(lo, hi), img["kernel"],
                         img.get("containerd", "not confirmed"),
                         "yes" if img["landlock_enabled"] else "no",
                         "kernel default" if userns is None else str(userns),
                         "RuntimeDefault" if img["seccomp_default"] else "Unconfined",
                         sources_md(img["sources"])])
        return table(["AMI family", "Kubernetes", "Kernel", "containerd", "Landlock enabled",
                      "`user.max_user_namespaces`", "Pods without a seccomp profile",
                      "Sources"], rows)
    if name == "families":
        rows = [[f"`{f['name']}`", f["title"],
                 ", ".join(f"`{v}` ({k})" for k, v in sorted(f["ami_type"].items())),
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
        rows += [[f"`al2023@` releases before v{r['before']} ship Linux {r['kernel']} on Kubernetes "
                  f"{r['kubernetes'][0]}–{r['kubernetes'][1]}", sources_md(r["sources"])]
                 for r in k["alias_kernel"]]
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


# --------------------------------------------------------------------------
# Pages


class Docs:
    def __init__(self):
        raw = json.loads(read(SCHEMA_PATH))
        # `terraform providers schema -json` nests the provider under its
        # address; the snapshot holds that inner object.
        if "provider_schemas" in raw:
            raw = next(iter(raw["provider_schemas"].values()))
        self.schema = raw
        lab = json.loads(read(LAB_PATH)) if (ROOT / LAB_PATH).exists() else None
        kernels = json.loads(read(KERNELS_PATH)) if (ROOT / KERNELS_PATH).exists() else None
        self.caps = Capabilities(tomllib.loads(read(CAPABILITIES_PATH)),
                                 json.loads(read(MATRIX_PATH)), lab, kernels)
        self.karpenter = tomllib.loads(read(KARPENTER_PATH))
        self.links: set[tuple[str, str]] = set()

    # -- lookups -------------------------------------------------------------

    def block(self, ref: str) -> dict:
        if ref == "provider":
            return self.schema["provider"]["block"]
        kind, _, name = ref.partition("/")
        key = {"resource": "resource_schemas", "data-source": "data_source_schemas",
               "list-resource": "list_resource_schemas"}.get(kind)
        if not key or name not in self.schema.get(key, {}):
            raise DocError(f"no schema for {ref!r}")
        return self.schema[key][name]["block"]

    def short_name(self, type_name: str) -> str:
        prefix = PROVIDER + "_"
        return type_name[len(prefix):] if type_name.startswith(prefix) else type_name

    def examples(self, directory: str, stem: str, suffix: str = ".tf") -> list[str]:
        d = ROOT / directory
        if not d.is_dir():
            return []
        return sorted(f"{directory}/{p.name}" for p in d.iterdir()
                      if p.is_file() and p.name.startswith(stem) and p.name.endswith(suffix))

    # -- sections ------------------------------------------------------------

    def example_section(self, files: list[str], what: str) -> str:
        if not files:
            raise DocError(f"{what}: no example file")
        return "## Example Usage\n\n" + "\n\n".join(fenced(f) for f in files)

    def import_section(self, resource: str) -> str:
        d = f"examples/resources/{resource}"
        parts = ["## Import"]
        identity = self.schema.get("resource_identity_schemas", {}).get(resource)
        ident_file = f"{d}/import-by-identity.tf"
        if identity and (ROOT / ident_file).is_file():
            parts.append(
                "In Terraform 1.12 and later, an [`import` block]"
                "(https://developer.hashicorp.com/terraform/language/import) can name the "
                "node group by its resource identity:")
            parts.append(fenced(ident_file))
            parts.append(identity_markdown(identity))
        id_file = f"{d}/import-by-string-id.tf"
        if (ROOT / id_file).is_file():
            parts.append("In Terraform 1.5 and later, an `import` block can use the ID instead:")
            parts.append(fenced(id_file))
        sh = f"{d}/import.sh"
        if (ROOT / sh).is_file():
            parts.append("The [`terraform import` command]"
                         "(https://developer.hashicorp.com/terraform/cli/commands/import) "
                         "takes the same ID:")
            parts.append(fenced(sh))
        if len(parts) == 1:
            raise DocError(f"{resource}: no import examples in {d}")
        return "\n\n".join(parts)

    # -- templates -----------------------------------------------------------

    DIRECTIVE = re.compile(r"\{\{\s*(\w+)((?:\s+\"[^\"]*\")*)\s*\}\}")

    def expand(self, text: str, where: str) -> str:
        def one(m: re.Match) -> str:
            name = m.group(1)
            args = re.findall(r"\"([^\"]*)\"", m.group(2))
            try:
                if name == "example" and len(args) == 1:
                    return fenced(args[0])
                if name == "schema" and len(args) == 1:
                    return schema_markdown(self.block(args[0]))
                if name == "description" and len(args) == 1:
                    return tidy(self.block(args[0]).get("description", ""))
                if name == "import" and len(args) == 1:
                    return self.import_section(args[0])
                if name == "capabilities" and len(args) == 1:
                    return capability_table(self.caps, args[0])
                if name == "karpenter" and len(args) == 1:
                    return karpenter_table(self.karpenter, args[0])
                if name == "header" and len(args) == 1:
                    return self.header(args[0])
                if name == "link" and len(args) == 1:
                    self.links.add((where, args[0]))
                    return f"{REGISTRY_DOCS}/{args[0]}"
            except DocError as e:
                raise DocError(f"{where}: {e}") from None
            raise DocError(f"{where}: unknown directive {m.group(0)!r}")

        out = self.DIRECTIVE.sub(one, text)
        if "{{" in out:
            line = out[: out.index("{{")].count("\n") + 1
            raise DocError(f"{where}: unexpanded '{{{{' near output line {line}")
        return out

    def template(self, rel: str) -> str | None:
        path = ROOT / "templates" / rel
        if not path.is_file():
            return None
        return self.expand(path.read_text(encoding="utf-8"), f"templates/{rel}")

    # -- pages ---------------------------------------------------------------

    def build(self) -> dict[str, str]:
        pages = {}
        index = self.template("index.md.tmpl")
        if index is None:
            raise DocError("templates/index.md.tmpl is missing")
        pages["index.md"] = index

        for rtype in sorted(self.schema.get("resource_schemas", {})):
            short = self.short_name(rtype)
            custom = self.template(f"resources/{short}.md.tmpl")
            pages[f"resources/{short}.md"] = custom or self.default_page(
                rtype, "Resource", "resource", f"examples/resources/{rtype}", "resource",
                with_import=True)
        for dtype in sorted(self.schema.get("data_source_schemas", {})):
            short = self.short_name(dtype)
            custom = self.template(f"data-sources/{short}.md.tmpl")
            pages[f"data-sources/{short}.md"] = custom or self.default_page(
                dtype, "Data Source", "data-source", f"examples/data-sources/{dtype}",
                "data-source")
        # List resources (`terraform query`): the Registry's docs/list-resources/,
        # examples in examples/list-resources/<type>/list-resource*.tfquery.hcl.
        for ltype in sorted(self.schema.get("list_resource_schemas", {})):
            short = self.short_name(ltype)
            custom = self.template(f"list-resources/{short}.md.tmpl")
            pages[f"list-resources/{short}.md"] = custom or self.default_page(
                ltype, "List Resource", "list-resource", f"examples/list-resources/{ltype}",
                "list-resource", suffix=".tfquery.hcl")
        for fname in sorted(self.schema.get("functions", {})):
            custom = self.template(f"functions/{fname}.md.tmpl")
            pages[f"functions/{fname}.md"] = custom or self.function_page(fname)

        guides = ROOT / "templates" / "guides"
        for path in sorted(guides.glob("*.md.tmpl")) if guides.is_dir() else []:
            name = path.name[: -len(".md.tmpl")]
            text = self.template(f"guides/{path.name}")
            if not text.startswith("---\n") or "\npage_title:" not in text.split("\n---", 1)[0]:
                raise DocError(f"templates/guides/{path.name}: guides need frontmatter "
                               "with page_title")
            pages[f"guides/{name}.md"] = text

        for name, text in pages.items():
            check_page(name, text)
        for where, target in sorted(self.links):
            if f"{target}.md" not in pages:
                raise DocError(f"{where}: link to {target!r}, which is not a generated page")
        return {k: v.rstrip("\n") + "\n" for k, v in sorted(pages.items())}

    def header(self, ref: str) -> str:
        """Frontmatter, title and description of a resource or data source
        page (the `header` directive of a custom template)."""
        kind, _, type_name = ref.partition("/")
        label = {"resource": "Resource", "data-source": "Data Source",
                 "list-resource": "List Resource"}.get(kind)
        if not label:
            raise DocError(f"header: {ref!r} is not resource/<type>, data-source/<type> "
                           "or list-resource/<type>")
        desc = self.block(ref).get("description", "")
        return "\n\n".join([
            frontmatter(f"{type_name} {label} - {PROVIDER}", desc, "").rstrip("\n"),
            f"# {type_name} ({label})",
            tidy(desc),
        ])

    def default_page(self, type_name, label, ref_kind, example_dir, stem, with_import=False,
                     suffix=".tf"):
        block = self.block(f"{ref_kind}/{type_name}")
        parts = [
            self.header(f"{ref_kind}/{type_name}"),
            self.example_section(self.examples(example_dir, stem, suffix), type_name),
            schema_markdown(block),
        ]
        if with_import:
            parts.append(self.import_section(type_name))
        return "\n\n".join(p.strip("\n") for p in parts)

    def function_page(self, name: str) -> str:
        f = self.schema["functions"][name]
        params = list(f.get("parameters", []))
        variadic = f.get("variadic_parameter")
        sig_args = [f"{p['name']} {hcl_type(p['type'])}" for p in params]
        if variadic:
            sig_args.append(f"{variadic['name']} {hcl_type(variadic['type'])}...")
        signature = f"{name}({', '.join(sig_args)}) {hcl_type(f['return_type'])}"
        args = []
        for i, p in enumerate(params + ([variadic] if variadic else []), start=1):
            notes = []
            if p.get("is_nullable"):
                notes.append("Nullable")
            if p is variadic:
                notes.append("Variadic")
            kind = ", ".join([type_name(p["type"])] + notes)
            args.append(f"{i}. `{p['name']}` ({kind}) {tidy(p.get('description', ''))}".rstrip())
        summary = f.get("summary") or f.get("description", "")
        deprecation = f.get("deprecation_message")
        parts = [
            frontmatter(f"{name} function - {PROVIDER}", summary, ""),
            f"# function: {name}",
        ]
        if deprecation:
            parts.append(f"~> **Deprecated:** {tidy(deprecation)}")
        parts += [
            tidy(f.get("description", "")),
            self.example_section(self.examples(f"examples/functions/{name}", "function"), name),
            "## Signature\n\n```text\n" + signature + "\n```",
            "## Arguments\n\n" + ("\n".join(args) if args else "None."),
            f"## Returns\n\n{type_name(f['return_type'])}.",
        ]
        return "\n\n".join(p.strip("\n") for p in parts)


def check_page(name: str, text: str):
    """The Registry's (and `tfplugindocs validate`'s) frontmatter rules."""
    if not text.startswith("---\n"):
        raise DocError(f"{name}: no frontmatter")
    head = text[4:].split("\n---\n", 1)[0]
    keys = {line.split(":", 1)[0] for line in head.splitlines() if re.match(r"^\w", line)}
    if keys - {"page_title", "subcategory", "description"}:
        raise DocError(f"{name}: frontmatter keys {sorted(keys)}: only page_title, "
                       "subcategory and description are allowed")
    if name == "index.md" and "subcategory" in keys:
        raise DocError("index.md: the index page must not have a subcategory")
    if "page_title" not in keys:
        raise DocError(f"{name}: page_title missing")
    if len(text.encode()) > 500_000:
        raise DocError(f"{name}: over the Registry's 500 KB page limit")


# --------------------------------------------------------------------------


def write(pages: dict[str, str], out: Path):
    out.mkdir(parents=True, exist_ok=True)
    # Remove generated files that are no longer generated.
    for sub in OWNED_DIRS:
        d = out / sub
        if d.is_dir():
            for p in sorted(d.rglob("*")):
                rel = p.relative_to(out).as_posix()
                if p.is_file() and rel not in pages:
                    p.unlink()
    for rel, text in pages.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "docs"), help="output directory (default: docs)")
    args = ap.parse_args(argv)
    try:
        docs = Docs()
        pages = docs.build()
    except (DocError, KeyError, StopIteration, tomllib.TOMLDecodeError,
            json.JSONDecodeError) as e:
        print(f"docgen: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    write(pages, Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
