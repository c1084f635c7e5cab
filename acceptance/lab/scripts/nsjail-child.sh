#!/bin/sh
# Boundary's jail child (nsjail_manager/child.go, nsjail/networking_ns.go):
# wait for the veth end, configure it, add the DNS redirect rules, then run
# the target, which connects through the jail's default route.
set -u
N=$VETH_JAIL_NAME
say() { echo "[jail uid $(id -u)] $*"; }
step() { n=$1; shift; "$@" || { say "FAIL step $n: $*"; exit "$n"; }; }
say "uid_map $(tr -s ' ' </proc/self/uid_map | tr '\n' ' ')setgroups $(cat /proc/self/setgroups); $(grep -E '^Cap(Eff|Amb)' /proc/self/status | tr '\t\n' '  ')"
# Step 13: poll with exponential backoff (50 ms doubling up to 500 ms, 5 s in all).
d=50 t=0
until ip link show "$N" >/dev/null 2>&1; do
  [ "$t" -ge 5000 ] && { say "FAIL step 13: $N did not appear"; exit 13; }
  sleep "0.$(printf %03d "$d")"
  t=$((t + d)); d=$((d * 2)); [ "$d" -gt 500 ] && d=500
done
step 14 ip addr add 192.168.100.2/24 dev "$N"
step 14 ip link set "$N" up
step 14 ip link set lo up
step 14 ip route add default via 192.168.100.1
# Step 15: the DNS redirect (the dummy DNS server itself is not emulated).
sysctl -w net.ipv4.conf.all.route_localnet=1 >/dev/null 2>&1 || say "step 15: sysctl route_localnet failed (ignored, as Boundary does)"
step 15 iptables -t nat -A OUTPUT -p udp --dport 53 -j DNAT --to-destination 127.0.0.1:5353
step 15 iptables -t nat -A OUTPUT -p tcp --dport 53 -j DNAT --to-destination 127.0.0.1:5353
step 15 iptables -A OUTPUT -p udp -d 127.0.0.1 -j ACCEPT
step 15 iptables -A OUTPUT -p udp -s 127.0.0.1 -j ACCEPT
step 15 iptables -A OUTPUT -p udp -j DROP
# Step 16: the target.
say "target: echo hello-from-jail | nc 192.168.100.1 80"
echo hello-from-jail | busybox nc -w 2 192.168.100.1 80
