"""tools/unlock_stale.py (what `make run` calls first): a real Snakemake run killed with SIGKILL leaves its lock;
while a Snakemake process runs in the directory the tool refuses, naming it; once none does, it unlocks and the next
run goes through without a manual `--unlock`."""

import os
import signal
import subprocess
import sys
import time

from conftest import ROOT

TOOL = [sys.executable, str(ROOT / "tools" / "unlock_stale.py")]
SNAKEFILE = """
rule all:
    input: "done.txt"

rule slow:
    output: "done.txt"
    shell: "sleep {config[wait]} && touch {output}"
"""


def snakemake(wait: int) -> list[str]:
    return [sys.executable, "-m", "snakemake", "-s", "Snakefile", "--cores", "1", "--config", f"wait={wait}"]


def test_stale_lock_removed_live_one_kept(tmp_path):
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    tool = [*TOOL, "--directory", str(tmp_path), "--", sys.executable, "-m", "snakemake", "-s", "Snakefile"]
    assert subprocess.run(tool, capture_output=True, text=True).returncode == 0  # nothing locked: nothing done
    run = subprocess.Popen(snakemake(120), cwd=tmp_path, start_new_session=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        locks = tmp_path / ".snakemake" / "locks"
        deadline = time.monotonic() + 120
        while not list(locks.glob("*.lock")) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert list(locks.glob("*.lock")), "snakemake never locked the directory"
        busy = subprocess.run(tool, capture_output=True, text=True)
        assert (
            busy.returncode == 1 and f"pid {run.pid}" in busy.stderr and "locked by a running Snakemake" in busy.stderr
        )
        assert list(locks.glob("*.lock"))
    finally:
        os.killpg(run.pid, signal.SIGKILL)  # the run and its job, as `kill -9` of a session
        run.wait()
    assert list(locks.glob("*.lock")), "a killed run leaves its lock"
    locked = subprocess.run(snakemake(0), cwd=tmp_path, capture_output=True, text=True)
    assert locked.returncode != 0 and "LockException" in locked.stdout + locked.stderr
    freed = subprocess.run(tool, capture_output=True, text=True)
    assert freed.returncode == 0 and "removing the stale lock" in freed.stderr, freed.stderr
    assert not list(locks.glob("*.lock"))
    again = subprocess.run([*snakemake(0), "--rerun-incomplete"], cwd=tmp_path, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-2000:]
    assert (tmp_path / "done.txt").exists()
