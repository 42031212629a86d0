#!/usr/bin/env bash
# run-shard.sh - run one shard of a survey under a cluster scheduler.
#
#   run-shard.sh SHARDS SEED OUTDIR [kubesurvey scan options and targets...]
#
# The shard number comes from the scheduler: JOB_COMPLETION_INDEX (a
# Kubernetes Indexed Job), SLURM_ARRAY_TASK_ID (a Slurm job array), or
# KS_SHARD. Each shard writes OUTDIR/shard-<I>.lmdb and its metadata; when all
# are done, `kubesurvey merge survey.lmdb OUTDIR/shard-*.lmdb` gives one
# database whose statistics equal a single run's. A shard that was killed
# (node drained, job preempted) resumes from its checkpoint when the
# scheduler retries it.
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,12s/^# \{0,1\}//p' "$0" >&2; exit 2; }
shards=$1 seed=$2 outdir=$3; shift 3
shard=${JOB_COMPLETION_INDEX:-${SLURM_ARRAY_TASK_ID:-${KS_SHARD:-}}}
[[ "$shard" =~ ^[0-9]+$ ]] || { echo "run-shard.sh: no shard index (JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID or KS_SHARD)" >&2; exit 2; }
(( shard < shards )) || { echo "run-shard.sh: shard $shard is not below $shards" >&2; exit 2; }
ks=${KUBESURVEY:-kubesurvey}
mkdir -p "$outdir"
db=$outdir/shard-$shard.lmdb
resume=()
# A retry of this shard continues where the killed attempt stopped.
if [ -e "$db" ] && "$ks" scans "$db" 2>/dev/null | grep -q .; then resume=(--resume); fi
exec "$ks" scan --shards "$shards" --shard "$shard" --seed "$seed" --db "$db" \
    --metadata "$outdir/shard-$shard.json" "${resume[@]}" "$@"
