#!/usr/bin/env bash
# sim.sh - a populated simulated internet on top of netns.sh.
#
#   sim.sh up ID SEED [CIDR] [PORTS] [OPEN_PERMILLE] [RST_PERMILLE]
#       netns.sh up ID; a seeded population (ks_population) of CIDR x PORTS
#       (defaults 198.18.0.0/16, 443,6443, 100 = 10% open, 10 = 1% of
#       addresses answer RST) loaded with `nft -f` into sets open/rst of
#       table inet ks in ks<ID>t; ks_listener on PORTS in ks<ID>t so its
#       kernel answers SYN-ACK for the open pairs. Prints the path of the
#       ground truth CSV (header saddr,sport; numeric order) on stdout.
#   sim.sh down ID               remove the namespaces and the state dir
#                                (refused while another live process owns ID,
#                                unless KS_SIM_FORCE=1; see claim_id)
#   sim.sh rx ID                 rx_packets of ks<ID>b (what reached the target)
#   sim.sh counter ID NAME       packets counted by nft counter NAME (syn_in, ...)
#   sim.sh add-counter ID NAME CIDR
#                                count SYNs to CIDR in counter NAME
#   sim.sh gwmac ID              MAC of ks<ID>b: the scanner's gateway MAC
#   sim.sh up6 ID PORTS NFT      IPv6 on top of `up` (netns.sh ipv6): load NFT
#                                (elements of sets open6/rst6) and run an IPv6
#                                ks_listener on PORTS
#   sim.sh add-counter6 ID NAME PREFIX
#                                count SYNs to an IPv6 PREFIX in counter NAME
#   sim.sh answered ID           CSV (saddr,sport) of every pair that sent a SYN-ACK
#   sim.sh track-probes ID       from now on record each probed pair in set `probed`
#   sim.sh probed ID             CSV (daddr,dport) of the probed pairs
#   sim.sh reset ID              zero the counters, empty sets answered and probed
#   sim.sh impair ID OPTIONS     restart the forwarder with OPTIONS (ks_impair's;
#                                realistic mode only); its counters start at 0
#   sim.sh impair-stats ID       the forwarder's counters ("NAME VALUE" lines;
#                                realistic mode only, see netns.sh KS_IMPAIR)
#
# Environment:
#   KS_BUILD            build directory (default: <repo>/build)
#   KS_SIM_DIR          where the population files go (default /tmp/ks<ID>-sim)
#   KS_LISTENER_SECONDS lifetime of the listeners (default 900)
#   KS_SIM_OWNER        pid that owns the ID (default: the calling process)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${KS_BUILD:-$here/../../build}

die() { echo "sim.sh: $*" >&2; exit 2; }
usage() { sed -n '2,38s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2; }

cmd=${1:-}; id=${2:-}
[[ -n "$cmd" ]] || usage
[[ "$id" =~ ^[0-9]{1,3}$ ]] || die "bad or missing ID '$id' (0-999)"
S=ks${id}s; T=ks${id}t; VB=ks${id}b
dir=${KS_SIM_DIR:-/tmp/ks${id}-sim}

# "443,6443,10250-10252" -> "443 6443 10250 10251 10252"
expand_ports() {
    local part out=()
    IFS=, read -ra parts <<<"$1"
    for part in "${parts[@]}"; do
        if [[ "$part" =~ ^([0-9]+)-([0-9]+)$ ]]; then
            out+=($(seq "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"))
        elif [[ "$part" =~ ^[0-9]+$ ]]; then
            out+=("$part")
        else
            die "bad port list '$1'"
        fi
    done
    echo "${out[@]}"
}

source "$here/wait_listening.sh"

# Target-side record of what the simulated internet answered: every SYN-ACK
# it sends from 198.18.0.0/16 is counted (synack_out) and its (address,
# port) added to the dynamic set `answered`. This checks the network itself,
# independently of any scanner's receive path.
add_answer_log() {
    ip netns exec "$T" nft -f - <<NFT
table inet ks {
    counter synack_out { }
    set answered { type ipv4_addr . inet_service; size 4194304; flags dynamic; }
    chain output {
        type filter hook output priority 0; policy accept;
        ip saddr 198.18.0.0/16 tcp flags & (syn | ack) == (syn | ack) counter name synack_out add @answered { ip saddr . tcp sport }
    }
}
NFT
}

# One run owns an ID at a time: `up` records its owner (KS_SIM_OWNER, else the
# calling process) in /run/ks-sim/ID.owner and refuses an ID whose owner is
# still alive, instead of tearing down another run's network. A dead
# owner's leftovers (a test killed by a timeout) are simply replaced.
owner_file=/run/ks-sim/$id.owner
claim_id() {
    local me=${KS_SIM_OWNER:-$PPID} other
    mkdir -p /run/ks-sim
    if other=$(cat "$owner_file" 2>/dev/null) && [[ "$other" != "$me" ]] &&
        kill -0 "$other" 2>/dev/null; then
        die "ID $id is in use by process $other ($(ps -o args= -p "$other" | cut -c1-80));" \
            "use another ID, or run 'sim.sh down $id' if that run is gone"
    fi
    echo "$me" >"$owner_file"
}

sim_up() {
    local seed=${1:-} cidr=${2:-198.18.0.0/16} ports=${3:-443,6443}
    local open=${4:-100} rst=${5:-10}
    [[ "$seed" =~ ^[0-9]+$ ]] || die "bad or missing SEED '$seed'"
    local pop=$build/tests/net/ks_population listener=$build/tests/net/ks_listener
    [[ -x "$pop" && -x "$listener" ]] || die "build first: $pop or $listener missing (set KS_BUILD)"
    claim_id
    local port_words; port_words=$(expand_ports "$ports")
    mkdir -p "$dir"
    "$pop" --seed "$seed" --cidr "$cidr" --ports "$ports" --open-permille "$open" \
        --rst-permille "$rst" --nft "$dir/population.nft" --truth "$dir/truth.csv" >&2 ||
        die "ks_population failed"
    "$here/netns.sh" up "$id"
    ip netns exec "$T" nft -f "$dir/population.nft"
    add_answer_log
    # setsid: the listener must not die with this shell's process group.
    # shellcheck disable=SC2086
    ip netns exec "$T" setsid "$listener" -t "${KS_LISTENER_SECONDS:-900}" $port_words \
        </dev/null >"$dir/listener.log" 2>&1 9>&- &
    local p
    for p in $port_words; do wait_listening "$p"; done
    echo "$dir/truth.csv"
}

list_pairs() {
    ip netns exec "$T" nft list set inet ks "$1" |
        grep -oE '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+ \. [0-9]+' | sed 's/ \. /,/' | LC_ALL=C sort
}

case "$cmd" in
    up) shift 2; sim_up "$@" ;;
    down)
        if other=$(cat "$owner_file" 2>/dev/null) && [[ "$other" != "${KS_SIM_OWNER:-$PPID}" ]] &&
            kill -0 "$other" 2>/dev/null && [[ -z "${KS_SIM_FORCE:-}" ]]; then
            die "ID $id belongs to running process $other; not taking it down (KS_SIM_FORCE=1 to force)"
        fi
        "$here/netns.sh" down "$id"
        rm -rf "$dir"
        rm -f "$owner_file"
        ;;
    rx) ip netns exec "$T" cat "/sys/class/net/$VB/statistics/rx_packets" ;;
    counter)
        name=${3:-}; [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "bad counter name '$name'"
        ip netns exec "$T" nft list counter inet ks "$name" |
            awk '/packets/ { for (i = 1; i < NF; i++) if ($i == "packets") { print $(i + 1); exit } }'
        ;;
    add-counter)
        name=${3:-}; cidr=${4:-}
        [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "bad counter name '$name'"
        [[ "$cidr" =~ ^[0-9.]+(/[0-9]+)?$ ]] || die "bad CIDR '$cidr'"
        ip netns exec "$T" nft add counter inet ks "$name"
        ip netns exec "$T" nft insert rule inet ks sim ip daddr "$cidr" \
            tcp flags \& \(syn \| ack\) == syn counter name "$name"
        ;;
    answered)
        # The pairs that sent a SYN-ACK, as CSV like the ground truth (LC_ALL=C order).
        echo saddr,sport
        list_pairs answered
        ;;
    track-probes)
        # Record every probed (address, port) in set `probed` (costs target CPU).
        ip netns exec "$T" nft add set inet ks probed \
            "{ type ipv4_addr . inet_service; size 4194304; flags dynamic; }"
        ip netns exec "$T" nft insert rule inet ks sim tcp flags \& \(syn \| ack\) == syn \
            add @probed { ip daddr . tcp dport }
        ;;
    probed) echo daddr,dport; list_pairs probed ;;
    reset)
        # Zero the counters and empty the record sets between runs.
        ip netns exec "$T" nft reset counters table inet ks >/dev/null
        ip netns exec "$T" nft flush set inet ks answered
        ip netns exec "$T" nft list set inet ks probed >/dev/null 2>&1 &&
            ip netns exec "$T" nft flush set inet ks probed
        true
        ;;
    gwmac) ip netns exec "$T" cat "/sys/class/net/$VB/address" ;;
    up6)
        ports=${3:-}; nft_file=${4:-}
        [[ -r "$nft_file" ]] || die "up6: cannot read nft file '$nft_file'"
        "$here/netns.sh" ipv6 "$id"
        ip netns exec "$T" nft -f "$nft_file"
        port_words=$(expand_ports "$ports")
        mkdir -p "$dir"
        # shellcheck disable=SC2086
        ip netns exec "$T" setsid "$build/tests/net/ks_listener" -6 \
            -t "${KS_LISTENER_SECONDS:-900}" $port_words \
            </dev/null >"$dir/listener6.log" 2>&1 9>&- &
        for p in $port_words; do
            listening=
            for _ in $(seq 100); do
                ip netns exec "$T" ss -Hltn6 "sport = :$p" | grep -q LISTEN && { listening=1; break; }
                sleep 0.05
            done
            [[ -n "$listening" ]] || die "nothing listens on [::]:$p in $T after 5 s"
        done
        ;;
    add-counter6)
        name=${3:-}; prefix=${4:-}
        [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "bad counter name '$name'"
        [[ "$prefix" =~ ^[0-9a-fA-F:]+(/[0-9]+)?$ ]] || die "bad IPv6 prefix '$prefix'"
        ip netns exec "$T" nft add counter inet ks "$name"
        ip netns exec "$T" nft insert rule inet ks sim6 ip6 daddr "$prefix" \
            tcp flags \& \(syn \| ack\) == syn counter name "$name"
        ;;
    impair) KS_IMPAIR=${3:-} "$here/netns.sh" impair "$id" ;;
    impair-stats)
        # SIGUSR1 makes ks_impair (the only process of ks<ID>m) rewrite its file.
        pid=$(ip netns pids "ks${id}m" 2>/dev/null | head -1)
        [[ -n "$pid" ]] || die "no forwarder in ks${id}m (was KS_IMPAIR set at 'up'?)"
        before=$(stat -c %y "/run/ks-impair-$id.stats" 2>/dev/null || echo none)
        kill -USR1 "$pid"
        for _ in $(seq 100); do
            [[ "$(stat -c %y "/run/ks-impair-$id.stats" 2>/dev/null || echo none)" != "$before" ]] && break
            sleep 0.02
        done
        cat "/run/ks-impair-$id.stats"
        ;;
    *) usage ;;
esac
