"""Gradient-masking checks over tidy cross-evaluation rows (torch-free).

A defence that only hides its input gradients looks robust to gradient attacks without being so (Athalye,
Carlini, Wagner 2018, sec. 3; Carlini et al. 2019, "On evaluating adversarial robustness", sec. 5.2 and 7). The
checks below are the standard symptoms of it, each a function of the crosseval rows (columns attack, attacker,
target, epsilon, white_box, accuracy; folds averaged) returning one row per target it could judge: ``target``,
``check``, ``result`` ("flagged" or "passed"), ``flagged`` and the deciding numbers (``evidence``). ``tol``
(accuracy, a fraction) absorbs the noise of a finite test set and of random starts.

A check that cannot judge a target (its attacks or a common budget missing from the results) must not read as
passed: :func:`not_run` gives that target a row with result "not run" (``flagged`` False, the reason as evidence).
The arena refuses, before any job, a config on which a check could not run at all
(:meth:`advreg.papers.catalog.ArenaPaper.check_plan`); the "not run" rows cover results that lack rows anyway.

1. :func:`transfer_stronger`: an attack transferred from another model leaves the target less accurate than the
   same attack computed on the target's own gradient (white-box should be the stronger).
2. :func:`fgsm_stronger_than_pgd`: one-step FGSM beats iterative PGD of the same norm and budget.
3. :func:`no_collapse`: white-box accuracy does not fall toward 0 as the budget grows to a budget that must break
   every classifier (or rises with the budget).
4. :func:`more_effort_not_stronger`: PGD with more steps (or restarts) leaves the target *more* accurate than the
   shorter PGD (more optimisation should never help the defender).
5. :func:`gradient_free_stronger`: a gradient-free attack (Square, Andriushchenko et al. 2020) leaves the target
   less accurate than the strongest gradient attack of the same norm and budget: the gradient attacks are being
   misled by the gradient (Carlini et al. 2019, sec. 5.2: "try gradient-free attacks"; Athalye et al. 2018, sec. 3).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

COLUMNS = ["target", "check", "result", "flagged", "evidence"]
TRANSFER, FGSM_PGD, COLLAPSE, EFFORT = "transfer > white-box", "FGSM > PGD", "no collapse", "more steps weaker"
GRADIENT_FREE = "gradient-free > gradient"
FLAGGED, PASSED, NOT_RUN = "flagged", "passed", "not run"


def _mean(frame: pd.DataFrame) -> pd.DataFrame:
    """Accuracy averaged over folds per (attack, attacker, target, epsilon, white_box)."""
    keys = ["attack", "attacker", "target", "epsilon", "white_box"]
    return frame.groupby(keys, as_index=False)["accuracy"].mean()


def _white_box(frame: pd.DataFrame, attack: str) -> pd.DataFrame:
    """target x epsilon accuracies of ``attack`` crafted on the target itself (folds averaged)."""
    part = _mean(frame[(frame["attack"] == attack) & frame["white_box"].astype(bool)])
    return part.pivot_table(index="target", columns="epsilon", values="accuracy", aggfunc="mean")


def _result(rows: list[dict[str, object]]) -> pd.DataFrame:
    for r in rows:
        r.setdefault("result", FLAGGED if r["flagged"] else PASSED)
    return pd.DataFrame(rows, columns=COLUMNS)


def not_run(result: pd.DataFrame, targets: Sequence[str], check: str, reason: str) -> pd.DataFrame:
    """``result`` of ``check`` completed with a "not run" row (``reason`` as evidence) for every target of
    ``targets`` it has no row for, so a check that could not judge a model never reads as passed."""
    judged = set(result["target"])
    rows = [
        {"target": t, "check": check, "result": NOT_RUN, "flagged": False, "evidence": f"not run: {reason}"}
        for t in targets
        if t not in judged
    ]
    if not rows:
        return result
    missing = pd.DataFrame(rows, columns=COLUMNS)
    return pd.concat([result, missing], ignore_index=True) if not result.empty else missing


def transfer_stronger(frame: pd.DataFrame, attacks: Sequence[str], tol: float = 0.02) -> pd.DataFrame:
    """Check 1: per target, the largest margin by which the best transfer attack (lowest accuracy over every other
    attacker) beats the white-box attack, over ``attacks`` and their budgets > 0; flagged above ``tol``."""
    frame = _mean(frame[frame["attack"].isin(list(attacks)) & (frame["epsilon"] > 0)])
    rows = []
    for target, part in frame.groupby("target", sort=False):
        own = part[part["white_box"].astype(bool)].set_index(["attack", "epsilon"])["accuracy"]
        other = part[~part["white_box"].astype(bool)]
        if own.empty or other.empty:
            continue
        best = other.loc[other.groupby(["attack", "epsilon"])["accuracy"].idxmin()].set_index(["attack", "epsilon"])
        common = own.index.intersection(best.index)
        if common.empty:
            continue
        gap = (own.loc[common] - best.loc[common, "accuracy"]).sort_values(ascending=False)
        attack, eps = gap.index[0]
        worst = best.loc[(attack, eps)]
        rows.append(
            {
                "target": target,
                "check": TRANSFER,
                "flagged": bool(gap.iloc[0] > tol),
                "evidence": f"{attack} eps {eps:g}: white-box {own.loc[(attack, eps)]:.3f}, transferred from "
                f"{worst['attacker']} {worst['accuracy']:.3f}",
            }
        )
    return _result(rows)


def _stronger_than(frame: pd.DataFrame, first: str, second: str, check: str, tol: float) -> pd.DataFrame:
    """Per target: flagged when white-box accuracy under ``second`` exceeds that under ``first`` by more than ``tol``
    at some common budget > 0 (the budget with the largest gap is the evidence)."""
    one, two = _white_box(frame, first), _white_box(frame, second)
    epsilons = [e for e in one.columns.intersection(two.columns) if e > 0]
    rows = []
    for target in one.index.intersection(two.index):
        if not epsilons:
            break
        gap = (two.loc[target, epsilons] - one.loc[target, epsilons]).sort_values(ascending=False)
        eps = gap.index[0]
        rows.append(
            {
                "target": target,
                "check": check,
                "flagged": bool(gap.iloc[0] > tol),
                "evidence": f"eps {eps:g}: {first} {one.loc[target, eps]:.3f}, {second} {two.loc[target, eps]:.3f}",
            }
        )
    return _result(rows)


def fgsm_stronger_than_pgd(frame: pd.DataFrame, fgsm: str, pgd: str, tol: float = 0.02) -> pd.DataFrame:
    """Check 2: white-box FGSM accuracy below white-box PGD accuracy (same norm, common budgets > 0) by > ``tol``."""
    return _stronger_than(frame, fgsm, pgd, FGSM_PGD, tol)


def no_collapse(frame: pd.DataFrame, attack: str, max_accuracy: float = 0.1, tol: float = 0.02) -> pd.DataFrame:
    """Check 3: white-box accuracy of ``attack`` at its largest budget above ``max_accuracy`` (a budget that must
    break any classifier: L-inf 0.5 reaches the grey image from every input), or accuracy rising with the
    budget by more than ``tol`` between consecutive budgets."""
    table = _white_box(frame, attack)
    rows = []
    if table.empty:
        return _result(rows)
    epsilons = sorted(table.columns)
    for target in table.index:
        curve = table.loc[target, epsilons]
        top = float(curve.iloc[-1])
        rise = float(curve.diff().max()) if len(epsilons) > 1 else 0.0
        rows.append(
            {
                "target": target,
                "check": COLLAPSE,
                "flagged": bool(top > max_accuracy or rise > tol),
                "evidence": f"{attack} eps {epsilons[-1]:g}: {top:.3f} (at most {max_accuracy:g} expected); "
                f"largest rise with the budget {max(rise, 0.0):.3f}",
            }
        )
    return _result(rows)


def more_effort_not_stronger(frame: pd.DataFrame, short: str, long: str, tol: float = 0.02) -> pd.DataFrame:
    """Check 4: white-box accuracy under the longer PGD (more steps or restarts) above the shorter PGD's by more
    than ``tol`` at a common budget > 0."""
    return _stronger_than(frame, short, long, EFFORT, tol)


def gradient_free_stronger(
    frame: pd.DataFrame, gradient_free: str, gradient: Sequence[str], tol: float = 0.02
) -> pd.DataFrame:
    """Check 5: white-box accuracy under the gradient-free attack below the lowest white-box accuracy of the
    ``gradient`` attacks (same norm) by more than ``tol`` at a budget > 0 both ran; the budget with the largest
    gap is the evidence. A gradient attack whose own gradient is informative is at least as strong as a random
    search with the same budget; losing to one means the gradient misleads it."""
    free = _white_box(frame, gradient_free)
    tables = {a: _white_box(frame, a) for a in gradient if a != gradient_free}
    rows = []
    for target in free.index:
        best: dict[float, tuple[float, str]] = {}
        for attack, table in tables.items():
            if target not in table.index:
                continue
            for eps in table.columns.intersection(free.columns):
                value = table.loc[target, eps]
                if eps > 0 and pd.notna(value) and pd.notna(free.loc[target, eps]):
                    if eps not in best or value < best[eps][0]:
                        best[eps] = (float(value), attack)
        if not best:
            continue
        eps = max(best, key=lambda e: best[e][0] - float(free.loc[target, e]))
        value, attack = best[eps]
        ours = float(free.loc[target, eps])
        rows.append(
            {
                "target": target,
                "check": GRADIENT_FREE,
                "flagged": bool(value - ours > tol),
                "evidence": f"eps {eps:g}: {gradient_free} {ours:.3f}, strongest gradient attack {attack} {value:.3f}",
            }
        )
    return _result(rows)


def summarise(checks: pd.DataFrame) -> pd.Series:
    """Per target: the names of its failed checks joined by '; ' ('' when it passed every check it had)."""
    flagged = checks[checks["flagged"].astype(bool)]
    names = flagged.groupby("target", sort=False)["check"].agg(lambda c: "; ".join(dict.fromkeys(c)))
    return names.reindex(pd.unique(checks["target"]), fill_value="")
