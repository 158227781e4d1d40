#!/usr/bin/env bash
# A throw-away single-node Slurm cluster on this machine (munged + slurmctld + slurmd), for
# developers and CI: no systemd, no cgroups, no accounting daemon.
#
#   scripts/slurm-local.sh start     # installs the packages with apt-get if missing, starts
#                                    # the daemons, waits until the node is idle
#   export SLURM_CONF=${SLURM_CI_DIR:-${TMPDIR:-/tmp}/slurm-ci}/etc/slurm.conf
#   cargo test --release --test tests cli_slurm
#   scripts/slurm-local.sh stop      # stops the daemons by the pids in their pid files
#   scripts/slurm-local.sh status    # sinfo and the pids
#
# Every file it writes lives under $SLURM_CI_DIR (default ${TMPDIR:-/tmp}/slurm-ci), apt-get
# aside. Starting needs root (apt-get, and slurmd runs jobs as their submitter). Knobs:
#   SLURM_CI_DIR=DIR          base directory (munged refuses group/world-writable parents
#                             unless they have the sticky bit)
#   SLURM_CI_SKIP_INSTALL=1   never call apt-get
#   SLURM_CI_CTLD_PORT=6817 SLURM_CI_SLURMD_PORT=6818
# Without accounting, `sacct` does not work: poll `squeue -h -r -t all -j JOBID -o '%i %T'`
# (finished tasks stay listed for MinJobAge, 300 s) and the jobs' own output files.
set -euo pipefail

BASE=${SLURM_CI_DIR:-${TMPDIR:-/tmp}/slurm-ci}
export SLURM_CONF="$BASE/etc/slurm.conf"
DAEMONS="munged slurmctld slurmd"

T0=$(date +%s.%N)
log() {
  awk -v a="$T0" -v b="$(date +%s.%N)" -v m="$*" \
    'BEGIN { printf "[slurm-local +%6.2fs] %s\n", b - a, m }' >&2
}

running() { # running NAME: whether the daemon of that pid file is alive
  local pf="$BASE/run/$1.pid"
  [ -s "$pf" ] && kill -0 "$(cat "$pf")" 2>/dev/null
}

install_packages() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null &&
    command -v sbatch >/dev/null && command -v munged >/dev/null; then
    return
  fi
  if [ "${SLURM_CI_SKIP_INSTALL:-0}" = 1 ]; then
    echo "slurm-local: slurmctld, slurmd, sbatch or munged missing and SLURM_CI_SKIP_INSTALL=1" >&2
    exit 1
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "slurm-local: installing slurmctld slurmd slurm-client munge needs root" >&2
    exit 1
  fi
  log "installing slurmctld slurmd slurm-client munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # --no-install-recommends: 8 packages instead of ~42.
  apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
}

start() {
  for d in $DAEMONS; do
    if running "$d"; then
      echo "slurm-local: $d already running (pid $(cat "$BASE/run/$d.pid")); run '$0 stop' first" >&2
      exit 1
    fi
  done
  install_packages
  log "$(slurmctld -V), munge $(munged -V 2>&1 | head -1 | awk '{print $2}')"

  mkdir -p "$BASE"/{etc,munge,state,spool/slurmd,log,run}
  rm -rf "${BASE:?}"/state/* "${BASE:?}"/spool/slurmd/* # a fresh cluster every time
  chmod 0755 "$BASE" "$BASE/munge" # munged refuses a group/world-writable socket dir

  local key="$BASE/munge/munge.key" sock="$BASE/munge/munge.socket.2"
  [ -s "$key" ] || mungekey --create --keyfile="$key"
  chmod 0400 "$key"
  # --force: start even over the stale socket of a killed munged.
  munged --force --key-file="$key" --socket="$sock" --pid-file="$BASE/run/munged.pid" \
    --log-file="$BASE/log/munged.log" --seed-file="$BASE/munge/munged.seed"
  for _ in $(seq 1 50); do [ -S "$sock" ] && break; sleep 0.1; done
  munge -S "$sock" -n | unmunge -S "$sock" >/dev/null

  local host ncpu mem sockets cores threads
  host=$(hostname -s)
  ncpu=$(nproc)
  mem=$(free -m | awk '/^Mem:/ { print int($2 * 0.9) }') # a little below `free -m`
  # The topology exactly as slurmd reports it, or the node drains.
  read -r sockets cores threads < <(slurmd -C | tr ' ' '\n' | awk -F= '
    $1 == "SocketsPerBoard" { s = $2 } $1 == "CoresPerSocket" { c = $2 }
    $1 == "ThreadsPerCore" { t = $2 } END { print s, c, t }')
  cat >"$SLURM_CONF" <<EOF
# Single-node Slurm for analognas' tests, written by scripts/slurm-local.sh.
ClusterName=analognas-ci
SlurmctldHost=${host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=${SLURM_CI_CTLD_PORT:-6817}
SlurmdPort=${SLURM_CI_SLURMD_PORT:-6818}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=${sock}
StateSaveLocation=${BASE}/state
SlurmdSpoolDir=${BASE}/spool/slurmd
SlurmctldPidFile=${BASE}/run/slurmctld.pid
SlurmdPidFile=${BASE}/run/slurmd.pid
SlurmctldLogFile=${BASE}/log/slurmctld.log
SlurmdLogFile=${BASE}/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MailProg=/bin/true
MaxArraySize=10001
NodeName=${host} NodeAddr=127.0.0.1 CPUs=${ncpu} Sockets=${sockets} CoresPerSocket=${cores} ThreadsPerCore=${threads} RealMemory=${mem} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  slurmctld -c -f "$SLURM_CONF" # -c: no state from an earlier cluster
  slurmd -f "$SLURM_CONF"

  local state=""
  for _ in $(seq 1 300); do
    state=$(sinfo -h -N -n "$host" -o '%T' 2>/dev/null || true)
    case "$state" in idle | mixed | allocated) break ;; esac
    sleep 0.1
  done
  if [[ ! "$state" =~ ^(idle|mixed|allocated)$ ]]; then
    echo "slurm-local: node $host not ready (state '$state')" >&2
    tail -n 20 "$BASE/log/slurmctld.log" "$BASE/log/slurmd.log" >&2 || true
    stop >&2
    exit 1
  fi
  log "node $host is $state ($ncpu cpus, ${mem} MB)"
  echo "export SLURM_CONF=$SLURM_CONF"
}

stop() {
  for d in slurmd slurmctld munged; do
    local pf="$BASE/run/$d.pid"
    [ -s "$pf" ] || continue
    local pid
    pid=$(cat "$pf")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
      echo "slurm-local: stopped $d ($pid)" >&2
    fi
    rm -f "$pf"
  done
  rm -f "$BASE/munge/munge.socket.2" "$BASE/munge/munge.socket.2.lock"
}

status() {
  for d in $DAEMONS; do
    if running "$d"; then echo "$d: pid $(cat "$BASE/run/$d.pid")"; else echo "$d: not running"; fi
  done
  running slurmctld && sinfo
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
*)
  echo "usage: $0 start|stop|status" >&2
  exit 2
  ;;
esac
