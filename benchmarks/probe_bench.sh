#!/usr/bin/env bash
# probe_bench.sh - TLS + GET /version probes per second and client CPU per
# completed probe: kubesurvey probe vs a Go crypto/tls + net/http client
# (benchmarks/goprobe, the stack of ZGrab2; built here with Debian's
# golang-go when it is installed) vs curl --parallel, same hosts, one run.
#
#   usage: sudo benchmarks/probe_bench.sh [KUBESURVEY] [N_ADDRESSES] [ROUNDS] [KS_FLAGS]
#   defaults: build/tools/kubesurvey, 20000, 1, none (e.g. --no-fast-keys);
#   ROUNDS 0 with KS_COUNT (below): the counts only
#
# Target namespace: nginx (ECDSA P-256, TLS 1.2/1.3) answers a version.Info
# on 198.18.16.0 + N addresses, port 443. Scanner namespace: kubesurvey
# probe over all of them, then curl over the same URLs in lists of 2,000
# (curl slows down on long lists), both with 256 connections in flight.
# Client CPU = user + system time of the client processes (bash `times`).
# Rounds alternate the two tools so machine noise hits both alike.
# KS_BASELINE=/path/to/another/kubesurvey (environment) also runs that
# binary in every round, right after the first, same flags and hosts: the
# way to compare two builds when the machine's speed drifts between runs.
# KS_COUNT=M (environment) adds figures that do not depend on the machine's
# load, after the rounds: instructions per probe in user space (valgrind's
# callgrind; kubesurvey with one thread and 16 connections) and allocation
# calls per probe (through build/benchmarks/libmalloc_count.so or
# $MALLOC_COUNT_LIB), each from a run over M and one over 2M addresses: the
# difference divided by M leaves out start-up and exit. M at most N/2; 400
# takes about a minute per binary.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
ks=${1:-$here/build/tools/kubesurvey}
n=${2:-20000}
rounds=${3:-1}
ks_flags=${4:-}
baseline=${KS_BASELINE:-}
count=${KS_COUNT:-0}
malloc_lib=${MALLOC_COUNT_LIB:-$(dirname "$ks")/../benchmarks/libmalloc_count.so}
id=204
[[ $(id -u) == 0 ]] || { echo "probe_bench.sh: needs root (network namespaces)" >&2; exit 2; }
[[ -x $ks ]] || { echo "probe_bench.sh: no kubesurvey binary at $ks" >&2; exit 2; }
[[ -z $baseline || -x $baseline ]] || { echo "probe_bench.sh: no kubesurvey binary at KS_BASELINE=$baseline" >&2; exit 2; }
(( n >= 1 && n <= 20000 )) || { echo "probe_bench.sh: 1..20000 addresses" >&2; exit 2; }
(( count >= 0 && 2 * count <= n )) || { echo "probe_bench.sh: KS_COUNT=$count must be at most half of $n addresses" >&2; exit 2; }
(( count == 0 )) || command -v valgrind >/dev/null || { echo "probe_bench.sh: KS_COUNT needs valgrind" >&2; exit 2; }
(( count == 0 )) || [[ -f $malloc_lib ]] || { echo "probe_bench.sh: no $malloc_lib (build the malloc_count target)" >&2; exit 2; }
S=ks${id}s T=ks${id}t
tmp=$(mktemp -d)
chmod 755 "$tmp"
cleanup() {
  [[ -f $tmp/nginx.pid ]] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
  "$here/tests/net/netns.sh" down $id || true
  rm -rf "$tmp"
}
trap cleanup EXIT
"$here/tests/net/netns.sh" up $id

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/key.pem" \
  -out "$tmp/cert.pem" -days 30 -subj "/CN=kube-apiserver" \
  -addext "subjectAltName=DNS:kubernetes,DNS:kubernetes.default.svc" 2>/dev/null
printf '{\n  "major": "1",\n  "minor": "29",\n  "gitVersion": "v1.29.4",\n  "platform": "linux/amd64"\n}' > "$tmp/version.json"
cat > "$tmp/nginx.conf" <<EOF
worker_processes 1;
worker_rlimit_nofile 19000;
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events { worker_connections 8000; }
http {
  access_log off;
  ssl_protocols TLSv1.2 TLSv1.3;
  server {
    listen 443 ssl backlog=8192;
    ssl_certificate $tmp/cert.pem;
    ssl_certificate_key $tmp/key.pem;
    location = /version { default_type application/json; alias $tmp/version.json; }
  }
}
EOF
ip netns exec "$T" nginx -c "$tmp/nginx.conf"

# addresses 198.18.16.0 .. + n-1
for ((i = 0; i < n; i++)); do echo "198.18.$((16 + i / 256)).$((i % 256))"; done > "$tmp/targets"
last=$(tail -1 "$tmp/targets")
ip netns exec "$T" nft add element inet ks open "{ 198.18.16.0-$last . 443 }"
split -l 2000 -d "$tmp/targets" "$tmp/list."
for f in "$tmp"/list.*; do
  sed 's|.*|url = "https://&/version"\noutput = "/dev/null"|' "$f" > "$f.curl"
done

# Runs a command in the scanner namespace; prints "wall_s cpu_s".
measure() {
  ip netns exec "$S" bash -c '
    start=$(date +%s.%N)
    eval "$1" > /dev/null
    end=$(date +%s.%N)
    times > "$2"  # a builtin, no fork: the children are the client processes
    echo "$start $end $(tail -1 "$2")"' _ "$1" "$tmp/times" |
  awk '{
    split($3, u, /[ms]/); split($4, s, /[ms]/);
    printf "%.3f %.3f\n", $2 - $1, u[1] * 60 + u[2] + s[1] * 60 + s[2] }'
}

# The Go client, built from benchmarks/goprobe with the standard library only.
go_bin=
if command -v go >/dev/null; then
  (cd "$here/benchmarks/goprobe" && GOCACHE="$tmp/gocache" GO111MODULE=off go build -o "$tmp/goprobe" main.go) &&
    go_bin=$tmp/goprobe
  echo "Go client: $(go version | awk '{ print $3 }') crypto/tls + net/http, 256 goroutines"
else
  echo "Go client: skipped (no go; apt-get install golang-go)"
fi
go_cmd="'$go_bin' -f '$tmp/targets' -c 256 > '$tmp/go.out'"

ua="kubesurvey-benchmark (test network)"
ks_args="probe -f '$tmp/targets' -o '$tmp/ks.jsonl' --concurrency 256 -q $ks_flags"
ks_cmd="'$ks' $ks_args"
base_cmd="'$baseline' $ks_args"
ks_ok='"outcome":"ok".*"k8s":true.*"git_version":"v1.29.4"'
curl_cmd="for f in '$tmp'/list.*.curl; do curl -s --no-progress-meter -k --parallel --parallel-max 256 \
  -A '$ua' -H 'Accept: application/json' -w '%{http_code}\n' -K \"\$f\"; done > '$tmp/curl.codes'"

printf '%-12s %6s %9s %9s %10s %15s\n' tool round completed wall_s probes/s "cpu_ms/probe"
ratios=() base_ratios=() go_ratios=()
for ((r = 1; r <= rounds; r++)); do
  # With a baseline, even rounds run it first: neither build always goes first.
  if [[ -n $baseline ]] && (( r % 2 == 0 )); then
    read -r b_wall b_cpu < <(measure "$base_cmd")
    b_done=$(grep -c "$ks_ok" "$tmp/ks.jsonl" || true)
  fi
  # The Go client goes first in even rounds, kubesurvey in odd ones.
  if [[ -n $go_bin ]] && (( r % 2 == 0 )); then
    read -r g_wall g_cpu < <(measure "$go_cmd")
    g_done=$(awk '/^targets/ { print $4 }' "$tmp/go.out")
  fi
  read -r ks_wall ks_cpu < <(measure "$ks_cmd")
  ks_done=$(grep -c "$ks_ok" "$tmp/ks.jsonl" || true)
  if [[ -n $baseline ]] && (( r % 2 == 1 )); then
    read -r b_wall b_cpu < <(measure "$base_cmd")
    b_done=$(grep -c "$ks_ok" "$tmp/ks.jsonl" || true)
  fi
  if [[ -n $go_bin ]] && (( r % 2 == 1 )); then
    read -r g_wall g_cpu < <(measure "$go_cmd")
    g_done=$(awk '/^targets/ { print $4 }' "$tmp/go.out")
  fi
  read -r c_wall c_cpu < <(measure "$curl_cmd")
  c_done=$(grep -c '^200$' "$tmp/curl.codes" || true)
  for t in ks ${baseline:+b} ${go_bin:+g} c; do
    wall=${t}_wall cpu=${t}_cpu done=${t}_done
    case $t in ks) name=kubesurvey ;; b) name=ks-baseline ;; g) name=go-client ;; *) name=curl ;; esac
    awk -v n="$name" -v r="$r" -v d="${!done}" -v w="${!wall}" -v c="${!cpu}" 'BEGIN {
      printf "%-12s %6d %9d %9.2f %10.0f %15.3f\n", n, r, d, w, d / w, d ? 1000 * c / d : 0 }'
  done
  ratios+=("$(awk -v a="$ks_cpu" -v b="$ks_done" -v c="$c_cpu" -v d="$c_done" \
    'BEGIN { printf "%.2f", (a / b) / (c / d) }')")
  if [[ -n $go_bin ]]; then
    go_ratios+=("$(awk -v a="$ks_cpu" -v b="$ks_done" -v c="$g_cpu" -v d="$g_done" \
      'BEGIN { printf "%.2f", (a / b) / (c / d) }')")
    [[ $g_done == "$n" ]] || echo "WARNING: the Go client completed $g_done of $n"
  fi
  [[ $ks_done == "$n" ]] || echo "WARNING: kubesurvey completed $ks_done of $n correctly"
  [[ $c_done == "$n" ]] || echo "WARNING: curl completed $c_done of $n"
  if [[ -n $baseline ]]; then
    base_ratios+=("$(awk -v a="$b_cpu" -v b="$b_done" -v c="$c_cpu" -v d="$c_done" \
      'BEGIN { printf "%.2f", (a / b) / (c / d) }')")
    [[ $b_done == "$n" ]] || echo "WARNING: ks-baseline completed $b_done of $n correctly"
  fi
done
if (( rounds > 0 )); then
  echo "client CPU per probe, kubesurvey / curl: ${ratios[*]}"
  [[ -z $go_bin ]] || echo "client CPU per probe, kubesurvey / Go client: ${go_ratios[*]}"
  [[ -z $baseline ]] || echo "client CPU per probe, ks-baseline / curl: ${base_ratios[*]}"
fi

(( count > 0 )) || exit 0

# --------------------------------------------------------------- counts
head -n "$count" "$tmp/targets" > "$tmp/targets.1"
head -n $((2 * count)) "$tmp/targets" > "$tmp/targets.2"

# Runs a command (with @T@ for its targets file) over M then 2M addresses
# under a counter; prints the counter's difference per address. The counter
# is "instructions" (callgrind's total) or "mallocs" (malloc_count.so).
# Checks with $3 (a command printing the completed probes) that all ended.
# With KS_CALLGRIND_OUT=DIR the profile of the 2M run is kept as DIR/$4.
per_probe() {
  local counter=$1 cmd=$2 completed=$3 label=$4 totals=()
  for k in 1 2; do
    local run=${cmd//@T@/$tmp/targets.$k}
    rm -f "$tmp/counter"
    if [[ $counter == instructions ]]; then
      ip netns exec "$S" bash -c "valgrind --tool=callgrind --callgrind-out-file='$tmp/counter' \
        --dump-line=no $run" > /dev/null 2> "$tmp/valgrind.err"
      totals+=("$(awk '/^(totals|summary):/ { print $2; exit }' "$tmp/counter")")
      [[ -z ${KS_CALLGRIND_OUT:-} || $k != 2 ]] || cp "$tmp/counter" "$KS_CALLGRIND_OUT/$label"
    else
      ip netns exec "$S" env MALLOC_COUNT_OUT="$tmp/counter" LD_PRELOAD="$malloc_lib" \
        bash -c "exec $run" > /dev/null
      totals+=("$(cat "$tmp/counter")")
    fi
    local done_count
    done_count=$(eval "$completed")
    (( done_count == k * count )) || echo "WARNING: $counter run over $((k * count)) completed $done_count" >&2
  done
  awk -v a="${totals[0]}" -v b="${totals[1]}" -v m="$count" 'BEGIN { printf "%.0f", (b - a) / m }'
}

ks_count_args="probe -f '@T@' -o '$tmp/ks.jsonl' --concurrency 16 --probe-threads 1 -q $ks_flags"
ks_completed="grep -c '$ks_ok' '$tmp/ks.jsonl'"
printf '%-12s %22s %22s\n' tool "instructions/probe" "allocations/probe"
# Not the Go client: valgrind 3.19 stops at the Go runtime's first RDTSCP
# (SIGILL), and this virtual machine has no hardware counters for perf.
for t in ks ${baseline:+b}; do
  case $t in ks) name=kubesurvey bin=$ks ;; b) name=ks-baseline bin=$baseline ;; esac
  ins=$(per_probe instructions "'$bin' $ks_count_args" "$ks_completed" "callgrind.$name")
  allocs=$(per_probe mallocs "'$bin' $ks_count_args" "$ks_completed" "")
  printf '%-12s %22s %22s\n' "$name" "$ins" "$allocs"
done
