#!/usr/bin/env bash
# The pod image's users and helpers, as the provider's image_needs say
# (schemas/capabilities.toml [[mode]] image_needs):
# - `user` (uid/gid 1000), the non-root agent, with a NOPASSWD sudo rule
#   (Boundary's re-exec through sudo + setpriv);
# - /etc/subuid and /etc/subgid ranges inside the pod's 65536 ids
#   (user:1:999 and user:1001:64535), for rootless podman;
# - newuidmap/newgidmap with file capabilities (cap_setuid / cap_setgid),
#   not Debian's setuid-root bit;
# - iptables with the nft backend.
# usage: image-users.sh ROOTFS
set -euo pipefail
R=$1
echo 'user:x:1000:1000:agent:/home/user:/bin/sh' >>"$R/etc/passwd"
echo 'user:x:1000:' >>"$R/etc/group"
echo 'user:!:20000::::::' >>"$R/etc/shadow"
mkdir -p "$R/home/user"
chown 1000:1000 "$R/home/user"
printf 'user:1:999\nuser:1001:64535\n' >"$R/etc/subuid"
cp "$R/etc/subuid" "$R/etc/subgid"
echo 'user ALL=(ALL) NOPASSWD: ALL' >"$R/etc/sudoers.d/agent"
chmod 0440 "$R/etc/sudoers.d/agent"
# Debian's setuid-root helpers, kept aside for the lab's check of what
# they need (PATH=/opt/setuid-helpers:…), and iptables with the legacy
# backend (PATH=/opt/iptables-legacy:…).
mkdir -p "$R/opt/setuid-helpers" "$R/opt/iptables-legacy"
cp -a "$R/usr/bin/newuidmap" "$R/usr/bin/newgidmap" "$R/opt/setuid-helpers/"
ln -s /usr/sbin/iptables-legacy "$R/opt/iptables-legacy/iptables"
chmod 0755 "$R/usr/bin/newuidmap" "$R/usr/bin/newgidmap"
chroot "$R" setcap cap_setuid=ep /usr/bin/newuidmap
chroot "$R" setcap cap_setgid=ep /usr/bin/newgidmap
chroot "$R" update-alternatives --quiet --set iptables /usr/sbin/iptables-nft
# podman's default storage and runtime for a rootless user, small and without
# a cgroup manager (no systemd in a pod).
mkdir -p "$R/etc/containers"
printf '[containers]\n\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' \
  >"$R/etc/containers/containers.conf"
printf '[storage]\ndriver = "vfs"\n' >"$R/etc/containers/storage.conf"
rm -rf "$R/var/cache/apt/archives"/*.deb "$R/var/lib/apt/lists"/*
