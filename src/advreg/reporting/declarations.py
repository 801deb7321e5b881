"""Claims as declarations, judged by one engine (torch-free; docs/fidelity.md, "Verdicts").

A paper module states what the paper claims; this module decides it. The module builds two things:

- its **cells**: :class:`Cell` objects under keys of its choosing (any hashable, e.g. ``("table1", "lwa",
  "adv_loss")``), each one measured quantity of one model, one value per replicate (training seeds, or HLDR's
  folds), with the test points and per-point correctness where it is an accuracy (:func:`accuracy_cell` builds one
  from cross-evaluation rows, :func:`value_cell` from bare values: a robustness value, a time, a published
  number);
- its **declarations**: :class:`Declaration` (the statement and where the paper makes it, the quantities it
  compares, the margin and the paper's words it comes from, the tables that hold the numbers), each comparing
  cells: :class:`Diff` (a - b), :class:`Ratio` (a / b) or :class:`Level` (a alone) against a threshold, on the
  claimed side (``greater``).

:func:`judge` estimates every quantity with :mod:`advreg.reporting.verdicts` (paired over the test points where both
cells carry per-point correctness, from counts where they carry test points only, else from the spread across
replicates), decides each declaration (all its comparisons must hold) and writes the evidence from the cells it
compared, so every paper's evidence reads the same way. A fifth paper's claims are a list of declarations over its
cells, not code. A quantity whose cell is missing (a model, attack or measurement not run) makes the claim not
testable.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from advreg.evaluation.points import mean_correct
from advreg.reporting.claims import PAPER_CLAIM, Claim
from advreg.reporting.verdicts import (
    MISSING,
    Comparison,
    Estimate,
    accuracy,
    accuracy_difference,
    bootstrap_estimate,
    bootstrap_estimates,
    paired_accuracy_difference,
    replicate_mean,
)


@dataclass(frozen=True, eq=False)
class Cell:
    """One measured quantity of one model, per replicate.

    ``what``: the quantity ("Table 1 Adv_Loss", "rho_2", "clean accuracy"), ``model``: whose it is (its display
    name). ``values``: one per replicate; accuracies as fractions (``fraction``; shown in %, compared in points;
    ``n``: the test points per replicate, empty for a published accuracy, taken as exact), any other quantity in its
    own unit. ``points``: per replicate, the per-point correctness (0/1, or a per-point mean
    over several evaluations of the same points; None where not stored). ``disjoint``: the replicates are tested
    on disjoint test points (cross-validation folds)."""

    what: str
    model: str
    values: tuple[float, ...]
    fraction: bool = False
    n: tuple[int, ...] = ()
    points: tuple[np.ndarray | None, ...] = ()
    disjoint: bool = False
    digits: int = 4  # significant digits of a non-accuracy value in the evidence
    folds: tuple[object, ...] = ()  # the replicates' labels where known; two cells are compared replicate by replicate
    # a value that is a statistic of per-point values (rho_2, rho_inf): per replicate, its per-point arrays over the
    # test points (None where not stored), and the statistic that turns them into the value
    # (:mod:`advreg.metrics.point_statistics`); two such cells on the same points get a paired bootstrap interval
    samples: tuple[tuple[np.ndarray, ...] | None, ...] = ()
    statistic: Callable[..., np.ndarray] | None = None

    @property
    def has_points(self) -> bool:
        """An accuracy with its test points (a test-sample interval applies)."""
        return self.fraction and bool(self.n) and all(m > 0 for m in self.n)

    @property
    def has_samples(self) -> bool:
        """A value with its per-point values in every replicate, all over the same number of points."""
        if self.statistic is None or not self.samples or len(self.samples) != len(self.values):
            return False
        if any(s is None for s in self.samples):
            return False
        return len({len(x) for s in self.samples for x in s}) == 1

    @property
    def measured(self) -> bool:
        return bool(self.values) and all(math.isfinite(v) for v in self.values)

    @property
    def mean(self) -> float:
        return float(np.mean(self.values)) if self.measured else math.nan

    def shown(self) -> str:
        """The mean over replicates as the evidence shows it: accuracies in % with 2 decimals."""
        if not self.measured:
            return "n/a"
        return f"{100 * self.mean:.2f}" if self.fraction else f"{self.mean:.{self.digits}g}"


def value_cell(
    what: str,
    model: str,
    values: Iterable[float],
    digits: int = 4,
    disjoint: bool = False,
    samples: Sequence[tuple[np.ndarray, ...] | None] = (),
    statistic: Callable[..., np.ndarray] | None = None,
) -> Cell:
    """A cell of values that are not accuracies (a robustness value, a ratio, a time, a published number); with
    ``samples`` and ``statistic`` (a robustness value's per-point values per replicate and how they make the value,
    :mod:`advreg.metrics.point_statistics`) it has a test-sample interval, else only the replicates' spread."""
    kept = tuple(samples)
    if kept and (len(kept) != len(tuple(values)) or any(s is None for s in kept)):
        kept = ()  # a replicate without its per-point values: no test-sample part for any
    n = tuple(len(s[0]) for s in kept if s) if kept else ()
    return Cell(
        what,
        model,
        tuple(float(v) for v in values),
        n=n,
        disjoint=disjoint,
        digits=digits,
        samples=kept,
        statistic=statistic if kept else None,
    )


def accuracy_cell(what: str, model: str, rows: pd.DataFrame, disjoint: bool = False) -> Cell:
    """A model's accuracy from its cross-evaluation rows (columns ``fold``, ``accuracy`` as a fraction, optional
    ``n`` and ``mask``), one replicate per fold; several rows of a fold (budgets, attack sets of the same test points)
    are averaged, per point where they carry masks. Rows without ``n`` (published numbers) give exact values."""
    values, counts, points, folds = [], [], [], []
    for fold, part in rows.groupby("fold", sort=True):
        folds.append(fold)
        values.append(float(part["accuracy"].mean()))
        has_n = "n" in part and part["n"].notna().all()
        counts.append(int(part["n"].min()) if has_n else 0)
        same = has_n and part["n"].nunique() == 1
        points.append(mean_correct(part["mask"], int(part["n"].iloc[0])) if "mask" in part and same else None)
    with_n = bool(counts) and all(c > 0 for c in counts)
    return Cell(
        what,
        model,
        tuple(values),
        True,
        tuple(counts) if with_n else (),
        tuple(points) if with_n else (),
        disjoint,
        folds=tuple(folds),
    )


def _cell(cells: Mapping[Hashable, Cell], key: Hashable) -> Cell | None:
    cell = cells.get(key)
    return cell if cell is not None and cell.measured else None


def _paired(a: Cell | None, b: Cell | None) -> bool:
    """Two measured cells with the same replicates (the same fold labels where both know theirs)."""
    if a is None or b is None or len(a.values) != len(b.values):
        return False
    return not (a.folds and b.folds) or a.folds == b.folds


def _name(a: Cell, b: Cell, sign: str) -> str:
    if a.what == b.what:
        return f"{a.what}: {a.model} {sign} {b.model}"
    return f"{a.what} {a.model} {sign} {b.what} {b.model}"


@dataclass(frozen=True)
class Diff:
    """a - b; accuracies in points (%), paired over the test points where both carry per-point correctness.
    ``rounding``: without an interval, an estimate within it of the threshold is inconclusive."""

    a: Hashable
    b: Hashable
    threshold: float = 0.0
    greater: bool = True
    rounding: float = 0.0
    optional: bool = False  # compared only where both cells were measured (e.g. "better than every other model")

    def keys(self) -> tuple[Hashable, ...]:
        return (self.a, self.b)

    def compare(self, cells: Mapping[Hashable, Cell]) -> Comparison:
        a, b = _cell(cells, self.a), _cell(cells, self.b)
        if not _paired(a, b):
            return Comparison(f"{self.a} - {self.b}", MISSING, self.threshold, self.greater, self.rounding)
        unit = " (points)" if a.fraction and b.fraction else ""
        return Comparison(_name(a, b, "-") + unit, _difference(a, b), self.threshold, self.greater, self.rounding)


def _difference(a: Cell, b: Cell) -> Estimate:
    disjoint = a.disjoint and b.disjoint
    if a.has_points and b.has_points:
        pa, pb = list(a.points), list(b.points)
        paired = (
            len(pa) == len(pb) == len(a.values)
            and all(p is not None for p in pa + pb)
            and all(len(x) == len(y) for x, y in zip(pa, pb, strict=True))
        )
        if paired:
            return paired_accuracy_difference(pa, pb, disjoint=disjoint)
        n = np.minimum(np.array(a.n), np.array(b.n))
        return accuracy_difference(np.array(a.values) * n, np.array(b.values) * n, n, disjoint=disjoint)
    if _sampled(a, b):
        return _bootstrapped(a, b, np.subtract)
    scale = 100.0 if a.fraction and b.fraction else 1.0  # accuracies without test points: published, exact
    return replicate_mean(scale * (np.array(a.values) - np.array(b.values)))


def _sampled(a: Cell, b: Cell) -> bool:
    """Two values with per-point values of the same test points in every replicate (not disjoint folds)."""
    if not (a.has_samples and b.has_samples) or a.disjoint or b.disjoint:
        return False
    return len(a.samples) == len(b.samples) and len(a.samples[0][0]) == len(b.samples[0][0])


def _per_replicate(cell: Cell, arrays: Sequence[np.ndarray], at: int, axis: int) -> list[np.ndarray]:
    """The sampled cell's statistic per replicate, from (resampled) per-point arrays laid out as its ``samples``,
    replicate after replicate, from ``arrays[at]`` on (the bootstrap's data: :func:`_bootstrapped_together`)."""
    width = len(cell.samples[0])
    return [cell.statistic(*arrays[at + r * width : at + (r + 1) * width], axis=axis) for r in range(len(cell.values))]


def _bootstrapped(a: Cell, b: Cell, op: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Estimate:
    """``op(a, b)`` (a difference or ratio of the two cells' values) per replicate, its mean over replicates with
    the paired bootstrap interval of :func:`advreg.reporting.verdicts.bootstrap_estimate` over the shared points."""
    return _bootstrapped_together([(a, b, op)])[0]


def _bootstrapped_together(pairs: Sequence[tuple[Cell, Cell, Callable[..., np.ndarray]]]) -> list[Estimate]:
    """:func:`_bootstrapped` for many pairs of sampled cells over the same points and replicates at once
    (:func:`advreg.reporting.verdicts.bootstrap_estimates`: one resampling, each cell's statistic computed once)."""
    distinct: dict[int, Cell] = {}
    for a, b, _ in pairs:
        distinct.setdefault(id(a), a)
        distinct.setdefault(id(b), b)
    offsets, data = {}, []
    for key, cell in distinct.items():
        offsets[key] = len(data)
        data += [x for s in cell.samples for x in s]

    def statistic(*arrays: np.ndarray, axis: int = -1) -> np.ndarray:
        per_cell = {key: _per_replicate(cell, arrays, offsets[key], axis) for key, cell in distinct.items()}
        return np.stack(
            [
                np.mean([op(x, y) for x, y in zip(per_cell[id(a)], per_cell[id(b)], strict=True)], axis=0)
                for a, b, op in pairs
            ]
        )

    values = [op(np.array(a.values), np.array(b.values)) for a, b, op in pairs]
    return bootstrap_estimates(values, data, statistic)


def compare_all(quantities: Sequence[Quantity], cells: Mapping[Hashable, Cell]) -> list[Comparison]:
    """Every quantity's comparison, as its ``compare`` gives it, with the paired bootstraps of the differences and
    ratios of sampled cells that share their points and replicates made together, in one resampling (a leaderboard
    compares every pair of its models per column: 272 comparisons for 17 models)."""
    out: list[Comparison | None] = [None] * len(quantities)
    groups: dict[tuple[int, int], list[tuple[int, Diff | Ratio, Cell, Cell]]] = {}
    for i, q in enumerate(quantities):
        if isinstance(q, Diff | Ratio):
            a, b = _cell(cells, q.a), _cell(cells, q.b)
            if _paired(a, b) and _sampled(a, b) and (isinstance(q, Diff) or all(b.values)):
                groups.setdefault((len(a.samples[0][0]), len(a.values)), []).append((i, q, a, b))
                continue
        out[i] = q.compare(cells)
    for members in groups.values():
        ops = [(a, b, np.subtract if isinstance(q, Diff) else np.divide) for _, q, a, b in members]
        for (i, q, a, b), estimate in zip(members, _bootstrapped_together(ops), strict=True):
            name = _name(a, b, "-" if isinstance(q, Diff) else "/")
            out[i] = Comparison(name, estimate, q.threshold, q.greater, q.rounding)
    return [c for c in out if c is not None]


@dataclass(frozen=True)
class Ratio:
    """a / b per replicate (undefined where b is 0: not testable), the replicates' mean and spread."""

    a: Hashable
    b: Hashable
    threshold: float = 1.0
    greater: bool = True
    rounding: float = 0.0
    optional: bool = False

    def keys(self) -> tuple[Hashable, ...]:
        return (self.a, self.b)

    def compare(self, cells: Mapping[Hashable, Cell]) -> Comparison:
        a, b = _cell(cells, self.a), _cell(cells, self.b)
        if not _paired(a, b):
            return Comparison(f"{self.a} / {self.b}", MISSING, self.threshold, self.greater, self.rounding)
        ratios = [x / y if y else math.nan for x, y in zip(a.values, b.values, strict=True)]
        if _sampled(a, b) and all(math.isfinite(r) for r in ratios):
            estimate = _bootstrapped(a, b, np.divide)
        else:
            estimate = replicate_mean(ratios)
        return Comparison(_name(a, b, "/"), estimate, self.threshold, self.greater, self.rounding)


@dataclass(frozen=True)
class Level:
    """a alone against an absolute threshold; accuracies in % (Wilson interval on the test points)."""

    a: Hashable
    threshold: float = 0.0
    greater: bool = True
    rounding: float = 0.0
    optional: bool = False

    def keys(self) -> tuple[Hashable, ...]:
        return (self.a,)

    def compare(self, cells: Mapping[Hashable, Cell]) -> Comparison:
        a = _cell(cells, self.a)
        if a is None:
            return Comparison(f"{self.a}", MISSING, self.threshold, self.greater, self.rounding)
        if a.has_points:
            estimate = accuracy(np.array(a.values) * np.array(a.n), a.n)
            what = f"{a.what}: {a.model} accuracy (%)"
        elif a.fraction:
            estimate = replicate_mean(100 * np.array(a.values))
            what = f"{a.what}: {a.model} accuracy (%)"
        elif a.has_samples and not a.disjoint:

            def statistic(*arrays: np.ndarray, axis: int = -1) -> np.ndarray:
                return np.mean(_per_replicate(a, arrays, 0, axis), axis=0)

            estimate = bootstrap_estimate(a.values, [x for s in a.samples for x in s], statistic)
            what = f"{a.what}: {a.model}"
        else:
            estimate = replicate_mean(a.values)
            what = f"{a.what}: {a.model}"
        return Comparison(what, estimate, self.threshold, self.greater, self.rounding)


Quantity = Diff | Ratio | Level


@dataclass(frozen=True)
class Declaration:
    """One claim of a paper (or a further finding of ours): ``claim`` the statement and where the paper makes it;
    ``compare`` the quantities that must all lie on the claimed side of their thresholds; ``margin_source`` the
    paper's words the thresholds come from (or that the paper gives none); ``source`` the tables or figures that
    hold the numbers ('; '-separated, relative to the paper's folder); ``shows`` further cells the evidence lists
    beside the compared ones; ``note`` further evidence text (e.g. how a word of the paper is read); ``central``: one
    of the paper's central claims (its headline result, which the default run must decide or say why it cannot;
    issue 22 item 6), listed first on the claims page and on the report's summary."""

    claim: str
    compare: Sequence[Quantity]
    margin_source: str
    source: str
    kind: str = PAPER_CLAIM
    shows: Sequence[Hashable] = field(default_factory=tuple)
    note: str = ""
    central: bool = False


def evidence(declaration: Declaration, cells: Mapping[Hashable, Cell]) -> str:
    """The cells a declaration compares and shows, grouped by quantity ("what: model value, model value; ..."), then
    its note, the test points and the replicates."""
    keys = [*(k for q in declaration.compare for k in q.keys()), *declaration.shows]
    found = [cells[k] for k in dict.fromkeys(keys) if k in cells]
    groups: dict[str, list[Cell]] = {}
    for cell in found:
        groups.setdefault(cell.what, []).append(cell)
    parts = [f"{what}: " + ", ".join(f"{c.model} {c.shown()}" for c in group) for what, group in groups.items()]
    accuracies = [c for c in found if c.has_points or c.has_samples]
    if not found or not any(c.measured for c in found):
        parts = ["a model, attack or measurement it needs was not run"]
    text = "; ".join(parts)
    if any(c.fraction for c in found):
        text += " (accuracy %)"
    if declaration.note:
        text += f"; {declaration.note}"
    if accuracies:
        points = max(int(np.mean(c.n)) for c in accuracies)
        replicates = max(len(c.values) for c in found)
        unit = "fold" if any(c.disjoint for c in accuracies) else "replicate"
        text += f" ({points} test points" + (f" per {unit}, {replicates} {unit}s)" if replicates > 1 else ")")
    return text


def _quantities(declaration: Declaration, cells: Mapping[Hashable, Cell]) -> list[Quantity]:
    """The declaration's quantities; an ``optional`` one is left out where a cell it needs was not measured."""
    return [q for q in declaration.compare if not q.optional or all(_cell(cells, k) is not None for k in q.keys())]


def judge(declarations: Iterable[Declaration], cells: Mapping[Hashable, Cell]) -> list[Claim]:
    """Every declaration judged on ``cells`` (:meth:`advreg.reporting.claims.Claim.tested`); one without a
    comparison left is not testable. Every comparison of every declaration is made by one :func:`compare_all`, so
    the bootstraps over the same points share one resampling."""
    declared = list(declarations)
    quantities = [_quantities(d, cells) for d in declared]
    flat = compare_all([q for qs in quantities for q in qs], cells)
    claims, at = [], 0
    for d, qs in zip(declared, quantities, strict=True):
        comparisons, at = flat[at : at + len(qs)], at + len(qs)
        claims.append(
            Claim.tested(d.claim, comparisons, evidence(d, cells), d.source, d.kind, d.margin_source, d.central)
        )
    return claims
