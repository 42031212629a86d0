#!/usr/bin/env bash
# run-shard.sh - run one shard of a survey under a cluster scheduler.
#
#   run-shard.sh SHARDS SEED OUTDIR [kubesurvey scan options and targets...]
#
# The shard number comes from the scheduler: JOB_COMPLETION_INDEX (a
# Kubernetes Indexed Job), SLURM_ARRAY_TASK_ID (a Slurm job array), or
# KS_SHARD. Each shard writes OUTDIR/shard-<I>.lmdb and its metadata
# OUTDIR/shard-<I>.json; when all are done, deploy/merge-shards.sh OUTDIR (or
# `kubesurvey merge`) gives one database whose statistics equal a single
# run's. A shard that was stopped (job requeued or preempted, pod restarted)
# resumes from its checkpoint when the scheduler runs it again; a shard that
# had already finished is not scanned again.
#
# Environment: KUBESURVEY, the binary (default: kubesurvey from PATH);
# KS_NETNS, a network namespace to scan from (`ip netns exec KS_NETNS`;
# the tests' simulated internet uses it, a real survey normally does not).
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,17s/^# \{0,1\}//p' "$0" >&2; exit 2; }
shards=$1 seed=$2 outdir=$3; shift 3
shard=${JOB_COMPLETION_INDEX:-${SLURM_ARRAY_TASK_ID:-${KS_SHARD:-}}}
[[ "$shard" =~ ^[0-9]+$ ]] || { echo "run-shard.sh: no shard index (JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID or KS_SHARD)" >&2; exit 2; }
(( shard < shards )) || { echo "run-shard.sh: shard $shard is not below $shards" >&2; exit 2; }
ks=${KUBESURVEY:-kubesurvey}
mkdir -p "$outdir"
db=$outdir/shard-$shard.lmdb meta=$outdir/shard-$shard.json
# The metadata file says "done" only after the store committed the finished
# scan: a rerun of a finished shard (a requeue after the end) has nothing to do.
if [ -e "$db" ] && grep -q '"state": "done"' "$meta" 2>/dev/null; then
    echo "run-shard.sh: shard $shard is complete ($meta); nothing to do" >&2
    exit 0
fi
# A retry of this shard continues where the stopped attempt left off
# (`kubesurvey scans` prints a header line, then one line per scan).
resume=()
if [ -e "$db" ] && "$ks" scans "$db" 2>/dev/null | tail -n +2 | grep -q .; then resume=(--resume); fi
netns=()
[ -z "${KS_NETNS:-}" ] || netns=(ip netns exec "$KS_NETNS")
exec "${netns[@]}" "$ks" scan --shards "$shards" --shard "$shard" --seed "$seed" --db "$db" \
    --metadata "$meta" "${resume[@]}" "$@"
