"""Print wall time, start-up time and peak memory per job of the last run, and the start-up share.

Wall time and peak memory come from Snakemake's benchmark files (results/benchmarks/); the start-up time is
what each job logged as its second line ("advreg start-up: X s": from the process's start to the end of its
set-up, i.e. interpreter, imports and torch configuration, before the first useful computation).

Usage: .venv/bin/python benchmarks/stage_times.py [results/benchmarks] [logs]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd

STARTUP = re.compile(r"^advreg start-up: ([0-9.]+) s$", re.M)


def startup_seconds(log: Path) -> float:
    match = STARTUP.search(log.read_text(errors="replace")) if log.is_file() else None
    return float(match.group(1)) if match else float("nan")


def main(root: str = "results/benchmarks", logs: str = "logs") -> None:
    rows = []
    for path in sorted(Path(root).rglob("*.tsv")):
        frame = pd.read_csv(path, sep="\t")
        name = path.relative_to(root).with_suffix("").as_posix()
        rows.append(
            {
                "job": name,
                "seconds": frame["s"].iloc[-1],
                "startup_s": startup_seconds(Path(logs) / f"{name}.log"),
                "max_rss_mb": frame["max_rss"].iloc[-1],
                "cpu_time_s": frame["cpu_time"].iloc[-1],
            }
        )
    if not rows:
        sys.exit(f"no benchmark files under {root}: run the pipeline first")
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    total, startup = table["seconds"].sum(), table["startup_s"].sum()
    peak = table.loc[table["max_rss_mb"].idxmax()]
    print(
        f"\n{len(table)} jobs; sum of job wall times {total:.1f} s; "
        f"peak memory {peak['max_rss_mb']:.0f} MB ({peak['job']})"
    )
    print(
        f"start-up share: {startup:.1f} s of {total:.1f} s of job wall time = {100 * startup / total:.1f}% "
        f"(start-up: process start to the end of set-up, as each job logged it)"
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
