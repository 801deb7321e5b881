"""Compare two result folders value by value: every experiment's crosseval.csv and robustness.csv and the papers'
tables and claims. Prints each file as identical or lists what differs; exit status 1 if anything differs.

Usage: .venv/bin/python tools/compare_results.py OLD_RESULTS NEW_RESULTS

Results of the layout before the "one home per paper" change are read too (model ids then split over
``*_method``/``*_variant`` columns, DataGrad's tables in ``results/<experiment>/paper/``), so a run of the
old code can be compared with a run of the new one.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for prefix in ("attacker", "target", ""):
        method, variant = f"{prefix}_method" if prefix else "method", f"{prefix}_variant" if prefix else "variant"
        if method in frame and variant in frame:
            frame[prefix or "model"] = frame.pop(method) + "/" + frame.pop(variant)
    keys = [
        c
        for c in ("experiment", "fold", "attack", "attacker", "target", "model", "metric", "layer", "epsilon")
        if c in frame
    ]
    if "layer" in frame:
        frame["layer"] = frame["layer"].fillna("")
    frame = frame[sorted(frame.columns)]
    return frame.sort_values(keys, kind="mergesort").reset_index(drop=True)


def compare_csv(old: Path, new: Path) -> str | None:
    a, b = _normalise(pd.read_csv(old)), _normalise(pd.read_csv(new))
    if list(a.columns) != list(b.columns):
        return f"columns differ: {sorted(set(a.columns) ^ set(b.columns))}"
    if a.shape != b.shape:
        return f"shapes differ: {a.shape} vs {b.shape}"
    diff = ~((a == b) | (a.isna() & b.isna()))
    if diff.to_numpy().any():
        rows = diff.any(axis=1)
        return f"{int(rows.sum())} rows differ, e.g.\n{a[rows].head(3)}\n{b[rows].head(3)}"
    return None


def pairs(old: Path, new: Path):
    for path in sorted(old.glob("*/crosseval.csv")) + sorted(old.glob("*/robustness.csv")):
        yield path, new / path.relative_to(old)
    for path in sorted(old.glob("*/paper/*")):  # old layout: results/<experiment>/paper/
        yield path, new / "papers" / "datagrad" / ("tables" if path.name.startswith("table") else "") / path.name
    for path in sorted(old.glob("papers/*/**/*")):
        if path.is_file():
            yield path, new / path.relative_to(old)


def main(old: str, new: str) -> int:
    bad = 0
    for a, b in pairs(Path(old), Path(new)):
        if a.suffix == ".png":
            continue
        if not b.exists():
            print(f"MISSING  {b}")
            bad += 1
            continue
        if a.suffix == ".csv":
            problem = compare_csv(a, b)
        else:
            problem = None if a.read_bytes() == b.read_bytes() else "bytes differ"
        print(f"{'same    ' if problem is None else 'DIFFERS '} {a} -> {b}" + (f"\n  {problem}" if problem else ""))
        bad += problem is not None
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
