"""What the rho values' paired bootstrap costs a paper's render: one comparison (a difference of two models' rho_2,
or of rho_inf with its median budget) at the default preset's and the MNIST preset's test sizes, and a leaderboard
column's every pair of 17 models in one resampling (``declarations.compare_all``) against one by one; synthetic
per-point terms, median of a few repeats.

Usage: .venv/bin/python benchmarks/verdicts.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numpy as np  # noqa: E402

from advreg.metrics.point_statistics import STATISTICS  # noqa: E402
from advreg.reporting.declarations import Diff, compare_all, value_cell  # noqa: E402


def median_s(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cells(models: int, n: int, metric: str) -> dict[str, object]:
    rng = np.random.default_rng(0)
    out = {}
    for m in range(models):
        if metric == "rho_inf":
            terms = (rng.exponential(0.1, n), rng.uniform(1.0, 1.2, n))
        else:
            terms = (rng.exponential(0.1 * (1 + 0.01 * m), n),)
        value = float(STATISTICS[metric](*terms))
        out[str(m)] = value_cell(metric, str(m), [value], samples=[terms], statistic=STATISTICS[metric])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print("one comparison (paired bootstrap, 2,000 resamples):")
    for metric in ("rho_2", "rho_inf"):
        for n in (1000, 2000, 10000):
            pair = cells(2, n, metric)
            seconds = median_s(lambda pair=pair: Diff("0", "1").compare(pair), args.repeats)
            print(f"  {metric:8s} n={n:6d}: {seconds * 1000:8.1f} ms")
    board = cells(17, 1000, "rho_2")
    pairs = [Diff(a, b) for a in board for b in board if a != b]
    together = median_s(lambda: compare_all(pairs, board), args.repeats)
    alone = median_s(lambda: [q.compare(board) for q in pairs], 1)
    print(f"17 models, {len(pairs)} pairs, n=1000: together {together:.2f} s, one by one {alone:.2f} s")


if __name__ == "__main__":
    main()
