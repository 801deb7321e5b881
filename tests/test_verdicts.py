"""The verdict engine (advreg.reporting.verdicts): intervals from scipy, the four verdicts, claims' columns."""

import math

import numpy as np
import pandas as pd
import pytest

from advreg.evaluation.points import encode_mask
from advreg.reporting import verdicts as v
from advreg.reporting.claims import Claim, write_claims
from advreg.reporting.html import claims_page


def test_overlapping_replicates_are_inconclusive():
    # three replicates each: A 80-83%, B 79-82% on 1000 points; the intervals overlap, the difference spans 0
    est = v.accuracy_difference([800, 830, 815], [790, 820, 805], [1000, 1000, 1000])
    assert est.n_replicates == 3 and est.n_points == 1000
    assert est.low < 0 < est.high and est.value == pytest.approx(1.0)
    claim = Claim.tested("A beats B", [v.Comparison("A - B", est)], "")
    assert claim.verdict == "inconclusive"


def test_clear_difference_is_held_and_its_reverse_not_held():
    est = v.accuracy_difference([900], [700], [1000])
    assert est.value == pytest.approx(20.0) and 0 < est.low < 20 < est.high
    assert v.decide(est, 0.0) == "held"
    assert v.decide(est, 0.0, greater=False) == "not held"
    assert v.decide(est, 30.0) == "not held"  # the claimed margin is excluded
    assert v.decide(v.MISSING, 0.0) == "not testable"


def test_newcombe_interval_matches_published_example():
    # Newcombe (1998) Table II, example (a): 56/70 vs 48/80, difference 0.2, method 10: 0.0524 to 0.3339
    est = v.accuracy_difference([56 / 70 * 1000], [48 / 80 * 1000], [1000])
    wide = v.accuracy_difference([56], [48 * 70 / 80], [70])
    assert est.value == pytest.approx(20.0)
    assert wide.low < est.low  # fewer points, wider interval
    two_sample = v._wilson(56, 70), v._wilson(48, 80)
    low = 0.2 - math.sqrt((0.8 - two_sample[0][0]) ** 2 + (two_sample[1][1] - 0.6) ** 2)
    high = 0.2 + math.sqrt((two_sample[0][1] - 0.8) ** 2 + (0.6 - two_sample[1][0]) ** 2)
    assert low == pytest.approx(0.0524, abs=1e-4) and high == pytest.approx(0.3339, abs=1e-4)


def test_replicate_mean_uses_student_t_and_none_for_one_run():
    est = v.replicate_mean([1.0, 2.0])
    assert est.high - est.value == pytest.approx(12.7062 * 0.5, rel=1e-4)  # t(0.975, 1) * sd / sqrt(2)
    one = v.replicate_mean([2.0])
    assert not one.has_interval and one.n_replicates == 1
    assert v.decide(one, 2.003, rounding=0.005) == "inconclusive"  # within the paper's rounding
    assert v.decide(one, 1.9, rounding=0.005) == "held"


def test_combine_and_deciding_comparison():
    good = v.Comparison("x", v.exact(3.0), 1.0)
    tight = v.Comparison("y", v.exact(1.5), 1.0)
    bad = v.Comparison("z", v.exact(0.5), 1.0)
    assert v.judge([good, tight]) == ("held", tight)
    assert v.judge([good, bad]) == ("not held", bad)
    assert v.combine(["held", "inconclusive"]) == "inconclusive"
    assert v.combine(["not held", "not testable"]) == "not testable"


def test_claims_csv_and_page_carry_the_interval(tmp_path):
    est = v.accuracy_difference([800, 830, 815], [790, 820, 805], [1000, 1000, 1000])
    claims = [
        Claim.tested("A beats B", [v.Comparison("A - B (points)", est)], "A 81.5, B 80.5", margin_source="none given"),
        Claim.judged("old style", True, "1 > 0"),
    ]
    frame = write_claims(claims, tmp_path, "T")
    saved = pd.read_csv(tmp_path / "claims.csv")
    assert list(saved.columns) == list(frame.columns)
    assert {"estimate", "low", "high", "n_points", "n_replicates", "margin_source"} <= set(saved.columns)
    row = saved.iloc[0]
    assert row.verdict == "inconclusive" and row.n_points == 1000 and row.n_replicates == 3
    assert row.low < row.estimate < row.high
    assert "1 inconclusive" in (tmp_path / "claims.md").read_text()
    page = claims_page(saved, "T", tmp_path)
    assert 'class="verdict inconclusive"' in page and "1000 test points x 3 replicate(s)" in page


def test_points_to_decide_predicts_the_scale_that_decides_an_inconclusive_claim():
    """A 1.5-point difference on 1000 points is inconclusive; at the predicted number of points, with the same
    accuracies, the interval clears 0 (held), and at half of it, it does not yet."""
    est = v.accuracy_difference([815], [800], [1000])
    assert v.decide(est, 0.0) == v.INCONCLUSIVE
    needed = v.points_to_decide(est, 0.0)
    assert needed > 1000

    def at(n):
        return v.accuracy_difference([0.815 * n], [0.800 * n], [n])

    assert v.decide(at(int(needed * 1.1)), 0.0) == v.HELD
    assert v.decide(at(needed // 2), 0.0) == v.INCONCLUSIVE
    # a difference on the wrong side: the scale at which it is *not held*
    against = v.accuracy_difference([800], [815], [1000])
    assert v.decide(v.accuracy_difference([0.8 * 10**6], [0.815 * 10**6], [10**6]), 0.0) == v.NOT_HELD
    assert v.points_to_decide(against, 0.0) == needed
    # decided already, several replicates, or no test points: not applicable
    assert v.points_to_decide(v.accuracy_difference([900], [500], [1000]), 0.0) == 0
    assert v.points_to_decide(v.accuracy_difference([815, 812], [800, 806], [1000, 1000]), 0.0) == 0
    assert v.points_to_decide(v.replicate_mean([0.1]), 0.0) == 0


def test_closest_misses_are_inconclusive_claims_on_the_claimed_side_fewest_points_first():
    from advreg.reporting.pages import closest_misses

    rows = [
        # (claim, verdict, quantity, estimate, points_to_decide)
        ("far", "inconclusive", "A - B (points) > 0", 0.5, 40000),
        ("near", "inconclusive", "A - B (points) > 0", 2.0, 1500),
        ("wrong side", "inconclusive", "A - B (points) > 0", -1.0, 3000),
        ("below claim", "inconclusive", "drop (points) < 2", 1.0, 0),
        ("decided", "held", "A - B (points) > 0", 9.0, 0),
    ]
    frame = pd.DataFrame(
        [
            {"kind": "paper claim", "claim": c, "verdict": v, "quantity": q, "estimate": e, "points_to_decide": n}
            for c, v, q, e, n in rows
        ]
    )
    misses = closest_misses(frame, k=3)
    assert [m.split(" (")[0] for m in misses] == ["near", "far", "below claim"]
    assert "about 1,500 test points would decide it" in misses[0] and "test points" not in misses[2]


def _with_moments(mean: float, sd: float, k: int) -> list[float]:
    """k values with exactly this mean and sample standard deviation (ddof 1)."""
    import numpy as np
    from scipy import stats

    z = stats.norm.ppf((np.arange(k) + 0.5) / k)
    z = (z - z.mean()) / z.std(ddof=1)
    return list(mean + sd * z)


def test_replicates_to_decide_predicts_the_replicate_count_that_decides():
    """Two replicates 1 point apart around +1.5: inconclusive (t with 1 degree of freedom). With the predicted count
    of replicates of the same mean and spread, the interval clears 0; with one fewer, it does not."""
    est = v.replicate_mean(_with_moments(1.5, 1.0, 2))
    assert v.decide(est, 0.0) == v.INCONCLUSIVE and v.points_to_decide(est, 0.0) == 0
    needed = v.replicates_to_decide(est, 0.0)
    assert needed > 2
    assert v.decide(v.replicate_mean(_with_moments(1.5, 1.0, needed)), 0.0) == v.HELD
    assert v.decide(v.replicate_mean(_with_moments(1.5, 1.0, needed - 1)), 0.0) == v.INCONCLUSIVE
    # decided already, or one replicate: not applicable
    assert v.replicates_to_decide(v.replicate_mean(_with_moments(5.0, 0.1, 3)), 0.0) == 0
    assert v.replicates_to_decide(v.replicate_mean([1.0]), 0.0) == 0


def test_replicates_to_decide_on_folds_counts_their_test_points():
    """On the same 1000 test points per replicate the test-sample part of the interval never shrinks, so a
    difference smaller than it is never decided by replicates (0); on disjoint folds (cross-validation) it is, and
    the claims row and the report say so."""
    a, b = [0.810 * 1000, 0.812 * 1000], [0.800 * 1000, 0.800 * 1000]
    shared = v.accuracy_difference(a, b, [1000, 1000])
    folds = v.accuracy_difference(a, b, [1000, 1000], disjoint=True)
    assert v.decide(shared, 0.0) == v.decide(folds, 0.0) == v.INCONCLUSIVE
    assert v.replicates_to_decide(shared, 0.0) == 0
    needed = v.replicates_to_decide(folds, 0.0)
    assert needed > 2
    claim = Claim.tested("A beats B", [v.Comparison("A - B (points)", folds)], "e")
    assert claim.replicates_to_decide == needed and claim.threshold == 0.0 and claim.points_to_decide == 0
    from advreg.reporting.html import interval_cell

    assert f"decidable at about {needed} replicates of 1,000 test points each" in interval_cell(claim)
    # on shared test points no count of replicates decides it: the row says it is a tie (issue 22 item 6)
    tie = Claim.tested("A beats B", [v.Comparison("A - B (points)", shared)], "e")
    assert tie.verdict == "inconclusive" and "a tie: no number of replicates" in interval_cell(tie)
    assert "a tie" not in interval_cell(claim)


def _pair(n: int, right_a_only: int, right_b_only: int, both: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-point correctness of two models on n points: ``both`` right for both, then the discordant points."""
    a, b = np.zeros(n, bool), np.zeros(n, bool)
    a[:both] = b[:both] = True
    a[both : both + right_a_only] = True
    b[both + right_a_only : both + right_a_only + right_b_only] = True
    return a, b


def test_paired_interval_counts_only_the_points_the_models_disagree_on():
    """Two models 3 points apart on 1000 points, disagreeing on 40: the unpaired (Newcombe) interval cannot tell
    them apart, the paired one can; its half-width follows the discordant points (McNemar), not the accuracies."""
    a, b = _pair(1000, 35, 5, 750)  # 78.5% vs 75.5%
    unpaired = v.accuracy_difference([a.sum()], [b.sum()], [1000])
    paired = v.paired_accuracy_difference([a], [b])
    assert paired.value == pytest.approx(3.0) == pytest.approx(unpaired.value)
    assert unpaired.low < 0 < paired.low and paired.high < unpaired.high
    assert v.decide(unpaired, 0.0) == v.INCONCLUSIVE and v.decide(paired, 0.0) == v.HELD
    d = a.astype(float) - b.astype(float)  # the t part: sd of the per-point differences / sqrt(n)
    t_half = 100 * 1.9623 * d.std(ddof=1) / math.sqrt(1000)
    assert paired.value - paired.low == pytest.approx(t_half, rel=1e-3)
    # the same 3 points on 300 discordant points (165 vs 135): undecided, as McNemar's test would leave it
    a2, b2 = _pair(1000, 165, 135, 600)
    assert v.decide(v.paired_accuracy_difference([a2], [b2]), 0.0) == v.INCONCLUSIVE


def test_paired_interval_on_few_discordant_points_is_not_narrower_than_mcnemar():
    """3 points right for a only: the t-interval alone would be [0.0, 0.6]; the conditional Wilson part keeps
    the lower end where McNemar's interval puts it, and identical predictions give a zero-width interval."""
    a, b = _pair(1000, 3, 0, 900)
    e = v.paired_accuracy_difference([a], [b])
    low, _ = v._wilson(3, 3)
    assert e.low <= 100 * 3 / 1000 * (2 * low - 1) + 1e-12
    same = v.paired_accuracy_difference([a], [a])
    assert (same.value, same.low, same.high) == (0.0, 0.0, 0.0)
    assert v.decide(same, 0.0) == v.NOT_HELD  # "a beats itself" cannot hold


def test_paired_replicates_add_their_spread_and_folds_pool_their_points():
    reps_a, reps_b = zip(*(_pair(500, k, 5, 400) for k in (20, 25, 30)), strict=True)
    shared = v.paired_accuracy_difference(list(reps_a), list(reps_b))
    assert shared.n_replicates == 3 and shared.n_points == 500 and shared.value == pytest.approx(100 * 20 / 500)
    assert shared.sd == pytest.approx(100 * 5 / 500)
    spread = 100 * 4.3027 * shared.sd / 100 / math.sqrt(3)  # Student t(2) on the replicate values
    assert shared.value - shared.low > spread
    folds = v.paired_accuracy_difference(list(reps_a), list(reps_b), disjoint=True)
    assert folds.disjoint and folds.value == pytest.approx(shared.value)
    assert v.paired_accuracy_difference([reps_a[0]], [reps_b[0][:10]]) == v.MISSING


def test_cells_from_rows_are_paired_with_masks_and_from_counts_without():
    """The engine's difference of two models' cross-evaluation rows (advreg.reporting.declarations): paired where the
    rows carry masks, Newcombe from counts where they carry n only, exact without n; replicates matched by fold."""
    from advreg.reporting.declarations import Diff, accuracy_cell

    def diff(rows_a, rows_b):
        cells = {"a": accuracy_cell("x", "A", rows_a), "b": accuracy_cell("x", "B", rows_b)}
        return Diff("a", "b").compare(cells).estimate

    a, b = _pair(1000, 35, 5, 750)
    rows_a = pd.DataFrame({"fold": [0], "accuracy": [a.mean()], "n": [1000], "mask": [encode_mask(a)]})
    rows_b = pd.DataFrame({"fold": [0], "accuracy": [b.mean()], "n": [1000], "mask": [encode_mask(b)]})
    assert diff(rows_a, rows_b) == v.paired_accuracy_difference([a.astype(float)], [b.astype(float)])
    counts = diff(rows_a.drop(columns="mask"), rows_b.drop(columns="mask"))
    assert counts == v.accuracy_difference([a.sum()], [b.sum()], [1000])
    exact = diff(rows_a[["fold", "accuracy"]], rows_b[["fold", "accuracy"]])
    assert exact.value == pytest.approx(3.0) and not exact.has_interval
    # two budgets of the same points: averaged per point; another fold: not the same replicate, missing
    twice = pd.concat([rows_a, rows_a.assign(mask=encode_mask(b), accuracy=b.mean())])
    assert diff(twice, rows_b).value == pytest.approx(1.5)
    assert diff(rows_a, rows_b.assign(fold=1)) == v.MISSING


def test_bootstrap_of_a_statistic_of_shared_points_is_paired():
    """Two robustness values measured on the same points (rho_2 of two models): what they share cancels in the
    paired bootstrap, so a small, steady difference is decided although each value alone spreads widely; the same
    difference with independent noise is not; the interval is reproducible (fixed seed)."""
    from advreg.reporting.verdicts import bootstrap_estimate

    rng = np.random.default_rng(0)
    a = rng.exponential(1.0, 2000)  # per-point values spread widely
    b = a + 0.02 + rng.normal(0, 0.01, 2000)  # b is a little larger at every point

    def diff(x, y, axis=-1):
        return np.mean(y, axis=axis) - np.mean(x, axis=axis)

    value = float(b.mean() - a.mean())
    paired = bootstrap_estimate([value], [a, b], diff)
    assert paired.low < value < paired.high and paired.n_points == 2000
    assert v.decide(paired, 0.0) == v.HELD and paired.high - paired.low < 0.005
    independent = bootstrap_estimate([value], [a, rng.permutation(b)], diff)
    assert v.decide(independent, 0.0) == v.INCONCLUSIVE
    assert bootstrap_estimate([value], [a, b], diff) == paired
    # replicates add their spread across seeds in quadrature
    spread = bootstrap_estimate([value - 0.01, value + 0.01], [a, b, a, b], lambda *v, axis=-1: diff(*v[:2], axis=axis))
    assert spread.n_replicates == 2 and spread.high - spread.low > 0.2
    # a statistic that is not finite on a resample (a budget censored for most points): no interval
    censored = np.where(rng.random(2000) < 0.5, np.inf, 1.0)
    none = bootstrap_estimate(
        [1.0], [censored], lambda v, axis=-1: np.quantile(v, 0.5, axis=axis, method="inverted_cdf")
    )
    assert not none.has_interval and none.value == 1.0
