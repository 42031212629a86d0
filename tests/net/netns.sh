#!/usr/bin/env bash
# netns.sh - the simulated internet: two network namespaces joined by veth.
#
#   netns.sh up ID      create namespaces ks<ID>s (scanner) and ks<ID>t (target)
#   netns.sh down ID    remove them (safe to call twice, or when half made)
#
# Scanner namespace: 198.19.255.1/24 on veth ks<ID>a, default route via
# 198.19.255.254 (the target namespace), so every packet the scanner sends
# stays on this veth. Target namespace: 198.19.255.254/24 on ks<ID>b, and all
# of 198.18.0.0/16 is local (AnyIP: `ip route add local ... dev lo`), so a
# server bound to 0.0.0.0 answers as any of those addresses.
#
# nftables table `inet ks` in the target namespace decides who answers:
#   set open  (ipv4_addr . inet_service)  pairs whose SYN is accepted
#   set rst   (ipv4_addr)                 addresses that answer RST
#   everything else to 198.18.0.0/16 is dropped silently.
# Counters: `syn_in` (every SYN to 198.18.0.0/16); tests may add their own.
# Fill the sets with `nft -f FILE` inside the target namespace (see
# population scripts). ID is 0-999 so parallel runs do not collide.
set -euo pipefail

cmd=${1:-}; id=${2:-}
[[ "$id" =~ ^[0-9]{1,3}$ ]] || { echo "usage: $0 up|down ID (0-999)" >&2; exit 2; }
S=ks${id}s; T=ks${id}t; VA=ks${id}a; VB=ks${id}b

down() {
    ip netns pids "$T" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns pids "$S" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$S" 2>/dev/null || true
    ip netns del "$T" 2>/dev/null || true
    ip link del "$VA" 2>/dev/null || true
}

up() {
    down
    ip netns add "$S"
    ip netns add "$T"
    ip link add "$VA" type veth peer name "$VB"
    ip link set "$VA" netns "$S"
    ip link set "$VB" netns "$T"
    ip -n "$S" link set lo up
    ip -n "$T" link set lo up
    ip -n "$S" addr add 198.19.255.1/24 dev "$VA"
    ip -n "$T" addr add 198.19.255.254/24 dev "$VB"
    ip -n "$S" link set "$VA" up
    ip -n "$T" link set "$VB" up
    ip -n "$S" route add default via 198.19.255.254
    ip -n "$T" route add local 198.18.0.0/16 dev lo
    # Answer SYNs even when a listener's queue is full, and let listeners
    # queue many connections: the scanner's kernel resets every SYN-ACK.
    ip netns exec "$T" sysctl -qw net.ipv4.tcp_syncookies=1 net.core.somaxconn=65535 \
        net.ipv4.tcp_max_syn_backlog=65535
    ip netns exec "$T" nft -f - <<NFT
table inet ks {
    set open { type ipv4_addr . inet_service; flags interval; }
    set rst { type ipv4_addr; flags interval; }
    counter syn_in { }
    chain input {
        type filter hook input priority 0; policy accept;
        ip daddr 198.18.0.0/16 jump sim
    }
    chain sim {
        tcp flags & (syn | ack) == syn counter name syn_in
        ip daddr . tcp dport @open accept
        ip daddr @rst tcp flags & (syn | ack) == syn reject with tcp reset
        drop
    }
}
NFT
}

case "$cmd" in
    up) up ;;
    down) down ;;
    *) echo "usage: $0 up|down ID" >&2; exit 2 ;;
esac
