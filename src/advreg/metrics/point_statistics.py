"""Robustness metrics as statistics of per-point values (torch-free), so that they can be recomputed on
resampled test points (:func:`advreg.reporting.verdicts.bootstrap_estimate`).

:mod:`advreg.metrics.robustness` stores, beside each metric below, its per-point values (``per_point``,
:func:`advreg.evaluation.points.encode_values`); the statistic named here turns them back into the metric. Each
takes the stored arrays (one per row of the stored values) and an ``axis`` along which the points lie.

- ``rho_2`` (DeepDefense eq. 7), ``rho_2_unnormalised`` (supp. eq. 1), ``rho_inf_per_sample``: the mean of the
  per-point terms;
- ``rho_inf`` (eq. 8 at eps_50): the median of the per-point smallest fooling FGS budgets (``inverted_cdf``: the
  smallest budget that fools at least half of the points, eps_50 itself, since the bisection for eps_50 and the
  per-point bisections share their grid; +inf for a point not fooled within the search) times the mean of the
  per-point terms of eq. 8 (scale ||sign g||_inf / ||x||_inf).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def mean(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """The mean of per-point terms (rho_2, rho'_2, the per-sample rho_inf)."""
    return np.mean(values, axis=axis)


def rho_inf(budget: np.ndarray, factor: np.ndarray, axis: int = -1) -> np.ndarray:
    """eq. 8 at eps_50: the smallest budget fooling at least half of the points, times the mean of eq. 8's terms."""
    return np.quantile(budget, 0.5, axis=axis, method="inverted_cdf") * np.mean(factor, axis=axis)


STATISTICS: dict[str, Callable[..., np.ndarray]] = {
    "rho_2": mean,
    "rho_2_unnormalised": mean,
    "rho_inf_per_sample": mean,
    "rho_inf": rho_inf,
}
