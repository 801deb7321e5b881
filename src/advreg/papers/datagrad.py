"""The DataGrad paper's tables, figures and claims, reproduced next to the published numbers.

DataGrad (Ororbia, Kifer, Giles 2017), appendix Tables 1-5: one table per attacker (Rect, L1, L2, DGL1,
DGL2), rows = every model, columns = R1 noise phi in {0, .005, .01, .05, .1}; here each cell shows the
reproduced accuracy, the published one (config/published/datagrad.yaml, legible rows only) and their
difference. Figure 1: every model as its own adversary under R1 and R2 noise; Figure 2: Rect and MT as
adversaries; Figure 3: adversarial samples of Rect, L1 and DGL1 at growing phi. The paper's claims are checked
on the reproduced numbers and listed as held / not held with their evidence.

Model selection follows sec. 3 ("architectures that achieved best performance on the validation subset"):
per method, the variant with the highest best-epoch validation accuracy stands for the method in the claims
and figures; the tables list every variant.

Inputs (``render``): the experiment's gathered ``crosseval.csv``, ``histories.csv`` and ``examples.npz``
(fold 0's adversarial images, for Figure 3); config block: :class:`advreg.papers.catalog.DataGradPaper`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
import yaml  # noqa: E402

from advreg.atomic import atomic_write_text  # noqa: E402
from advreg.ids import ModelId  # noqa: E402
from advreg.papers.catalog import DataGradPaper  # noqa: E402
from advreg.papers.names import names  # noqa: E402
from advreg.reporting.claims import FINDING, Claim, write_claims  # noqa: E402
from advreg.reporting.declarations import Cell, Declaration, Diff, accuracy_cell, judge  # noqa: E402
from advreg.reporting.examples import read_examples  # noqa: E402
from advreg.reporting.figures import _save  # noqa: E402

FIGURE3_METHODS = ("rect", "l1", "dgl1")

# The models of the paper's sec. 3 (the exact variants are this project's addition, reported apart).
PAPER_METHODS = ("rect", "plain", "l1", "l2", "dgl1", "dgl2", "mt", "mt_dgl1", "mt_dgl2")
LABELS = names("datagrad")  # method -> display name (advreg.papers.names)


def paper_label(model_id: str) -> str:
    model = ModelId.parse(model_id)
    name = LABELS.get(model.method, model.method)
    return name if model.variant == "default" else f"{name} {model.variant}"


def best_by_validation(histories: pd.DataFrame) -> dict[str, str]:
    """Method -> model id of its variant with the highest validation accuracy (earliest listed on ties).

    ``histories``: the tidy histories (columns model, epoch, val_acc, ...) of fold 0, trained models only."""
    best: dict[str, tuple[float, str]] = {}
    for model_id, history in histories.groupby("model", sort=False):
        method = ModelId.parse(model_id).method
        score = float(history["val_acc"].max())
        if method not in best or score > best[method][0]:
            best[method] = (score, model_id)
    return {method: model_id for method, (_, model_id) in best.items()}


def published_key(model_id: str, params: Mapping[str, Any]) -> str:
    """The published row a model corresponds to: ``method/lam{lam}_phi{phi}`` from its lam and phi (in that
    order, as the paper's row labels), ``method/default`` for a method without them."""
    method = ModelId.parse(model_id).method
    parts = [f"{key}{params[key]!r}" for key in ("lam", "phi") if key in params]
    return f"{method}/{'_'.join(parts) if parts else 'default'}"


def table_vs_published(
    frame: pd.DataFrame,
    attack: str,
    attacker: str,
    published: Mapping[str, list[float]],
    phis: list[float],
    keys: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Rows = targets; for each phi: reproduced %, published %, difference (reproduced - published).

    ``keys`` maps a target's model id to its published row (default: the model id itself)."""
    part = frame[(frame["attack"] == attack) & (frame["attacker"] == attacker)]
    if part.empty:
        raise ValueError(f"no {attack} rows for attacker {attacker!r}")
    pivot = part.pivot_table(index="target", columns="epsilon", values="accuracy", aggfunc="mean") * 100
    rows = []
    for target in pivot.index:
        key = (keys or {}).get(target, target)
        row: dict[str, Any] = {"model": target, "paper row": key if key in published else ""}
        pub = published.get(key)
        for i, phi in enumerate(phis):
            ours = pivot.loc[target].get(phi, np.nan)
            theirs = pub[i] if pub is not None else np.nan
            row[f"phi={phi:g} ours"] = round(float(ours), 2)
            row[f"phi={phi:g} paper"] = theirs
            row[f"phi={phi:g} diff"] = round(float(ours) - theirs, 2) if pub is not None else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def write_tables(
    frame: pd.DataFrame,
    published_doc: Mapping[str, Any],
    tables: Mapping[str, str],
    attack: str,
    out_dir: str | Path,
    dataset: str,
    keys: Mapping[str, str] | None = None,
) -> list[Path]:
    """Tables 1-5 (``tables``: table number -> attacker model id) as CSV and markdown in ``out_dir``."""
    out_dir = Path(out_dir)
    phis = [float(p) for p in published_doc["phis"]]
    written = []
    for number, attacker in sorted(tables.items(), key=lambda kv: int(kv[0])):
        entry = published_doc["tables"].get(int(number)) or published_doc["tables"].get(str(number)) or {}
        table = table_vs_published(frame, attack, attacker, entry.get("rows", {}), phis, keys)
        csv_path, md_path = out_dir / f"table{number}.csv", out_dir / f"table{number}.md"
        atomic_write_text(csv_path, table.to_csv(index=False, float_format="%.2f"))
        note = (
            f"# DataGrad Table {number}: all models attacked by {attacker} "
            f"({entry.get('attacker_label', '?')} in the paper), "
            f"{attack} (R1) noise\n\nAccuracy (%) reproduced on **{dataset}** ('ours'), published on "
            f"**{published_doc['dataset']}** ('paper', blank where the row is not in the paper or not legible), "
            "and ours - paper. "
            "Compare like with like only on the paper's dataset (config/paper.yaml).\n\n"
        )
        if entry.get("illegible"):
            note += f"Published rows lost to the PDF conversion: {', '.join(entry['illegible'])}.\n\n"
        shown = table.astype(object).where(table.notna(), "")
        atomic_write_text(md_path, note + shown.to_markdown(index=False, floatfmt=".2f") + "\n")
        written += [csv_path, md_path]
    return written


def _white_box(frame: pd.DataFrame, attack: str) -> pd.DataFrame:
    part = frame[(frame["attack"] == attack) & frame["white_box"]]
    return part.pivot_table(index="target", columns="epsilon", values="accuracy", aggfunc="mean") * 100


WHITE_BOX_TABLE = "tables/white_box.md"


def white_box_table(frame: pd.DataFrame, best: Mapping[str, str], attacks: list[str]) -> pd.DataFrame:
    """White-box accuracy (%, mean over folds) of every method's best-validation variant (each model its own
    adversary, as in Fig. 1), per attack and budget, and its mean over the budgets > 0: the numbers every
    claim of :func:`check_claims` is decided on (the mean from the claims' own cells, :func:`white_box_cells`, so
    it reads as their evidence does)."""
    cells = white_box_cells(frame, best, dict.fromkeys(attacks, ""))
    rows = []
    for method, model_id in best.items():
        row: dict[str, Any] = {"model": model_id, "paper name": LABELS.get(method, method)}
        for attack in attacks:
            wb = _white_box(frame, attack)
            if model_id not in wb.index:
                continue
            for eps in sorted(wb.columns):
                row[f"{attack} eps={eps:g}"] = round(float(wb.loc[model_id, eps]), 2)
            mean = cells.get((attack, method, tuple(e for e in sorted(wb.columns) if e > 0)))
            row[f"{attack} mean eps>0"] = round(100 * mean.mean, 2) if mean is not None else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def write_white_box_table(
    frame: pd.DataFrame, best: Mapping[str, str], attacks: list[str], out_dir: str | Path, dataset: str
) -> list[Path]:
    """``white_box.csv`` / ``.md`` in ``out_dir`` (see :func:`white_box_table`)."""
    out_dir = Path(out_dir)
    table = white_box_table(frame, best, attacks)
    csv_path, md_path = out_dir / "white_box.csv", out_dir / "white_box.md"
    atomic_write_text(csv_path, table.to_csv(index=False, float_format="%.2f"))
    note = (
        f"# DataGrad: white-box accuracy of each model (the numbers the claims are decided on)\n\n"
        f"Accuracy (%) on **{dataset}** of each method's best-validation variant attacked through its own "
        f"gradient (as in Fig. 1), per attack ({', '.join(attacks)}) and budget phi, and the mean over phi > 0. "
        "The same white-box cells appear in Tables 1-5 in the row of the table's own attacker.\n\n"
    )
    shown = table.astype(object).where(table.notna(), "")
    atomic_write_text(md_path, note + shown.to_markdown(index=False, floatfmt=".2f") + "\n")
    return [csv_path, md_path]


# "far better", "much less damage": the paper gives no size (sec. 3); more than 10 accuracy points is ours.
FAR = 10.0
FINDING_MARGIN = "no margin (a finding of ours)"

# A white-box cell's key: (attack, method, budgets), the model's accuracy averaged over the budgets per fold.
Key = tuple[str, str, tuple[float, ...]]


class Worst(NamedTuple):
    """The worst of the paper's models under a noise at its largest budget, and the worst under R1 at its own."""

    attack: str
    budget: float
    method: str
    r1_method: str

    @property
    def key(self) -> Key:
        return (self.attack, self.method, (self.budget,))


def _white_box_what(attack: str, budgets: tuple[float, ...], role: str, word: str) -> str:
    """A white-box cell's quantity: one budget, or the mean over the attack's budgets > 0."""
    at = f"at {word} {budgets[0]:g}" if len(budgets) == 1 else f"mean over {word} > 0"
    at += " (clean)" if budgets == (0.0,) else ""
    return f"{f'{role} ({attack})' if role else attack} white-box accuracy {at}"


def white_box_cells(
    frame: pd.DataFrame, best: Mapping[str, str], roles: Mapping[str, str], l2_norm: str = ""
) -> dict[Key, Cell]:
    """Every model's white-box accuracy (each model its own adversary, as in Fig. 1) per attack of ``roles``
    (attack -> the paper's name for it: R1, R2, ...), at each budget and averaged over the budgets > 0, keyed
    (attack, method, budgets): one replicate per fold, with its test points (:func:`accuracy_cell`). A fold lacking
    one of the budgets is left out of the cell. ``l2_norm``: the attack whose budgets are L2 norms, not phi."""
    cells: dict[Key, Cell] = {}
    for attack, role in roles.items():
        rows = frame[(frame["attack"] == attack) & frame["white_box"].astype(bool)]
        budgets = sorted(float(e) for e in rows["epsilon"].unique())
        sets = [(b,) for b in budgets] + [tuple(b for b in budgets if b > 0)]
        word = "L2 norm" if attack == l2_norm else "phi"
        for method, model_id in best.items():
            own = rows[rows["target"] == model_id]
            if own.empty:
                continue
            eps = own["epsilon"].to_numpy(dtype=float)
            for wanted in (s for s in sets if s):
                part = own[np.isclose(eps[:, None], wanted).any(axis=1)]
                complete = part.groupby("fold")["epsilon"].transform("nunique") == len(wanted)
                if complete.any():
                    what = _white_box_what(attack, wanted, role, word)
                    cells[(attack, method, wanted)] = accuracy_cell(what, paper_label(model_id), part[complete])
    return cells


def _budgets(phis: Sequence[float]) -> tuple[float, float, tuple[float, ...]]:
    """The R1 budgets the claims use: the middle one (0.05 where run), the largest, those > 0."""
    mid = 0.05 if 0.05 in phis else phis[len(phis) // 2]
    return mid, phis[-1], tuple(p for p in phis if p > 0)


def _worst(cells: Mapping[Key, Cell], attack: str, budget: float, methods: Sequence[str]) -> str | None:
    """The method of ``methods`` with the lowest white-box accuracy under ``attack`` at ``budget`` (first on ties)."""
    measured = [(cells[k].mean, m) for m in methods if (k := (attack, m, (budget,))) in cells and cells[k].measured]
    return min(measured, key=lambda v: v[0])[1] if measured else None


def declarations(
    r1: str,
    phis: Sequence[float],
    methods: Sequence[str],
    tables: Mapping[str, str] | None = None,
    *,
    clean: str = "dgl1",
    r2: str = "",
    r2_worst: Worst | None = None,
    equal_norm: Worst | None = None,
) -> list[Declaration]:
    """The paper's claims (sec. 3 and 4) and our further findings over :func:`white_box_cells`' keys, for a run of
    R1 noise ``r1`` at budgets ``phis`` (sorted) on ``methods`` (the methods whose models ran, in the run's order;
    the paper's :data:`PAPER_METHODS` decide its claims, the exact DataGrad variants the findings). ``tables``:
    method -> the attacker table holding its white-box R1 cells; ``clean``: the DataGrad model of the clean-accuracy
    claim (DGL1 or MT-DGL1, the better); ``r2_worst`` / ``equal_norm``: the worst of the paper's models under the
    paper's R2 noise ``r2`` / under R2 at the L2 norm of R1 noise (None: not run)."""
    mid, top, positive = _budgets(phis)
    paper = [m for m in methods if m in PAPER_METHODS]
    rect = "rect" if "rect" in methods else "plain"

    def sources(*ms: str) -> str:
        """The attacker tables holding the white-box R1 cells of ``ms``; the white-box table otherwise."""
        found = [(tables or {}).get(m) for m in ms]
        return "; ".join(dict.fromkeys(found)) if all(found) else WHITE_BOX_TABLE

    def r1_key(method: str, budgets: tuple[float, ...]) -> Key:
        return (r1, method, budgets)

    claims = [
        Declaration(
            f"DGL1 is more robust than L1 and L2 weight decay under R1 noise at phi = {mid:g} "
            "(each its own adversary; sec. 3)",
            [Diff(r1_key("dgl1", (mid,)), r1_key(m, (mid,))) for m in ("l1", "l2")],
            "no margin: 'a DataGrad-regularized architecture outperforms the nonregularized baseline as well as "
            "alternatively regularized ones' (sec. 3)",
            sources("dgl1", "l1", "l2"),
            note="best-validation variants",
            central=True,
        ),
        Declaration(
            "MT-DGL1 is the most robust of the paper's models (sec. 3, abstract)",
            [Diff(r1_key("mt_dgl1", positive), r1_key(m, positive)) for m in paper if m != "mt_dgl1"]
            if "mt_dgl1" in paper
            else [],
            "no margin: 'the most robust one is the multitask model trained with a DataGrad term' (Fig. 1)",
            WHITE_BOX_TABLE,
        ),
        Declaration(
            "The multitask model MT is the most susceptible of the paper's models (Fig. 1)",
            [Diff(r1_key(m, positive), r1_key("mt", positive)) for m in paper if m != "mt"] if "mt" in paper else [],
            "no margin: 'the model most susceptible to adversarial samples is the one trained under the multitask "
            "objective' (Fig. 1)",
            WHITE_BOX_TABLE,
        ),
        Declaration(
            f"DataGrad-L1 resists R1 noise far better than the unregularised Rect at phi = {top:g} (Fig. 3)",
            [Diff(r1_key("dgl1", (top,)), r1_key(rect, (top,)), FAR)],
            f"'a significant reduction in error ..., the improvement clearer as phi is increased' (sec. 3, Fig. 3) "
            f"gives no size: more than {FAR:g} points is ours",
            sources("dgl1", rect),
            note=f"'far': by more than {FAR:g} points",
            central=True,
        ),
        Declaration(
            "DataGrad (DGL1 or MT-DGL1) also improves clean test accuracy over Rect (sec. 3)",
            [Diff(r1_key(clean, (0.0,)), r1_key(rect, (0.0,)))] if 0.0 in phis else [],
            "no margin: 'not only significantly reduces error ... but also improves generalization' (sec. 4)",
            WHITE_BOX_TABLE,
            note="the better of DGL1 and MT-DGL1 on clean data",
        ),
    ]
    if r2_worst is not None:
        claims.append(
            Declaration(
                "R2 noise does much less damage than R1 noise (sec. 3: the worst case of Fig. 1 is about 92%)",
                [Diff(r2_worst.key, r1_key(r2_worst.r1_method, (top,)), FAR)],
                "'R2 samples seem to cause only minimal damage and should be much less of a concern than R1 "
                f"samples' (sec. 3) gives no size: more than {FAR:g} points is ours",
                WHITE_BOX_TABLE,
                note=f"the worst of the paper's models under each noise at its largest budget; {r2_worst.attack}: "
                f"x + phi * 2g (eq. 2.4); 'much': by more than {FAR:g} points",
            )
        )
    else:
        claims.append(
            Declaration(
                "R2 noise does much less damage than R1 noise (sec. 3)",
                [],
                "",
                WHITE_BOX_TABLE,
                note=f"the paper's R2 noise ({r2!r}) was not run",
            )
        )
    if equal_norm is not None:
        claims.append(
            Declaration(
                "At the L2 norm of R1 noise, the R2 (gradient) direction does less damage than R1 (sign)",
                [Diff(equal_norm.key, r1_key(equal_norm.r1_method, (top,)))],
                FINDING_MARGIN,
                WHITE_BOX_TABLE,
                FINDING,
                note="the worst of the paper's models under each noise at its largest budget",
            )
        )
    for method in ("dgl1", "dgl2"):
        if f"{method}_exact" in methods and method in methods:
            claims.append(
                Declaration(
                    f"{LABELS[method]} by double backpropagation (the exact gradient) is at least as robust as by "
                    "the paper's finite difference",
                    [Diff(r1_key(f"{method}_exact", positive), r1_key(method, positive))],
                    f"{FINDING_MARGIN}: 'at least as robust' is held only on a clear gain",
                    WHITE_BOX_TABLE,
                    FINDING,
                )
            )
    return claims


def check_claims(
    frame: pd.DataFrame,
    best: Mapping[str, str],
    r1: str,
    r2: str,
    r2_equal_norm: str = "",
    tables: Mapping[str, str] | None = None,
) -> list[Claim]:
    """The paper's claims (sec. 3 and 4), judged on the reproduced numbers among the paper's own models
    (``best`` holds the best-validation variant of each method), then further findings: the exact DataGrad
    variants beside the finite-difference ones, and R2 noise at the L2 norm of R1 noise.

    The claims are :func:`declarations` over :func:`white_box_cells`, judged by the one verdict engine
    (:func:`advreg.reporting.declarations.judge`). Each claim links to the tables holding its deciding numbers:
    ``tables`` (table number -> attacker model id) gives, for a white-box cell of model m, the table whose attacker
    is m (its row m); numbers no such table holds (means, R2 noise, models no table is attacked by) are in
    :data:`WHITE_BOX_TABLE`."""
    attacks = set(frame["attack"])
    named = ((r2_equal_norm, "R2 at the L2 norm of R1"), (r2, "R2"), (r1, "R1"))  # R1 first where they coincide
    roles = {attack: role for attack, role in named if attack in attacks}
    cells = white_box_cells(frame, best, roles, l2_norm=r2_equal_norm)
    methods = list(dict.fromkeys(m for attack, m, _ in cells if attack == r1))
    paper = [m for m in methods if m in PAPER_METHODS]
    phis = sorted(
        float(e) for e in frame.loc[(frame["attack"] == r1) & frame["white_box"].astype(bool), "epsilon"].unique()
    )
    _, top, _ = _budgets(phis)
    r1_worst = _worst(cells, r1, top, paper)

    def worst(attack: str) -> Worst | None:
        """The worst of the paper's models under ``attack`` at its largest budget (None: not run)."""
        budgets = [bs[0] for a, _, bs in cells if a == attack and len(bs) == 1]
        method = _worst(cells, attack, max(budgets), paper) if budgets else None
        return Worst(attack, max(budgets), method, r1_worst) if method and r1_worst else None

    by_attacker = {attacker: f"tables/table{n}.md" for n, attacker in (tables or {}).items()}
    clean = {m: round(100 * cells[k].mean, 2) for m in ("dgl1", "mt_dgl1") if (k := (r1, m, (0.0,))) in cells}
    found = declarations(
        r1,
        phis,
        methods,
        {m: by_attacker[i] for m, i in best.items() if i in by_attacker},
        clean=max(clean, key=clean.get, default="dgl1"),
        r2=r2,
        r2_worst=worst(r2),
        equal_norm=worst(r2_equal_norm),
    )
    return judge(found, cells)


def figure_own_adversary(
    frame: pd.DataFrame, best: Mapping[str, str], attacks: list[str], path: str | Path, title: str
) -> None:
    """Figure 1: each (best-validation) model attacked by itself, one panel per noise type."""
    chosen = set(best.values())
    part = frame[frame["white_box"] & frame["attack"].isin(attacks)]
    part = part[part["target"].isin(chosen)].assign(
        model=lambda f: f["target"].map(paper_label), accuracy_pct=lambda f: f["accuracy"] * 100
    )
    sns.set_theme(style="whitegrid", context="paper")
    grid = sns.relplot(
        data=part,
        x="epsilon",
        y="accuracy_pct",
        hue="model",
        col="attack",
        kind="line",
        seed=0,  # the bootstrap of the band over folds: drawn the same on every machine (make verify)
        marker="o",
        height=3.0,
        aspect=1.2,
        facet_kws={"sharex": False, "sharey": True},
    )
    grid.set_axis_labels("noise budget", "test accuracy (%)")
    grid.figure.suptitle(title, y=1.04)
    _save(grid.figure, path)


def figure_fixed_adversaries(
    frame: pd.DataFrame, best: Mapping[str, str], attack: str, path: str | Path, title: str
) -> None:
    """Figure 2: all (best-validation) models attacked by Rect and by MT."""
    attackers = [best[m] for m in ("rect", "plain", "mt") if m in best]
    chosen = set(best.values())
    part = frame[(frame["attack"] == attack)]
    part = part[part["attacker"].isin(attackers) & part["target"].isin(chosen)]
    part = part.assign(
        model=part["target"].map(paper_label),
        adversary=part["attacker"].map(paper_label),
        accuracy_pct=part["accuracy"] * 100,
    )
    sns.set_theme(style="whitegrid", context="paper")
    grid = sns.relplot(
        data=part,
        x="epsilon",
        y="accuracy_pct",
        hue="model",
        col="adversary",
        kind="line",
        seed=0,  # the bootstrap of the band over folds: drawn the same on every machine (make verify)
        marker="o",
        height=3.0,
        aspect=1.2,
    )
    grid.set_axis_labels("phi (R1 noise)", "test accuracy (%)")
    grid.figure.suptitle(title, y=1.04)
    _save(grid.figure, path)


def figure_samples(images: Mapping[str, np.ndarray], phis: list[float], path: str | Path, title: str) -> None:
    """Figure 3: the same test image under each model's own R1 noise, one row per model, one column per phi.

    ``images`` maps a row label to an array (len(phis), H, W) in [0, 1]."""
    rows = list(images)
    figure, axes = plt.subplots(len(rows), len(phis), figsize=(1.3 * len(phis), 1.4 * len(rows)), squeeze=False)
    for r, label in enumerate(rows):
        for c, phi in enumerate(phis):
            ax = axes[r][c]
            ax.imshow(images[label][c], cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"phi={phi:g}", fontsize=8)
            if c == 0:
                ax.set_ylabel(label, fontsize=8)
    figure.suptitle(title, fontsize=9)
    _save(figure, path)


def figure3_images(
    examples: Mapping[str, np.ndarray], best: Mapping[str, str], attack: str, phis: list[float]
) -> dict[str, np.ndarray]:
    """Per Figure 3 model (Rect, L1, DGL1, best variants): its own R1 noise on the first test image, one
    grey image per phi, (len(phis), H, W) in [0, 1]."""
    images = {}
    for method in FIGURE3_METHODS:
        model_id = best.get(method)
        keys = [f"{model_id}|{attack}|{phi!r}" for phi in phis]
        if model_id is None or not all(k in examples for k in keys):
            continue
        images[paper_label(model_id)] = np.stack([examples[k][0].astype(np.float64).mean(-1) / 255.0 for k in keys])
    return images


def render(
    params: DataGradPaper,
    inputs: Mapping[str, Mapping[str, str]],
    context: Mapping[str, Any],
    out_dir: str | Path,
    log: Callable[[str], None],
) -> None:
    """Tables 1-5, claims and Figures 1-3 of the DataGrad paper into ``out_dir`` (tables/, figures/, claims.md).

    ``inputs[experiment]`` holds the experiment's gathered files; ``context`` the published numbers' path and
    the experiment's summary (:meth:`advreg.plan.Experiment.summary`: dataset, every variant's parameters)."""
    out_dir = Path(out_dir)
    files = inputs[params.experiment]
    summary = context["experiments"][params.experiment]
    dataset, variant_params, published_path = summary["dataset"], summary["variants"], context["published"]
    frame = pd.read_csv(files["crosseval"])
    histories = pd.read_csv(files["histories"])
    histories = histories[(histories["fold"] == 0) & (histories["model"] != str(ModelId("reference", "pretrained")))]
    published = yaml.safe_load(Path(published_path).read_text())
    best = best_by_validation(histories)
    log(f"best-validation variants: {best}")
    keys = {model_id: published_key(model_id, p) for model_id, p in variant_params.items()}
    tables = {str(n): attacker for n, attacker in enumerate(params.table_attackers, start=1)}
    write_tables(frame, published, tables, params.r1, out_dir / "tables", dataset, keys)
    attacks = [
        a for a in dict.fromkeys((params.r1, params.r2, params.r2_equal_norm)) if a and a in set(frame["attack"])
    ]
    write_white_box_table(frame, best, attacks, out_dir / "tables", dataset)
    claims = check_claims(frame, best, params.r1, params.r2, params.r2_equal_norm, tables)
    write_claims(claims, out_dir, f"DataGrad: the paper's claims on the reproduced numbers ({dataset})")
    paper_best = {m: i for m, i in best.items() if m in PAPER_METHODS}
    figure_own_adversary(
        frame,
        paper_best,
        [a for a in (params.r1, params.r2) if a],
        out_dir / "figures" / "figure1.png",
        f"DataGrad Fig. 1 ({dataset}): each model as its own adversary",
    )
    figure_fixed_adversaries(
        frame,
        paper_best,
        params.r1,
        out_dir / "figures" / "figure2.png",
        f"DataGrad Fig. 2 ({dataset}): Rect and MT as adversaries",
    )
    phis = sorted(frame.loc[frame["attack"] == params.r1, "epsilon"].unique().tolist())
    images = figure3_images(read_examples(files["examples"]), best, params.r1, phis)
    figure_samples(
        images,
        phis,
        out_dir / "figures" / "figure3.png",
        f"DataGrad Fig. 3 ({dataset}): each model's own R1 noise on one test image",
    )
