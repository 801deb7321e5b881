"""Every reproduced cell of a finished run beside the published value, with the large gaps marked.

    .venv/bin/python tools/reproduction_table.py RESULTS_DIR [PAPER ...] > cells.md

Reads each paper's rendered tables (``RESULTS_DIR/papers/<paper>/tables/*.csv``: the columns ``<cell> ours``,
``<cell> paper``, ``<cell> diff`` the paper modules write) and prints one markdown table per paper table, one row
per (row, cell) that has both numbers. A gap is *large* (marked **large**) when an accuracy differs by more than 5
points (0.05 in a table of fractions) or a rho value or multiple (``rho`` or ``x ref`` in the cell name) by more
than 20% of the published value: the thresholds of docs/reproduction.md, whose every large gap needs a cause.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd


def _row_label(frame: pd.DataFrame) -> pd.Series:
    """The row's name: its non-numeric columns joined (network, method, model, attacker ...)."""
    numeric = pd.api.types.is_numeric_dtype
    labels = [c for c in frame.columns if not c.endswith((" ours", " paper", " diff")) and not numeric(frame[c])]
    if not labels:
        return pd.Series([str(i) for i in frame.index], index=frame.index)
    return frame[labels].fillna("").astype(str).apply(lambda row: " / ".join(v for v in row if v), axis=1)


def cells(csv: Path) -> pd.DataFrame:
    """Long table of one rendered paper table: row, cell, ours, paper, diff, relative gap, large."""
    frame = pd.read_csv(csv)
    label = _row_label(frame)
    out = []
    for column in frame.columns:
        if not column.endswith(" ours") or f"{column[:-5]} paper" not in frame.columns:
            continue
        cell = column[:-5]
        ours = pd.to_numeric(frame[column], errors="coerce")
        paper = pd.to_numeric(frame[f"{cell} paper"], errors="coerce")
        for i in frame.index:
            if pd.isna(ours[i]) or pd.isna(paper[i]):
                continue
            out.append({"row": label[i], "cell": cell, "ours": float(ours[i]), "paper": float(paper[i])})
    long = pd.DataFrame(out, columns=["row", "cell", "ours", "paper"])
    if long.empty:
        return long
    long["diff"] = long["ours"] - long["paper"]
    fractions = long["paper"].abs().max() <= 1.0 and "rho" not in " ".join(long["cell"])
    is_rho = long["cell"].str.contains("rho|x ref")
    relative = long["diff"].abs() / long["paper"].abs().where(long["paper"] != 0)
    accuracy_limit = 0.05 if fractions else 5.0
    long["large"] = (is_rho & (relative > 0.2)) | (~is_rho & (long["diff"].abs() > accuracy_limit))
    return long


def markdown(results: Path, papers: list[str]) -> str:
    lines = []
    for paper_dir in sorted((results / "papers").iterdir()):
        if papers and paper_dir.name not in papers:
            continue
        for csv in sorted((paper_dir / "tables").glob("*.csv")):
            long = cells(csv)
            if long.empty:
                continue
            large = int(long["large"].sum())
            lines += [f"### {paper_dir.name}: {csv.stem} ({len(long)} cells, {large} large gaps)", ""]
            lines += ["| row | cell | ours | paper | diff | |", "| --- | --- | ---: | ---: | ---: | --- |"]
            for r in long.itertuples():
                mark = "**large**" if r.large else ""
                lines.append(f"| {r.row} | {r.cell} | {r.ours:.4g} | {r.paper:.4g} | {r.diff:+.4g} | {mark} |")
            lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    print(markdown(Path(sys.argv[1]), sys.argv[2:]))
