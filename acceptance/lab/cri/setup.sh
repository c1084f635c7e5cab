#!/usr/bin/env bash
# The node lab's real container runtime: containerd with its CRI plugin, as
# the nodes run it, in the versions the nodes run (2.x, 1.7) and 1.6 for
# the claim that it ignores `hostUsers: false`. Nothing is installed over
# the system's packages: Debian's packages are fetched with `apt-get
# download` through a private apt configuration (suites bookworm, trixie,
# sid) and unpacked with `dpkg -x` into the cache directory
#   ${NODE_LAB_CRI:-$HOME/.cache/terraform-provider-nested/lab/cri}
# which then holds
#   containerd/<series>/{containerd,containerd-shim-runc-v2,ctr}
#                        series 2 (sid: whichever 2.x it has), 1.7 (trixie),
#                        1.6 (bookworm)
#   runc/runc            sid's runc, with sid's libc beside it (patchelf:
#                        sid's build needs glibc >= 2.38, bookworm has 2.36)
#   cni/{bridge,host-local,loopback}
#   images/nested.oci.tar   the pod image (Debian trixie by mmdebstrap)
#   images/pause.oci.tar    a static pause process
#   versions.env         what was fetched (package versions)
# Each part is rebuilt only when missing. Needs root (mmdebstrap --mode=root),
# and mmdebstrap + patchelf from bookworm (acceptance/lab/setup.sh installs
# both before calling this).
#
# usage: bash acceptance/lab/cri/setup.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
C=${NODE_LAB_CRI:-${HOME:-/root}/.cache/terraform-provider-nested/lab/cri}
mkdir -p "$C"
cd "$C"

# The packages, by suite: containerd per series; runc, CNI plugins and
# sid's libc (for runc) from sid.
declare -A CONTAINERD_SUITE=([2]=sid [1.7]=trixie [1.6]=bookworm)

APT=(-o "Dir::Etc::SourceList=$C/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$C/apt/lists" -o "Dir::Cache=$C/apt/cache"
  -o "Dir::State::Status=$C/apt/status" -o APT::Sandbox::User=root
  -o Acquire::Languages=none)

apt_ready=false
apt_lists() {
  [ "$apt_ready" = true ] && return 0
  mkdir -p apt/lists/partial apt/cache/archives/partial
  : >apt/status
  printf 'deb http://deb.debian.org/debian %s main\n' bookworm trixie sid >apt/sources.list
  apt-get "${APT[@]}" update -qq
  apt_ready=true
}

# download PKG/SUITE into debs/ (once) and echo the file name.
download() {
  local spec=$1
  mkdir -p debs
  local name=${spec%/*} suite=${spec#*/}
  local have
  have=$(ls debs/"${name}"_*."${suite}".deb 2>/dev/null | head -n1 || true)
  if [ -n "$have" ]; then
    echo "$have"
    return 0
  fi
  apt_lists
  local tmp
  tmp=$(mktemp -d "$C/.dl-XXXXXX")
  (cd "$tmp" && apt-get "${APT[@]}" download -qq "$spec" >/dev/null)
  local deb
  deb=$(ls "$tmp"/*.deb)
  mv "$deb" "debs/$(basename "${deb%.deb}").${suite}.deb"
  rmdir "$tmp"
  ls debs/"${name}"_*."${suite}".deb
}

version_of() { dpkg-deb -f "$1" Version; }

record() {
  local key=$1 value=$2
  touch versions.env
  grep -v "^$key=" versions.env >versions.env.new || true
  echo "$key=$value" >>versions.env.new
  sort versions.env.new >versions.env
  rm -f versions.env.new
}

# containerd, per series.
for series in "${!CONTAINERD_SUITE[@]}"; do
  dir=containerd/$series
  [ -x "$dir/containerd" ] && continue
  deb=$(download "containerd/${CONTAINERD_SUITE[$series]}")
  case "$(version_of "$deb")" in
    "$series".*) ;;
    *) echo "setup.sh: ${CONTAINERD_SUITE[$series]}'s containerd is $(version_of "$deb"), not $series.x" >&2; exit 1 ;;
  esac
  rm -rf "$dir.x" && mkdir -p "$dir.x"
  dpkg -x "$deb" "$dir.x"
  mkdir -p "$dir"
  for b in containerd containerd-shim-runc-v2 ctr; do
    cp "$dir.x/usr/bin/$b" "$dir/$b"
  done
  rm -rf "$dir.x"
  record "containerd_$series" "$(version_of "$deb")"
  echo "node lab (cri): containerd $series = $(version_of "$deb")"
done

# runc from sid with sid's libc (and the libraries runc links) beside it.
if [ ! -x runc/runc ]; then
  rm -rf runc.x && mkdir -p runc.x
  for p in runc/sid libc6/sid libseccomp2/sid; do
    dpkg -x "$(download "$p")" runc.x
  done
  mkdir -p runc/lib
  cp -a runc.x/usr/lib/x86_64-linux-gnu/. runc/lib/
  cp runc.x/usr/sbin/runc runc/runc.bin
  patchelf --set-interpreter "$C/runc/lib/ld-linux-x86-64.so.2" --force-rpath \
    --set-rpath "$C/runc/lib" runc/runc.bin
  mv runc/runc.bin runc/runc
  rm -rf runc.x
  record runc "$(version_of "$(download runc/sid)")"
  echo "node lab (cri): runc = $(runc/runc --version | head -n1)"
fi

# CNI plugins (bridge + host-local: the kernel here has no dummy link, and
# a pod needs an interface for the CRI to report an IP).
if [ ! -x cni/bridge ]; then
  deb=$(download containernetworking-plugins/sid)
  rm -rf cni.x && mkdir -p cni.x cni
  dpkg -x "$deb" cni.x
  for b in bridge host-local loopback; do cp "cni.x/usr/lib/cni/$b" "cni/$b"; done
  rm -rf cni.x
  record cni_plugins "$(version_of "$deb")"
fi

mkdir -p images
# The pause image: a static process that waits for signals and reaps.
if [ ! -s images/pause.oci.tar ]; then
  rm -rf pause.x && mkdir -p pause.x/rootfs
  gcc -O2 -static -o pause.x/rootfs/pause "$here/pause.c"
  python3 "$here/mkoci.py" --name localhost/pause:lab --rootfs pause.x/rootfs \
    --out images/pause.oci.tar --entrypoint /pause
  rm -rf pause.x
fi

# The pod image: Debian trixie with what the provider's image_needs say
# (schemas/capabilities.toml [[mode]] image_needs) for every sandbox.
IMAGE_PACKAGES=bubblewrap,uidmap,podman,crun,conmon,fuse-overlayfs,passt,catatonit,procps,iproute2,libcap2-bin,busybox-static,sudo,iptables,nftables,ca-certificates
# Rebuilt when the package list or the image's users script changes.
IMAGE_KEY="$IMAGE_PACKAGES $(sha256sum "$here/image-users.sh" | cut -d' ' -f1)"
if [ ! -s images/nested.oci.tar ] || [ "$(cat images/nested.packages 2>/dev/null)" != "$IMAGE_KEY" ]; then
  rm -rf image.x && mkdir -p image.x
  unshare --mount --propagation private mmdebstrap --quiet --mode=root --variant=apt \
    --include="$IMAGE_PACKAGES" --aptopt='APT::Install-Recommends "false"' \
    trixie image.x/rootfs http://deb.debian.org/debian
  bash "$here/image-users.sh" image.x/rootfs
  python3 "$here/mkoci.py" --name localhost/nested:lab --rootfs image.x/rootfs \
    --out images/nested.oci.tar --cmd sleep,infinity
  chroot image.x/rootfs dpkg-query -W -f '${Package}=${Version}\n' \
    bubblewrap podman crun passt uidmap iptables sudo util-linux libc6 >images/nested.versions
  echo "$IMAGE_KEY" >images/nested.packages
  rm -rf image.x
fi
echo "node lab (cri): ready in $C ($(du -sh "$C" | cut -f1))"
