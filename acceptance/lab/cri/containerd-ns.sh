# Runs inside `unshare --mount --net --propagation private`: containerd's
# hard-coded /run/containerd and /var/lib/cni on tmpfs seen only here, the
# loopback up, then containerd itself (same PID: `kill` stops it).
# args: CONTAINERD CONFIG [TUN]  (TUN: a device node bound over /dev/net/tun)
set -e
ip link set lo up
mount -t tmpfs -o mode=755,size=64m lab-run /run
mkdir -p /run/containerd
mount -t tmpfs -o mode=755,size=16m lab-var /var
ln -s /run /var/run
if [ -n "${3:-}" ]; then mount --bind "$3" /dev/net/tun; fi
mkdir -p /var/lib/cni /var/tmp /var/log
exec "$1" --config "$2" --log-level info
