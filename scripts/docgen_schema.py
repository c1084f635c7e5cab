"""Provider schema → Markdown, in the tfplugindocs layout (for scripts/docgen.py)."""

from __future__ import annotations
from dataclasses import dataclass

from docgen_common import (
    DocError,
    tidy,
)

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
