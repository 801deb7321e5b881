"""The display names of the training methods, one table for every paper's report (torch-free).

:data:`METHOD_NAMES` holds the name each method goes by in this project's reports (the arena's); a paper that
names a method its own way overrides it in :data:`PAPER_NAMES` (DataGrad calls the plain network "Rect", HLDR the
undefended one "Undefended"). :func:`names` gives a paper's table."""

from __future__ import annotations

METHOD_NAMES = {
    "reference": "Reference",
    "plain": "Plain",
    "rect": "Rect",
    "l1": "L1",
    "l2": "L2",
    "dgl1": "DGL1",
    "dgl2": "DGL2",
    "mt": "MT",
    "mt_dgl1": "MT-DGL1",
    "mt_dgl2": "MT-DGL2",
    "dgl1_exact": "DGL1 (exact)",
    "dgl2_exact": "DGL2 (exact)",
    "lwa": "LWA",
    "lwa_rep": "LWA_Rep",
    "goodfellow": "Goodfellow",
    "deepdefense": "DeepDefense",
    "deepfool_at": "DeepFool-AT",
    "parseval": "Parseval",
    "hldr": "HLDR",
    "fimr": "FIMR",
    "hgd": "HGD",
    "agnt": "AGNT",
    "pgd_at": "PGD-AT",
}
# A paper's own names where they differ from the project's (the paper's text and figures use them).
PAPER_NAMES = {
    "datagrad": {"plain": "Rect"},
    "hldr": {"plain": "Undefended"},
}
# The methods each paper's report names (its LABELS), in the paper's order.
PAPER_METHODS = {
    "datagrad": (
        "rect",
        "plain",
        "l1",
        "l2",
        "dgl1",
        "dgl2",
        "mt",
        "mt_dgl1",
        "mt_dgl2",
        "dgl1_exact",
        "dgl2_exact",
        "reference",
    ),
    "hldr": ("plain", "hldr", "fimr", "hgd", "agnt"),
    # the arena names other methods by their plugin spec's label (advreg.papers.arena._plugin_label)
    "arena": (
        "reference",
        "plain",
        "rect",
        "dgl1",
        "dgl2",
        "mt",
        "mt_dgl1",
        "mt_dgl2",
        "lwa",
        "lwa_rep",
        "goodfellow",
        "deepdefense",
        "deepfool_at",
        "parseval",
        "hldr",
        "fimr",
        "hgd",
        "agnt",
        "pgd_at",
    ),
}


def names(paper: str = "") -> dict[str, str]:
    """Method -> display name for ``paper`` ("": every method, the project's names): its methods only, where
    :data:`PAPER_METHODS` lists them, with the paper's own names."""
    table = {**METHOD_NAMES, **PAPER_NAMES.get(paper, {})}
    methods = PAPER_METHODS.get(paper)
    return {m: table[m] for m in methods} if methods else table
