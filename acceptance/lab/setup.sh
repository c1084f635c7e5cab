#!/usr/bin/env bash
# Installs what the node lab (acceptance/lab) needs on Debian bookworm.
# Idempotent: it installs only what is missing (apt-get update once, first,
# and only then), with --no-install-recommends (podman's Recommends would
# pull in systemd-sysv through dbus-user-session). moby's seccomp profile
# (containerd's RuntimeDefault) comes the light way: the one file out of
# golang-github-docker-docker-dev, downloaded with `apt-get download` into a
# cache outside the clone, unless that package is installed already.
# It never changes host sysctls or mounts.
#
# usage: bash acceptance/lab/setup.sh   (as root)
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
  echo "setup.sh: run as root (it installs Debian packages)" >&2
  exit 1
fi

# A file each package provides, for the packages the lab uses.
declare -A PROVIDES=(
  [crun]=/usr/bin/crun
  [bubblewrap]=/usr/bin/bwrap
  [podman]=/usr/bin/podman
  [conmon]=/usr/bin/conmon
  [catatonit]=/usr/bin/catatonit
  [uidmap]=/usr/bin/newuidmap
  [golang-github-containers-common]=/usr/share/containers/seccomp.json
  [fuse-overlayfs]=/usr/bin/fuse-overlayfs
  [slirp4netns]=/usr/bin/slirp4netns
  [sudo]=/usr/bin/sudo
  [nftables]=/usr/sbin/nft
  [iptables]=/usr/sbin/iptables-nft
  [libcap2-bin]=/usr/sbin/setcap
  [iproute2]=/usr/bin/ip
  [procps]=/usr/sbin/sysctl
  [util-linux]=/usr/bin/setpriv
)

missing=()
for pkg in "${!PROVIDES[@]}"; do
  [ -e "${PROVIDES[$pkg]}" ] || missing+=("$pkg")
done
[ -e /etc/containers/policy.json ] || missing+=(golang-github-containers-common)
# The image podman imports is busybox itself: it must be the static build.
if [ "$(dpkg-query -W -f='${Status}' busybox-static 2>/dev/null || true)" != "install ok installed" ]; then
  missing+=(busybox-static)
fi

MOBY_REL=usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json
MOBY_CACHE=${HOME:-/root}/.cache/terraform-provider-nested/lab/moby
need_moby=false
[ -f "/$MOBY_REL" ] || [ -f "$MOBY_CACHE/$MOBY_REL" ] || need_moby=true

if [ "${#missing[@]}" -eq 0 ] && [ "$need_moby" = false ]; then
  echo "node lab: everything is installed"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
if [ "${#missing[@]}" -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "node lab: installing ${missing[*]}"
  apt-get install -y --no-install-recommends "${missing[@]}"
fi

if [ "$need_moby" = true ]; then
  echo "node lab: fetching moby's seccomp profile into $MOBY_CACHE"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && apt-get -o APT::Sandbox::User=root download golang-github-docker-docker-dev)
  mkdir -p "$MOBY_CACHE"
  dpkg-deb --fsys-tarfile "$tmp"/golang-github-docker-docker-dev_*.deb |
    tar -x -C "$MOBY_CACHE" "./$MOBY_REL"
  [ -f "$MOBY_CACHE/$MOBY_REL" ] || { echo "setup.sh: $MOBY_REL not in the package" >&2; exit 1; }
fi
echo "node lab: ready"
