#!/usr/bin/env bash
# netns.sh - the simulated internet: two network namespaces joined by veth.
#
#   netns.sh up ID      create namespaces ks<ID>s (scanner) and ks<ID>t (target)
#   netns.sh down ID    remove them (safe to call twice, or when half made)
#   netns.sh impair ID  restart the forwarder with the current KS_IMPAIR
#                       (realistic mode only; see below)
#   netns.sh ipv6 ID    add IPv6 to a network that is up (below)
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
#
# IPv6 (`netns.sh ipv6 ID`, after `up`; the IPv4 tests never see it): the
# benchmarking range 2001:2::/48 (RFC 5180, never routed) is the simulated
# IPv6 internet. Scanner: 2001:2:ffff::1/64 on ks<ID>a, default route via
# 2001:2:ffff::fe (no neighbour entry: the scanner solicits it). Target:
# 2001:2:ffff::fe/64 on ks<ID>b and all of 2001:2::/48 local
# (`ip -6 route add local 2001:2::/48 dev lo`; the link's /64 is more
# specific, so the scanner stays reachable), so a server bound to [::]
# answers as any of those addresses. Table inet ks gains, for TCP to
# 2001:2::/48 outside the link's /64:
#   set open6 (ipv6_addr . inet_service)  pairs whose SYN is accepted
#   set rst6  (ipv6_addr)                 addresses that answer RST
#   counter syn6_in                       every SYN; the rest is dropped.
#
# Realistic mode: when KS_IMPAIR is set (the options of ks_impair, e.g.
# "-s 1 -a delay=75,jitter=10,loss=2 -b delay=75,loss=2"), a third namespace
# ks<ID>m sits between the two: ks<ID>a <-> ks<ID>c [ks_impair] ks<ID>d <->
# ks<ID>b. ks_impair (tests/net/impair.c, from $KS_BUILD) relays every frame
# between c and d with delay, jitter, loss and duplication per direction; the
# two ends keep their addresses, MACs and names, so everything above works
# unchanged. Offloads are off on all four veths so frames are real-sized
# packets with real checksums. Its counters: `sim.sh impair-stats ID`.
set -euo pipefail

cmd=${1:-}; id=${2:-}
[[ "$id" =~ ^[0-9]{1,3}$ ]] || { echo "usage: $0 up|down|impair|ipv6 ID (0-999)" >&2; exit 2; }
S=ks${id}s; T=ks${id}t; M=ks${id}m; VA=ks${id}a; VB=ks${id}b; VC=ks${id}c; VD=ks${id}d
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
impair_stats=/run/ks-impair-$id.stats

down() {
    ip netns pids "$T" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns pids "$S" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns pids "$M" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$S" 2>/dev/null || true
    ip netns del "$T" 2>/dev/null || true
    ip netns del "$M" 2>/dev/null || true
    ip link del "$VA" 2>/dev/null || true
    rm -f "$impair_stats" "$impair_stats.tmp" "/run/ks-impair-$id.log"
}

# The veths of the plain mode: a (scanner) <-> b (target).
link_direct() {
    ip link add "$VA" type veth peer name "$VB"
    ip link set "$VA" netns "$S"
    ip link set "$VB" netns "$T"
}

# The realistic mode: a <-> c [ks_impair in ks<ID>m] d <-> b.
link_impaired() {
    local impair=${KS_BUILD:-$here/../../build}/tests/net/ks_impair
    [[ -x "$impair" ]] || { echo "netns.sh: $impair missing (build first, or set KS_BUILD)" >&2; return 1; }
    ip netns add "$M"
    ip link add "$VA" type veth peer name "$VC"
    ip link add "$VD" type veth peer name "$VB"
    ip link set "$VA" netns "$S"
    ip link set "$VB" netns "$T"
    ip link set "$VC" netns "$M"
    ip link set "$VD" netns "$M"
    ip -n "$M" link set lo up
    ip netns exec "$M" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    local ns dev ns_dev
    for ns_dev in "$S:$VA" "$T:$VB" "$M:$VC" "$M:$VD"; do
        ns=${ns_dev%%:*} dev=${ns_dev#*:}
        # Without this, TCP hands veth 64 KiB segments with checksums left
        # to the "hardware": the forwarder would relay unreal frames.
        ip netns exec "$ns" ethtool -K "$dev" tso off gso off gro off tx off rx off >/dev/null 2>&1 ||
            { echo "netns.sh: ethtool -K $dev failed (package ethtool)" >&2; return 1; }
    done
    ip -n "$M" link set "$VC" up
    ip -n "$M" link set "$VD" up
    start_impair
}

# (Re)starts ks_impair in ks<ID>m with the options in KS_IMPAIR.
start_impair() {
    local impair=${KS_BUILD:-$here/../../build}/tests/net/ks_impair pid
    for pid in $(ip netns pids "$M"); do
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.02; done
    done
    # Word splitting of KS_IMPAIR is intended: it holds ks_impair's options.
    # shellcheck disable=SC2086
    ip netns exec "$M" setsid "$impair" -t "${KS_IMPAIR_SECONDS:-900}" -o "$impair_stats" \
        $KS_IMPAIR "$VC" "$VD" </dev/null >/run/ks-impair-$id.log 2>&1 9>&- &
    local i
    for i in $(seq 50); do
        ip netns pids "$M" | grep -q . && break
        sleep 0.05
    done
    sleep 0.1
    ip netns pids "$M" | grep -q . ||
        { echo "netns.sh: ks_impair did not start: $(cat /run/ks-impair-$id.log)" >&2; return 1; }
}

up() {
    down
    ip netns add "$S"
    ip netns add "$T"
    if [[ -n "${KS_IMPAIR:-}" ]]; then link_impaired; else link_direct; fi
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

ipv6() {
    ip netns list | grep -qE "^$T( |$)" || { echo "netns.sh: no $T (run up first)" >&2; return 1; }
    ip -n "$S" addr add 2001:2:ffff::1/64 dev "$VA" nodad
    ip -n "$T" addr add 2001:2:ffff::fe/64 dev "$VB" nodad
    ip -n "$S" -6 route add default via 2001:2:ffff::fe dev "$VA"
    ip -n "$T" -6 route add local 2001:2::/48 dev lo
    ip netns exec "$T" nft -f - <<NFT
table inet ks {
    set open6 { type ipv6_addr . inet_service; flags interval; }
    set rst6 { type ipv6_addr; flags interval; }
    counter syn6_in { }
    chain sim6 {
        tcp flags & (syn | ack) == syn counter name syn6_in
        ip6 daddr . tcp dport @open6 accept
        ip6 daddr @rst6 tcp flags & (syn | ack) == syn reject with tcp reset
        drop
    }
}
add rule inet ks input ip6 daddr 2001:2::/48 ip6 daddr != 2001:2:ffff::/64 meta l4proto tcp jump sim6
NFT
}

case "$cmd" in
    up) up ;;
    ipv6) ipv6 ;;
    down) down ;;
    impair)
        ip netns list | grep -qE "^$M( |$)" || { echo "netns.sh: no ks${id}m (up without KS_IMPAIR?)" >&2; exit 2; }
        start_impair ;;
    *) echo "usage: $0 up|down|impair|ipv6 ID" >&2; exit 2 ;;
esac
