"""Accuracy-versus-budget figures (seaborn), one panel per attacker.

The DataGrad paper's Figures 1-2 and HLDR's Fig. 2a/2c are instances: test accuracy against the attack
budget, one curve per model; here every attacker gets a panel, the white-box curve (attacker == target)
is drawn with markers.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from advreg.reporting import legibility  # noqa: E402

DPI = 110


def _save(figure: plt.Figure, path: str | Path) -> None:
    """Save at the report's resolution; the figure's legibility is measured first when the tests ask for it
    (:data:`.legibility.RECORDING`)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    legibility.audit(figure, str(path))
    # No 'Software' metadata: identical inputs give a bit-identical PNG.
    figure.savefig(path, dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)


def place_labels(axis: plt.Axes, xs: list[float], ys: list[float], texts: list[str], fontsize: float = 8) -> None:
    """Label each point (x, y) without overlaps: each label goes to the first of a ring of candidate offsets,
    growing outward, where it overlaps neither a label already placed nor a point; a label moved far from its
    point gets a thin leader line. Greedy, deterministic (labels placed from the densest point outward)."""
    figure = axis.figure
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    points = axis.transData.transform(list(zip(xs, ys, strict=True)))
    order = sorted(range(len(texts)), key=lambda i: (-sum(abs(points[i] - p).sum() < 40 for p in points), i))
    placed = []
    directions = [(1, 1), (1, -1), (-1, 1), (-1, -1), (1, 0), (-1, 0), (0, 1), (0, -1)]
    for i in order:
        chosen = None
        for distance in (4, 10, 18, 28, 40, 55):
            for dx, dy in directions:
                ha = "left" if dx > 0 else ("right" if dx < 0 else "center")
                va = "bottom" if dy > 0 else ("top" if dy < 0 else "center")
                label = axis.annotate(
                    texts[i],
                    (xs[i], ys[i]),
                    xytext=(dx * distance, dy * distance),
                    textcoords="offset points",
                    fontsize=fontsize,
                    ha=ha,
                    va=va,
                )
                box = label.get_window_extent(renderer).expanded(1.05, 1.1)
                clear = not any(box.overlaps(other) for other in placed) and not any(
                    box.contains(*p) for j, p in enumerate(points) if j != i
                )
                if clear:
                    chosen = (label, box, distance)
                    break
                label.remove()
            if chosen:
                break
        if chosen is None:  # nowhere free: the first candidate, so no label is lost
            label = axis.annotate(
                texts[i], (xs[i], ys[i]), xytext=(4, 4), textcoords="offset points", fontsize=fontsize
            )
            chosen = (label, label.get_window_extent(renderer), 4)
        label, box, distance = chosen
        if distance > 10:
            axis.annotate(
                "",
                (xs[i], ys[i]),
                xytext=label.xyann,
                textcoords="offset points",
                arrowprops={"arrowstyle": "-", "color": "0.6", "linewidth": 0.6},
            )
        placed.append(box)


MAX_ATTACKER_PANELS = 6  # beyond this many attackers, one panel per attacker is unreadable (and slow to draw)


def accuracy_vs_epsilon(frame: pd.DataFrame, attack: str, path: str | Path, title: str, norm: str = "") -> None:
    """Test accuracy against the budget, one curve per target: one panel per attacker, or, with more than
    ``MAX_ATTACKER_PANELS`` attackers, two panels: white-box (each model attacked through its own gradient) and the
    strongest transfer (per target and budget, the lowest accuracy over every other attacker's set). Over several
    replicates (folds) a curve is their mean and its band their range, as the title says."""
    part = frame[frame["attack"] == attack].sort_values(["attacker", "target", "epsilon"])
    if part.empty:
        raise ValueError(f"no cross-evaluation rows for attack {attack!r}")
    part = part.assign(accuracy_pct=part["accuracy"] * 100.0)
    column, panel_title = "attacker", "attacker: {col_name}"
    if part["attacker"].nunique() > MAX_ATTACKER_PANELS:
        white = part[part["white_box"]].assign(view="white-box")
        transfer = part[~part["white_box"]].groupby(["target", "epsilon"], as_index=False)["accuracy_pct"].min()
        part = pd.concat([white, transfer.assign(view="strongest transfer")], ignore_index=True)
        column, panel_title = "view", "{col_name}"
    sns.set_theme(style="whitegrid", context="paper")
    targets = part["target"].nunique()
    many = targets > len(sns.color_palette())  # more models than distinct default colours: colours and markers
    grid = sns.relplot(
        data=part,
        x="epsilon",
        y="accuracy_pct",
        hue="target",
        col=column,
        kind="line",
        errorbar=("pi", 100),  # the band: from the lowest to the highest replicate (a bootstrap of 3-4 is no interval)
        col_wrap=min(3, part[column].nunique()),
        height=3.2,
        aspect=1.25,
        facet_kws={"sharey": True},
        **({"palette": "tab20", "style": "target", "markers": True, "dashes": False} if many else {"marker": "o"}),
    )
    what = {"linf": "L-inf budget", "l2": "L2 budget", "sigma": "noise std"}.get(norm, "budget")
    grid.set_axis_labels(f"{what} epsilon ([0,1] pixels)", "test accuracy (%)")
    grid.set_titles(panel_title)
    grid.set(ylim=(0, 100))
    if grid.legend is not None:
        sns.move_legend(grid, "upper left", bbox_to_anchor=(1.0, 0.95), ncol=2 if targets > 18 else 1, frameon=False)
    replicates = part["fold"].nunique() if "fold" in part else 1
    if replicates > 1:
        title = f"{title}\nmean of {replicates} replicates (folds); band: lowest to highest"
    grid.figure.suptitle(title, y=1.04 if replicates == 1 else 1.08)
    _save(grid.figure, path)


def accuracy_heatmap(frame: pd.DataFrame, attack: str, path: str | Path, title: str) -> None:
    """Attacker x target accuracy (%) at each positive budget of ``attack``, one heatmap panel per budget (the
    experiment's many-model counterpart of DataGrad's Tables 1-5): rows are the attackers whose gradients made
    the adversarial set, columns the targets; the white-box cells (attacker == target) are outlined."""
    part = frame[(frame["attack"] == attack) & (frame["epsilon"] > 0)]
    if part.empty:
        raise ValueError(f"no cross-evaluation rows with a positive budget for attack {attack!r}")
    budgets = sorted(part["epsilon"].unique())
    targets = sorted(part["target"].unique())
    attackers = sorted(part["attacker"].unique())
    cell = 0.42
    width, height = 2.2 + cell * len(targets), 1.2 + cell * len(attackers)
    columns = min(2, len(budgets))
    rows = -(-len(budgets) // columns)
    sns.set_theme(style="white", context="paper")
    figure, axes = plt.subplots(rows, columns, figsize=(width * columns, height * rows), squeeze=False)
    annotate = len(targets) <= 20
    for axis, eps in zip(axes.flat, budgets, strict=False):
        matrix = (
            part[part["epsilon"] == eps]
            .pivot_table(index="attacker", columns="target", values="accuracy", aggfunc="mean")
            .reindex(index=attackers, columns=targets)
            * 100
        )
        sns.heatmap(
            matrix,
            ax=axis,
            vmin=0,
            vmax=100,
            cmap="viridis",
            annot=annotate,
            fmt=".0f",
            annot_kws={"fontsize": 7},
            cbar_kws={"label": "accuracy (%)"},
            linewidths=0.3,
        )
        for row, attacker in enumerate(attackers):
            if attacker in targets:
                col = targets.index(attacker)
                axis.add_patch(plt.Rectangle((col, row), 1, 1, fill=False, edgecolor="#e4002b", linewidth=1.6))
        axis.set_title(f"{attack}, epsilon {eps:g} (outlined: white-box)")
        axis.set_xlabel("target model")
        axis.set_ylabel("attacker (its gradients made the set)")
        axis.tick_params(axis="x", labelrotation=90)
        axis.tick_params(axis="y", labelrotation=0)
    for axis in axes.flat[len(budgets) :]:
        axis.set_visible(False)
    figure.suptitle(title)
    figure.tight_layout()
    _save(figure, path)


def latent_disparity_figure(frame: pd.DataFrame, path: str | Path, title: str) -> None:
    """HLDR Fig. 6: normalised L1 disparity between clean and FGSM activations, per hidden layer."""
    part = frame[frame["metric"] == "latent_disparity"].copy()
    if part.empty:
        raise ValueError("no latent_disparity rows")
    layers = list(dict.fromkeys(part["layer"]))
    part["layer"] = pd.Categorical(part["layer"], categories=layers, ordered=True)
    sns.set_theme(style="whitegrid", context="paper")
    figure, axis = plt.subplots(figsize=(max(4.0, 0.5 * len(layers) + 2), 3.2))
    sns.pointplot(data=part, x="layer", y="value", hue="model", ax=axis, markersize=4, linewidth=1.2, errorbar=None)
    axis.set_xlabel("hidden layer")
    axis.set_ylabel("|s(x) - s(x_adv)|_1 / |s(x)|_1")
    axis.set_title(title)
    if axis.get_legend() is not None:  # beside the panel, never over the points
        sns.move_legend(axis, "upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="model")
    _save(figure, path)
