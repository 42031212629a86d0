#!/usr/bin/env bash
# test_hostile.sh - probes against servers that misbehave (tests/probes/hostile.c)
# and against addresses that refuse or drop. Each must end in its bounded
# time with the right outcome, the run must finish, and the pool must leave
# no descriptor open and no memory growing (probe_driver).
#   usage: test_hostile.sh HOSTILE PROBE_DRIVER KUBESURVEY NETNS_SH ID
set -euo pipefail
hostile=$1 driver=$2 ks=$3 netns=$4 id=$5
. "$(dirname "$0")/../lib.sh"
need_root "test_hostile.sh: needs root (network namespaces); skipped"
S=ks${id}s T=ks${id}t
tmp=$(mktemp -d)
cleanup() { kill "${hostile_pid:-}" 2>/dev/null || true; "$netns" down "$id" || true; rm -rf "$tmp"; }
trap cleanup EXIT
"$netns" up "$id"

base=7000
ip netns exec "$T" "$hostile" $base 120 > "$tmp/hostile.out" &
hostile_pid=$!
for _ in $(seq 50); do grep -q ready "$tmp/hostile.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$tmp/hostile.out" || fail "hostile server did not start"

# name:address:port:outcome:extra check (an awk regex the record must match)
cases=(
  "silent:198.18.1.1:$((base+0)):tls-timeout:"
  "slow:198.18.1.2:$((base+1)):http-timeout:\"http_status\":null"
  "endless-body:198.18.1.3:$((base+2)):ok:\"body_length\":4096,\"body_truncated\":true"
  "huge-headers:198.18.1.4:$((base+3)):http-error:response headers exceed 16384 bytes"
  "chain-50:198.18.1.5:$((base+4)):ok:\"chain_truncated\":true"
  "chain-1mb:198.18.1.6:$((base+5)):tls-error:excessive message size"
  "reset:198.18.1.7:$((base+6)):tls-error:reset by peer during the TLS handshake"
  "alert:198.18.1.8:$((base+7)):tls-error:alert handshake failure"
  "plain-http:198.18.1.9:$((base+8)):tls-error:wrong version number"
  "close-after-handshake:198.18.1.10:$((base+9)):closed:before a response"
  "chunked:198.18.1.13:$((base+10)):ok:\"provider\":\"k3s\",\"version_state\":\"valid\",\"git_version\":\"v1.27.3+k3s1\""
  "close-delimited:198.18.1.14:$((base+11)):ok:\"provider\":\"gke\",\"version_state\":\"valid\",\"git_version\":\"v1.26.1-gke.1500\""
  "refused:198.18.1.11:443:refused:"
  "dropped:198.18.1.12:443:connect-timeout:"
)
elements=()
: > "$tmp/targets"
: > "$tmp/driver-targets"
for c in "${cases[@]}"; do
  IFS=: read -r name addr port outcome extra <<<"$c"
  echo "$addr:$port" >> "$tmp/targets"
  echo "$addr $port" >> "$tmp/driver-targets"
  [[ $name == refused || $name == dropped ]] || elements+=("$addr . $port")
done
ip netns exec "$T" nft add element inet ks open "{ $(IFS=,; echo "${elements[*]}") }"
ip netns exec "$T" nft add element inet ks rst '{ 198.18.1.11 }'

start=$(date +%s%N)
ip netns exec "$S" "$ks" probe -f "$tmp/targets" -o "$tmp/out.jsonl" --max-body 4096 \
  --connect-timeout 1000 --handshake-timeout 2000 --response-timeout 2000
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "probe run: ${elapsed_ms} ms"

[[ $(wc -l < "$tmp/out.jsonl") == "${#cases[@]}" ]] || check_failed "expected ${#cases[@]} records"
for c in "${cases[@]}"; do
  IFS=: read -r name addr port outcome extra <<<"$c"
  line=$(grep "\"addr\":\"$addr\",\"port\":$port," "$tmp/out.jsonl" || true)
  got=$(sed -n 's/.*"outcome":"\([^"]*\)".*/\1/p' <<<"$line")
  dur=$(sed -n 's/.*"duration_ms":\([0-9]*\).*/\1/p' <<<"$line")
  err=$(sed -n 's/.*"error":\("[^"]*"\|null\).*/\1/p' <<<"$line")
  if [[ $got != "$outcome" ]] || { [[ -n $extra ]] && ! grep -qF -- "$extra" <<<"$line"; } \
     || [[ -z $dur ]] || (( dur > 5500 )); then
    check_failed "$name: got outcome '$got' in ${dur:-?} ms, error $err; want $outcome${extra:+ with $extra}"
  else
    echo "ok: $name -> $got in ${dur} ms ($err)"
  fi
done
# the chain of 50: the first PROBE_CHAIN_MAX (16) kept
chain=$(grep '"addr":"198.18.1.5"' "$tmp/out.jsonl" | grep -o '"sha256"' | wc -l)
[[ $chain == 16 ]] || check_failed "chain-50 kept $chain certificates, want 16"
# the run as a whole ends within the longest deadline plus slack
(( elapsed_ms < 7000 )) || check_failed "run took ${elapsed_ms} ms"

# descriptors, memory, repeatability over rounds
ip netns exec "$S" "$driver" 3 < "$tmp/driver-targets" || TEST_FAILS=$((TEST_FAILS + 1))
exit $((TEST_FAILS > 0))
