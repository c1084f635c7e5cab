#!/usr/bin/env bash
# `tool` for GoReleaser's Rust builder (see .goreleaser.yml).
#
# GoReleaser runs `<tool> <command> --target=<triple> <flags…>` and then
# copies target/<triple>/release/<binary> into dist/, where <binary> is the
# build's `binary` (terraform-provider-nested_v<version>, .exe on Windows).
# cargo only ever writes terraform-provider-nested[.exe], so this wrapper
# runs cargo and copies its output to the name GoReleaser will look for
# (NESTED_BIN_NAME, set from {{ .Name }} in the build's env). It also copes
# with CARGO_TARGET_DIR, which GoReleaser's copy does not follow.
# NESTED_CARGO_BIN names cargo's binary (default terraform-provider-nested;
# the probe build sets nested-probe, whose name GoReleaser keeps).
set -euo pipefail

cargo "$@"

target=""
for arg in "$@"; do
  case "$arg" in
    --target=*) target="${arg#--target=}" ;;
  esac
done
if [[ -z "$target" ]]; then
  echo "goreleaser-cargo.sh: no --target=<triple> among the arguments" >&2
  exit 1
fi
ext=""
[[ "$target" == *windows* ]] && ext=".exe"
if [[ -z "${NESTED_BIN_NAME:-}" ]]; then
  echo "goreleaser-cargo.sh: NESTED_BIN_NAME is not set (the build's env sets it to GoReleaser's .Name)" >&2
  exit 1
fi
name="$NESTED_BIN_NAME"

src="${CARGO_TARGET_DIR:-target}/$target/release/${NESTED_CARGO_BIN:-terraform-provider-nested}$ext"
dest="target/$target/release/$name"
if [[ ! -f "$src" ]]; then
  echo "goreleaser-cargo.sh: cargo did not produce $src" >&2
  exit 1
fi
mkdir -p "$(dirname "$dest")"
# The same file when cargo's name is GoReleaser's and the target dir is ./target.
[[ "$src" -ef "$dest" ]] || cp "$src" "$dest"
