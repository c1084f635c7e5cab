#!/bin/sh
# The micro-VMs' /usr: an ext4 image (ext4 supports idmapped mounts on
# every kernel the lab boots, as a node's image filesystem does) holding the
# files of the Debian packages the lab's containers and workloads use, plus
# every shared library those files load (ldd). The VM mounts it read-only
# at /usr; the pod containers bind it with `idmap` as on the host.
# Cached: CACHE/usr-KEY.img, KEY from this script and /var/lib/dpkg/status
# (so any package change rebuilds it); older images are removed.
# usage: vm-usr.sh CACHE   (prints the image's path)
set -eu
cache=$1
PKGS="crun bubblewrap podman conmon catatonit uidmap golang-github-containers-common sudo
util-linux mount iptables iproute2 procps libcap2-bin busybox-static coreutils tar dash bash grep
sed findutils libc6 libgcc-s1 libpam-modules libpam-modules-bin libpam-runtime libpam0g libxtables12
apparmor"
key=$(cat "$0" /var/lib/dpkg/status | sha256sum | cut -c1-16)
img=$cache/usr-$key.img
if [ -f "$img" ]; then
  echo "$img"
  exit 0
fi
mkdir -p "$cache"
# One builder at a time (the kernels test boots its VMs in parallel).
exec 9>"$cache/.usr.lock"
flock 9
if [ -f "$img" ]; then
  echo "$img"
  exit 0
fi
tmp=$(mktemp -d "$cache/.usr-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# Paths below /usr only (merged /usr: /bin, /sbin, /lib and /lib64 are
# links into /usr), no documentation.
canon() {
  sed -E 's#^/(bin|sbin|lib|lib64)/#/usr/\1/#' | grep -E '^/usr/' |
    grep -vE '^/usr/share/(doc|man|info|locale|lintian|bash-completion|zsh|fish)(/|$)' |
    while read -r p; do if [ -e "$p" ] || [ -L "$p" ]; then echo "$p"; fi; done
}
# shellcheck disable=SC2086
dpkg -L $PKGS | canon | sort -u >"$tmp/files"
# Shared libraries of every ELF program and library (ldd resolves them
# transitively): the name ldd gives and the file it points to.
grep -E '/(s?bin|libexec)/|\.so(\.|$)' "$tmp/files" | while read -r f; do
  if [ -f "$f" ] && [ ! -L "$f" ]; then ldd "$f" 2>/dev/null || true; fi
done | grep -oE '=> /[^ ]+|^[[:space:]]+/[^ ]+' | sed -E 's#^(=> |[[:space:]]+)##' | sort -u |
  while read -r lib; do echo "$lib"; readlink -f "$lib"; done | canon >>"$tmp/files"
# Links update-alternatives made (iptables → /etc/alternatives/iptables →
# iptables-nft; the VM's /etc is the host's), for programs in the image.
find /usr/bin /usr/sbin -maxdepth 1 -lname '/etc/alternatives/*' | while read -r l; do
  if grep -qxF "$(readlink -f "$l")" "$tmp/files"; then echo "$l"; fi
done >>"$tmp/files"
sort -u "$tmp/files" -o "$tmp/files"
mkdir "$tmp/root"
sed 's#^/##' "$tmp/files" | tar -C / --no-recursion --xattrs --xattrs-include='*' -cf - -T - |
  tar -C "$tmp/root" --xattrs --xattrs-include='*' -xpf -
kb=$(du -sk "$tmp/root/usr" | cut -f1)
mke2fs -q -F -t ext4 -O ^has_journal -m 0 -L lab-usr -E root_owner=0:0 -d "$tmp/root/usr" \
  "$tmp/usr.img" "$((kb + kb / 5 + 16384))k" >&2
rm -f "$cache"/usr-*.img
mv "$tmp/usr.img" "$img"
echo "$img"
