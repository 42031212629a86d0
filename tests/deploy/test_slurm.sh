#!/usr/bin/env bash
# deploy/slurm, run for real: a private one-node Slurm (slurm_local.sh) runs
# deploy/slurm/survey.sbatch as a 3-task job array against the simulated
# Kubernetes population (tests/net/k8s_population.sh), each task scanning its
# shard from the scanner namespace (KS_NETNS) into its own database; task 1
# is requeued (`scontrol requeue`) while it scans and must resume from its
# checkpoint; deploy/slurm/merge.sbatch, submitted with
# --dependency=afterok on the array, merges the shards and writes stats.json.
# Then, exactly:
#   - every shard passed `kubesurvey check`; the shards' endpoint sets (read
#     with mdb_dump) are pairwise disjoint and their union is the population;
#   - the requeued task ran twice, the second run resumed at a walk position
#     > 0, and the target saw fewer SYNs than a restart from zero would send;
#   - the merged database's export equals that of a single-process scan of
#     the same targets and seed, except the columns scan, started_ms and
#     duration_ms (scan id and probe times);
#   - its `stats --json` (same --as-of day) is byte for byte the single
#     scan's, and the merge job's stats.json is the merged database's;
#   - the single-process scan ran with CAP_NET_RAW, CAP_SETUID and
#     CAP_SETGID only: the Kubernetes template adds NET_RAW to a runtime's
#     defaults, and no NET_ADMIN.
# Installs slurm-wlm and munge with apt-get when they are missing.
#   test_slurm.sh KUBESURVEY BUILD_DIR
set -euo pipefail
deploy_tests=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$deploy_tests/../.." && pwd)
source "$top/tests/net/lib.sh"
net_test_init deploy_slurm 540 "$@"
KS=$(realpath "$KS")
POP=$top/tests/net/k8s_population.sh
SLURM_DIR=$WORK/slurm
export KS_POP_DIR=$WORK/pop
SEED=2021 SHARDS=3 SLURM_PORT=$((46800 + TEST_ID % 100 * 2))

# Take down Slurm first (its jobs scan from the namespace), then the
# population, then lib.sh's cleanup (namespaces, WORK), keeping the status.
deploy_cleanup() {
    local rc=$?
    set +e
    [[ -d "$SLURM_DIR" ]] && "$deploy_tests/slurm_local.sh" down "$SLURM_DIR"
    "$POP" down "$TEST_ID" >/dev/null 2>&1
    (exit $rc)
    net_cleanup
}
trap deploy_cleanup EXIT

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    note "installing slurm-wlm and munge"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >"$WORK/apt.log" 2>&1 ||
        { tail -5 "$WORK/apt.log" >&2; fail "apt-get install slurm-wlm munge failed"; }
fi
for p in slurmctld slurmd munged mungekey sbatch scontrol squeue sacct mdb_dump setpriv python3; do
    [[ "$p" == sacct ]] && continue
    command -v "$p" >/dev/null || fail "$p not found"
done

# ------------------------------------------------------------ the network
t0=$SECONDS
expected=$("$POP" up "$TEST_ID" "$SEED" 600)
{ echo "saddr,sport"; tail -n +2 "$expected" | cut -f1,2 | tr '\t' ,; } >"$WORK/population.csv"
note "population: $(count_rows "$WORK/population.csv") endpoints, up in $((SECONDS - t0)) s"
targets=(-b "$EMPTY" -p 443,6443 -c 2 --connect-timeout 1000 --handshake-timeout 1000
         --response-timeout 1000 198.18.0.0/16)

# ------------------------- one process, the Kubernetes template's capabilities
# setpriv's bounding set limits what root keeps across exec: the scanner
# starts with CAP_NET_RAW and the CAP_SETUID / CAP_SETGID it uses to become
# nobody (both in a container runtime's default set), no CAP_NET_ADMIN.
ref=$WORK/single.lmdb
timeout -k 5 120 ip netns exec "$S" setpriv --bounding-set=-all,+net_raw,+setuid,+setgid \
    --inh-caps=-all "$KS" scan "${targets[@]}" -r 50000 -q --seed "$SEED" --db "$ref" ||
    fail "the single-process scan (CAP_NET_RAW, CAP_SETUID, CAP_SETGID only) failed"
"$KS" check "$ref" >/dev/null || fail "kubesurvey check of the single-process scan failed"
stored_pairs "$ref" >"$WORK/single.csv"
expect_same_pairs "$WORK/population.csv" "$WORK/single.csv" "single-process scan"

# ------------------------------------------------------------------ Slurm
"$deploy_tests/slurm_local.sh" up "$SLURM_DIR" "$SLURM_PORT"
export SLURM_CONF=$SLURM_DIR/slurm.conf
results=$WORK/results
mkdir -p "$results"
syn_before=$("$SIM" counter "$TEST_ID" syn_in)
# Submitted from the repository's top directory, as docs/distributed.md says.
# -r 1500: a shard (about 43,700 targets) takes about 30 s, time to requeue
# one while it scans.
cd "$top"
job=$(sbatch --parsable --array=0-$((SHARDS - 1)) --cpus-per-task=1 \
    --output="$WORK/survey-%A_%a.out" \
    --export=ALL,KS_SHARDS=$SHARDS,KS_SEED=$SEED,KS_RESULTS=$results,KUBESURVEY=$KS,KS_NETNS=$S \
    deploy/slurm/survey.sbatch "${targets[@]}" -r 1500) || fail "sbatch survey.sbatch failed"
merge=$(sbatch --parsable --dependency=afterok:"$job" --output="$WORK/merge-%j.out" \
    --export=ALL,KS_RESULTS=$results,KUBESURVEY=$KS deploy/slurm/merge.sbatch) ||
    fail "sbatch merge.sbatch failed"
cd - >/dev/null
note "array job $job ($SHARDS tasks), merge job $merge"

# The walk position of shard 1's last checkpoint (0 before the first).
checkpoint_of() {
    mdb_dump -n -p -s scans "$results/shard-$1.lmdb" 2>/dev/null |
        grep -oE 'walk_position\\?"?:[0-9]+' | grep -oE '[0-9]+$' | tail -1
}
# Requeue task 1 once its store holds a checkpoint past the start and it is
# still running: Slurm stops it (SIGTERM) and queues it again.
deadline=$((SECONDS + 60)) position=0
while ((SECONDS < deadline)); do
    position=$(checkpoint_of 1 || true)
    [[ "${position:-0}" -gt 0 ]] && break
    sleep 0.5
done
[[ "${position:-0}" -gt 0 ]] || fail "shard 1 wrote no checkpoint past 0 in 60 s"
state=$(squeue -h -j "${job}_1" -o %T)
[[ "$state" == RUNNING ]] || fail "shard 1 is $state, not RUNNING, when it should be requeued"
scontrol requeue "${job}_1" || fail "scontrol requeue ${job}_1 failed"
note "requeued task 1 after its checkpoint at walk position $position"

# Everything ends within 3 minutes: the array, then the merge.
deadline=$((SECONDS + 180))
while ((SECONDS < deadline)) && [[ -n "$(squeue -h -o %i)" ]]; do sleep 1; done
[[ -z "$(squeue -h -o %i)" ]] || { squeue >&2; fail "jobs still queued after 180 s"; }
for f in "$WORK"/survey-*.out "$WORK"/merge-*.out; do
    note "--- $(basename "$f")"; tr '\r' '\n' <"$f" | grep -v '^$' | grep -vE '^[0-9:]+ .*pps' | sed 's/^/    /' >&2 || true
done
syn_array=$(($("$SIM" counter "$TEST_ID" syn_in) - syn_before))

# ------------------------------------------------------------ the results
[[ -e "$results/survey.lmdb" && -s "$results/stats.json" ]] ||
    fail "the merge job left no survey.lmdb and stats.json (see its output above)"
log1=$WORK/survey-${job}_1.out
runs=$(grep -c "survey.sbatch: task 1 " "$log1" || true)
[[ $runs == 2 ]] || fail "task 1 ran $runs times, expected 2 (one requeue)"
resumed=$(tr '\r' '\n' <"$log1" | grep -oE 'resuming scan [0-9]+ of .* at walk position [0-9]+' | grep -oE '[0-9]+$' || true)
[[ "${resumed:-0}" -gt 0 ]] || fail "task 1's second run did not resume from a checkpoint past 0 (log: $log1)"
note "task 1 resumed at walk position $resumed"
# Every target gets its SYN once, plus what task 1 sent again after its
# restart: a restart from zero would repeat all its first run sent
# ("interrupted after N of M probes"), a resume only what followed the
# checkpoint.
first=$(tr '\r' '\n' <"$log1" | grep -oE 'interrupted after [0-9]+ of' | grep -oE '[0-9]+' | head -1 || true)
[[ "${first:-0}" -gt 0 ]] || fail "task 1's first run does not say how far it got (log: $log1)"
((syn_array >= 131072 + $(count_rows "$WORK/population.csv"))) ||
    fail "the array sent $syn_array SYNs, fewer than the 131072 targets and one probe per endpoint"
# The target also counts the SYN of every probe's TCP connection.
again=$((syn_array - 131072 - $(count_rows "$WORK/population.csv")))
((again < first)) || fail "task 1 sent $again SYNs again after its requeue: as many as its first run ($first)"
note "the target saw $syn_array SYNs for 131072 targets and $(count_rows "$WORK/population.csv") probes: $again again after the requeue; task 1 had sent $first before it"

: >"$WORK/union.body"
for ((i = 0; i < SHARDS; i++)); do
    db=$results/shard-$i.lmdb
    "$KS" check "$db" >/dev/null || fail "shard $i fails kubesurvey check"
    grep -q '"state": "done"' "$results/shard-$i.json" || fail "shard $i's metadata does not say done"
    stored_pairs "$db" | tail -n +2 | LC_ALL=C sort >"$WORK/shard$i.pairs"
    [[ -s "$WORK/shard$i.pairs" ]] || fail "shard $i stored nothing"
    note "shard $i: $(wc -l <"$WORK/shard$i.pairs") endpoints"
    cat "$WORK/shard$i.pairs" >>"$WORK/union.body"
done
# expect_same_pairs also fails on a duplicate row: an endpoint in two shards.
{ echo saddr,sport; cat "$WORK/union.body"; } >"$WORK/union.csv"
expect_same_pairs "$WORK/population.csv" "$WORK/union.csv" "union of the $SHARDS shards (disjoint)"
stored_pairs "$results/survey.lmdb" >"$WORK/merged.csv"
expect_same_pairs "$WORK/population.csv" "$WORK/merged.csv" "merged database"

# Export: equal to the single scan's but for the scan id and probe times.
strip_csv() {
    python3 -c '
import csv, sys
rows = csv.reader(sys.stdin)
head = next(rows)
drop = {head.index(c) for c in ("scan", "started_ms", "duration_ms")}
keep = lambda r: [v for i, v in enumerate(r) if i not in drop]
out = csv.writer(sys.stdout, lineterminator="\n")
out.writerow(keep(head))
for r in sorted(rows): out.writerow(keep(r))
'
}
"$KS" export "$ref" --format csv | strip_csv >"$WORK/single.export"
"$KS" export "$results/survey.lmdb" --format csv | strip_csv >"$WORK/merged.export"
if ! cmp -s "$WORK/single.export" "$WORK/merged.export"; then
    diff "$WORK/single.export" "$WORK/merged.export" | head -10 >&2
    fail "the merged export differs from the single-process scan's"
fi
note "export: $(count_rows "$WORK/merged.export") records equal to the single-process scan's"

# stats --json on the same day: byte for byte the single scan's (the merged
# database's one scan has id 1, as the single scan's has).
day=$(date -u +%F)
"$KS" stats "$ref" --json --as-of "$day" >"$WORK/single.stats"
"$KS" stats "$results/survey.lmdb" --json --as-of "$day" >"$WORK/merged.stats"
if ! cmp -s "$WORK/single.stats" "$WORK/merged.stats"; then
    diff -U6 "$WORK/single.stats" "$WORK/merged.stats" | head -60 >&2
    fail "the merged stats --json differ from the single-process scan's"
fi
# The merge job's stats.json is the merged database's (its default day).
"$KS" stats "$results/survey.lmdb" --json >"$WORK/merged-default.stats"
cmp -s "$results/stats.json" "$WORK/merged-default.stats" ||
    fail "the merge job's stats.json is not the merged database's"
note "stats --json: identical ($(wc -l <"$WORK/merged.stats") lines; $(grep -m1 '"k8s":' "$WORK/merged.stats" | tr -d ' ,') endpoints)"
