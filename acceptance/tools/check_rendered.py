"""Re-read every rendered document with independent parsers.

TOML with tomllib, MIME with the email package, YAML with PyYAML, JSON with
json. Exits non-zero, naming the file, on the first document that does not
parse or lacks what it must carry. Prints how many files were checked.
"""

import email
import json
import pathlib
import sys
import tomllib

import yaml

NODEADM = "application/node.eks.aws"
SHELL = "text/x-shellscript"


def check_toml(text):
    assert "MIME-Version" not in text, "Bottlerocket user data must not be MIME"
    doc = tomllib.loads(text)
    assert "settings" in doc, "no [settings] table"


def check_mime(text):
    msg = email.message_from_string(text)
    assert msg.is_multipart(), "not multipart"
    assert msg.get_content_type() == "multipart/mixed", msg.get_content_type()
    parts = msg.get_payload()
    assert parts, "no parts"
    for part in parts:
        ctype = part.get_content_type()
        body = part.get_payload()
        if ctype == NODEADM:
            doc = yaml.safe_load(body)
            assert doc["apiVersion"] == "node.eks.aws/v1alpha1", doc
            assert doc["kind"] == "NodeConfig", doc
        elif ctype == SHELL:
            assert body.startswith("#!"), "shell part without #!"
        else:
            raise AssertionError(f"unexpected part type {ctype}")


def check_yaml(text):
    doc = yaml.safe_load(text)
    assert doc["apiVersion"] and doc["kind"], doc
    if doc["kind"] == "FeatureGate":
        assert doc["spec"]["featureSet"] == "CustomNoUpgrade"
        assert "UserNamespacesSupport" in doc["spec"]["customNoUpgrade"]["enabled"]
    if doc["kind"] == "SecurityContextConstraints":
        assert doc["allowPrivilegedContainer"] is False
        assert isinstance(doc["allowedCapabilities"], list)


def check_json(text):
    json.loads(text)


CHECKS = {".toml": check_toml, ".mime": check_mime, ".yaml": check_yaml, ".json": check_json}


def main(directory):
    checked = 0
    for path in sorted(pathlib.Path(directory).iterdir()):
        check = CHECKS.get(path.suffix)
        if check is None:
            continue
        try:
            check(path.read_text())
        except Exception as e:  # noqa: BLE001 - report any failure with the file
            print(f"{path.name}: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        checked += 1
    print(f"checked {checked} rendered documents")
    return 0 if checked else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
