"""Print wall time and peak memory per rule from Snakemake's benchmark files (results/benchmarks/).

Usage: .venv/bin/python benchmarks/stage_times.py [results/benchmarks]
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd


def main(root: str = "results/benchmarks") -> None:
    rows = []
    for path in sorted(Path(root).rglob("*.tsv")):
        frame = pd.read_csv(path, sep="\t")
        rows.append({"job": path.relative_to(root).with_suffix("").as_posix(), "seconds": frame["s"].iloc[-1],
                     "max_rss_mb": frame["max_rss"].iloc[-1], "cpu_time_s": frame["cpu_time"].iloc[-1]})
    if not rows:
        sys.exit(f"no benchmark files under {root}: run the pipeline first")
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    print(f"\n{len(table)} jobs; sum of job wall times {table['seconds'].sum():.1f} s; "
          f"largest peak memory {table['max_rss_mb'].max():.0f} MB ({table.loc[table['max_rss_mb'].idxmax(), 'job']})")


if __name__ == "__main__":
    main(*sys.argv[1:])
