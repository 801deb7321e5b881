"""Stages that render figures and tables from the gathered cross-evaluation."""

from __future__ import annotations

import pandas as pd

from advreg.reporting.figures import accuracy_vs_epsilon
from advreg.reporting.tables import write_accuracy_tables


def render_attack(crosseval_csv, *, experiment: str, attack: str, description: str, figure_out, table_csv, table_md) -> None:
    frame = pd.read_csv(crosseval_csv)
    frame = frame[frame["experiment"] == experiment]
    title = f"{experiment}: accuracy under {attack}" + (f" ({description})" if description else "")
    accuracy_vs_epsilon(frame, attack, figure_out, title)
    write_accuracy_tables(frame, attack, table_csv, table_md, title)
