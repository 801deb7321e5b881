"""Accuracy tables from the tidy cross-evaluation CSV (pandas), as CSV and markdown.

Layout follows DataGrad's appendix tables (sec. 3, Tables 1-8): one block per attacker, one row per
target model, one column per budget, accuracies in percent.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from advreg.atomic import atomic_write_text


def accuracy_pivot(frame: pd.DataFrame, attack: str) -> pd.DataFrame:
    """Rows (attacker, target), columns epsilon, values accuracy in percent, for one attack."""
    part = frame[frame["attack"] == attack]
    if part.empty:
        raise ValueError(f"no cross-evaluation rows for attack {attack!r}")
    table = part.pivot_table(index=["attacker", "target"], columns="epsilon", values="accuracy", aggfunc="mean") * 100.0
    table.columns = [f"eps={c:g}" for c in table.columns]
    return table.round(2)


MAX_ATTACKER_BLOCKS = 6  # beyond this many attackers, one block per attacker is too tall to read (the arena: 17)


def white_box_and_transfer(table: pd.DataFrame) -> pd.DataFrame:
    """From :func:`accuracy_pivot`'s (attacker, target) x budget table: per target, its white-box accuracy (NaN
    if it is no attacker) and the strongest transfer (the lowest accuracy over every other attacker's set) with
    the attacker achieving it, per budget > 0; the clean accuracy for budget 0."""
    out = {}
    for column in table.columns:
        values = table[column].rename("accuracy").reset_index()
        if column == "eps=0":  # the clean test set, whoever the attacker
            out["clean"] = values.groupby("target")["accuracy"].mean()
            continue
        white = values[values["attacker"] == values["target"]].set_index("target")["accuracy"]
        others = values[values["attacker"] != values["target"]].dropna(subset=["accuracy"])
        strongest = others.loc[others.groupby("target")["accuracy"].idxmin()].set_index("target")
        out[f"{column} white-box"] = white
        out[f"{column} strongest transfer"] = strongest["accuracy"]
        out[f"{column} from"] = strongest["attacker"]
    return pd.DataFrame(out).rename_axis("target")


def write_accuracy_tables(
    frame: pd.DataFrame, attack: str, csv_path: str | Path, md_path: str | Path, title: str
) -> pd.DataFrame:
    """The full (attacker, target) x budget table as CSV; as markdown, one block per attacker, or with more than
    :data:`MAX_ATTACKER_BLOCKS` attackers one compact table (:func:`white_box_and_transfer`), the full matrix
    being drawn as a heatmap per budget (``figures/accuracy_matrix_<attack>.png``)."""
    table = accuracy_pivot(frame, attack)
    atomic_write_text(csv_path, table.reset_index().to_csv(index=False))
    attackers = table.index.get_level_values("attacker").unique()
    if len(attackers) > MAX_ATTACKER_BLOCKS:
        compact = white_box_and_transfer(table)
        text = (
            f"# {title}\n\nAccuracy (%) of each target model: white-box (attacked through its own gradients) and "
            f"under the strongest transfer attack (the lowest accuracy over the other {len(attackers) - 1} "
            "attackers' sets, 'from' naming the attacker), per budget. The full attacker x target matrix: the "
            f"figure accuracy_matrix_{attack} (a heatmap per budget) and accuracy_{attack}.csv.\n\n"
            f"{compact.to_markdown(floatfmt='.2f')}\n"
        )
        atomic_write_text(md_path, text)
        return table
    blocks = [
        f"# {title}\n",
        "Accuracy (%) of each target model on each attacker's adversarial set; "
        "rows where attacker == target are white-box.\n",
    ]
    for attacker, block in table.groupby(level="attacker", sort=True):
        blocks.append(f"\n## Attacker: {attacker}\n\n{block.droplevel('attacker').to_markdown()}\n")
    atomic_write_text(md_path, "".join(blocks))
    return table


def robustness_pivot(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows = models, columns = scalar robustness metrics (mean over folds), in the order they were computed."""
    part = frame[frame["metric"] != "latent_disparity"]
    if part.empty:
        raise ValueError("no robustness rows")
    order = list(dict.fromkeys(part["metric"]))
    table = part.pivot_table(index="model", columns="metric", values="value", aggfunc="mean")
    return table[order]


def write_robustness_tables(frame: pd.DataFrame, csv_path: str | Path, md_path: str | Path, title: str) -> pd.DataFrame:
    table = robustness_pivot(frame)
    atomic_write_text(csv_path, table.reset_index().to_csv(index=False, float_format="%.6g"))
    note = (
        "White-box robustness of each model on the test split: rho_2 and rho_2_unnormalised under DeepFool "
        "(DeepDefense eq. 7 and supp. eq. 1), rho_inf under FGS (eq. 8 at eps_50, the smallest FGS epsilon "
        "misclassifying 50%; rho_inf_per_sample: the mean of each image's smallest fooling epsilon over its "
        "||x||_inf), eps_ref (the eps_50 of the model the experiment names) and the accuracy at fractions of it "
        "(Table 1).\n\n"
    )
    atomic_write_text(md_path, f"# {title}\n\n{note}{table.to_markdown(floatfmt='.4g')}\n")
    return table
