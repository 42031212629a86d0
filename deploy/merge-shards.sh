#!/usr/bin/env bash
# merge-shards.sh - after every shard of a survey has finished: check each
# shard database, merge them into OUTDIR/survey.lmdb, check that, and write
# its statistics to OUTDIR/stats.json (and the readable summary to stdout).
#
#   merge-shards.sh OUTDIR [--partial]
#
# OUTDIR holds shard-<I>.lmdb as deploy/run-shard.sh wrote them. `kubesurvey
# merge` refuses shards of different runs, a shard given twice and missing
# shards (unless --partial), naming the problem. OUTDIR/survey.lmdb must not
# exist. Environment: KUBESURVEY, the binary (default: kubesurvey from PATH).
set -euo pipefail
[ $# -ge 1 ] && [ $# -le 2 ] || { sed -n '2,11s/^# \{0,1\}//p' "$0" >&2; exit 2; }
outdir=$1 partial=()
[ $# -lt 2 ] || { [ "$2" = --partial ] || { echo "merge-shards.sh: unknown option '$2'" >&2; exit 2; }; partial=(--partial); }
ks=${KUBESURVEY:-kubesurvey}
shopt -s nullglob
dbs=("$outdir"/shard-*.lmdb)
[ ${#dbs[@]} -gt 0 ] || { echo "merge-shards.sh: no shard-*.lmdb in $outdir" >&2; exit 1; }
for db in "${dbs[@]}"; do
    "$ks" check "$db" >/dev/null || { echo "merge-shards.sh: $db fails kubesurvey check" >&2; exit 1; }
done
"$ks" merge "${partial[@]}" "$outdir/survey.lmdb" "${dbs[@]}"
"$ks" check "$outdir/survey.lmdb" >/dev/null
"$ks" stats "$outdir/survey.lmdb" --json >"$outdir/stats.json"
"$ks" scans "$outdir/survey.lmdb"
"$ks" stats "$outdir/survey.lmdb"
