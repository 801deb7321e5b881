"""Stages that render figures and tables from the gathered tidy CSVs."""

from __future__ import annotations

import pandas as pd

from advreg.reporting.figures import accuracy_vs_epsilon, latent_disparity_figure
from advreg.reporting.tables import write_accuracy_tables, write_robustness_tables


def _title(experiment: str, what: str, description: str) -> str:
    return f"{experiment}: {what}" + (f" ({description})" if description else "")


def render_attack(crosseval_csv, *, experiment: str, attack: str, norm: str, description: str, figure_out, table_csv, table_md) -> None:
    frame = pd.read_csv(crosseval_csv)
    frame = frame[frame["experiment"] == experiment]
    title = _title(experiment, f"accuracy under {attack}", description)
    accuracy_vs_epsilon(frame, attack, figure_out, title, norm)
    write_accuracy_tables(frame, attack, table_csv, table_md, title)


def render_robustness(robustness_csv, *, experiment: str, description: str, figure_out, table_csv, table_md) -> None:
    frame = pd.read_csv(robustness_csv)
    frame["layer"] = frame["layer"].fillna("")
    frame = frame[frame["experiment"] == experiment]
    write_robustness_tables(frame, table_csv, table_md, _title(experiment, "white-box robustness", description))
    latent_disparity_figure(frame, figure_out, _title(experiment, "latent disparity under FGSM", description))
