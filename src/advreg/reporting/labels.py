"""Names in the report: the papers' categories, their subcategories and item labels (torch-free, read by the
Snakefile)."""

from __future__ import annotations

import re

LABELS = {"datagrad": "DataGrad", "lwa": "LWA", "deepdefense": "DeepDefense", "hldr": "HLDR", "arena": "Arena"}
SUMMARY = "0 Summary"  # the report sorts categories alphabetically: this one first
EXPERIMENTS = "Experiments"
PROVENANCE = "Provenance"


def paper_label(name: str) -> str:
    """The report category of paper ``name``: its short name, or the config name for a paper not listed."""
    return LABELS.get(name, name)


def paper_subcategory(item: str) -> str:
    """A paper's report item (its path under the paper's folder, without suffix) -> Tables / Figures / Claims."""
    top = item.split("/")[0]
    return {"tables": "Tables", "figures": "Figures", "claims": "Claims"}.get(top, "Other")


def item_label(item: str) -> str:
    """'tables/table1' -> 'Table 1', 'figures/figure_grid' -> 'figure_grid', 'claims' -> 'Claims checklist'."""
    name = item.split("/")[-1]
    if name == "claims":
        return "Claims checklist"
    numbered = re.fullmatch(r"([a-z]+)(\d+)", name)
    return f"{numbered[1].capitalize()} {numbered[2]}" if numbered else name
