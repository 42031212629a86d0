#!/usr/bin/env bash
# slurm_local.sh - a private one-node Slurm cluster for the tests: its own
# munged, slurmctld and slurmd, every file in DIR, on ports of its own, so a
# Slurm already installed on the machine is neither used nor disturbed.
#
#   slurm_local.sh up DIR PORT    write DIR/slurm.conf (node "localhost", 8
#                                 CPUs declared, one partition, no accounting;
#                                 slurmctld on PORT, slurmd on PORT+1), a
#                                 munge key, start the three daemons and wait
#                                 until the node is idle. Clients then need
#                                 SLURM_CONF=DIR/slurm.conf.
#   slurm_local.sh down DIR       cancel every job, stop the daemons started by
#                                 `up` (by their pid files in DIR), wait until
#                                 they are gone
#
# Needs root and Debian's slurm-wlm and munge (slurmctld, slurmd, munged,
# mungekey). The daemons run as root: this cluster exists for one test.
set -euo pipefail
die() { echo "slurm_local.sh: $*" >&2; exit 2; }
cmd=${1:-} dir=${2:-}
[[ -n "$dir" ]] || die "usage: slurm_local.sh up DIR PORT | down DIR"

# Stop one daemon by its pid file; wait up to 10 s, then SIGKILL it.
stop() {
    local pidfile=$dir/$1.pid pid i
    pid=$(cat "$pidfile" 2>/dev/null) || return 0
    [[ "$pid" =~ ^[0-9]+$ ]] || return 0
    # Only a process that is the daemon we started: its command line names DIR.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$dir" || return 0
    kill "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
}

up() {
    local port=$1
    [[ "$port" =~ ^[0-9]+$ ]] && ((port > 1024 && port < 65535)) || die "bad PORT '$port'"
    for p in slurmctld slurmd munged mungekey sbatch scontrol; do
        command -v "$p" >/dev/null || die "$p not found (apt-get install slurm-wlm munge)"
    done
    mkdir -p "$dir/state" "$dir/spool"
    chmod 700 "$dir"
    mungekey --create --keyfile="$dir/munge.key"
    # -f: munged refuses to run as root without it.
    munged -f --key-file="$dir/munge.key" --socket="$dir/munge.socket" \
        --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munged.seed"
    # cred_expire=5: Slurm holds a requeued job back for cred_expire + 1 s
    # (default 120); sched_interval=1 starts it within a second after that.
    # config_overrides: the node has the 8 CPUs declared here, whatever the
    # machine has, so several array tasks run at once.
    cat >"$dir/slurm.conf" <<CONF
ClusterName=kstest
SlurmctldHost=localhost
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.socket,cred_expire=5
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerParameters=sched_interval=1
SlurmdParameters=config_overrides
ReturnToService=2
KillWait=10
NodeName=localhost CPUs=8 State=UNKNOWN
PartitionName=kstest Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
    slurmctld -f "$dir/slurm.conf" -c
    slurmd -f "$dir/slurm.conf" -N localhost
    local i state=
    for ((i = 0; i < 150; i++)); do
        state=$(SLURM_CONF=$dir/slurm.conf sinfo -h -N -o %t 2>/dev/null || true)
        [[ "$state" == idle ]] && return 0
        sleep 0.2
    done
    die "the node did not become idle in 30 s (state '$state'); see $dir/slurmctld.log and slurmd.log"
}

case "$cmd" in
    up) up "${3:-}" ;;
    down)
        # Cancel what is left and let slurmd end its job steps first: stopping
        # slurmd alone would leave them running.
        export SLURM_CONF=$dir/slurm.conf
        if [[ -e "$dir/slurmctld.pid" ]] && scancel --full --user=root 2>/dev/null; then
            for ((i = 0; i < 100; i++)); do
                [[ -z "$(squeue -h -o %A 2>/dev/null)" ]] && break
                sleep 0.2
            done
        fi
        stop slurmd; stop slurmctld; stop munged
        ;;
    *) die "usage: slurm_local.sh up DIR PORT | down DIR" ;;
esac
