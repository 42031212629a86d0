#!/usr/bin/env bash
# probe_bench.sh - TLS + GET /version probes per second and client CPU per
# completed probe: kubesurvey probe vs a Go crypto/tls + net/http client
# (benchmarks/goprobe, the stack of ZGrab2; built here with Debian's
# golang-go when it is installed) vs curl --parallel, same hosts, one run.
#
#   usage: sudo benchmarks/probe_bench.sh [KUBESURVEY] [N_ADDRESSES] [ROUNDS] [KS_FLAGS]
#   defaults: build/tools/kubesurvey, 20000, 1, none (e.g. --no-fast-keys)
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
# KS_COUNT=instructions (with KS_BASELINE) measures no time at all: it
# counts the user-space instructions of kubesurvey and of the baseline per
# probe, which other processes' load does not change, with valgrind's
# cachegrind (Ir; perf's instructions:u where the machine has a PMU gives
# the same count, but virtual machines often have none). Per probe = the
# difference between a run over all N addresses and one over N/5, over the
# difference in completed probes, so start-up cost cancels out; the two
# builds alternate which goes first. Concurrency 16 and 10 s timeouts keep
# every probe completing under valgrind's slowdown.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
ks=${1:-$here/build/tools/kubesurvey}
n=${2:-20000}
rounds=${3:-1}
ks_flags=${4:-}
baseline=${KS_BASELINE:-}
id=204
[[ $(id -u) == 0 ]] || { echo "probe_bench.sh: needs root (network namespaces)" >&2; exit 2; }
[[ -x $ks ]] || { echo "probe_bench.sh: no kubesurvey binary at $ks" >&2; exit 2; }
[[ -z $baseline || -x $baseline ]] || { echo "probe_bench.sh: no kubesurvey binary at KS_BASELINE=$baseline" >&2; exit 2; }
(( n >= 1 && n <= 20000 )) || { echo "probe_bench.sh: 1..20000 addresses" >&2; exit 2; }
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

# Instruction counts only (KS_COUNT=instructions): see the header.
# count_probes BINARY N -> "instructions completed" of a probe of the first N
# addresses under cachegrind.
count_probes() {
  head -n "$2" "$tmp/targets" > "$tmp/count-targets"
  ip netns exec "$S" valgrind --tool=cachegrind --cache-sim=no \
    --cachegrind-out-file="$tmp/cg.out" -q "$1" probe -f "$tmp/count-targets" \
    -o "$tmp/count.jsonl" --concurrency 16 --connect-timeout 10000 --handshake-timeout 10000 \
    --response-timeout 10000 -q $ks_flags 2>"$tmp/cg.log" ||
    { echo "probe_bench.sh: $1 under valgrind failed:" >&2; tail -5 "$tmp/cg.log" >&2; }
  echo "$(awk '/^summary:/ { print $2 }' "$tmp/cg.out") $(grep -c "$ks_ok" "$tmp/count.jsonl" || true)"
}
# Instructions per probe of BINARY: (all N - N/5) / (their completed probes).
per_probe() {
  local small=$((n / 5)) big_i big_d small_i small_d
  read -r small_i small_d < <(count_probes "$1" "$small")
  read -r big_i big_d < <(count_probes "$1" "$n")
  [[ $big_d == "$n" && $small_d == "$small" ]] || echo "WARNING: $1 completed $small_d of $small, $big_d of $n" >&2
  awk -v a="$big_i" -v b="$small_i" -v c="$big_d" -v d="$small_d" 'BEGIN { printf "%.0f", (a - b) / (c - d) }'
}
ks_ok='"outcome":"ok".*"k8s":true.*"git_version":"v1.29.4"'
if [[ ${KS_COUNT:-} == instructions ]]; then
  [[ -n $baseline ]] || { echo "probe_bench.sh: KS_COUNT=instructions needs KS_BASELINE" >&2; exit 2; }
  command -v valgrind >/dev/null || { echo "probe_bench.sh: KS_COUNT=instructions needs valgrind" >&2; exit 2; }
  (( n >= 10 )) || { echo "probe_bench.sh: KS_COUNT=instructions needs at least 10 addresses" >&2; exit 2; }
  printf '%6s %22s %22s %8s\n' round "kubesurvey instr/probe" "baseline instr/probe" ratio
  for ((r = 1; r <= rounds; r++)); do
    if (( r % 2 == 1 )); then k=$(per_probe "$ks"); b=$(per_probe "$baseline")
    else b=$(per_probe "$baseline"); k=$(per_probe "$ks"); fi
    printf '%6d %22s %22s %8s\n' "$r" "$k" "$b" "$(awk -v a="$k" -v b="$b" 'BEGIN { printf "%.3f", a / b }')"
  done
  exit 0
fi

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
echo "client CPU per probe, kubesurvey / curl: ${ratios[*]}"
[[ -z $go_bin ]] || echo "client CPU per probe, kubesurvey / Go client: ${go_ratios[*]}"
[[ -z $baseline ]] || echo "client CPU per probe, ks-baseline / curl: ${base_ratios[*]}"
