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

from advreg.reporting.tables import with_ids  # noqa: E402


def accuracy_vs_epsilon(frame: pd.DataFrame, attack: str, path: str | Path, title: str) -> None:
    part = with_ids(frame[frame["attack"] == attack]).sort_values(["attacker", "target", "epsilon"])
    if part.empty:
        raise ValueError(f"no cross-evaluation rows for attack {attack!r}")
    part = part.assign(accuracy_pct=part["accuracy"] * 100.0)
    sns.set_theme(style="whitegrid", context="paper")
    grid = sns.relplot(
        data=part, x="epsilon", y="accuracy_pct", hue="target", col="attacker", kind="line",
        col_wrap=min(3, part["attacker"].nunique()), height=3.0, aspect=1.2, marker="o",
        facet_kws={"sharey": True},
    )
    grid.set_axis_labels(f"{attack} budget (epsilon, [0,1] pixel units)", "test accuracy (%)")
    grid.set_titles("attacker: {col_name}")
    grid.set(ylim=(0, 100))
    grid.figure.suptitle(title, y=1.03)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    # No 'Software' metadata: identical inputs give a bit-identical PNG.
    grid.figure.savefig(path, dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(grid.figure)
