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


def _save(figure: plt.Figure, path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    # No 'Software' metadata: identical inputs give a bit-identical PNG.
    figure.savefig(path, dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)


MAX_ATTACKER_PANELS = 6  # beyond this many attackers, one panel per attacker is unreadable (and slow to draw)


def accuracy_vs_epsilon(frame: pd.DataFrame, attack: str, path: str | Path, title: str, norm: str = "") -> None:
    """Test accuracy against the budget, one curve per target: one panel per attacker, or, with more than
    ``MAX_ATTACKER_PANELS`` attackers, two panels: white-box (each model attacked through its own gradient) and the
    strongest transfer (per target and budget, the lowest accuracy over every other attacker's set)."""
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
    grid = sns.relplot(
        data=part,
        x="epsilon",
        y="accuracy_pct",
        hue="target",
        col=column,
        kind="line",
        col_wrap=min(3, part[column].nunique()),
        height=3.0,
        aspect=1.2,
        marker="o",
        facet_kws={"sharey": True},
    )
    what = {"linf": "L-inf budget", "l2": "L2 budget", "sigma": "noise std"}.get(norm, "budget")
    grid.set_axis_labels(f"{attack}: {what} epsilon ([0,1] pixel units)", "test accuracy (%)")
    grid.set_titles(panel_title)
    grid.set(ylim=(0, 100))
    grid.figure.suptitle(title, y=1.03)
    _save(grid.figure, path)


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
    _save(figure, path)
