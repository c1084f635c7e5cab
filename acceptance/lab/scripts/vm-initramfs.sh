#!/bin/sh
# A micro-VM's initramfs for one Debian kernel (a directory setup.sh filled:
# kernel.deb, vmlinuz, release): busybox-static, the kernel modules the lab
# needs with their dependencies (uncompressed, with a modules.dep so that
# busybox modprobe loads them) and a first /init that loads them and runs
# /job/init.sh, which a second cpio archive appended per boot brings.
# Modules: virtio PCI and block (the /usr image), overlay (the rootfs),
# veth, tun and the nf_tables/iptables-nft pieces of Boundary's steps (nat
# table, DNAT, REDIRECT, MASQUERADE). Debian's cloud kernels have no 9p.
# Cached: KERNEL_DIR/initramfs-KEY.cpio.gz, KEY from this script, the kernel
# package and busybox; older ones are removed.
# usage: vm-initramfs.sh KERNEL_DIR   (prints the initramfs's path)
set -eu
kdir=$1
MODULES="virtio_pci virtio_blk overlay veth tun nf_tables nft_compat nft_nat
nft_chain_nat nft_masq nft_redir nft_ct xt_nat xt_REDIRECT xt_MASQUERADE xt_tcpudp xt_conntrack"
busybox=/usr/bin/busybox
key=$( (cat "$0" "$kdir/package"; "$busybox" 2>&1 | head -n1) | sha256sum | cut -c1-16)
out=$kdir/initramfs-$key.cpio.gz
if [ -f "$out" ]; then
  echo "$out"
  exit 0
fi
exec 9>"$kdir/.initramfs.lock"
flock 9
if [ -f "$out" ]; then
  echo "$out"
  exit 0
fi
release=$(cat "$kdir/release")
tmp=$(mktemp -d "$kdir/.initramfs-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dpkg-deb --fsys-tarfile "$kdir/kernel.deb" | tar -x -C "$tmp" ./lib/modules
src=$tmp/lib/modules/$release
root=$tmp/root
mods=$root/lib/modules/$release
mkdir -p "$root/bin" "$root/etc" "$root/proc" "$root/sys" "$root/dev" "$mods"
cp "$busybox" "$root/bin/busybox"

# The module file of a name (modules.order lists every module built, as
# .ko; '-' and '_' are the same in module names).
path_of() {
  awk -v want="$1" '{ n = $0; sub(/.*\//, "", n); sub(/\.ko$/, "", n); gsub(/-/, "_", n)
                      if (n == want) { print; found = 1; exit } }
                    END { exit !found }' "$src/modules.order"
}
# Copies a module uncompressed; then its dependencies (modinfo `depends`).
add() {
  [ -e "$tmp/seen.$1" ] && return 0
  : >"$tmp/seen.$1"
  if awk -v want="$1" '{ n = $0; sub(/.*\//, "", n); sub(/\.ko$/, "", n); gsub(/-/, "_", n)
                         if (n == want) found = 1 } END { exit !found }' "$src/modules.builtin"; then
    return 0
  fi
  p=$(path_of "$1") || { echo "vm-initramfs.sh: no module $1 in $release" >&2; exit 1; }
  mkdir -p "$mods/$(dirname "$p")"
  if [ -f "$src/$p.xz" ]; then
    xz -dc "$src/$p.xz" >"$mods/$p"
  elif [ -f "$src/$p.zst" ]; then
    zstd -qdc "$src/$p.zst" >"$mods/$p"
  else
    cp "$src/$p" "$mods/$p"
  fi
  echo "$1" >>"$tmp/loaded"
  for d in $(tr '\000' '\n' <"$mods/$p" | sed -n 's/^depends=//p' | tr , ' '); do
    add "$(echo "$d" | tr - _)"
  done
}
for m in $MODULES; do add "$(echo "$m" | tr - _)"; done
"$busybox" depmod -b "$root" "$release"
# Only the modules asked for; modprobe brings their dependencies.
for m in $MODULES; do
  if grep -qx "$(echo "$m" | tr - _)" "$tmp/loaded"; then echo "$m"; fi
done >"$root/etc/modules"

cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Kernel messages stay in dmesg: the console carries the lab's output.
dmesg -n 1
modprobe -a $(cat /etc/modules) || echo "node-lab-vm: modprobe failed"
if [ ! -f /job/init.sh ]; then
  echo "node-lab-vm: no /job/init.sh in the initramfs"; poweroff -f
fi
exec sh /job/init.sh
INIT
chmod 0755 "$root/init"
(cd "$root" && find . | "$busybox" cpio -o -H newc 2>/dev/null) | gzip -1 >"$tmp/initramfs.cpio.gz"
rm -f "$kdir"/initramfs-*.cpio.gz
mv "$tmp/initramfs.cpio.gz" "$out"
echo "$out"
