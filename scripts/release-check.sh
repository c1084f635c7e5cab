#!/usr/bin/env bash
# Assemble, locally and without publishing, the release assets that
# .goreleaser.yml produces, for the host platform only, and verify them:
#
#   dist/terraform-provider-nested_<version>_<os>_<arch>.zip
#       containing only terraform-provider-nested_v<version>
#   dist/terraform-provider-nested_<version>_manifest.json
#   dist/terraform-provider-nested_<version>_SHA256SUMS  (the zip + the manifest)
#   dist/terraform-provider-nested_<version>_SHA256SUMS.sig  (only with GPG_FINGERPRINT)
#
# and the probe image of the release's dockers_v2 section for the host
# platform, tagged as the release tags it and as the provider's default
# probe_image names it (scripts/probe-image.sh, podman or buildah):
#
#   ghcr.io/nested-sandbox/nested-probe:<version>  in the local image store
#   dist/nested-probe_<version>_linux_<arch>.oci.tar  the same image, OCI archive
#       (not a Registry asset and not in SHA256SUMS: the release pushes the
#       image to ghcr.io)
#
# <version> is the workspace version in Cargo.toml. Environment:
#   PROVIDER_BIN    use this binary instead of building one with
#                   `cargo build --release -p terraform-provider-nested`
#   PROBE_BIN       use this static nested-probe instead of building one
#                   (`make probe-image` leaves it in
#                   <target>/<host triple>/release/nested-probe)
#   DIST            output directory (default: dist)
#   GPG_FINGERPRINT sign SHA256SUMS with this key (binary detached
#                   signature, as the Registry wants); unset: no signature
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

NAME=terraform-provider-nested
DIST="${DIST:-dist}"

die() {
  echo "release-check: $*" >&2
  exit 1
}

for tool in python3 zip unzip sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is required"
done

VERSION="$(python3 -c 'import tomllib; print(tomllib.load(open("Cargo.toml", "rb"))["workspace"]["package"]["version"])')"
[[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || die "Cargo.toml version $VERSION is not SemVer"

case "$(uname -s)" in
  Linux) OS=linux ;;
  Darwin) OS=darwin ;;
  *) die "unsupported OS $(uname -s)" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) ARCH=amd64 ;;
  aarch64 | arm64) ARCH=arm64 ;;
  *) die "unsupported architecture $(uname -m)" ;;
esac

if [[ -z "${PROVIDER_BIN:-}" ]]; then
  cargo build --release --locked -p "$NAME"
  PROVIDER_BIN="${CARGO_TARGET_DIR:-target}/release/$NAME"
fi
[[ -x "$PROVIDER_BIN" ]] || die "$PROVIDER_BIN is not an executable"

ZIP="${NAME}_${VERSION}_${OS}_${ARCH}.zip"
MANIFEST="${NAME}_${VERSION}_manifest.json"
SUMS="${NAME}_${VERSION}_SHA256SUMS"
BINARY="${NAME}_v${VERSION}"

# The binary must be the version the assets are named after.
reported="$("$PROVIDER_BIN" --version)"
[[ "$reported" == "$NAME $VERSION" ]] || die "$PROVIDER_BIN reports '$reported', expected '$NAME $VERSION'"

mkdir -p "$DIST"
rm -f "$DIST/$ZIP" "$DIST/$MANIFEST" "$DIST/$SUMS" "$DIST/$SUMS.sig"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT

# Archive: the binary alone, under the Registry's name.
install -m 0755 "$PROVIDER_BIN" "$stage/$BINARY"
(cd "$stage" && zip -q -X "$ZIP" "$BINARY")
mv "$stage/$ZIP" "$DIST/$ZIP"

# Manifest, renamed; it must say protocol 6.
python3 - terraform-registry-manifest.json <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
assert m == {"version": 1, "metadata": {"protocol_versions": ["6.0"]}}, m
EOF
cp terraform-registry-manifest.json "$DIST/$MANIFEST"

# Checksums of every zip of this version and of the manifest.
(cd "$DIST" && sha256sum "${NAME}_${VERSION}"_*.zip "$MANIFEST" >"$SUMS")

if [[ -n "${GPG_FINGERPRINT:-}" ]]; then
  gpg --batch --yes --local-user "$GPG_FINGERPRINT" --output "$DIST/$SUMS.sig" --detach-sign "$DIST/$SUMS"
  gpg --batch --verify "$DIST/$SUMS.sig" "$DIST/$SUMS"
else
  echo "release-check: GPG_FINGERPRINT not set, $SUMS.sig not written"
fi

# Verify what was written.
entries="$(unzip -Z1 "$DIST/$ZIP")"
[[ "$entries" == "$BINARY" ]] || die "$ZIP holds '$entries', expected only $BINARY"
unzip -l "$DIST/$ZIP"
(cd "$DIST" && sha256sum -c "$SUMS")
grep -q "  $MANIFEST\$" "$DIST/$SUMS" || die "$SUMS does not list $MANIFEST"
unzip -q -o "$DIST/$ZIP" -d "$stage/unzipped"
[[ "$("$stage/unzipped/$BINARY" --version)" == "$NAME $VERSION" ]] || die "the zipped binary does not run"

# The probe image, as the release's dockers_v2 section names it.
IMAGE_ARCHIVE="$DIST/nested-probe_${VERSION}_${OS}_${ARCH}.oci.tar"
rm -f "$IMAGE_ARCHIVE"
PROBE_IMAGE=ghcr.io/nested-sandbox/nested-probe PROBE_IMAGE_ARCHIVE="$IMAGE_ARCHIVE" \
  bash scripts/probe-image.sh

echo "release-check: assets in $DIST/:"
(cd "$DIST" && ls -1 "${NAME}_${VERSION}"_*)
echo "release-check: image ghcr.io/nested-sandbox/nested-probe:$VERSION ($OS/$ARCH), in $IMAGE_ARCHIVE"
