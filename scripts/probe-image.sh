#!/usr/bin/env bash
# Build the nested-probe image locally, the way the release builds it
# (.goreleaser.yml, dockers_v2): probe/Containerfile over a build context
# that holds <os>/<arch>/nested-probe, here for the host platform only, with
# Debian's podman (or buildah); no Docker engine needed.
#
#   localhost/nested-probe:<version>   <version> = Cargo.toml's workspace version,
#                                     the tag the provider's default probe_image uses
#   <target>/probe-image/nested-probe_<version>_linux_<arch>.oci.tar
#                                     the same image as an OCI archive (what the
#                                     tests load into a rootless podman, and what
#                                     `make bench` measures)
#
# Then it checks what it built: the image's only file is /nested-probe, a
# static executable, and it prints the image's size.
#
# Environment:
#   PROBE_BIN    use this static nested-probe instead of `make probe-static`'s
#   PROBE_IMAGE  image name (default: localhost/nested-probe)
#   PODMAN       podman or buildah (default: podman if installed, else buildah)
#   PROBE_IMAGE_ARCHIVE  where to write the OCI archive (default above;
#                <target> is $CARGO_TARGET_DIR, else target)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() {
  echo "probe-image: $*" >&2
  exit 1
}

VERSION="$(python3 -c 'import tomllib; print(tomllib.load(open("Cargo.toml", "rb"))["workspace"]["package"]["version"])')"
IMAGE="${PROBE_IMAGE:-localhost/nested-probe}:$VERSION"

case "$(uname -m)" in
  x86_64 | amd64) ARCH=amd64 TRIPLE=x86_64-unknown-linux-gnu ;;
  aarch64 | arm64) ARCH=arm64 TRIPLE=aarch64-unknown-linux-gnu ;;
  *) die "unsupported architecture $(uname -m)" ;;
esac
PLATFORM="linux/$ARCH"

if [[ -z "${PODMAN:-}" ]]; then
  if command -v podman >/dev/null; then
    PODMAN=podman
  elif command -v buildah >/dev/null; then
    PODMAN=buildah
  else
    die "neither podman nor buildah is installed (apt-get install podman)"
  fi
fi

if [[ -z "${PROBE_BIN:-}" ]]; then
  RUSTFLAGS='-C target-feature=+crt-static' cargo build -p nested-probe --release --locked --target "$TRIPLE"
  PROBE_BIN="${CARGO_TARGET_DIR:-target}/$TRIPLE/release/nested-probe"
fi
[[ -x "$PROBE_BIN" ]] || die "$PROBE_BIN is not an executable"
# FROM scratch: the binary must not need a dynamic loader or libraries.
if readelf -l "$PROBE_BIN" | grep -q 'INTERP'; then
  die "$PROBE_BIN is dynamically linked (build it with make probe-static)"
fi
reported="$("$PROBE_BIN" --version)"
[[ "$reported" == "nested-probe $VERSION" ]] || die "$PROBE_BIN reports '$reported', expected 'nested-probe $VERSION'"

# The build context GoReleaser's dockers_v2 lays out: <os>/<arch>/<binary>.
context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
install -D -m 0755 "$PROBE_BIN" "$context/$PLATFORM/nested-probe"

# TARGETPLATFORM is given explicitly: older podman/buildah set it only
# when --platform names a platform other than the host's.
case "$PODMAN" in
  *buildah) build=(bud) ;;
  *) build=(build) ;;
esac
"$PODMAN" "${build[@]}" --platform "$PLATFORM" --build-arg "TARGETPLATFORM=$PLATFORM" \
  --label "org.opencontainers.image.version=$VERSION" \
  -f probe/Containerfile -t "$IMAGE" "$context"

ARCHIVE="${PROBE_IMAGE_ARCHIVE:-${CARGO_TARGET_DIR:-target}/probe-image/nested-probe_${VERSION}_linux_${ARCH}.oci.tar}"
mkdir -p "$(dirname "$ARCHIVE")"
rm -f "$ARCHIVE"
"$PODMAN" push --quiet "$IMAGE" "oci-archive:$ARCHIVE:$IMAGE" >/dev/null
# What the image holds, read back from the archive: the probe, only.
held="$(python3 scripts/oci_image.py "$ARCHIVE" --only nested-probe --entrypoint /nested-probe)"
echo "probe-image: $held"
echo "probe-image: built $IMAGE ($PLATFORM)"
echo "probe-image: OCI archive $ARCHIVE ($(stat -c %s "$ARCHIVE") bytes)"
