"""The cross-paper arena: every defence of the four papers, and PGD adversarial training, measured the same way.

None of the four papers compares its defence with the others' on one network under one protocol. The arena
experiment fine-tunes every method from one pretrained reference for the same number of epochs (the shared
budget), on the same data and architecture, and attacks every model with every attack, white-box and
transferred from every other model. This module turns its results into:

- ``tables/leaderboard.csv`` / ``.md``: per model its optimiser steps and the clean accuracy; per threat model
  (norm and budget of the block's ``columns``) the per-sample worst case, robust accuracy as RobustBench defines it
  (a point counts only if no attack of that norm and budget fools it, white-box or transferred; worstcase.csv,
  :mod:`advreg.evaluation.worstcase`), e.g. ``L-inf 0.1 worst case (5 attacks)``; beside it per attack column
  (``columns``: attack and budget, named with what the attack ran: :func:`advreg.attacks.describe.describe`, e.g.
  ``pgd_linf linf 0.1 (5 steps, 1 restart)``) the white-box accuracy, the worst accuracy over transfer from every
  other model and their minimum; ``rho_2`` and ``rho_inf`` (DeepFool, FGS bisection; robustness.csv), a rank per
  ranked column (1 = best) and the mean rank over one column per threat model (each worst case, AGN's own column,
  rho; clean accuracy and the per-attack columns a worst case covers are ranked but not averaged in, so a model is
  not rewarded for being undefended and a norm run by many attacks weighs once), sorted by it; and the
  gradient-masking checks failed by each model (:mod:`advreg.papers.masking`), also in ``tables/masking.csv`` /
  ``.md``.
- ``figures/robust_vs_clean.png``: accuracy under the headline threat model (the worst case at the norm and budget
  of the block's ``headline``) against clean accuracy, one labelled point per method, flagged models drawn hollow.
- ``claims.md``: further findings (kind "further finding": these are this project's questions, not a paper's).

Folds are averaged. Config block: :class:`advreg.papers.catalog.ArenaPaper`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from advreg.atomic import atomic_write_text  # noqa: E402
from advreg.attacks.describe import describe  # noqa: E402
from advreg.evaluation import worstcase  # noqa: E402
from advreg.evaluation.points import per_point_values  # noqa: E402
from advreg.evaluation.threats import threat_model  # noqa: E402
from advreg.ids import ModelId  # noqa: E402
from advreg.metrics.point_statistics import STATISTICS  # noqa: E402
from advreg.papers import masking  # noqa: E402
from advreg.papers.catalog import ArenaPaper  # noqa: E402
from advreg.papers.names import names  # noqa: E402
from advreg.reporting.claims import FINDING, Claim, write_claims  # noqa: E402
from advreg.reporting.declarations import (  # noqa: E402
    Cell,
    Declaration,
    Diff,
    accuracy_cell,
    compare_all,
    judge,
    value_cell,
)
from advreg.reporting.figures import _save, place_labels  # noqa: E402
from advreg.reporting.verdicts import HELD, INCONCLUSIVE, NOT_HELD, NOT_TESTABLE  # noqa: E402

LABELS = names("arena")  # method -> display name (advreg.papers.names)


def _plugin_label(method: str) -> str:
    """A plugin method's display name: its spec's ``extra['label']`` (advreg.plugins), else its name."""
    from advreg.methods.catalog import METHODS

    spec = METHODS.get(method)
    return str(spec.extra.get("label", method)) if spec is not None else method


def label(model_id: str) -> str:
    """Display name: the method's label, with the variant unless it is ``default``."""
    model = ModelId.parse(model_id)
    name = LABELS.get(model.method) or _plugin_label(model.method)
    return name if model.variant == "default" else f"{name} ({model.variant})"


def _close(values: pd.Series, eps: float) -> pd.Series:
    return (values - eps).abs() < 1e-9


def threat_accuracy(frame: pd.DataFrame, attack: str, eps: float) -> pd.DataFrame:
    """Per target: white-box accuracy, worst accuracy over transfer from every other attacker (and who), and the
    worst case of the two, for ``attack`` at budget ``eps`` (folds averaged)."""
    part = frame[(frame["attack"] == attack) & _close(frame["epsilon"], eps)]
    if part.empty:
        raise ValueError(f"arena: no crosseval rows for attack {attack!r} at epsilon {eps:g}")
    mean = part.groupby(["attacker", "target", "white_box"], as_index=False)["accuracy"].mean()
    own = mean[mean["white_box"].astype(bool)].set_index("target")["accuracy"]
    other = mean[~mean["white_box"].astype(bool)]
    worst = other.loc[other.groupby("target")["accuracy"].idxmin()].set_index("target")
    out = pd.DataFrame({"white_box": own, "transfer": worst["accuracy"], "transfer_from": worst["attacker"]})
    out["worst"] = out[["white_box", "transfer"]].min(axis=1)
    return out


def clean_accuracy(frame: pd.DataFrame, attack: str) -> pd.Series:
    """Per target: white-box accuracy of ``attack`` at budget 0 (the clean test accuracy), folds averaged."""
    part = frame[(frame["attack"] == attack) & (frame["epsilon"] == 0) & frame["white_box"].astype(bool)]
    if part.empty:
        raise ValueError(f"arena: no budget-0 white-box rows of attack {attack!r} (clean accuracy)")
    return part.groupby("target")["accuracy"].mean()


def rho(robustness: pd.DataFrame | None, metric: str) -> pd.Series:
    """Per model: the metric (layer '') from robustness.csv, folds averaged (empty when not given)."""
    part = _rho_rows(robustness, metric) if metric else None
    return pd.Series(dtype=float) if part is None else part.groupby("model")["value"].mean()


def _rho_rows(robustness: pd.DataFrame | None, metric: str) -> pd.DataFrame | None:
    """robustness.csv's rows of ``metric`` at layer '' (every fold), None without the file."""
    if robustness is None or robustness.empty:
        return None
    layer = robustness["layer"].astype(object).where(robustness["layer"].notna(), "").astype(str)
    return robustness[(robustness["metric"] == metric) & (layer == "")]


def masking_checks(frame: pd.DataFrame, params: ArenaPaper) -> pd.DataFrame:
    """The five checks of :mod:`advreg.papers.masking` with the block's attack labels, one row per (model, check):
    a check whose attacks (or a common budget) the results lack gets "not run" rows (:func:`masking.not_run`),
    never silence. Checks 4 and 5 are left out when the block sets their label to ''."""
    attacks = set(frame["attack"])
    targets = list(pd.unique(frame["target"]))

    def absent(*labels: str) -> str:
        missing = [a for a in labels if a not in attacks]
        return f"no results of {', '.join(missing)}" if missing else ""

    def checked(check: str, why: str, run: Callable[[], pd.DataFrame], reason: str) -> pd.DataFrame:
        result = run() if not why else pd.DataFrame(columns=masking.COLUMNS)
        return masking.not_run(result, targets, check, why or reason)

    transfer = [a for a in params.transfer_attacks if a in attacks]
    parts = [
        checked(
            masking.TRANSFER,
            "" if transfer else absent(*params.transfer_attacks),
            lambda: masking.transfer_stronger(frame, transfer, params.tol),
            f"no white-box and transfer rows of {', '.join(transfer)} at a common budget > 0",
        ),
        checked(
            masking.FGSM_PGD,
            absent(params.fgsm, params.pgd),
            lambda: masking.fgsm_stronger_than_pgd(frame, params.fgsm, params.pgd, params.tol),
            f"no white-box rows of {params.fgsm} and {params.pgd} at a common budget > 0",
        ),
        checked(
            masking.COLLAPSE,
            absent(params.collapse_attack),
            lambda: masking.no_collapse(frame, params.collapse_attack, params.collapse_accuracy, params.tol),
            f"no white-box rows of {params.collapse_attack}",
        ),
    ]
    if params.pgd_long:
        parts.append(
            checked(
                masking.EFFORT,
                absent(params.pgd, params.pgd_long),
                lambda: masking.more_effort_not_stronger(frame, params.pgd, params.pgd_long, params.tol),
                f"no white-box rows of {params.pgd} and {params.pgd_long} at a common budget > 0",
            )
        )
    if params.gradient_free:
        gradient = [a for a in params.gradient_attacks if a in attacks]
        parts.append(
            checked(
                masking.GRADIENT_FREE,
                absent(params.gradient_free) or ("" if gradient else absent(*params.gradient_attacks)),
                lambda: masking.gradient_free_stronger(frame, params.gradient_free, gradient, params.tol),
                f"no white-box rows of {params.gradient_free} and of {', '.join(gradient)} at a common budget > 0",
            )
        )
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=masking.COLUMNS)


def run_columns(frame: pd.DataFrame, params: ArenaPaper) -> list[tuple[str, float]]:
    """The block's threat models (attack, budget) this arena's results hold, in the block's order."""
    budgets = frame.groupby("attack")["epsilon"].unique()
    return [
        (attack, eps)
        for attack, eps in params.parsed_columns()
        if attack in budgets.index and any(abs(e - eps) < 1e-9 for e in budgets[attack])
    ]


NORM_NAMES = {"linf": "L-inf", "l2": "L2"}
MEAN_RANK = "mean rank"  # leaderboard's column, and its attrs key: the columns the mean rank averages


def worst_case_columns(
    frame: pd.DataFrame, worst: pd.DataFrame | None, params: ArenaPaper, norms: Mapping[str, str]
) -> dict[tuple[str, float], dict[str, Any]]:
    """Per threat model (norm, budget) of the block's columns this arena runs, in their order, that ``worst``
    (worstcase.csv, :mod:`advreg.evaluation.worstcase`) holds: its column ``name`` ("L-inf 0.1 worst case (5
    attacks)"), per target the per-sample worst-case ``accuracy`` (folds averaged) and the ``attacks`` and
    ``attackers`` that entered it, and per target its :class:`~advreg.reporting.declarations.Cell` (``cells``: the
    accuracy per fold with its test points and per-point mask, so :func:`findings` compares two models' worst cases
    point by point); keyed as :func:`advreg.evaluation.threats.threat_model` keys them, so a column's threat model is
    a dict lookup."""
    out: dict[tuple[str, float], dict[str, Any]] = {}
    if worst is None or worst.empty:
        return out
    for attack, eps in run_columns(frame, params):
        norm = norms.get(attack, "")
        key = threat_model(norm, eps)
        if key is None or key in out:
            continue
        part = worst[(worst["norm"] == norm) & _close(worst["epsilon"], eps)]
        if part.empty:
            continue
        attacks = sorted({a for text in part["attacks"].dropna() for a in str(text).split(";") if a})
        attackers = sorted({a for text in part["attackers"].dropna() for a in str(text).split(";") if a})
        count = f"{len(attacks)} attack{'s' if len(attacks) != 1 else ''}"
        name = f"{NORM_NAMES.get(norm, norm)} {eps:g} worst case ({count})"
        out[key] = {
            "name": name,
            "accuracy": part.groupby("target")["accuracy"].mean(),
            "attacks": attacks,
            "attackers": attackers,
            "cells": _fold_cells(name, part),
        }
    return out


def _fold_cells(name: str, part: pd.DataFrame) -> dict[str, Cell]:
    """Per target: its worst case under threat model ``name`` as a cell, one replicate per fold with the fold's test
    points and robust-point mask (:func:`advreg.reporting.declarations.accuracy_cell`); a fold without a mask leaves
    that fold unpaired (compared by its counts)."""
    return {str(target): accuracy_cell(name, label(str(target)), rows) for target, rows in part.groupby("target")}


def column_name(attack: str, eps: float, norm: str, note: str = "") -> str:
    """A threat model's column: attack label, norm, budget and, in parentheses, what the attack ran (``note``)."""
    name = f"{attack} {norm} {eps:g}" if norm else f"{attack} {eps:g}"
    return f"{name} ({note})" if note else name


def attack_notes(attacks: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Per attack label of an experiment's summary (``attack``, ``params``): what it ran
    (:func:`advreg.attacks.describe.describe`; '' for a one-step attack at its defaults)."""
    return {label: describe(str(a.get("attack", label)), a.get("params")) for label, a in attacks.items()}


def optimiser_steps(timings: pd.DataFrame | None) -> pd.Series:
    """Per model: the optimiser updates its training made (``timings.csv``'s ``steps``, folds averaged); empty when
    the timings do not hold the count (written before it was recorded)."""
    if timings is None or "steps" not in timings or timings["steps"].isna().any():
        return pd.Series(dtype=float)
    return timings.groupby("model")["steps"].mean()


def leaderboard(
    frame: pd.DataFrame,
    robustness: pd.DataFrame | None,
    params: ArenaPaper,
    norms: Mapping[str, str] | None = None,
    checks: pd.DataFrame | None = None,
    notes: Mapping[str, str] | None = None,
    steps: pd.Series | None = None,
    worst: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per model (percentages, rho as is): optimiser steps (when ``steps`` holds them), clean, per threat
    model (norm, budget) the per-sample worst case over every attack of it (``worst``: worstcase.csv;
    :func:`worst_case_columns`), beside it per attack column white-box / transfer / their minimum (named with
    ``notes``: attack label -> what it ran), rho, ranks (1 = best; ties share the best rank) and the mean rank,
    sorted by it; the failed masking checks in ``masking``. ``attrs["mean rank"]`` names the columns the mean rank
    averages.

    The mean rank takes one column per threat model: its worst case, and an attack's own column only where no
    worst case covers it (AGN's sigma, an attack with ``clip: false``, or no ``worst``); rho_2 and rho_inf too.
    The per-attack columns are ranked but not averaged in, so a norm run by many attacks does not weigh more."""
    norms, notes = norms or {}, notes or {}
    exclude = set(params.exclude)
    clean = clean_accuracy(frame, params.clean_attack)
    models = [m for m in clean.index if m not in exclude]
    table = pd.DataFrame(index=pd.Index(models, name="model"))
    table.insert(0, "method", [label(m) for m in models])
    if steps is not None and not steps.empty:
        table["optimiser steps"] = steps.reindex(models)
    table["clean"] = clean.reindex(models) * 100
    ranked = ["clean"]
    robust = []
    threats = worst_case_columns(frame, worst, params, norms)
    for attack, eps in run_columns(frame, params):
        key = threat_model(norms.get(attack, ""), eps)
        if key in threats and threats[key]["name"] not in table:
            threat = threats[key]["name"]
            table[threat] = threats[key]["accuracy"].reindex(models) * 100
            ranked.append(threat)
            robust.append(threat)
        name = column_name(attack, eps, norms.get(attack, ""), notes.get(attack, ""))
        acc = threat_accuracy(frame, attack, eps).reindex(models)
        table[f"{name} white-box"] = acc["white_box"] * 100
        table[f"{name} transfer"] = acc["transfer"] * 100
        table[f"{name} transfer from"] = acc["transfer_from"].map(lambda m: label(m) if isinstance(m, str) else "")
        table[name] = acc["worst"] * 100
        ranked.append(name)
        if key not in threats or attack not in threats[key]["attacks"]:  # e.g. AGN, or an attack outside the pixel box
            robust.append(name)
    for name in params.rho_metrics:
        metric = rho(robustness, name)
        if not metric.empty:
            table[name] = metric.reindex(models)
            ranked.append(name)
            robust.append(name)
    for column in ranked:
        table[f"rank {column}"] = table[column].round(6).rank(ascending=False, method="min")  # float noise: no rank
    table["mean rank"] = table[[f"rank {c}" for c in robust]].mean(axis=1)
    flags = masking.summarise(checks) if checks is not None and not checks.empty else pd.Series(dtype=str)
    table["masking"] = flags.reindex(models).fillna("")
    table = table.sort_values(["mean rank", "clean"], ascending=[True, False]).reset_index()
    table.attrs[MEAN_RANK] = list(robust)  # the columns the mean rank averages (findings' rank claim)
    return table


def separating_format(values: pd.Series, least: int = 2, most: int = 6) -> pd.Series:
    """``values`` as text with the fewest decimals (``least`` to ``most``) that keep distinct values distinct,
    so a ranked column never shows two ranks as one number (rho_2 of 0.0712 and 0.0748 both reading 0.07)."""
    finite = values.dropna().astype(float)
    distinct = finite.round(most).nunique()
    for decimals in range(least, most + 1):
        if finite.round(decimals).nunique() == distinct:
            break
    return values.map(lambda v: f"{v:.{decimals}f}" if pd.notna(v) else "")


ONE_STEP = {"agn": "one Gaussian noise draw", "deepfool": "standard: 50 iterations"}  # else: one gradient step


def protocol_table(
    frame: pd.DataFrame,
    params: ArenaPaper,
    attacks: Mapping[str, Mapping[str, Any]],
    notes: Mapping[str, str],
    threats: Mapping[tuple[str, float], Mapping[str, Any]] | None = None,
) -> str:
    """The leaderboard's threat models as they ran (markdown): per column the registered attack, norm, budget,
    what ran (``notes``, the text of the column names) and whether inputs stay in the [0, 1] pixel box; before a
    threat model's first attack column its per-sample worst case (``threats``: :func:`worst_case_columns`), with
    the attacks and the number of attackers that entered it."""
    rows = []
    shown: set[str] = set()
    for attack, eps in run_columns(frame, params):
        spec = attacks.get(attack, {})
        norm, note = str(spec.get("norm", "")), notes.get(attack, "")
        threat = (threats or {}).get(threat_model(norm, eps))
        if threat is not None and threat["name"] not in shown:
            shown.add(threat["name"])
            rows.append(
                {
                    "column": threat["name"],
                    "attack": "per-sample worst case",
                    "norm": norm,
                    "budget": f"{eps:g}",
                    "what ran": f"a point counts if correct clean and under each of {', '.join(threat['attacks'])}, "
                    f"white-box and transferred from {len(threat['attackers'])} models",
                    "pixel box": "clipped",
                }
            )
        clip = (spec.get("params") or {}).get("clip")
        rows.append(
            {
                "column": column_name(attack, eps, norm, note),
                "attack": spec.get("attack", attack),
                "norm": norm,
                "budget": f"{eps:g}",
                "what ran": note or ONE_STEP.get(str(spec.get("attack", attack)), "one gradient step"),
                "pixel box": "" if clip is None else ("clipped" if clip else "not clipped"),
            }
        )
    return pd.DataFrame(rows).to_markdown(index=False) if rows else ""


SELECTION = {
    "last": "its last epoch",
    "best_val": "its epoch of best validation accuracy",
    "best_val_loss": "its epoch of lowest validation loss",
}


def _grouped(models: list[str], key: Callable[[str], Any], text: Callable[[Any], str]) -> str:
    """``models`` grouped by ``key``: 'text (labels)' per group, or 'text (every model)' for a single group."""
    groups: dict[Any, list[str]] = {}
    for m in models:
        groups.setdefault(key(m), []).append(label(m))
    return "; ".join(
        f"{text(k)} ({', '.join(names) if len(groups) > 1 else 'every model'})" for k, names in groups.items()
    )


def training_note(training: Mapping[str, Mapping[str, Any]], models: list[str], steps_shown: bool = True) -> str:
    """How the leaderboard's models were trained (the experiment summary's ``training``: per model id its epochs,
    batch size, ``equal_steps`` and model selection): the shared budget, whether it is one of equal optimiser
    updates, and which epoch each model keeps; ``steps_shown``: the table has the 'optimiser steps' column."""
    known = [m for m in models if m in training]
    if not known:
        return ""

    def epochs(k: tuple[Any, Any, Any]) -> str:
        unit = "epoch" if k[0] == 1 else "epochs"
        equal = ", each the updates of one pass over the given training split (equal_steps)" if k[2] else ""
        return f"{k[0]} {unit}, batches of {k[1]}{equal}"

    budget = _grouped(
        known,
        lambda m: (training[m].get("epochs"), training[m].get("batch_size"), bool(training[m].get("equal_steps"))),
        epochs,
    )
    kept = _grouped(known, lambda m: str(training[m].get("select", "")), lambda k: SELECTION.get(k, k))
    if all(training[m].get("equal_steps") for m in known):
        updates = (
            "Every method makes the same number of optimiser updates; one that trains on an enlarged set (e.g. "
            "DataGrad multitask's rotated copies, HLDR's pairs) covers it in proportionally fewer passes."
        )
    else:
        updates = (
            "The same epochs are not the same number of optimiser updates where a method trains on an enlarged set "
            "(e.g. DataGrad multitask's rotated copies, HLDR's pairs)."
        )
    count = " 'optimiser steps': each model's count (folds averaged)." if steps_shown else ""
    return f"Training: {budget}. Model kept: {kept}. {updates}{count}"


def write_leaderboard(
    table: pd.DataFrame, out_dir: Path, dataset: str, arch: str, suffix: str = "", protocol: str = ""
) -> None:
    """``leaderboard{suffix}.csv`` (every column) and ``.md`` (worst cases, rho, ranks, masking flags; ``protocol``:
    markdown on how the models were trained and attacked, after the caption)."""
    atomic_write_text(out_dir / f"leaderboard{suffix}.csv", table.to_csv(index=False, float_format="%.4f"))
    detail = [c for c in table.columns if c.endswith((" white-box", " transfer", " transfer from"))]
    shown = table.drop(columns=detail)
    for column in shown.columns:
        if column == "optimiser steps":
            shown[column] = shown[column].map(lambda v: f"{v:.0f}" if pd.notna(v) else "")
        elif column.startswith("rank ") or column == "mean rank":
            shown[column] = shown[column].map(lambda v: f"{v:g}" if pd.notna(v) else "")
        elif column.startswith("rho"):
            shown[column] = separating_format(shown[column])
    # ranks under the short threat-model name: what ran is in the column it ranks and in the protocol table
    shown = shown.rename(columns=lambda c: c.split(" (")[0] if c.startswith("rank ") else c)
    note = (
        f"# Cross-paper arena: leaderboard ({dataset}, {arch})\n\n"
        "Every model fine-tuned from the same reference for the same number of epochs (the shared budget; "
        "'Training' below says how many updates that is). "
        "'worst case' columns: robust accuracy (%) per threat model (norm, budget) as RobustBench defines it, the "
        "test points classified correctly when clean and under every attack of that norm and budget, white-box "
        "and transferred from every model (the protocol table lists the attacks; results/<experiment>/"
        "worstcase.csv the points). Beside them, per attack (attack, norm, budget; in parentheses what the attack "
        "ran, where it is iterative or not its standard configuration) the lower of its white-box accuracy and "
        "its strongest transfer from every other model (both in leaderboard.csv); "
        "rho_2 is DeepFool's mean ||r||_2 / ||x||_2 (DeepDefense eq. 7), rho_inf the FGS budget misclassifying 50% "
        "relative to ||x||_inf (eq. 8). "
        "Ranks: 1 = best, ties share the best rank; the mean rank averages one column per threat model (each "
        "worst case; an attack's own column only where no worst case covers it, e.g. Gaussian noise) and rho_2, "
        "rho_inf: not clean accuracy, nor the per-attack columns a worst case covers. 'masking' lists the failed "
        "gradient-masking checks (tables/masking*.md): a flagged model's robust accuracies overstate its "
        "robustness.\n\n"
    )
    if protocol:
        note += protocol.rstrip() + "\n\n"
    atomic_write_text(out_dir / f"leaderboard{suffix}.md", note + shown.to_markdown(index=False, floatfmt=".2f") + "\n")


def write_masking(checks: pd.DataFrame, out_dir: Path, suffix: str = "") -> None:
    atomic_write_text(out_dir / f"masking{suffix}.csv", checks.to_csv(index=False))
    note = (
        "# Cross-paper arena: gradient-masking checks\n\n"
        "Per model: (1) a transfer attack stronger than the white-box one, (2) FGSM stronger than PGD (same "
        "norm and budget), (3) accuracy not falling toward 0 as the budget grows, (4) PGD with more steps not "
        "stronger than with fewer, (5) a gradient-free attack (Square) stronger than every gradient attack (same "
        "norm and budget). 'flagged' = the symptom exceeds the tolerance; 'not run' = the results lack what the "
        "check needs for that model (it is no evidence either way).\n\n"
    )
    shown = checks.assign(target=checks["target"].map(label)) if not checks.empty else checks
    atomic_write_text(out_dir / f"masking{suffix}.md", note + shown.to_markdown(index=False) + "\n")


def figure_robust_vs_clean(table: pd.DataFrame, headline: str, path: Path, title: str) -> None:
    """Worst-case accuracy under the headline threat model against clean accuracy, one labelled point per model;
    models failing a masking check hollow."""
    figure, ax = plt.subplots(figsize=(7.5, 5.5))
    for _, row in table.iterrows():
        flagged = bool(row["masking"])
        ax.scatter(
            row["clean"],
            row[headline],
            s=40,
            facecolors="none" if flagged else "C0",
            edgecolors="C3" if flagged else "C0",
        )
    ax.set_xlabel("clean test accuracy (%)")
    ax.set_ylabel(f"robust accuracy (%), {headline}")
    ax.set_title(title, fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.margins(0.15)
    place_labels(ax, table["clean"].tolist(), table[headline].tolist(), table["method"].astype(str).tolist())
    _save(figure, path)


NO_MARGIN = "no margin (a finding of ours)"
RANK_MARGIN = (
    "no margin (a finding of ours); a mean rank is a description without an interval: held when no order of the "
    "models that the 95% intervals of the averaged columns' pairwise differences leave open (worst cases compared "
    "point by point) moves every PGD model off first place, not held when none puts one there, else inconclusive"
)


def arena_cells(
    table: pd.DataFrame,
    params: ArenaPaper,
    n_points: int = 0,
    threats: Mapping[tuple[str, float], Mapping[str, Any]] | None = None,
    robustness: pd.DataFrame | None = None,
) -> dict[tuple[str, str], Cell]:
    """The leaderboard's ranked values (clean accuracy, every threat-model column, rho) as cells keyed (column, model
    id) for :func:`findings`: a per-sample worst case per fold with its robust-point masks where ``threats``
    (:func:`worst_case_columns`) holds it, so two models' worst cases are compared point by point; rho_2 and
    rho_inf (DeepDefense eqs. 7-8) per fold from ``robustness``, with their per-point terms where stored (a paired
    bootstrap over the test points, :mod:`advreg.metrics.point_statistics`; without them, across folds, by the
    estimate alone with one); any other accuracy (clean, an attack's column: the lower of white-box and the
    strongest transfer, folds averaged) as the leaderboard's value, a proportion of ``n_points`` test points
    (Newcombe's unpaired interval; without ``n_points``, exact)."""
    models = table["model"].astype(str).tolist()
    shown = dict(zip(models, table["method"].astype(str), strict=True))
    columns = ["clean", *(c[len("rank ") :] for c in table.columns if c.startswith("rank ") and c != "rank clean")]
    cells: dict[tuple[str, str], Cell] = {}
    for column in columns:
        if column in params.rho_metrics:
            continue
        n = (n_points,) if n_points else ()
        for model, value in zip(models, table[column].astype(float), strict=True):
            cells[(column, model)] = Cell(column, shown[model], (value / 100,), fraction=True, n=n)
    for threat in (threats or {}).values():
        if threat["name"] in columns:
            cells.update({(threat["name"], m): cell for m, cell in threat["cells"].items() if m in shown})
    for metric in (c for c in params.rho_metrics if c in columns):
        part = _rho_rows(robustness, metric)
        for model, value in zip(models, table[metric].astype(float), strict=True):
            rows = part[part["model"] == model] if part is not None else None
            if rows is None or not len(rows):
                cells[(metric, model)] = value_cell(metric, shown[model], [value])
                continue
            samples = per_point_values(rows).get((model, metric), [])  # the folds the model has, as the values
            cells[(metric, model)] = value_cell(
                metric,
                shown[model],
                rows.groupby("fold", sort=True)["value"].mean(),
                samples=samples,
                statistic=STATISTICS.get(metric),
            )
    return cells


def rank_bounds(
    models: Sequence[str], columns: Sequence[str], cells: Mapping[tuple[str, str], Cell]
) -> dict[str, tuple[float, float]]:
    """Per model, the least and the greatest mean rank over ``columns`` (ranks as :func:`leaderboard` gives them: 1
    plus the models ahead, ties sharing the best rank, a column counted where the model has a value) that the
    verdict engine's pairwise comparisons allow: another model is surely ahead in a column where its lead over the
    model is held (the 95% interval above 0), surely not ahead where it is not held, and may be either otherwise
    (inconclusive, or not testable). A rank itself has no interval; these bounds say how far the comparisons the
    intervals leave open could move it."""
    least: dict[str, list[int]] = {m: [] for m in models}
    most: dict[str, list[int]] = {m: [] for m in models}
    for column in columns:
        here = [m for m in models if (column, m) in cells and cells[(column, m)].measured]
        pairs = [(o, m) for m in here for o in here if o != m]
        verdicts = [c.verdict for c in compare_all([Diff((column, o), (column, m)) for o, m in pairs], cells)]
        for m in here:
            ahead = [v for (o, target), v in zip(pairs, verdicts, strict=True) if target == m]
            least[m].append(1 + sum(v == HELD for v in ahead))
            most[m].append(1 + sum(v != NOT_HELD for v in ahead))
    return {m: (float(np.mean(least[m])), float(np.mean(most[m]))) for m in models if least[m]}


def rank_claim(
    claim: str, table: pd.DataFrame, contenders: Sequence[str], cells: Mapping[tuple[str, str], Cell], source: str
) -> Claim:
    """The claim that ``contenders`` (model ids) hold the best mean rank (``table``: :func:`leaderboard`'s, whose
    ``attrs`` name the columns the mean rank averages): the mean rank is described, not estimated (no interval); the
    verdict follows from the pairwise comparisons of :func:`rank_bounds`: held when a contender's greatest mean rank
    lies below every other model's least, not held when another model's greatest lies below every contender's least,
    else inconclusive; not testable without a contender."""
    by_id = table.set_index("model")
    columns = table.attrs.get(MEAN_RANK)
    if not contenders or columns is None:
        why = "no PGD model ran" if not contenders else "the leaderboard does not name its mean rank's columns"
        return Claim(claim, NOT_TESTABLE, why, source, FINDING, margin_source=RANK_MARGIN)
    top = str(by_id[MEAN_RANK].idxmin())
    bounds = rank_bounds(by_id.index.astype(str).tolist(), columns, cells)
    ours = [bounds[m] for m in contenders if m in bounds]
    rivals = {m: b for m, b in bounds.items() if m not in contenders}
    inf = float("inf")
    if ours and min(hi for _, hi in ours) < min((lo for lo, _ in rivals.values()), default=inf):
        verdict = HELD
    elif not ours or min((hi for _, hi in rivals.values()), default=inf) < min(lo for lo, _ in ours):
        verdict = NOT_HELD
    else:
        verdict = INCONCLUSIVE

    def span(m: str) -> str:
        lo, hi = bounds.get(m, (float("nan"), float("nan")))
        return f"{label(m)} {by_id.loc[m, MEAN_RANK]:.2f} ({lo:.2f} to {hi:.2f})"

    rival = min(rivals, key=lambda m: (rivals[m][0], by_id.loc[m, MEAN_RANK])) if rivals else None
    evidence = (
        f"best mean rank: {label(top)} ({by_id.loc[top, MEAN_RANK]:.2f}); mean rank (least to greatest the pairwise "
        "comparisons allow): "
        + ", ".join(span(m) for m in contenders)
        + (f"; strongest other: {span(rival)}" if rival is not None else "")
        + f"; averaged over {len(columns)} columns"
    )
    return Claim(claim, verdict, evidence, source, FINDING, margin_source=RANK_MARGIN)


def _pgd(models: Sequence[str]) -> list[str]:
    return [m for m in models if ModelId.parse(m).method == "pgd_at"]


def most_robust_text(headline: str) -> str:
    return (
        f"PGD adversarial training (Madry et al. 2018) is the most robust model under {headline} (models flagged "
        "for gradient masking excluded)"
    )


def declarations(
    table: pd.DataFrame, headline: str, baseline: str, name: str = "", suffix: str = ""
) -> list[Declaration]:
    """The arena's comparisons of measured quantities over :func:`arena_cells`' keys (column, model id), in order:
    the best unflagged PGD model ahead of every other unflagged model under ``headline`` (left out when only flagged
    PGD models ran: :func:`findings` judges that not held); every other model ahead of ``baseline``; and the most
    robust unflagged model (by its estimate) behind ``baseline`` on clean accuracy. ``name`` prefixes each claim."""
    source = f"tables/leaderboard{suffix}.md"
    by_id = table.set_index("model")
    flagged = by_id.index[by_id["masking"] != ""].tolist()
    trusted = by_id[by_id["masking"] == ""]
    best = trusted[headline].idxmax() if trusted[headline].notna().any() else None
    pgd = _pgd(trusted.index)

    def declared(claim: str, compare: list[Diff], note: str, shows: Sequence[tuple[str, str]] = ()) -> Declaration:
        return Declaration(f"{name}: {claim}" if name else claim, compare, NO_MARGIN, source, FINDING, shows, note)

    out = []
    if pgd or not _pgd(flagged):
        best_pgd = max(pgd, key=lambda m: by_id.loc[m, headline]) if pgd else None
        note = "; ".join(
            part
            for part in (
                f"most robust unflagged: {label(best)}" if best else "",
                f"flagged for gradient masking, so not compared: {', '.join(map(label, flagged))}" if flagged else "",
            )
            if part
        )
        compare = [Diff((headline, best_pgd), (headline, m)) for m in trusted.index if m != best_pgd] if pgd else []
        out.append(declared(most_robust_text(headline), compare, note, [(headline, m) for m in _pgd(flagged)]))
    if baseline not in by_id.index:
        claim = f"Every defence is more robust than the undefended baseline under {headline}"
        return [*out, declared(claim, [], f"no {baseline}")]
    others = [m for m in by_id.index if m != baseline]
    worse = [m for m in others if by_id.loc[m, headline] <= by_id.loc[baseline, headline]]
    out.append(
        declared(
            f"Every defence is more robust than the undefended baseline ({label(baseline)}) under {headline}",
            [Diff((headline, m), (headline, baseline)) for m in others],
            f"not better than {label(baseline)}: " + (", ".join(map(label, worse)) or "none"),
        )
    )
    if best is not None and best != baseline:
        out.append(
            declared(
                "Robustness costs clean accuracy: the most robust model is less accurate on clean data than the "
                "baseline",
                [Diff(("clean", baseline), ("clean", best))],
                f"the most robust unflagged model under {headline}: {label(best)}",
            )
        )
    return out


def findings(
    table: pd.DataFrame,
    params: ArenaPaper,
    headline: str,
    name: str = "",
    suffix: str = "",
    n_points: int = 0,
    threats: Mapping[tuple[str, float], Mapping[str, Any]] | None = None,
    robustness: pd.DataFrame | None = None,
) -> list[Claim]:
    """The arena's questions, judged on this run (kind "further finding"); ``name`` prefixes each claim (the arena),
    ``suffix`` names its tables (``tables/leaderboard{suffix}.md``). The comparisons of measured quantities are
    :func:`declarations` over :func:`arena_cells`, judged by the one verdict engine
    (:func:`advreg.reporting.declarations.judge`): two models' per-sample worst cases point by point where
    ``threats`` (:func:`worst_case_columns`) holds both (the paired interval), any other leaderboard value as a
    proportion of ``n_points`` test points. A model flagged for gradient masking cannot be the most robust: its
    accuracy may be an artefact of the attack, so with only flagged PGD models that finding is not held. The best
    mean rank is a description without an interval (:func:`rank_claim`); whether the gradient-masking checks
    flagged a model is a predicate over :mod:`advreg.papers.masking`'s checks, not a comparison."""
    source = f"tables/leaderboard{suffix}.md"
    cells = arena_cells(table, params, n_points, threats, robustness)
    by_id = table.set_index("model")
    flagged = by_id[by_id["masking"] != ""]

    def text(claim: str) -> str:
        return f"{name}: {claim}" if name else claim

    claims = judge(declarations(table, headline, params.baseline, name, suffix), cells)
    pgd = _pgd(by_id.index[by_id["masking"] == ""])
    if not pgd and _pgd(flagged.index):  # only flagged PGD models: none of them can be the most robust
        excluded = ", ".join(label(m) for m in _pgd(flagged.index))
        claims.insert(
            0,
            Claim.judged(
                text(most_robust_text(headline)),
                False,
                f"every PGD model is flagged for gradient masking: {excluded}",
                source,
                FINDING,
            ),
        )
    rank = "PGD adversarial training has the best mean rank over every threat model"
    claims.insert(1, rank_claim(text(rank), table, _pgd(by_id.index), cells, source))
    claims.append(
        Claim.judged(
            text("No model shows a symptom of gradient masking"),
            flagged.empty,
            "flagged: " + ("; ".join(f"{label(m)} ({row['masking']})" for m, row in flagged.iterrows()) or "none"),
            f"tables/masking{suffix}.md",
            FINDING,
        )
    )
    return claims


def render(
    params: ArenaPaper,
    inputs: Mapping[str, Mapping[str, str]],
    context: Mapping[str, Any],
    out_dir: str | Path,
    log: Callable[[str], None],
) -> None:
    """Per arena: leaderboard, masking checks and robust-vs-clean figure; the findings of every arena in claims.md.

    With one arena the files are ``tables/leaderboard.md``, ``tables/masking.md``, ``figures/robust_vs_clean.png``;
    with several, each name ends in ``_<experiment>``."""
    out_dir = Path(out_dir)
    claims: list[Claim] = []
    arenas = params.experiments()
    for name in arenas:
        suffix = f"_{name}" if len(arenas) > 1 else ""
        files = inputs[name]
        summary = context["experiments"][name]
        dataset, arch = summary.get("dataset", "?"), summary.get("arch", "?")
        attacks = summary.get("attacks", {})
        norms = {label: str(a.get("norm", "")) for label, a in attacks.items()}
        notes = attack_notes(attacks)
        frame = pd.read_csv(files["crosseval"])
        robustness = pd.read_csv(files["robustness"]) if files.get("robustness") else None
        timings = pd.read_csv(files["timings"]) if files.get("timings") else None
        steps = optimiser_steps(timings)
        if timings is not None and steps.empty:
            log(f"arena {name}: timings.csv holds no optimiser step count (older results): no 'optimiser steps'")
        checks = masking_checks(frame, params)
        checks = checks[~checks["target"].isin(params.exclude)].reset_index(drop=True)
        worst = worstcase.read(files["worstcase"]) if files.get("worstcase") else None
        if worst is None:
            log(f"arena {name}: no worstcase.csv: no per-sample worst case; every attack column enters the mean rank")
        threats = worst_case_columns(frame, worst, params, norms)
        table = leaderboard(frame, robustness, params, norms, checks, notes, steps, worst)
        log(f"arena {name}: {len(table)} models; flagged: {int((table['masking'] != '').sum())}")
        protocol = "\n\n".join(
            text
            for text in (
                training_note(summary.get("training", {}), table["model"].tolist(), not steps.empty),
                protocol_table(frame, params, attacks, notes, threats),
            )
            if text
        )
        write_leaderboard(table, out_dir / "tables", dataset, arch, suffix, protocol)
        write_masking(checks, out_dir / "tables", suffix)
        held = run_columns(frame, params)
        parsed = dict(zip(params.columns, params.parsed_columns(), strict=True))
        chosen = [parsed[text] for text in params.headline if parsed[text] in held]
        if not chosen:
            raise ValueError(f"arena {name}: its results hold none of the headline threat models {params.headline}")
        attack, eps = chosen[0]
        threat = threats.get(threat_model(norms.get(attack, ""), eps))
        threat = threat if threat is not None and attack in threat["attacks"] else None
        # the worst case of the headline attack's norm and budget; the attack's own column only without one
        headline = threat["name"] if threat else column_name(attack, eps, norms.get(attack, ""), notes.get(attack, ""))
        figure_robust_vs_clean(
            table,
            headline,
            out_dir / "figures" / f"robust_vs_clean{suffix}.png",
            f"Cross-paper arena ({dataset}, {arch}): robust vs clean accuracy",
        )
        points = int(frame["n"].max()) if "n" in frame and len(frame) else 0
        prefix = f"{dataset} {arch}" if len(arenas) > 1 else ""
        claims += findings(table, params, headline, prefix, suffix, points, threats, robustness)
    datasets = ", ".join(context["experiments"][n].get("dataset", "?") for n in arenas)
    write_claims(claims, out_dir, f"Cross-paper arena: findings ({datasets})")
