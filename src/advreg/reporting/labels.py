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


# Items named by a word rather than a paper's number: their labels in the report's menu.
NAMED = {
    "leaderboard": "Leaderboard",
    "masking": "Gradient-masking checks",
    "robust_vs_clean": "Robust vs. clean accuracy (figure)",
    "white_box": "White-box accuracy per model",
}


def paper_subcategory(item: str) -> str:
    """A paper's report item (its path under the paper's folder, without suffix) -> Tables / Figures / Claims.
    A figure's data kept as a table (``tables/figure2``) is filed under Figures, beside the figure."""
    top, name = item.split("/")[0], item.split("/")[-1]
    if top == "tables" and re.match(r"figure\d", name):
        return "Figures"
    return {"tables": "Tables", "figures": "Figures", "claims": "Claims"}.get(top, "Other")


def item_label(item: str) -> str:
    """'tables/table1' -> 'Table 1', 'tables/table_s1' -> 'Table S1', 'figures/figure2_norm' -> 'Figure 2 (norm)',
    'tables/figure2' -> 'Figure 2 (data)', 'claims' -> 'Claims checklist', 'tables/leaderboard_x' ->
    'Leaderboard (x)', other names with spaces for underscores."""
    top, name = item.split("/")[0], item.split("/")[-1]
    if name == "claims":
        return "Claims checklist"
    numbered = re.fullmatch(r"(table|figure)_?(s?)(\d+)(?:_(.+))?", name)
    if numbered:
        kind, supp, number, rest = numbered.groups()
        label = f"{kind.capitalize()} {supp.upper()}{number}"
        extra = [rest.replace("_", " ")] if rest else []
        if kind == "figure" and top == "tables":
            extra.append("data")
        return f"{label} ({', '.join(extra)})" if extra else label
    for key, label in NAMED.items():
        if name == key or name.startswith(key + "_"):
            rest = name[len(key) + 1 :].replace("_", " ")
            return f"{label} ({rest})" if rest else label
    return name.replace("_", " ")


EXPERIMENT_ITEMS = {
    "robustness": "White-box robustness per model",
    "latent_disparity": "Latent disparity per layer",
}


def experiment_item_label(name: str) -> str:
    """An experiment's table or figure (file stem) -> its label: 'accuracy_fgsm' -> 'Accuracy under fgsm'."""
    if name.startswith("accuracy_matrix_"):
        return f"Attacker x target accuracy under {name[len('accuracy_matrix_') :]}"
    if name.startswith("accuracy_"):
        return f"Accuracy under {name[len('accuracy_') :]}"
    return EXPERIMENT_ITEMS.get(name, name.replace("_", " "))
