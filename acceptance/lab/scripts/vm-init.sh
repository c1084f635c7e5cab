#!/bin/sh
# A micro-VM's second step, still in the initramfs (busybox): the VM's root
# is a tmpfs with the ext4 /usr image (/dev/vda, read-only) mounted at /usr,
# merged-/usr links, a copy of the host's /etc and the lab (/opt/lab: the
# node-lab binaries, the scenarios, stage2.sh), all brought by the job's
# cpio archive (/job); then switch_root runs /opt/lab/stage2.sh.
set -u
fail() {
  echo "node-lab-vm: $*"
  dmesg | tail -n 30
  poweroff -f
}
mkdir -p /newroot
mount -t tmpfs -o mode=0755 tmpfs /newroot || fail "cannot mount the root tmpfs"
cd /newroot || fail "no /newroot"
mkdir -p usr proc sys dev run tmp var/tmp root opt home mnt
chmod 1777 tmp var/tmp
chmod 0700 root
for l in bin sbin lib lib64; do ln -s "usr/$l" "$l"; done
mount -t ext4 -o ro /dev/vda /newroot/usr || fail "cannot mount the /usr image (/dev/vda)"
cp -a /job/etc /newroot/etc || fail "cannot copy /etc"
cp -a /job/lab /newroot/opt/lab || fail "cannot copy the lab"
for m in proc sys dev; do mount --move "/$m" "/newroot/$m" || fail "cannot move /$m"; done
exec switch_root /newroot /bin/sh /opt/lab/stage2.sh
