"""The one verdict engine over declared claims (advreg.reporting.declarations): a claim is data, the engine
estimates, bounds and decides it the same way for every paper."""

import math

import numpy as np
import pandas as pd
import pytest

from advreg.evaluation.points import encode_mask
from advreg.reporting.declarations import (
    Cell,
    Declaration,
    Diff,
    Level,
    Ratio,
    accuracy_cell,
    judge,
    value_cell,
)
from advreg.reporting.verdicts import paired_accuracy_difference


def correctness(n, right, seed):
    """(n,) 0/1 correctness with ``right`` ones at random places."""
    mask = np.zeros(n, dtype=bool)
    mask[np.random.default_rng(seed).choice(n, right, replace=False)] = True
    return mask


def test_a_fifth_paper_is_a_list_of_declarations():
    """A made-up paper: its cells and its claims as data; the engine decides each the way the issue asks
    (held: the interval on the claimed side; not held: on the other; inconclusive: across; not testable)."""
    n = 2000
    base = correctness(n, 1400, 0)  # 70%
    better = base.copy()
    better[np.flatnonzero(~base)[:200]] = True  # 80%, right wherever base is right: a clear paired gain
    cells = {
        ("clean", "ours"): Cell("clean", "Ours", (better.mean(),), True, (n,), (better.astype(float),)),
        ("clean", "theirs"): Cell("clean", "Theirs", (base.mean(),), True, (n,), (base.astype(float),)),
        ("rho", "ours"): value_cell("rho_2", "Ours", [0.30, 0.31, 0.29]),
        ("rho", "theirs"): value_cell("rho_2", "Theirs", [0.10, 0.11, 0.09]),
        ("rho", "noisy"): value_cell("rho_2", "Noisy", [0.05, 0.60, 0.25]),
    }
    declared = [
        Declaration("ours is more accurate", [Diff(("clean", "ours"), ("clean", "theirs"))], "no margin", "t.md"),
        Declaration("theirs is more accurate", [Diff(("clean", "theirs"), ("clean", "ours"))], "no margin", "t.md"),
        Declaration("ours is 2x as robust", [Ratio(("rho", "ours"), ("rho", "theirs"), 2.0)], "'2x' (sec. 1)", "t.md"),
        Declaration("noisy beats theirs", [Diff(("rho", "noisy"), ("rho", "theirs"))], "no margin", "t.md"),
        Declaration("a model never run", [Diff(("rho", "ours"), ("rho", "absent"))], "no margin", "t.md"),
    ]
    verdicts = [c.verdict for c in judge(declared, cells)]
    assert verdicts == ["held", "not held", "held", "inconclusive", "not testable"]


def test_paired_cells_give_the_paired_interval_and_counts_the_unpaired_one():
    n = 1000
    a, b = correctness(n, 800, 1), correctness(n, 780, 2)
    paired = {
        "a": Cell("clean", "A", (a.mean(),), True, (n,), (a.astype(float),)),
        "b": Cell("clean", "B", (b.mean(),), True, (n,), (b.astype(float),)),
    }
    counts = {k: Cell(c.what, c.model, c.values, True, c.n) for k, c in paired.items()}
    (with_points,) = judge([Declaration("a > b", [Diff("a", "b")], "", "")], paired)
    expected = paired_accuracy_difference([a.astype(float)], [b.astype(float)])
    assert (with_points.estimate, with_points.low, with_points.high) == pytest.approx(
        (expected.value, expected.low, expected.high), abs=5e-5
    )
    (from_counts,) = judge([Declaration("a > b", [Diff("a", "b")], "", "")], counts)
    assert from_counts.estimate == pytest.approx(2.0)
    # two random masks disagree on many points: the unpaired (Newcombe) interval is the wider here
    assert from_counts.high - from_counts.low > 0
    assert with_points.n_points == from_counts.n_points == n


def test_overlapping_replicates_are_inconclusive_through_the_engine():
    cells = {
        "a": value_cell("rho_2", "A", [0.20, 0.25, 0.30]),
        "b": value_cell("rho_2", "B", [0.22, 0.24, 0.26]),
    }
    (claim,) = judge([Declaration("A > B", [Diff("a", "b")], "", "")], cells)
    assert claim.verdict == "inconclusive" and claim.n_replicates == 3
    assert claim.low < 0 < claim.high


def test_optional_comparisons_are_left_out_where_not_run_and_a_claim_with_none_is_not_testable():
    cells = {"a": value_cell("x", "A", [2.0]), "b": value_cell("x", "B", [1.0])}
    every_other = [Diff("a", other, optional=True) for other in ("b", "c")]
    (held,) = judge([Declaration("A beats every other", every_other, "", "")], cells)
    assert held.verdict == "held"  # the unrun C is left out
    (strict,) = judge([Declaration("A beats B and C", [Diff("a", "b"), Diff("a", "c")], "", "")], cells)
    assert strict.verdict == "not testable"
    (none,) = judge([Declaration("C beats every other", [Diff("c", "a", optional=True)], "", "")], cells)
    assert none.verdict == "not testable"


def test_ratio_with_a_zero_denominator_is_not_testable_and_rounding_applies_without_an_interval():
    cells = {
        "a": value_cell("rho", "A", [0.0532]),
        "b": value_cell("rho", "B", [0.0259]),
        "z": value_cell("rho", "Z", [0]),
    }
    (zero,) = judge([Declaration("A / Z > 1", [Ratio("a", "z")], "", "")], cells)
    assert zero.verdict == "not testable"
    (rounded,) = judge([Declaration("2.1x", [Ratio("a", "b", 2.1, rounding=0.05)], "", "")], cells)
    assert rounded.verdict == "inconclusive"  # 2.054 is within the paper's rounding of 2.1
    (strict,) = judge([Declaration("2.1x", [Ratio("a", "b", 2.1)], "", "")], cells)
    assert strict.verdict == "not held"


def test_level_of_an_accuracy_uses_its_test_points():
    n = 400
    cells = {"a": Cell("own set", "Normal", (0.20,), True, (n,))}
    (claim,) = judge([Declaration("below 25%", [Level("a", 25.0, greater=False)], "", "")], cells)
    assert claim.verdict == "held" and claim.estimate == pytest.approx(20.0) and claim.high < 25.0
    (close,) = judge([Declaration("below 21%", [Level("a", 21.0, greater=False)], "", "")], cells)
    assert close.verdict == "inconclusive"


def test_accuracy_cell_averages_rows_per_fold_per_point_and_keeps_folds_as_replicates():
    n = 8
    m1 = np.array([1, 1, 1, 1, 0, 0, 0, 0], dtype=bool)
    m2 = np.array([1, 1, 0, 0, 0, 0, 0, 0], dtype=bool)
    rows = pd.DataFrame(
        {
            "fold": [0, 0, 1],
            "accuracy": [m1.mean(), m2.mean(), m1.mean()],
            "n": [n, n, n],
            "mask": [encode_mask(m1), encode_mask(m2), encode_mask(m1)],
        }
    )
    cell = accuracy_cell("R1", "DGL1", rows, disjoint=True)
    assert cell.values == pytest.approx((0.375, 0.5)) and cell.n == (8, 8) and cell.disjoint
    np.testing.assert_allclose(cell.points[0], (m1.astype(float) + m2) / 2)
    published = accuracy_cell("R1", "DGL1", rows.drop(columns=["n", "mask"]))
    assert published.n == () and published.points == () and published.fraction


def test_evidence_lists_the_compared_cells_once_by_quantity_with_points_and_replicates():
    n = 1000
    cells = {
        (c, m): Cell(c, m, (v, v + 0.01), True, (n, n))
        for c, row in (("Adv_Loss", {"LWA": 0.8, "Normal": 0.2}), ("Fixed", {"LWA": 0.9, "Normal": 0.3}))
        for m, v in row.items()
    }
    declared = Declaration(
        "LWA beats Normal",
        [Diff((c, "LWA"), (c, "Normal")) for c in ("Adv_Loss", "Fixed")],
        "no margin",
        "tables/table1.md",
        note="'much' is ours",
    )
    (claim,) = judge([declared], cells)
    assert claim.evidence == (
        "Adv_Loss: LWA 80.50, Normal 20.50; Fixed: LWA 90.50, Normal 30.50 (accuracy %); 'much' is ours "
        "(1000 test points per replicate, 2 replicates)"
    )
    assert claim.quantity.startswith("Adv_Loss: LWA - Normal (points)") or claim.quantity.startswith(
        "Fixed: LWA - Normal (points)"
    )
    assert math.isfinite(claim.low) and claim.source == "tables/table1.md"


def test_values_with_per_point_samples_get_a_paired_bootstrap_interval():
    """rho_2 of two models on the same points (their per-point ||r|| / ||x||): Diff, Ratio and Level get an interval
    from the points, where bare values of one run have none; disjoint folds or a replicate without its points fall
    back to the replicates' spread."""
    from advreg.metrics.point_statistics import STATISTICS

    rng = np.random.default_rng(1)
    base = rng.exponential(0.05, 1000)
    strong = base * 2.1 + rng.normal(0, 0.002, 1000)
    mean = STATISTICS["rho_2"]
    cells = {
        "ref": value_cell("rho_2", "Reference", [base.mean()], samples=[(base,)], statistic=mean),
        "dd": value_cell("rho_2", "DeepDefense", [strong.mean()], samples=[(strong,)], statistic=mean),
        "bare": value_cell("rho_2", "Bare", [base.mean() * 1.5]),
    }
    assert cells["dd"].has_samples and cells["dd"].n == (1000,) and not cells["bare"].has_samples
    over = Declaration("DD beats the reference", [Diff("dd", "ref")], "", "t.md")
    twice = Declaration("over 2x", [Ratio("dd", "ref", 2.0)], "", "t.md")
    thrice = Declaration("over 3x", [Ratio("dd", "ref", 3.0)], "", "t.md")
    level = Declaration("rho_2 above 0.1", [Level("dd", 0.1)], "", "t.md")
    bare = Declaration("bare", [Diff("bare", "ref")], "", "t.md")
    claims = {c.claim: c for c in judge([over, twice, thrice, level, bare], cells)}
    assert claims["DD beats the reference"].verdict == "held"
    beats = claims["DD beats the reference"]
    assert beats.low < beats.estimate < beats.high and beats.n_points == 1000
    ratio = claims["over 2x"]
    assert ratio.low < strong.mean() / base.mean() < ratio.high and ratio.verdict == "held"
    assert claims["over 3x"].verdict == "not held"
    assert math.isfinite(claims["rho_2 above 0.1"].low)
    assert math.isnan(claims["bare"].low)  # one run, no per-point values: the estimate alone
    assert "(1000 test points)" in claims["DD beats the reference"].evidence
    # a replicate without its per-point values: none are used
    partial = value_cell("rho_2", "x", [0.1, 0.2], samples=[(base,), None], statistic=mean)
    assert not partial.has_samples and partial.n == ()


def test_compare_all_bootstraps_many_pairs_at_once_as_each_alone():
    """A leaderboard column's every pair in one resampling: the same estimates, and intervals as each comparison
    alone gives them (the same resampling scheme and seed); bare cells and accuracies are compared as before."""
    from advreg.metrics.point_statistics import STATISTICS
    from advreg.reporting.declarations import compare_all

    rng = np.random.default_rng(5)
    base = rng.exponential(0.05, 800)
    cells = {
        m: value_cell("rho_2", m, [float((base * f).mean())], samples=[(base * f * rng.uniform(0.95, 1.05, 800),)])
        for m, f in (("a", 1.0), ("b", 1.02), ("c", 1.5))
    }
    cells = {  # the value recomputed from the stored terms, as the robustness job writes it
        m: value_cell("rho_2", m, [float(c.samples[0][0].mean())], samples=c.samples, statistic=STATISTICS["rho_2"])
        for m, c in cells.items()
    }
    cells["bare"] = value_cell("rho_2", "bare", [0.06])
    quantities = [Diff(x, y) for x in "abc" for y in "abc" if x != y] + [Ratio("c", "a", 1.4), Diff("bare", "a")]
    together = compare_all(quantities, cells)
    alone = [q.compare(cells) for q in quantities]
    assert len(together) == len(alone) == len(quantities)
    for t, s in zip(together, alone, strict=True):
        assert t.quantity == s.quantity and t.estimate.value == pytest.approx(s.estimate.value)
        assert t.verdict == s.verdict
        if s.estimate.has_interval:
            width = s.estimate.high - s.estimate.low
            assert abs(t.estimate.low - s.estimate.low) < 0.2 * width
    assert not together[-1].estimate.has_interval  # a bare cell: no test-sample part
    assert {c.verdict for c in together[:6]} == {"held", "not held"}  # 2% and 50% leads on every point: decided
