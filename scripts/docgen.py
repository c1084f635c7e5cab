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
from pathlib import Path

from docgen_common import (
    CAPABILITIES_PATH,
    DocError,
    KARPENTER_PATH,
    OWNED_DIRS,
    PROVIDER,
    REGISTRY_DOCS,
    ROOT,
    SCHEMA_PATH,
    fenced,
    frontmatter,
    read,
    tidy,
)
from docgen_schema import (
    hcl_type,
    identity_markdown,
    schema_markdown,
    type_name,
)
from docgen_tables import (
    Capabilities,
    CRI_LAB_PATH,
    KERNELS_PATH,
    LAB_PATH,
    MATRIX_PATH,
    capability_table,
    karpenter_table,
)


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
        cri_lab = json.loads(read(CRI_LAB_PATH)) if (ROOT / CRI_LAB_PATH).exists() else None
        self.caps = Capabilities(tomllib.loads(read(CAPABILITIES_PATH)),
                                 json.loads(read(MATRIX_PATH)), lab, kernels, cri_lab)
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
        check_index_names_everything(pages, self.links)
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


OFFERINGS = ("resources/", "data-sources/", "list-resources/", "functions/")


def check_index_names_everything(pages: dict[str, str], links: set[tuple[str, str]]):
    """The index page links to every resource, data source, list resource and
    function of the schema (the Registry's index is where users find them)."""
    named = {target for where, target in links if where == "templates/index.md.tmpl"}
    missing = sorted(
        name[: -len(".md")] for name in pages
        if name.startswith(OFFERINGS) and name[: -len(".md")] not in named)
    if missing:
        raise DocError(
            "templates/index.md.tmpl: the index does not link to "
            + ", ".join(missing)
            + "; add each under \"What it offers\" with {{ link \"<page>\" }}")


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
