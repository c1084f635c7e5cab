"""Decode what the provider rendered with parsers from outside the project
and compare it with what was meant.

  check_roundtrip.py mime CASES.json
      Amazon Linux user data under Python's email package (as cloud-init
      reads it: bytes, the default policy): no defects, exactly the
      expected parts in order, each with its headers and its content
      (transfer encoding and charset undone), and last the provider's
      NodeConfig with the expected idsPerPod (PyYAML).
  check_roundtrip.py yaml CASES.json
      Manifests under PyYAML (YAML 1.1): every document equals the one
      Terraform's yamldecode gave, every expected value is there as the
      same JSON value, and no character YAML readers refuse or fold is
      written raw.
  check_roundtrip.py toml CASES.json
      TOML under tomllib: every expected value is there.

CASES.json maps a case name to its inputs (see
acceptance/tests/rendered_documents.rs). Prints "checked N <kind> cases";
exits non-zero naming the case and what differs.
"""

import email
import email.policy
import json
import sys
import tomllib

import yaml

# RFC 2046 §5.1.1: the line break before a delimiter belongs to the
# delimiter, so a part's content is its body without that one line break.

# Characters the YAML writer must never write raw (YAML 1.1 c-printable
# excludes C0 but TAB/LF/CR, DEL and C1 but NEL; NEL, LS and PS are line
# breaks to YAML 1.1; BOM and the two noncharacters are refused or eaten).
RAW_FORBIDDEN = {chr(c) for c in range(0x20) if c not in (0x0A,)} | {
    chr(c) for c in range(0x7F, 0xA0)
} | {"\u2028", "\u2029", "\ufeff", "\ufffe", "\uffff"}


def fail(case, what):
    print(f"{case}: {what}", file=sys.stderr)
    sys.exit(1)


def content(part):
    got = part.get_content()
    return got.decode("utf-8") if isinstance(got, bytes) else got


def check_mime(cases):
    for name, case in cases.items():
        msg = email.message_from_bytes(
            case["user_data"].encode("utf-8"), policy=email.policy.default
        )
        if msg.defects:
            fail(name, f"document defects {msg.defects}")
        if msg.get_content_type() != "multipart/mixed":
            fail(name, f"not multipart/mixed: {msg.get_content_type()}")
        parts = list(msg.iter_parts())
        expected = case["expected"]
        if len(parts) != len(expected) + 1:
            fail(
                name,
                f"{len(parts)} parts, expected {len(expected)} of the user's + the NodeConfig: "
                + repr([p.get_content_type() for p in parts]),
            )
        for i, (part, want) in enumerate(zip(parts, expected), start=1):
            if part.defects:
                fail(name, f"part {i} defects {part.defects}")
            if str(part["Content-Type"]) != want["content_type"]:
                fail(name, f"part {i} Content-Type {part['Content-Type']!r} != {want['content_type']!r}")
            for header, value in want.get("headers", {}).items():
                if str(part[header]) != value:
                    fail(name, f"part {i} {header} {part[header]!r} != {value!r}")
            if want.get("filename") is not None and part.get_filename() != want["filename"]:
                fail(name, f"part {i} filename {part.get_filename()!r}")
            got = content(part)
            if got != want["content"]:
                fail(name, f"part {i} content {got!r} != {want['content']!r}")
        ours = parts[-1]
        if ours.get_content_type() != "application/node.eks.aws":
            fail(name, f"last part is {ours.get_content_type()}")
        doc = yaml.safe_load(content(ours))
        ids = doc["spec"]["kubelet"]["config"]["userNamespaces"]["idsPerPod"]
        if ids != case["ids_per_pod"]:
            fail(name, f"idsPerPod {ids!r}")
    return len(cases)


def at(doc, path):
    for step in path:
        doc = doc[step]
    return doc


def check_yaml(cases):
    for name, case in cases.items():
        text = case["text"]
        raw = sorted({f"U+{ord(c):04X}" for c in text if c in RAW_FORBIDDEN})
        if raw:
            fail(name, f"written raw: {raw}")
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
        # Not JSON (a date, a set) is already a difference from yamldecode.
        as_json = json.loads(json.dumps(docs))
        if as_json != docs:
            fail(name, "PyYAML read values JSON cannot hold")
        if as_json != case["yamldecode"]:
            fail(name, f"PyYAML {as_json!r}\n!= yamldecode {case['yamldecode']!r}")
        for path, want in case["expect"]:
            got = at(as_json, path)
            if got != want or type(got) is not type(want):
                fail(name, f"{path}: {got!r} != {want!r}")
    return len(cases)


def check_toml(cases):
    for name, case in cases.items():
        doc = tomllib.loads(case["text"])
        for path, want in case["expect"]:
            got = at(doc, path)
            if got != want:
                fail(name, f"{path}: {got!r} != {want!r}")
    return len(cases)


CHECKS = {"mime": check_mime, "yaml": check_yaml, "toml": check_toml}


def main(kind, path):
    with open(path, encoding="utf-8") as f:
        cases = json.load(f)
    n = CHECKS[kind](cases)
    print(f"checked {n} {kind} cases")
    return 0 if n else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
