#!/bin/sh
# Rootless podman as the pod's (non-root) user: import the local busybox
# image (no registry), then run it with vfs storage, no network and no
# cgroups. It passes when the nested container runs as its uid 0.
# env: NODE_LAB_FCAPS     directory with file-capability newuidmap/newgidmap,
#                         put first in PATH (as Fedora and podman images ship them);
#                         unset: Debian's setuid-root ones in /usr/bin
#      NODE_LAB_PODMAN_RUN_ARGS  extra `podman run` arguments (e.g. --uts=host)
#      NODE_LAB_PODMAN_NETWORK   `default`: podman's own default network (pasta,
#                         which opens /dev/net/tun); unset: --network none
set -u
if [ -n "${NODE_LAB_FCAPS:-}" ]; then PATH=$NODE_LAB_FCAPS:$PATH; export PATH; fi
echo "user: $(id); NoNewPrivs: $(grep NoNewPrivs /proc/self/status | cut -f2); newuidmap: $(command -v newuidmap)"
echo "subuid: $(tr '\n' ' ' </etc/subuid)"
XDG_RUNTIME_DIR=/tmp/xdg-$(id -u); export XDG_RUNTIME_DIR
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
cd "$HOME" || exit 1
set -- podman --storage-driver vfs --cgroup-manager cgroupfs --events-backend file
"$@" import /lab/img/busybox.tar localhost/busybox >/dev/null || { echo "podman import failed"; exit 1; }
network=--network=none
[ "${NODE_LAB_PODMAN_NETWORK:-}" = default ] && network=
# shellcheck disable=SC2086
"$@" run --rm ${NODE_LAB_PODMAN_RUN_ARGS:-} $network --cgroups disabled localhost/busybox \
  sh -c 'echo "INNER: $(id)"; cat /proc/self/uid_map'
