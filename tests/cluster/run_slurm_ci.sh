#!/usr/bin/env bash
# Proves that the pipeline runs through a real SLURM with profiles/slurm, not a mock.
#
#   bash tests/cluster/run_slurm_ci.sh        (from the repository root, as root, after `make setup`)
#
# On a Debian machine without SLURM, as root: installs Debian's munge + slurmctld + slurmd + slurm-client,
# starts a throw-away single-node cluster by hand (no systemd needed; state under $ADVREG_SLURM_CI_DIR,
# default /tmp/advreg-slurm-ci), runs a small config (the tests' tiny config, one variant, one attack)
#   1. locally (--cores 2) and
#   2. through `--workflow-profile profiles/slurm --profile profiles/slurm-ci`,
# then checks in SLURM's own records (job-completion log, squeue, scontrol) that every non-local job was an
# sbatch job that completed and asked for its rule's CPUs, memory, time limit and GPU, that download/gather/
# render jobs stayed local, and that every result file is bit-identical between the two runs.  On exit
# (success, failure or Ctrl-C) it cancels leftover jobs and stops, by PID, only the daemons it started.
# Prints "SKIP: <reason>" and exits 0 where it cannot run (not root, no apt-get, fewer than 2 CPUs, or a
# SLURM already configured on the machine).  Measured: 2.5 to 3 minutes on 2 cores.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
WORK="${ADVREG_SLURM_CI_DIR:-/tmp/advreg-slurm-ci}"
CONF_LINK=/etc/slurm/slurm.conf
SLURM_RUN_LIMIT_S="${ADVREG_SLURM_CI_TIMEOUT:-480}"
T0=$(date +%s)
case "$WORK" in /tmp/?*|/var/tmp/?*) ;; *) echo "slurm-ci: ADVREG_SLURM_CI_DIR must be under /tmp or /var/tmp (it is wiped)" >&2; exit 1;; esac

say() { echo "slurm-ci [$(($(date +%s) - T0))s]: $*"; }
skip() { echo "slurm-ci: SKIP: $*"; exit 0; }
fail() { echo "slurm-ci: FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || skip "not root (installing and starting SLURM daemons needs root)"
command -v apt-get >/dev/null 2>&1 || skip "no apt-get (the cluster comes from Debian's slurm packages)"
[ "$(nproc)" -ge 2 ] || skip "fewer than 2 CPUs (the compute rules ask for 2 CPUs per job)"
[ -x "$PY" ] || fail "$PY missing: run 'make setup' first"
if [ -e "$CONF_LINK" ] && [ "$(readlink "$CONF_LINK" 2>/dev/null)" != "$WORK/etc/slurm.conf" ]; then
  skip "$CONF_LINK already exists: this machine has its own SLURM, which this script leaves alone"
fi

# --- leftovers of an earlier run of this script that was killed before its clean-up ---------------------
stop_pid() { # PID NAME: TERM, wait up to 10 s, then KILL; only if the PID still runs NAME
  local pid=$1 name=$2 i
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
}
if [ -f "$WORK/run/pids" ]; then
  while read -r name pid; do
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || continue
    say "stopping $name (PID $pid) left by an earlier run"
    stop_pid "$pid" "$name"
  done < "$WORK/run/pids"
fi
rm -rf "$WORK"
mkdir -p "$WORK"/{etc,state,spool,log,run,local,slurm}

# --- packages ---------------------------------------------------------------------------------------------
need=()
for pkg in munge slurmctld slurmd slurm-client; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need+=("$pkg")
done
[ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
if [ "${#need[@]}" -gt 0 ]; then
  say "installing ${need[*]}"
  # Keep the packages' init scripts from starting daemons: this script starts (and stops) its own.
  own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && own_policy=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" > "$WORK/log/apt.log" 2>&1 \
    || { [ "$own_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d; cat "$WORK/log/apt.log"; fail "apt-get install failed"; }
  [ "$own_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
fi
say "$(slurmctld -V), $(munged -V 2>&1 | head -1)"

# --- clean-up on any exit -----------------------------------------------------------------------------------
STARTED=()   # "name pid" of every daemon this run started
cleanup() {
  local rc=$? entry i left alive
  set +e
  trap - EXIT INT TERM
  if [ "${#STARTED[@]}" -gt 0 ]; then
    left=$(squeue -h -o %i 2>/dev/null | tr '\n' ' ')
    if [ -n "${left// /}" ]; then
      say "cancelling leftover SLURM jobs: $left"
      scancel $left 2>/dev/null
      for i in $(seq 30); do [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break; sleep 0.5; done
    fi
    for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do   # slurmd, slurmctld, then munged
      entry=${STARTED[$i]}
      stop_pid "${entry#* }" "${entry%% *}"
    done
    say "stopped the daemons this run started: ${STARTED[*]}"
    alive=0
    for entry in "${STARTED[@]}"; do
      if kill -0 "${entry#* }" 2>/dev/null; then
        echo "slurm-ci: FAIL: ${entry} still running" >&2
        rc=1 alive=1
      fi
    done
    [ "$alive" = 1 ] || rm -f "$WORK/run/pids"
  fi
  [ "$(readlink "$CONF_LINK" 2>/dev/null)" = "$WORK/etc/slurm.conf" ] && rm -f "$CONF_LINK"
  say "total time $(($(date +%s) - T0)) s; logs and both workdirs kept in $WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

started() { STARTED+=("$1 $2"); echo "$1 $2" >> "$WORK/run/pids"; }

# --- munge ----------------------------------------------------------------------------------------------------
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  say "munged already running (not started by this script, left alone)"
else
  [ -s /etc/munge/munge.key ] || runuser -u munge -- mungekey --create
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
  setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged --foreground --force \
    > "$WORK/log/munged.out" 2>&1 &
  started munged $!
  for i in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.2; done
  munge -n | unmunge >/dev/null || { cat "$WORK/log/munged.out"; fail "munged does not answer"; }
fi

# --- slurm.conf: one node, this machine, with a stand-in GPU -------------------------------------------------
NODE=$(hostname -s)
HW=$(slurmd -C | head -1)   # NodeName=... CPUs=... Boards=... ... RealMemory=...
field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<< "$HW"; }
CPUS=$(field CPUs)
MEM=$(( $(field RealMemory) * 9 / 10 ))   # a margin, or slurmd drains the node for "low RealMemory"
GEOMETRY="Boards=$(field Boards) SocketsPerBoard=$(field SocketsPerBoard) CoresPerSocket=$(field CoresPerSocket) ThreadsPerCore=$(field ThreadsPerCore)"
cat > "$WORK/etc/slurm.conf" <<EOF
# Written by tests/cluster/run_slurm_ci.sh: a throw-away single-node cluster (Slurm 22.05, no cgroups, no slurmdbd).
ClusterName=advregci
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/run/slurmctld.pid
SlurmdPidFile=$WORK/run/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
# SLURM's own record of every finished job (works without slurmdbd): the proof that jobs went through sbatch.
JobCompType=jobcomp/filetxt
JobCompLoc=$WORK/log/jobcomp.txt
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
# Finished jobs stay visible to squeue/scontrol for 15 minutes (squeue is the plugin's status command here).
MinJobAge=900
ReturnToService=2
MpiDefault=none
GresTypes=gpu
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS $GEOMETRY RealMemory=$MEM Gres=gpu:1 State=UNKNOWN
PartitionName=ci Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
# The "GPU" is /dev/null: it lets sbatch/srun accept --gpus=1, so the GPU request path is exercised (no CUDA).
echo "Name=gpu File=/dev/null" > "$WORK/etc/gres.conf"
# Clients (sbatch, squeue, and srun inside jobs, whose environment the plugin strips of SLURM_*) read the
# default path; the link is removed on exit.
ln -sfn "$WORK/etc/slurm.conf" "$CONF_LINK"

slurmctld -D -c -f "$WORK/etc/slurm.conf" > "$WORK/log/slurmctld.out" 2>&1 &
started slurmctld $!
slurmd -D -N "$NODE" -f "$WORK/etc/slurm.conf" > "$WORK/log/slurmd.out" 2>&1 &
started slurmd $!
state="" deadline=$((SECONDS + 60))
while [ "$state" != idle ]; do
  for entry in "${STARTED[@]}"; do
    kill -0 "${entry#* }" 2>/dev/null && continue
    tail -n 20 "$WORK"/log/*.out 2>/dev/null
    fail "${entry%% *} exited during start-up (logs above, and in $WORK/log)"
  done
  if [ "$SECONDS" -ge "$deadline" ]; then
    tail -n 20 "$WORK"/log/slurmctld.log "$WORK"/log/slurmd.log 2>/dev/null
    fail "node $NODE is '${state:-not registered}' after 60 s, not idle"
  fi
  sleep 0.5
  state=$(timeout 5 sinfo -h -N -n "$NODE" -o %T 2>/dev/null || true)
done
say "SLURM up: node $NODE, $CPUS CPUs, ${MEM} MB, gres gpu:1 (stand-in), partition ci; daemons ${STARTED[*]}"

# --- the config: the tests' tiny config with one variant, one attack, one attacker --------------------------------
"$PY" - "$WORK" <<'EOF'
import sys
from pathlib import Path

import yaml

sys.path.insert(0, "tests")
from conftest import tiny_config

config = tiny_config()
exp = config["experiments"]["tiny"]
exp["methods"] = {"plain": {"variants": {"default": {}}}}
exp["attacks"] = {"fgsm": exp["attacks"]["fgsm"]}
exp["attackers"] = ["reference/pretrained"]
config["cluster"] = {"gpu": 1}  # each compute job asks SLURM for a GPU; the local run ignores it
for run in ("local", "slurm"):
    (Path(sys.argv[1]) / run / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
EOF

smk() { # WORKDIR LOG ARGS...: snakemake on the repository's Snakefile in WORKDIR
  local dir=$1 log=$2; shift 2
  "$PY" -m snakemake -s "$ROOT/Snakefile" --directory "$dir" --configfile "$dir/config.yaml" "$@" > "$log" 2>&1
}

say "local run (--cores 2)"
smk "$WORK/local" "$WORK/log/local_run.log" --cores 2 \
  || { tail -n 40 "$WORK/log/local_run.log"; fail "local run failed"; }

say "SLURM run (--workflow-profile profiles/slurm --profile profiles/slurm-ci)"
rc=0
timeout -k 60 "$SLURM_RUN_LIMIT_S" "$PY" -m snakemake -s "$ROOT/Snakefile" --directory "$WORK/slurm" \
  --configfile "$WORK/slurm/config.yaml" \
  --workflow-profile "$ROOT/profiles/slurm" --profile "$ROOT/profiles/slurm-ci" \
  --default-resources slurm_partition=ci \
  > "$WORK/log/slurm_run.log" 2>&1 || rc=$?
# squeue keeps finished jobs for MinJobAge: their records, taken now, before the daemons stop.
squeue --states=all -h -o '%i|%j|%T|%C|%b' > "$WORK/log/squeue.txt" 2>&1 || true
scontrol -o show job > "$WORK/log/scontrol_jobs.txt" 2>&1 || true
if [ "$rc" != 0 ]; then
  tail -n 60 "$WORK/log/slurm_run.log"
  [ "$rc" = 124 ] && fail "SLURM run did not finish within ${SLURM_RUN_LIMIT_S} s"
  fail "SLURM run failed (exit $rc)"
fi

# --- checks -----------------------------------------------------------------------------------------------------
say "checking"
"$PY" - "$WORK" <<'EOF'
import hashlib
import re
import sys
from collections import Counter
from pathlib import Path

work = Path(sys.argv[1])
problems = []

# Which jobs Snakemake ran, and how: "rule X:" = submitted to the executor (SLURM), "localrule X:" = local.
text = (work / "log" / "slurm_run.log").read_text()
jobs = {}  # snakemake jobid -> {"rule", "local", "threads", "resources"}
for m in re.finditer(r"^(localrule|rule) (\w+):\n((?:    .*\n)+)", text, re.M):
    block = dict(re.findall(r"^    (\w+): (.*)$", m.group(3), re.M))
    resources = dict(kv.split("=", 1) for kv in block.get("resources", "").split(", ") if "=" in kv)
    jobs[int(block["jobid"])] = {"rule": m.group(2), "local": m.group(1) == "localrule",
                                 "threads": block.get("threads", "1"), "resources": resources}
submitted = {int(a): b for a, b in re.findall(r"Job (\d+) has been submitted with SLURM jobid (\d+)", text)}
uuid = re.search(r"SLURM run ID: (\S+)", text).group(1)
remote = {j: job["rule"] for j, job in jobs.items() if not job["local"]}
local = {j: job["rule"] for j, job in jobs.items() if job["local"]}

def key_values(line):
    return dict(tok.split("=", 1) for tok in line.split() if "=" in tok)

# SLURM's own records: the job-completion log written by slurmctld (kept forever), and what slurmctld still
# holds about finished jobs (MinJobAge): squeue states and `scontrol show job` (the request as SLURM saw it).
jobcomp = work / "log" / "jobcomp.txt"
records = [key_values(line) for line in (jobcomp.read_text().splitlines() if jobcomp.exists() else [])]
ours = {f["JobId"]: f for f in records if f.get("Name") == uuid}
held = {f["JobId"]: f for f in map(key_values, (work / "log" / "scontrol_jobs.txt").read_text().splitlines())
        if f.get("JobName") == uuid}
squeue = {}
for line in (work / "log" / "squeue.txt").read_text().splitlines():
    parts = line.split("|")
    if len(parts) == 5 and parts[1] == uuid:
        squeue[parts[0]] = parts[2]

expected_remote = {"pretrain", "train", "assess"}
expected_local = {"prepare_dataset", "summarise_experiment", "manifest", "report_pages", "all"}
if set(remote.values()) != expected_remote:
    problems.append(f"rules sent to SLURM: {sorted(set(remote.values()))}, expected {sorted(expected_remote)}")
if set(local.values()) != expected_local:
    problems.append(f"local rules: {sorted(set(local.values()))}, expected {sorted(expected_local)}")
if set(submitted) != set(remote):
    problems.append(f"Snakemake jobs {sorted(set(remote) ^ set(submitted))} differ between 'rule' entries and sbatch submissions")

def minutes(limit):  # scontrol TimeLimit [D-]HH:MM:SS
    days, _, hms = limit.rpartition("-")
    h, m, sec = map(int, hms.split(":"))
    return int(days or 0) * 1440 + h * 60 + m + (sec > 0)

for sm_id, slurm_id in sorted(submitted.items()):
    job = jobs[sm_id]
    what = f"SLURM job {slurm_id} (Snakemake job {sm_id}, {job['rule']})"
    rec, req = ours.get(slurm_id), held.get(slurm_id)
    if rec is None:
        problems.append(f"{what} is not in SLURM's completion log")
    elif rec.get("JobState") != "COMPLETED" or rec.get("ExitCode") != "0:0":
        problems.append(f"{what}: {rec.get('JobState')} exit {rec.get('ExitCode')}")
    if squeue.get(slurm_id) != "COMPLETED":
        problems.append(f"{what}: squeue says {squeue.get(slurm_id)}")
    if req is None:
        problems.append(f"{what}: not known to scontrol")
        continue
    res = job["resources"]
    seen = {"rule": req.get("Comment", "").startswith(f"rule_{job['rule']}"),
            "cpus_per_task": req.get("CPUs/Task") == res.get("cpus_per_task") == job["threads"],
            "mem_mb": req.get("MinMemoryNode") == f"{res.get('mem_mb')}M",
            "runtime": str(minutes(req.get("TimeLimit", "0:0:0"))) == res.get("runtime"),
            "gpu": req.get("TresPerJob", "") == f"gres:gpu:{res.get('gpu')}"}
    if not all(seen.values()):
        problems.append(f"{what}: SLURM request does not match the rule's resources ({[k for k, ok in seen.items() if not ok]}): "
                        f"{ {k: req.get(k) for k in ('Comment', 'CPUs/Task', 'MinMemoryNode', 'TimeLimit', 'TresPerJob')} } vs {res}")
if len(ours) != len(remote):
    problems.append(f"{len(ours)} SLURM jobs named {uuid}, but Snakemake ran {len(remote)} non-local jobs")

# Same threads in both runs (rule logs start with "advreg job: device=... threads=N").
def thread_lines(root):
    return {p.relative_to(root).as_posix(): p.read_text().splitlines()[0]
            for p in sorted((root / "logs").rglob("*.log")) if p.read_text().startswith("advreg job:")}
t_local, t_slurm = thread_lines(work / "local"), thread_lines(work / "slurm")
if t_local != t_slurm:
    problems.append(f"job set-up differs: local {t_local} vs SLURM {t_slurm}")

# Bit-identical results (timings and the report aside).
sys.path.insert(0, "src")
from advreg.layout import is_reproducible

def digests(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / "results").rglob("*"))
            if p.is_file() and is_reproducible(p.relative_to(root).as_posix())}
d_local, d_slurm = digests(work / "local"), digests(work / "slurm")
if d_local.keys() != d_slurm.keys():
    problems.append(f"different result files: {sorted(d_local.keys() ^ d_slurm.keys())}")
different = sorted(p for p in d_local.keys() & d_slurm.keys() if d_local[p] != d_slurm[p])
if different:
    problems.append(f"results differ between the local and the SLURM run: {different}")

print("slurm-ci: summary")
print(f"  Snakemake run {uuid}: {len(remote)} jobs submitted with sbatch, {len(local)} local jobs (incl. 'all')")
width = max(map(len, expected_remote | expected_local))
for rule, n in sorted(Counter(remote.values()).items()):
    ids = [submitted[j] for j, r in remote.items() if r == rule and j in submitted]
    states = Counter(ours[i]["JobState"] for i in ids if i in ours)
    req = held.get(ids[0], {}) if ids else {}
    print(f"    {rule:<{width}}  {n} job(s) -> SLURM {','.join(ids)}: {dict(states)}; asked CPUs/Task={req.get('CPUs/Task')} "
          f"mem={req.get('MinMemoryNode')} time={req.get('TimeLimit')} {req.get('TresPerJob')}")
for rule, n in sorted(Counter(local.values()).items()):
    print(f"    {rule:<{width}}  {n} job(s), local (no sbatch)")
print(f"  SLURM completion log: {len(ours)} jobs named {uuid}, "
      f"{sum(f.get('JobState') == 'COMPLETED' for f in ours.values())} COMPLETED; "
      f"squeue --states=all: {sum(v == 'COMPLETED' for v in squeue.values())} COMPLETED; scontrol: {len(held)} jobs")
print(f"  rule logs: {sorted(set(t_slurm.values()))} in both runs ({len(t_slurm)} logs)")
print(f"  results: {len(d_local)} files compared by SHA256 (timings, benchmarks and the report aside), "
      f"{len(d_local) - len(different)} identical")
if problems:
    print("slurm-ci: FAIL:\n  " + "\n  ".join(problems), file=sys.stderr)
    sys.exit(1)
print("slurm-ci: PASS: every compute job ran as a SLURM job; outputs bit-identical to the local run")
EOF
