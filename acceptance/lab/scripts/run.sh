#!/bin/sh
# The node lab's run wrapper. The lab starts it as
#   unshare --mount --propagation private -- /bin/sh run.sh BUNDLE CRUN STATE ID LOWER [MAX_USER_NAMESPACES]
# In this private mount namespace only, the host's (hybrid) cgroup tree is
# replaced by a cgroup2 mount, which crun needs (the host's /sys/fs/cgroup is
# never touched), BUNDLE/rootfs becomes an overlay of the lab's base layer
# LOWER and the run's BUNDLE/upper, as containerd's snapshotter does, and
# BUNDLE/token (when the lab created it) a tmpfs with the token files, as
# the kubelet's projected token volume is. With MAX_USER_NAMESPACES, crun
# runs as root of an outer user namespace whose user.max_user_namespaces is
# that value (outer-userns.sh): this emulates the node sysctl without
# writing the host's.
set -u
bundle=$1 crun=$2 state=$3 id=$4 lower=$5 outer=${6:-}
umount -R /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup || {
  echo "node-lab: cannot mount cgroup2 on /sys/fs/cgroup in the private mount namespace" >&2
  exit 125
}
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$bundle/upper,workdir=$bundle/work" "$bundle/rootfs" || {
  echo "node-lab: cannot mount the rootfs overlay" >&2
  exit 125
}
# The pod's service-account token volume, as the kubelet makes it: a tmpfs.
if [ -d "$bundle/token" ]; then
  mount -t tmpfs -o mode=0755,size=1m tmpfs "$bundle/token" &&
    printf 'lab-token\n' >"$bundle/token/token" &&
    printf 'lab-ca\n' >"$bundle/token/ca.crt" &&
    printf 'default\n' >"$bundle/token/namespace" &&
    chmod 0644 "$bundle/token/token" "$bundle/token/ca.crt" "$bundle/token/namespace" || {
    echo "node-lab: cannot mount the token volume's tmpfs" >&2
    exit 125
  }
fi
cd "$bundle" || exit 125
if [ -n "$outer" ]; then
  # The cgroup fix must come first: inside the outer namespace the inherited
  # mounts are locked.
  exec unshare --user --mount --cgroup --propagation private -- \
    /bin/sh "$(dirname "$0")/outer-userns.sh" "$outer" "$crun" --root "$state" --cgroup-manager=disabled run "$id"
fi
exec "$crun" --root "$state" --cgroup-manager=disabled run "$id" </dev/null
