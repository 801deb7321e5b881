"""Remove a stale Snakemake lock before a run: after a crash or `kill -9`, `.snakemake/locks/` keeps the dead run's
locks and the next run stops with a LockException until `snakemake --unlock`. This runs that unlock itself when no
Snakemake process works in the directory, and refuses, naming the process, when one does (`make run` calls it).

Usage: ``python tools/unlock_stale.py [--directory DIR] -- SNAKEMAKE [ARGS...]`` (the command that would run the
workflow, without targets: ``--unlock`` is appended). Exit status 0: nothing locked, or the stale lock removed;
1: another Snakemake process runs in DIR.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import psutil


def locks(directory: Path) -> list[Path]:
    folder = directory / ".snakemake" / "locks"
    return sorted(folder.glob("*.lock")) if folder.is_dir() else []


def snakemake_processes(directory: Path) -> list[psutil.Process]:
    """Running Snakemake processes (not this one, nor its ancestors) whose working directory is ``directory``."""
    mine = {os.getpid(), *(p.pid for p in psutil.Process().parents())}
    target = directory.resolve()
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            cmdline = proc.info["cmdline"] or []
            if proc.pid in mine or not any("snakemake" in Path(part).name for part in cmdline[:3]):
                continue
            if Path(proc.cwd()).resolve() == target:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--directory", default=".", help="the workflow's working directory (default: .)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- snakemake [args]")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    directory = Path(args.directory)
    held = locks(directory)
    if not held:
        return 0
    running = snakemake_processes(directory)
    if running:
        names = "; ".join(f"pid {p.pid}: {' '.join(p.cmdline())[:200]}" for p in running)
        print(
            f"{directory.resolve()} is locked by a running Snakemake ({names}). Wait for it to finish or stop it; "
            "do not unlock a directory in use.",
            file=sys.stderr,
        )
        return 1
    if not command:
        print("no snakemake command given after --", file=sys.stderr)
        return 2
    print(f"{directory.resolve()}: removing the stale lock of a run that did not end ({len(held)} lock files; no "
          "Snakemake process is running there): snakemake --unlock", file=sys.stderr)  # fmt: skip
    return subprocess.run([*command, "--unlock"], cwd=directory, stdout=subprocess.DEVNULL).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
