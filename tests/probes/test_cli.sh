#!/usr/bin/env bash
# test_cli.sh - `kubesurvey probe` argument and input errors. Sends no packet:
# every input here is rejected before anything is probed.
#   usage: test_cli.sh KUBESURVEY
set -uo pipefail
ks=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/../lib.sh"
expect() { # WANT_STATUS STDERR_SUBSTRING -- ARGS...
  local want=$1 text=$2; shift 3
  "$ks" "$@" > "$tmp/out" 2> "$tmp/err" < "${STDIN:-/dev/null}"
  local got=$?
  if [[ $got != "$want" ]] || ! grep -qF -- "$text" "$tmp/err" "$tmp/out"; then
    check_failed "kubesurvey $*: status $got (want $want), output: $(cat "$tmp/err" "$tmp/out" | head -3)"
  fi
}
expect 0 "usage: kubesurvey probe" -- probe --help
expect 2 "unknown option '--bogus'" -- probe --bogus
expect 2 "bad value '0' for --concurrency" -- probe --concurrency 0
expect 2 "bad value 'abc' for -p" -- probe -p abc
expect 2 "bad value '70000' for --port" -- probe --port 70000
expect 2 "bad value '-5' for --connect-timeout" -- probe --connect-timeout -5
expect 2 "only jsonl is supported" -- probe --output-format csv
expect 2 "needs a value" -- probe --max-body
expect 2 "unexpected argument 'extra'" -- probe extra
expect 2 "--user-agent must be printable ASCII" -- probe --user-agent $'bad\r\nX-Injected: 1'
expect 0 "--retries N" -- probe --help
expect 2 "no module named 'nope'" -- probe --module 443=nope
expect 2 "'70000=etcd' is not PORT=MODULE" -- probe --module 70000=etcd
expect 2 "'etcd' is not PORT=MODULE" -- probe --module etcd
expect 2 "'2379=': no module named ''" -- probe --module 2379=
expect 2 "no module named 'nope'" -- scan --module 443=nope 198.18.0.1
# --modules lists every module with its default ports, then exits 0
"$ks" probe --modules > "$tmp/modules" 2>&1 || check_failed "probe --modules: status $?"
for want in "apiserver          443,6443" "kubelet            10250" \
            "kubelet-readonly   10255" "etcd               2379" "Any other port: apiserver"; do
  grep -qF -- "$want" "$tmp/modules" || check_failed "probe --modules lacks '$want': $(cat "$tmp/modules")"
done
"$ks" scan --modules 2>&1 | cmp -s - "$tmp/modules" || check_failed "scan --modules differs from probe's"
expect 1 "cannot open input $tmp/missing" -- probe -f "$tmp/missing"
expect 1 "cannot create output" -- probe -f /dev/null -o "$tmp/no/such/dir/out.jsonl"

# bad lines are reported with file:line and skipped; nothing is probed
cat > "$tmp/bad" <<'LINES'
# comment only
not-an-address
198.18.0.1:99999
198.18.0.1:0
1.2.3
2001:2::1::2
open tcp 443 nonsense 1600000000
198.18.0.1,notaport
hello world again
LINES
expect 0 "$tmp/bad:2: not an address: 'not-an-address'; line skipped" -- probe -f "$tmp/bad" -o "$tmp/out.jsonl"
for want in ":3: bad port '99999'" ":4: bad port '0'" ":5: not an address: '1.2.3'" \
            ":6: not an address: '2001:2::1::2' (IPv6 as" ":7: bad masscan line" ":8: bad port 'notaport'" \
            ":9: not an address, address:port, CSV or masscan -oL line" "0 probes" "8 input lines skipped"; do
  grep -qF -- "$want" "$tmp/err" || check_failed "no '$want' in: $(cat "$tmp/err")"
done
[[ ! -s $tmp/out.jsonl ]] || check_failed "records written for bad input"
(( TEST_FAILS == 0 )) && echo "cli: all checks passed"
exit $((TEST_FAILS > 0))
