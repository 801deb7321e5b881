"""Stage that gathers an experiment's results over folds and parts, and renders its generic figures and tables
(torch-free): accuracy under every attack, the white-box robustness table and the latent disparity figure."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from advreg.atomic import atomic_write_text
from advreg.evaluation import worstcase
from advreg.reporting.examples import read_examples, write_examples
from advreg.reporting.figures import (
    MAX_ATTACKER_PANELS,
    accuracy_heatmap,
    accuracy_vs_epsilon,
    latent_disparity_figure,
)
from advreg.reporting.html import write_markdown_pages
from advreg.reporting.tables import write_accuracy_tables, write_robustness_tables
from advreg.tidy import CROSSEVAL_KEYS, ROBUSTNESS_KEYS, write_tidy


def _title(experiment: str, what: str, description: str) -> str:
    return f"{experiment}: {what}" + (f" ({description})" if description else "")


def gather_histories(histories: Mapping[str, Sequence[Any]], out: str | Path) -> None:
    """``histories``: path -> (experiment, fold, model id); one tidy CSV with those three columns first."""
    frames = [pd.read_csv(path).assign(experiment=e, fold=f, model=m) for path, (e, f, m) in histories.items()]
    write_tidy(out, frames, ["experiment", "fold", "model", "epoch"])


def gather_timings(timings: Mapping[str, Sequence[Any]], out: str | Path) -> None:
    """``timings``: timing JSON -> (experiment, fold, model id); one CSV (the optimisation steps' wall time, and
    their number ``steps``: empty for a timing written before the count was recorded)."""
    rows = [
        {"experiment": e, "fold": f, "model": m, **json.loads(Path(p).read_text())} for p, (e, f, m) in timings.items()
    ]
    frame = pd.DataFrame(
        rows, columns=["experiment", "fold", "model", "step_seconds", "samples", "seconds_per_sample", "steps"]
    )
    frame["steps"] = frame["steps"].astype("Int64")  # a count: never 1e+06 under the float format
    atomic_write_text(out, frame.to_csv(index=False, float_format="%.6g"))


def summarise_experiment(
    *,
    experiment: str,
    description: str,
    norms: Mapping[str, str],
    parts: Sequence[Mapping[str, str]],
    histories: Mapping[str, Sequence[Any]],
    timings: Mapping[str, Sequence[Any]],
    outputs: Mapping[str, str],
    log: Callable[[str], None],
) -> None:
    """``parts``: every assessment part's files and its ``fold``; ``norms``: attack -> norm. Examples are kept
    from fold 0 only; the parts' per-point worst cases are ANDed per fold
    (:func:`advreg.evaluation.worstcase.combine`)."""
    crosseval = [pd.read_csv(p["crosseval"]) for p in parts]
    robustness = [pd.read_csv(p["robustness"]) for p in parts]
    write_tidy(outputs["crosseval"], crosseval, CROSSEVAL_KEYS)
    write_tidy(outputs["robustness"], robustness, ROBUSTNESS_KEYS + ["metric", "layer", "value"])
    worstcase.write(outputs["worstcase"], worstcase.combine([worstcase.read(p["worstcase"]) for p in parts]))
    gather_histories(histories, outputs["histories"])
    gather_timings(timings, outputs["timings"])
    fold0 = {}
    for p in parts:
        if int(p["fold"]) == 0:
            fold0.update(read_examples(p["examples"]))
    write_examples(outputs["examples"], fold0)

    figures, tables = Path(outputs["figures"]), Path(outputs["tables"])
    figures.mkdir(parents=True, exist_ok=True)
    tables.mkdir(parents=True, exist_ok=True)
    frame = pd.read_csv(outputs["crosseval"])
    for attack, norm in norms.items():
        title = _title(experiment, f"accuracy under {attack}", description)
        accuracy_vs_epsilon(frame, attack, figures / f"accuracy_{attack}.png", title, norm)
        write_accuracy_tables(frame, attack, tables / f"accuracy_{attack}.csv", tables / f"accuracy_{attack}.md", title)
        if frame.loc[frame["attack"] == attack, "attacker"].nunique() > MAX_ATTACKER_PANELS:
            # many attackers: one heatmap per budget instead of a table block per attacker (the compact table
            # keeps white-box and strongest transfer)
            matrix_title = _title(experiment, f"attacker x target accuracy under {attack}", description)
            accuracy_heatmap(frame, attack, figures / f"accuracy_matrix_{attack}.png", matrix_title)
    robust = pd.read_csv(outputs["robustness"])
    if not robust.empty:
        robust["layer"] = robust["layer"].fillna("")
        write_robustness_tables(
            robust,
            tables / "robustness.csv",
            tables / "robustness.md",
            _title(experiment, "white-box robustness", description),
        )
        if (robust["metric"] == "latent_disparity").any():  # only experiments that compute the latent group
            latent_disparity_figure(
                robust, figures / "latent_disparity.png", _title(experiment, "latent disparity under FGSM", description)
            )
    write_markdown_pages(tables)  # what the HTML report shows: the tables readable in the page
    log(f"{experiment}: {len(frame)} cross-evaluation rows, {len(robust)} robustness rows, {len(norms)} attacks")
