"""One verdict engine for every paper's claims (torch-free): an estimate of the compared quantity with a 95%
interval, and a four-way verdict against the claim's threshold (docs/fidelity.md, "Verdicts").

A claim compares a quantity (a difference of accuracies, a difference or ratio of robustness values) with a
threshold taken from the paper's words. The engine:

- estimates the quantity from its replicates (training seeds, or HLDR's folds), one value per replicate;
- bounds it with a 95% interval: across replicates a Student-t interval on the per-replicate values
  (``scipy.stats.t``), and for accuracies the test-sample part, a Newcombe hybrid-score interval for a difference
  of two proportions (Newcombe 1998, method 10) from Wilson intervals (``scipy.stats.binomtest``) on the test
  points of one replicate; with several replicates both parts are added in quadrature on each side. Two models
  evaluated on the same points are compared point by point where the results carry per-point correctness (every
  cross-evaluation row's ``mask``, :mod:`advreg.evaluation.points`): :func:`paired_accuracy_difference`, whose
  test-sample part is a Student-t interval of the per-point differences, widened where McNemar's interval on
  the discordant points (Wilson, conditional on their number) is wider, so only the points the two models
  disagree on widen it; the unpaired :func:`accuracy_difference` (conservative for the positively correlated
  errors of two models on the same points) remains for counts without masks;
- for a robustness value that is a statistic of per-point values (rho_2 the mean of ||r|| / ||x||, rho_inf an FGS
  budget's median times a mean; :mod:`advreg.metrics.point_statistics`) where both models were measured on the same
  points: :func:`bootstrap_estimate`, whose test-sample part is a paired percentile bootstrap over the test points
  (``scipy.stats.bootstrap``, ``paired=True``: every model's values resampled at the same points, so what the
  two models share cancels), added in quadrature to the replicates' Student-t spread;
- decides: **held** when the whole interval lies on the claimed side of the threshold, **not held** when it lies
  wholly on the other side, **inconclusive** otherwise, **not testable** when the estimate is missing. Where no
  interval exists (a robustness value from one run without per-point values, a time), the estimate decides, and it is
  inconclusive when it is within the paper's rounding of the threshold.

Published numbers, fed through the same rules (tests/test_claims_self_consistency.py), are exact:
:func:`exact` gives them an interval of zero width.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.95
HELD, NOT_HELD, INCONCLUSIVE, NOT_TESTABLE = "held", "not held", "inconclusive", "not testable"
VERDICTS = (HELD, NOT_HELD, INCONCLUSIVE, NOT_TESTABLE)


@dataclass(frozen=True)
class Estimate:
    """A compared quantity: its estimate, 95% interval (NaN where not available), the test points per replicate
    (0 where the quantity is not a proportion of test points) and the replicate count; ``sd``: the standard deviation
    across replicates (ddof 1; NaN with one), ``disjoint``: the replicates were tested on disjoint test points (the
    folds of a cross-validation), so more replicates also mean more test points."""

    value: float
    low: float = math.nan
    high: float = math.nan
    n_points: int = 0
    n_replicates: int = 1
    sd: float = math.nan
    disjoint: bool = False

    @property
    def has_interval(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)

    def shifted(self, by: float) -> Estimate:
        return Estimate(
            self.value + by, self.low + by, self.high + by, self.n_points, self.n_replicates, self.sd, self.disjoint
        )


MISSING = Estimate(math.nan, n_replicates=0)


def exact(value: float, n_points: int = 0) -> Estimate:
    """A number taken as exact (a published one): a zero-width interval."""
    return Estimate(float(value), float(value), float(value), n_points, 1)


def t_half_width(values: np.ndarray, level: float = LEVEL) -> float:
    """Half-width of the Student-t interval at ``level`` (95%) of the mean of ``values`` (ddof 1); 0 for one value."""
    if len(values) < 2:
        return 0.0
    return float(stats.t.ppf(0.5 + level / 2, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values)))


def _wilson(correct: int, n: int) -> tuple[float, float]:
    ci = stats.binomtest(int(correct), int(n)).proportion_ci(LEVEL, method="wilson")
    return float(ci.low), float(ci.high)


def _sd(values: np.ndarray) -> float:
    return float(values.std(ddof=1)) if len(values) > 1 else math.nan


def accuracy_difference(
    correct_a: Sequence[float], correct_b: Sequence[float], n: Sequence[int], disjoint: bool = False
) -> Estimate:
    """A - B in accuracy points (%), from correct counts of two models on the same ``n`` test points, one entry per
    replicate. Counts may be means over several attack sets of the same points (rounded for the Wilson part).
    ``disjoint``: each replicate has its own test points (cross-validation folds; see :func:`replicates_to_decide`)."""
    a, b, m = (np.asarray(x, dtype=float) for x in (correct_a, correct_b, n))
    if not len(m) or len(a) != len(m) or len(b) != len(m) or not np.all(np.isfinite(np.r_[a, b])) or np.any(m <= 0):
        return MISSING
    diffs = 100 * (a / m - b / m)
    points = int(round(float(m.mean())))
    pa, pb = float((a / m).mean()), float((b / m).mean())
    la, ua = _wilson(round(pa * points), points)
    lb, ub = _wilson(round(pb * points), points)
    below = 100 * math.sqrt((pa - la) ** 2 + (ub - pb) ** 2)  # Newcombe's method 10
    above = 100 * math.sqrt((ua - pa) ** 2 + (pb - lb) ** 2)
    spread = t_half_width(diffs)
    value = float(diffs.mean())
    low = value - math.sqrt(below**2 + spread**2)
    high = value + math.sqrt(above**2 + spread**2)
    return Estimate(value, low, high, points, len(m), _sd(diffs), disjoint)


def _paired_half_widths(d: np.ndarray) -> tuple[float, float]:
    """The test-sample part of a paired difference of accuracies, in points, below and above its mean, from the
    per-point differences ``d`` (a - b, each in [-1, 1]) of two models on the same points: a Student-t interval of
    the mean difference (the per-point analogue of a paired t-test) and, for 0/1 correctness (one replicate, or
    pooled disjoint folds), on each side the wider of it and McNemar's interval: with b, c the discordant points (a
    right and b wrong, and the reverse) the difference is (b - c) / n, and a Wilson interval on b / (b + c)
    (``scipy.stats.binomtest``), conditional on the b + c discordant points, maps to (b + c) / n (2 p - 1). The
    t-interval alone is too narrow when few points are discordant, the conditional one ignores that their number
    is random; the wider of the two keeps both failure modes out. No discordant point: zero width."""
    n = len(d)
    value = float(d.mean())
    half = 100 * t_half_width(d)
    b, c = int((d > 0).sum()), int((d < 0).sum())
    if not np.all(np.isin(d, (-1.0, 0.0, 1.0))) or b + c == 0:
        return half, half
    low, high = _wilson(b, b + c)
    scale = (b + c) / n
    below = 100 * (value - scale * (2 * low - 1))
    above = 100 * (scale * (2 * high - 1) - value)
    return max(half, below), max(half, above)


def paired_accuracy_difference(
    points_a: Sequence[np.ndarray], points_b: Sequence[np.ndarray], disjoint: bool = False
) -> Estimate:
    """A - B in accuracy points (%) from per-point correctness (:mod:`advreg.evaluation.points`) of two models on the
    same test points, one (n,) array per replicate (0/1, or a per-point mean over several attack sets of the same
    points): the paired design, whose interval only the points the two models disagree on widen.

    The estimate is the mean over replicates of each replicate's mean per-point difference. Its interval adds in
    quadrature, on each side, the test-sample part of :func:`_paired_half_widths` (on the per-point differences
    averaged over replicates that share their points, or pooled over ``disjoint`` replicates, the folds of a
    cross-validation, each with its own points) and the Student-t spread across replicates."""
    if not len(points_a) or len(points_a) != len(points_b):
        return MISSING
    a = [np.asarray(p, dtype=float) for p in points_a]
    b = [np.asarray(p, dtype=float) for p in points_b]
    if any(x.shape != y.shape or x.ndim != 1 or not len(x) for x, y in zip(a, b, strict=True)):
        return MISSING
    diffs = [x - y for x, y in zip(a, b, strict=True)]
    values = np.array([100 * float(d.mean()) for d in diffs])
    if disjoint:
        pooled = np.concatenate(diffs)
    elif len({len(d) for d in diffs}) == 1:
        pooled = np.mean(diffs, axis=0)
    else:
        return MISSING
    below, above = _paired_half_widths(pooled)
    spread = t_half_width(values)
    value = float(values.mean())
    points = int(round(float(np.mean([len(d) for d in diffs]))))
    return Estimate(
        value,
        value - math.hypot(below, spread),
        value + math.hypot(above, spread),
        points,
        len(diffs),
        _sd(values),
        disjoint,
    )


def accuracy(correct: Sequence[float], n: Sequence[int]) -> Estimate:
    """One model's accuracy in points (%), from correct counts on ``n`` test points, one entry per replicate: a
    Wilson interval on the test points (``scipy.stats.binomtest``) and, with several replicates, the Student-t
    spread across them, added in quadrature on each side."""
    c, m = (np.asarray(x, dtype=float) for x in (correct, n))
    if not len(m) or len(c) != len(m) or not np.all(np.isfinite(c)) or np.any(m <= 0):
        return MISSING
    values = 100 * c / m
    points = int(round(float(m.mean())))
    p = float((c / m).mean())
    low, high = _wilson(round(p * points), points)
    spread = t_half_width(values)
    value = float(values.mean())
    return Estimate(
        value,
        value - math.hypot(100 * (p - low), spread),
        value + math.hypot(100 * (high - p), spread),
        points,
        len(m),
        _sd(values),
    )


BOOTSTRAP_RESAMPLES = 2000  # percentile intervals at 95%: Efron & Tibshirani (1993) advise at least 1,000
BOOTSTRAP_SEED = 20261206  # fixed: the same results give the same interval on every machine


def bootstrap_estimate(
    values: Sequence[float], data: Sequence[np.ndarray], statistic: Callable[..., np.ndarray]
) -> Estimate:
    """A quantity measured once per replicate (``values``: its estimate, their mean) that is ``statistic`` of
    per-point arrays over the same test points (``data``: every array of every replicate and model involved, each
    (n,); ``statistic(*data, axis=-1)`` gives the quantity as the mean over replicates, e.g. of a difference or a
    ratio of two models' values). Its 95% interval adds in quadrature, on each side, the test-sample part, a paired
    percentile bootstrap (``scipy.stats.bootstrap``, :data:`BOOTSTRAP_RESAMPLES` resamples, a fixed seed) taken as
    the distances of its ends from ``statistic`` on the points as they are, and the Student-t spread of ``values``
    across replicates. No interval (the estimate alone) where a resample's statistic is not finite (e.g. an FGS
    budget censored at the search's end for half the resampled points). Many quantities over the same points at
    once: :func:`bootstrap_estimates`."""
    return bootstrap_estimates([values], data, lambda *a, axis=-1: statistic(*a, axis=axis)[None])[0]


def bootstrap_estimates(
    values: Sequence[Sequence[float]], data: Sequence[np.ndarray], statistic: Callable[..., np.ndarray]
) -> list[Estimate]:
    """:func:`bootstrap_estimate` for k quantities over the same points in one resampling (every quantity sees the
    same resamples): ``values`` one sequence per quantity, ``statistic(*data, axis=-1)`` returns the k quantities
    stacked on the first axis."""
    vs = [np.asarray(list(v), dtype=float) for v in values]
    arrays = tuple(np.asarray(d, dtype=float) for d in data)
    n = len(arrays[0]) if arrays else 0
    if not n or any(a.shape != (n,) for a in arrays):
        return [MISSING for _ in vs]
    full = np.asarray(statistic(*arrays, axis=-1), dtype=float).reshape(len(vs))
    with np.errstate(all="ignore"):
        result = stats.bootstrap(
            arrays,
            statistic,
            paired=True,
            vectorized=True,
            n_resamples=BOOTSTRAP_RESAMPLES,
            method="percentile",
            confidence_level=LEVEL,
            rng=np.random.default_rng(BOOTSTRAP_SEED),
            batch=max(1, min(BOOTSTRAP_RESAMPLES, 4_000_000 // (n * len(arrays) + n * len(vs)))),
        )
    lows = np.asarray(result.confidence_interval.low, dtype=float).reshape(len(vs))
    highs = np.asarray(result.confidence_interval.high, dtype=float).reshape(len(vs))
    out = []
    for v, f, low, high in zip(vs, full, lows, highs, strict=True):
        if not len(v) or not np.all(np.isfinite(v)):
            out.append(MISSING)
            continue
        value = float(v.mean())
        if not all(math.isfinite(x) for x in (f, low, high)):
            out.append(Estimate(value, n_points=n, n_replicates=len(v), sd=_sd(v)))
            continue
        below, above = max(f - low, 0.0), max(high - f, 0.0)
        spread = t_half_width(v)
        out.append(
            Estimate(value, value - math.hypot(below, spread), value + math.hypot(above, spread), n, len(v), _sd(v))
        )
    return out


def replicate_mean(values: Iterable[float]) -> Estimate:
    """The mean over replicates of a quantity with no test-sample model here (a robustness value, a ratio): a
    Student-t interval across replicates; none (NaN) with one replicate."""
    v = np.asarray(list(values), dtype=float)
    if not len(v) or not np.all(np.isfinite(v)):
        return MISSING
    if len(v) < 2:
        return Estimate(float(v[0]), n_replicates=1)
    half = t_half_width(v)
    return Estimate(float(v.mean()), float(v.mean() - half), float(v.mean() + half), 0, len(v), _sd(v))


def decide(estimate: Estimate, threshold: float, greater: bool = True, rounding: float = 0.0) -> str:
    """The verdict on "quantity > threshold" (``greater``) or "quantity < threshold". With an interval: held when it
    lies wholly on the claimed side, not held when wholly on the other (touching the threshold counts as the other
    side), else inconclusive. Without one: the estimate decides, inconclusive within ``rounding`` of the threshold
    (the paper's printed precision)."""
    if not math.isfinite(estimate.value) or not math.isfinite(threshold):
        return NOT_TESTABLE
    sign = 1.0 if greater else -1.0
    if estimate.has_interval:
        low, high = sorted((sign * (estimate.low - threshold), sign * (estimate.high - threshold)))
    else:
        low = high = sign * (estimate.value - threshold)
        if abs(low) < rounding:
            return INCONCLUSIVE
    if low > 0:
        return HELD
    if high <= 0:
        return NOT_HELD
    return INCONCLUSIVE


def points_to_decide(estimate: Estimate, threshold: float, greater: bool = True) -> int:
    """For an inconclusive comparison of accuracies from one replicate: about how many test points would decide it
    if the estimate stayed where it is (held if it lies on the claimed side, else not held). The interval's
    test-sample part shrinks as 1 / sqrt(n), so n' = n (w / |estimate - threshold|)^2 with w the interval's
    half-width toward the threshold. 0 where it does not apply: decided already, no interval, not a proportion of
    test points, or several replicates (their spread does not shrink with test points)."""
    e = estimate
    if not e.has_interval or e.n_points <= 0 or e.n_replicates != 1:
        return 0
    if decide(e, threshold, greater) != INCONCLUSIVE:
        return 0
    gap = e.value - threshold
    if gap == 0:
        return 0
    half = (e.value - e.low) if gap > 0 else (e.high - e.value)  # the interval's end toward the threshold
    return int(math.ceil(e.n_points * (half / abs(gap)) ** 2))


def replicates_to_decide(estimate: Estimate, threshold: float, greater: bool = True, most: int = 1000) -> int:
    """For an inconclusive comparison from several replicates: about how many replicates would decide it if the
    estimate and the spread across replicates stayed where they are; 0 where it does not apply (decided already,
    one replicate, no interval) or where no count up to ``most`` would.

    The interval's half-width toward the threshold, h, is split into its replicate part, t(k-1) sd / sqrt(k)
    (Student t, k replicates), and the rest, the test-sample part w (h^2 = w^2 + (t sd / sqrt(k))^2, as the
    interval was built). At k' replicates the replicate part is t(k'-1) sd / sqrt(k'); the test-sample part stays
    (the same test points in every replicate) or, for ``disjoint`` replicates (cross-validation folds with their
    own test points, ``n_points`` each), shrinks to w sqrt(k / k'). The answer is the least k' whose half-width is
    below |estimate - threshold|."""
    e = estimate
    k = e.n_replicates
    if not e.has_interval or k < 2 or not math.isfinite(e.sd):
        return 0
    if decide(e, threshold, greater) != INCONCLUSIVE:
        return 0
    gap = abs(e.value - threshold)
    if gap == 0:
        return 0
    half = (e.value - e.low) if e.value > threshold else (e.high - e.value)
    t = stats.t.ppf(0.5 + LEVEL / 2, k - 1)
    rest = max(half**2 - (t * e.sd) ** 2 / k, 0.0)
    counts = np.arange(k + 1, most + 1)
    sample = rest * k / counts if e.disjoint else np.full(len(counts), rest)
    halves = np.sqrt(sample + (stats.t.ppf(0.5 + LEVEL / 2, counts - 1) * e.sd) ** 2 / counts)
    found = np.flatnonzero(halves < gap)
    return int(counts[found[0]]) if len(found) else 0


def combine(verdicts: Iterable[str]) -> str:
    """A claim made of several comparisons (e.g. "the best on every set"): not testable if any part is, not held if
    any part is not held, held if all are held, else inconclusive."""
    parts = list(verdicts)
    if not parts or NOT_TESTABLE in parts:
        return NOT_TESTABLE
    if NOT_HELD in parts:
        return NOT_HELD
    return HELD if all(p == HELD for p in parts) else INCONCLUSIVE


@dataclass(frozen=True)
class Comparison:
    """One judged comparison of a claim: what is compared, its estimate, the threshold and direction."""

    quantity: str
    estimate: Estimate
    threshold: float = 0.0
    greater: bool = True
    rounding: float = 0.0

    @property
    def verdict(self) -> str:
        return decide(self.estimate, self.threshold, self.greater, self.rounding)

    @property
    def slack(self) -> float:
        """How far the interval's near end lies on the claimed side of the threshold (negative: across it)."""
        e = self.estimate
        near = e.low if self.greater else e.high
        near = near if e.has_interval else e.value
        return (near - self.threshold) * (1 if self.greater else -1) if math.isfinite(near) else -math.inf


def judge(comparisons: Sequence[Comparison]) -> tuple[str, Comparison | None]:
    """The claim's verdict (:func:`combine`) and the comparison that decides it: the first one with the verdict
    if the verdict is not held / not testable, else the one with the least room on the claimed side."""
    if not comparisons:
        return NOT_TESTABLE, None
    verdict = combine(c.verdict for c in comparisons)
    if verdict in (NOT_TESTABLE, NOT_HELD):
        return verdict, next(c for c in comparisons if c.verdict == verdict)
    return verdict, min(comparisons, key=lambda c: c.slack)
