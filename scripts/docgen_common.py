"""What every part of scripts/docgen.py shares: paths, the error type, small
Markdown helpers."""

from __future__ import annotations
import json
import re
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
