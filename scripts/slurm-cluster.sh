#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for the tests (see
# shared/reference/slurm.md): "start" installs Debian's slurm-wlm and munge
# when missing, starts munged, slurmctld and slurmd, and records their
# PIDs; "stop" stops exactly those (scontrol shutdown, munged by its PID).
# Needs root. Exit status 3: cannot start here (not root, no apt-get).
set -euo pipefail
STATE=${TCIA_SLURM_STATE:-/run/datalad-tcia-slurm}

start() {
    if [ "$(id -u)" != 0 ]; then
        echo "slurm-cluster: not root, no cluster started" >&2
        exit 3
    fi
    if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
        command -v apt-get >/dev/null 2>&1 || { echo "slurm-cluster: no apt-get" >&2; exit 3; }
        echo "== installing slurm-wlm and munge (Debian) for the SLURM tests"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
    fi
    mkdir -p "$STATE" /etc/munge /var/log/munge /run/munge /var/lib/munge
    [ -s /etc/munge/munge.key ] || dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
    chown -R munge:munge /etc/munge /var/log/munge /run/munge /var/lib/munge
    chmod 400 /etc/munge/munge.key
    if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
        su -s /bin/sh munge -c /usr/sbin/munged
        for _ in $(seq 50); do [ -s /run/munge/munged.pid ] && break; sleep 0.1; done
        cp /run/munge/munged.pid "$STATE/munged.pid"
    fi
    local host
    host=$(hostname -s)
    mkdir -p /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /etc/slurm
    cat > /etc/slurm/slurm.conf <<CONF
ClusterName=test
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
ReturnToService=2
NodeName=$host CPUs=$(nproc) RealMemory=$(( $(free -m | awk '/Mem:/{print $2}') - 1024 )) State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    /usr/sbin/slurmctld
    /usr/sbin/slurmd
    for _ in $(seq 100); do
        if sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
            echo "slurm-cluster: one node up ($host)"
            return 0
        fi
        if sinfo -h -o %t 2>/dev/null | grep -qE '^(down|drain)'; then
            scontrol update nodename="$host" state=resume 2>/dev/null || true
        fi
        sleep 0.2
    done
    echo "slurm-cluster: the node did not come up; see /var/log/slurm/" >&2
    return 1
}

stop() {
    if [ -s "$STATE/slurmctld.pid" ]; then
        scontrol shutdown >/dev/null 2>&1 || true
        for pidfile in "$STATE/slurmctld.pid" "$STATE/slurmd.pid"; do
            pid=$(cat "$pidfile" 2>/dev/null || true)
            for _ in $(seq 50); do
                [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
            rm -f "$pidfile"
        done
    fi
    if [ -s "$STATE/munged.pid" ]; then
        kill "$(cat "$STATE/munged.pid")" 2>/dev/null || true
        rm -f "$STATE/munged.pid"
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
