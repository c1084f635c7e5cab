#!/usr/bin/env bash
# Installs what the node lab (acceptance/lab) needs on Debian bookworm.
# Idempotent: it installs only what is missing (apt-get update once, first,
# and only then), with --no-install-recommends (podman's Recommends would
# pull in systemd-sysv through dbus-user-session). moby's seccomp profile
# (containerd's RuntimeDefault) comes the light way: the one file out of
# golang-github-docker-docker-dev, downloaded with `apt-get download` into a
# cache outside the clone, unless that package is installed already.
#
# The kernels test (tests/kernels.rs) boots Debian's cloud kernels 6.1
# (bookworm) and 6.12 (bookworm-backports) in QEMU micro-VMs. Their
# packages are fetched with `apt-get download` (never installed) into
# $HOME/.cache/terraform-provider-nested/lab/kernels/<series>/ (or
# $NODE_LAB_KERNELS/<series>/: kernel.deb, vmlinuz, config, release,
# package), once: a cached kernel is kept until that directory is removed.
# bookworm-backports is added as an apt source (Debian's archive keyring,
# the mirror host the machine already uses); nothing is pinned to it. QEMU
# comes from bookworm only if the machine's qemu-utils allows it (see below).
# Then cri/setup.sh fetches containerd 2.x, 1.7 and 1.6, runc and the CNI
# plugins (apt-get download through a private apt configuration, never
# installed) and builds the pod image with mmdebstrap, into
# $HOME/.cache/terraform-provider-nested/lab/cri.
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
  [runc]=/usr/sbin/runc
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
  [qemu-system-x86]=/usr/bin/qemu-system-x86_64
  [e2fsprogs]=/usr/sbin/mke2fs
  [xz-utils]=/usr/bin/xz
  [mmdebstrap]=/usr/bin/mmdebstrap
  [patchelf]=/usr/bin/patchelf
  [apparmor]=/usr/sbin/apparmor_parser
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

KERNELS=${NODE_LAB_KERNELS:-${HOME:-/root}/.cache/terraform-provider-nested/lab/kernels}
# The kernel series the kernels test boots.
SERIES=(6.1 6.12)
need_kernels=()
for series in "${SERIES[@]}"; do
  [ -f "$KERNELS/$series/release" ] || need_kernels+=("$series")
done

# The real runtime (containerd's CRI, runc, CNI plugins, the pod image):
# fetched and built into a cache by cri/setup.sh, which keeps what it has.
cri_setup() {
  bash "$(dirname "${BASH_SOURCE[0]}")/cri/setup.sh"
}

if [ "${#missing[@]}" -eq 0 ] && [ "$need_moby" = false ] && [ "${#need_kernels[@]}" -eq 0 ]; then
  echo "node lab: everything is installed"
  cri_setup
  exit 0
fi

# Adds bookworm-backports (the 6.12 kernel; QEMU on some images, below)
# from the Debian mirror this machine's sources already use.
backports_source() {
  if grep -rqsE '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    return 0
  fi
  local mirror
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
    grep -E '^[[:space:]]*(URIs:|deb )' | grep -oE 'https?://[^ ]+/debian/?([[:space:]]|$)' |
    head -n1 | tr -d '[:space:]' || true)
  mirror=${mirror%/}
  : "${mirror:=http://deb.debian.org/debian}"
  echo "node lab: adding bookworm-backports from $mirror"
  printf '%s\n' 'Types: deb' "URIs: $mirror" 'Suites: bookworm-backports' 'Components: main' \
    'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' \
    >/etc/apt/sources.list.d/terraform-provider-nested-backports.sources
}

qemu=false
rest=()
for pkg in "${missing[@]}"; do
  if [ "$pkg" = qemu-system-x86 ]; then qemu=true; else rest+=("$pkg"); fi
done
export DEBIAN_FRONTEND=noninteractive
if [ "$qemu" = true ] || [ "${#need_kernels[@]}" -gt 0 ]; then
  backports_source
fi
apt-get update
if [ "${#rest[@]}" -gt 0 ]; then
  mapfile -t rest < <(printf '%s\n' "${rest[@]}" | sort -u)
  echo "node lab: installing ${rest[*]}"
  apt-get install -y --no-install-recommends "${rest[@]}"
fi
if [ "$qemu" = true ]; then
  # bookworm's qemu-system-x86 (7.2) Breaks a qemu-utils >= 8, which some
  # machine images carry from bookworm-backports: then QEMU comes from
  # bookworm-backports too, for this one install (nothing is pinned).
  from=()
  utils=$(dpkg-query -W -f='${Status} ${Version}' qemu-utils 2>/dev/null || true)
  if [ "${utils% *}" = "install ok installed" ] && dpkg --compare-versions "${utils##* }" ge 1:8.0; then
    from=(-t bookworm-backports)
  fi
  echo "node lab: installing qemu-system-x86 ${from[*]}"
  apt-get install -y --no-install-recommends "${from[@]}" qemu-system-x86
fi

if [ "$need_moby" = true ]; then
  echo "node lab: fetching moby's seccomp profile into $MOBY_CACHE"
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get -o APT::Sandbox::User=root download golang-github-docker-docker-dev)
  mkdir -p "$MOBY_CACHE"
  dpkg-deb --fsys-tarfile "$tmp"/golang-github-docker-docker-dev_*.deb |
    tar -x -C "$MOBY_CACHE" "./$MOBY_REL"
  rm -rf "$tmp"
  [ -f "$MOBY_CACHE/$MOBY_REL" ] || { echo "setup.sh: $MOBY_REL not in the package" >&2; exit 1; }
fi

# The newest linux-image-<series>.*-cloud-amd64 that the metapackage
# linux-image-cloud-amd64 depends on, in any configured suite.
kernel_package() {
  apt-cache show linux-image-cloud-amd64 |
    awk -v want="linux-image-$1." '
      /^Version:/ { v = $2 }
      /^Depends:/ { n = split($0, d, /[ ,]+/)
                    for (i = 2; i <= n; i++) if (index(d[i], want) == 1) print v, d[i] }' |
    sort -V | tail -n1 | cut -d' ' -f2
}
for series in "${need_kernels[@]}"; do
  pkg=$(kernel_package "$series")
  if [ -z "$pkg" ]; then
    echo "setup.sh: no Debian cloud kernel $series in the apt sources (6.1: bookworm, 6.12: bookworm-backports)" >&2
    exit 1
  fi
  echo "node lab: fetching $pkg into $KERNELS/$series"
  mkdir -p "$KERNELS"
  tmp=$(mktemp -d "$KERNELS/.fetch-XXXXXX")
  (cd "$tmp" && apt-get -o APT::Sandbox::User=root download "$pkg")
  mv "$tmp"/*.deb "$tmp/kernel.deb"
  dpkg-deb --fsys-tarfile "$tmp/kernel.deb" | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*' './boot/config-*'
  release=$(basename "$tmp"/boot/vmlinuz-*)
  release=${release#vmlinuz-}
  mv "$tmp/boot/vmlinuz-$release" "$tmp/vmlinuz"
  mv "$tmp/boot/config-$release" "$tmp/config"
  rmdir "$tmp/boot"
  dpkg-deb -f "$tmp/kernel.deb" Package Version >"$tmp/package"
  echo "$release" >"$tmp/release"
  rm -rf "${KERNELS:?}/$series"
  mv "$tmp" "$KERNELS/$series"
done
cri_setup
echo "node lab: ready"
