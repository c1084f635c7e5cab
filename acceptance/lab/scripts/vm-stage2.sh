#!/bin/sh
# A micro-VM's last step, PID 1 of its real root: the mounts a node has
# (devpts, /dev/shm, cgroup2, securityfs), loopback up, the job's AppArmor
# profiles loaded, then `node-lab
# batch` runs the scenarios, printing one NODE-LAB-* line each on the
# console, and the VM powers off.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TMPDIR=/tmp NODE_LAB_MOBY_PROFILE=/opt/lab/moby.json
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev shm /dev/shm
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
mount -t securityfs securityfs /sys/kernel/security
busybox hostname node
ip link set lo up
# AppArmor profiles the job brings, loaded as containerd loads its default
# profile (contrib/apparmor: apparmor_parser -Kr FILE).
for p in /opt/lab/apparmor/*; do
  [ -f "$p" ] || continue
  out=$(apparmor_parser -Kr "$p" 2>&1)
  rc=$?
  echo "NODE-LAB-APPARMOR $(basename "$p") rc=$rc $(echo "$out" | tr '\n' ' ')"
done
echo "NODE-LAB-BEGIN $(cat /proc/uptime)"
/opt/lab/bin/node-lab batch /opt/lab/scenarios.json
echo "NODE-LAB-END rc=$? $(cat /proc/uptime)"
sync
busybox poweroff -f
