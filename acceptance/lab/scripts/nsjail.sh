#!/bin/sh
# Coder Boundary's "nsjail" jail, step by step (coder/boundary:
# privilege/privilege_linux.go, nsjail_manager/manager.go and child.go,
# nsjail/networking_host.go). It passes when the proxy listening in the pod's
# network namespace receives the connection the jailed target makes.
# usage: nsjail.sh userns|no-userns   (no-userns = --no-user-namespace)
set -u
mode=${1:-userns}
here=$(dirname "$0")
PORT=8080
say() { echo "[boundary uid $(id -u)] $*"; }
step() { n=$1; shift; "$@" || { say "FAIL step $n: $*"; exit "$n"; }; }

# Privilege step: a non-root agent re-executes itself through sudo + setpriv
# (BOUNDARY_PRIV_ESCALATED=1 stops the recursion); root does not.
if [ "$(id -u)" != 0 ] && [ "${BOUNDARY_PRIV_ESCALATED:-}" != 1 ]; then
  say "re-exec: sudo -E env PATH=\$PATH setpriv --reuid $(id -u) --regid $(id -g) --clear-groups --inh-caps +net_admin,+sys_admin --ambient-caps +net_admin,+sys_admin $0 $*"
  BOUNDARY_PRIV_ESCALATED=1; export BOUNDARY_PRIV_ESCALATED
  exec sudo -E env PATH="$PATH" setpriv --reuid "$(id -u)" --regid "$(id -g)" --clear-groups \
    --inh-caps +net_admin,+sys_admin --ambient-caps +net_admin,+sys_admin "$0" "$@"
fi
say "$(grep -E '^Cap(Eff|Amb)' /proc/self/status | tr '\t\n' '  ')"

ID=$(( $(date +%s%N) % 10000000 ))
H=veth_h_$ID
N=veth_n_$ID
# Host (pod) network namespace.
step 1 ip link add "$H" type veth peer name "$N"
step 2 ip addr add 192.168.100.1/24 dev "$H"
step 3 ip link set "$H" up
# Boundary ignores a failing write from v0.8.2 (coder/boundary#180); before,
# the step was fatal: NODE_LAB_BOUNDARY_BEFORE_0_8_2=1 re-enacts that.
if [ "${NODE_LAB_BOUNDARY_BEFORE_0_8_2:-}" = 1 ]; then
  step 4 sysctl -w net.ipv4.ip_forward=1
else
  sysctl -w net.ipv4.ip_forward=1 >/dev/null 2>&1 || say "step 4: sysctl -w net.ipv4.ip_forward=1 failed (ignored, as Boundary does from v0.8.2)"
fi
step 5 iptables -t nat -A POSTROUTING -s 192.168.100.0/24 -j MASQUERADE
step 6 iptables -t nat -A PREROUTING -i "$H" -p tcp -j REDIRECT --to-ports "$PORT"
step 7 iptables -A FORWARD -s 192.168.100.0/24 -j ACCEPT
step 8 iptables -A FORWARD -d 192.168.100.0/24 -j ACCEPT
# Step 9: the proxy, then 100 ms.
rm -f /tmp/proxy.ready
/lab/bin/lab-proxy "$PORT" /tmp/proxy.ready >/tmp/proxy.log 2>&1 &
PX=$!
i=0
until [ -e /tmp/proxy.ready ]; do
  i=$((i + 1)); [ "$i" -gt 200 ] && { say "FAIL step 9: the proxy did not start: $(cat /tmp/proxy.log)"; exit 9; }
  sleep 0.02
done
sleep 0.1
# Steps 10-11: the child, in a new network namespace (+ a user namespace
# with a 1:1 map of our uid and gid; --map-group writes setgroups "deny"
# first, as Go does), ambient NET_ADMIN.
CHILD=true VETH_JAIL_NAME=$N; export CHILD VETH_JAIL_NAME
if [ "$mode" = userns ]; then
  unshare --user --net --map-user="$(id -u)" --map-group="$(id -g)" --keep-caps -- \
    setpriv --inh-caps -all,+net_admin --ambient-caps -all,+net_admin -- /bin/sh "$here/nsjail-child.sh" &
else
  unshare --net -- /bin/sh "$here/nsjail-child.sh" &
fi
C=$!
# Go's cmd.Start() returns once the child's namespaces exist; wait for that.
i=0
while [ "$(readlink /proc/$C/ns/net 2>/dev/null)" = "$(readlink /proc/self/ns/net)" ]; do
  kill -0 "$C" 2>/dev/null || break
  i=$((i + 1)); [ "$i" -gt 500 ] && break
  sleep 0.01
done
if ! kill -0 "$C" 2>/dev/null; then
  wait "$C"; rc=$?; kill "$PX" 2>/dev/null
  say "FAIL step 11: the jail child could not start (rc $rc)"; exit 11
fi
step 12 ip link set "$N" netns "$C"
wait "$C"; crc=$?
i=0
while ! grep -q hello-from-jail /tmp/proxy.log && kill -0 "$PX" 2>/dev/null; do
  i=$((i + 1)); [ "$i" -gt 100 ] && break
  sleep 0.05
done
kill "$PX" 2>/dev/null
# Cleanup as Boundary does it (the jail's own rules die with its namespace).
iptables -t nat -D POSTROUTING -s 192.168.100.0/24 -j MASQUERADE
iptables -t nat -D PREROUTING -i "$H" -p tcp -j REDIRECT --to-ports "$PORT"
iptables -D FORWARD -s 192.168.100.0/24 -j ACCEPT
iptables -D FORWARD -d 192.168.100.0/24 -j ACCEPT
ip link del "$H" 2>/dev/null
if grep -q hello-from-jail /tmp/proxy.log; then
  say "PASS: $(cat /tmp/proxy.log)"
else
  say "FAIL: the proxy received nothing (jail child rc $crc): $(cat /tmp/proxy.log)"; exit 20
fi
