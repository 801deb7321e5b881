"""A - B in accuracy points from two models' cross-evaluation rows, one or more rows per fold (several budgets or
attack sets of the same test points, averaged per point), folds being the replicates (torch-free).

The verdict engine's estimate (:mod:`advreg.reporting.verdicts`), paired wherever it can be: rows that carry
per-point correctness (``mask``, :mod:`advreg.evaluation.points`) on the same test points give
:func:`~advreg.reporting.verdicts.paired_accuracy_difference`; rows with counts only (``n``; results written before
masks were stored) the unpaired :func:`~advreg.reporting.verdicts.accuracy_difference`; rows without counts
(published numbers, taken as exact) the spread across folds alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from advreg.evaluation.points import mean_correct
from advreg.reporting.verdicts import (
    MISSING,
    Estimate,
    accuracy_difference,
    paired_accuracy_difference,
    replicate_mean,
)


def _per_fold(rows: pd.DataFrame, scale: float) -> dict[object, tuple[float, int, np.ndarray | None]]:
    """Per fold: mean accuracy (a fraction), the fewest test points of its rows (0 without ``n``), the per-point
    mean correctness (None without masks or with rows of different sizes)."""
    out = {}
    for fold, part in rows.groupby("fold", sort=True):
        n = int(part["n"].min()) if "n" in part and part["n"].notna().all() else 0
        same = "n" in part and part["n"].nunique() == 1
        points = mean_correct(part["mask"], n) if "mask" in part and same else None
        out[fold] = (float(part["accuracy"].mean()) / scale, n, points)
    return out


def fold_difference(
    rows_a: pd.DataFrame, rows_b: pd.DataFrame, disjoint: bool = False, percent: bool = False
) -> Estimate:
    """A - B in points over the folds both have (columns ``fold``, ``accuracy``, optional ``n`` and ``mask``;
    ``percent``: accuracies in %, else fractions). ``disjoint``: each fold tests on its own points (a
    cross-validation). MISSING when the two share no fold."""
    scale = 100.0 if percent else 1.0
    a, b = _per_fold(rows_a, scale), _per_fold(rows_b, scale)
    folds = [f for f in a if f in b]
    if not folds:
        return MISSING
    pa = [a[f][2] for f in folds]
    pb = [b[f][2] for f in folds]
    if all(p is not None for p in pa + pb) and all(len(x) == len(y) for x, y in zip(pa, pb, strict=True)):
        return paired_accuracy_difference(pa, pb, disjoint=disjoint)
    n = np.array([min(a[f][1], b[f][1]) for f in folds])
    acc_a = np.array([a[f][0] for f in folds])
    acc_b = np.array([b[f][0] for f in folds])
    if (n > 0).all():
        return accuracy_difference(acc_a * n, acc_b * n, n, disjoint=disjoint)
    return replicate_mean(100 * (acc_a - acc_b))
