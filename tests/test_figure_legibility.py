"""Figures a reader can read, measured on the rendered figures (advreg.reporting.legibility): no text under
6.5 pt, no overlapping labels, no legend over the data, no two legend entries drawn alike; first that the check
catches each defect, then the report's generic and paper figures on crowded data (17 models, as the arena)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import seaborn as sns  # noqa: E402

from advreg.papers import arena, datagrad  # noqa: E402
from advreg.reporting import figures, legibility  # noqa: E402


@pytest.fixture(autouse=True)
def recording(monkeypatch):
    """Every figure saved in these tests is measured (a pipeline run does not measure)."""
    monkeypatch.setattr(legibility, "RECORDING", True)


METHODS = "plain pgd_at trades mart dgl1 dgl2 lwa deepdefense hldr fimr hgd agnt l1 l2 mt goodfellow dropout".split()
MODELS = [f"{m}/default" for m in METHODS]


def crosseval(models: list[str], attack: str = "pgd_linf", seed: int = 0) -> pd.DataFrame:
    """Every model attacking every model, accuracy falling with the budget (white-box lowest)."""
    rng = np.random.default_rng(seed)
    rows = []
    for attacker in models:
        for target in models:
            drop = rng.uniform(1.0, 4.0)
            for eps in (0.0, 0.05, 0.1, 0.2):
                accuracy = max(0.0, 0.9 - eps * drop * (1.5 if attacker == target else 1.0))
                rows.append(
                    {
                        "attack": attack,
                        "attacker": attacker,
                        "target": target,
                        "epsilon": eps,
                        "white_box": attacker == target,
                        "accuracy": accuracy,
                    }
                )
    return pd.DataFrame(rows)


def test_the_check_flags_each_defect():
    figure, axis = plt.subplots(figsize=(4, 3))
    for i, colour in enumerate(sns.color_palette("husl", 17)):  # 17 near-identical hues, one style
        axis.plot([0, 1, 2], [i, i + 1, i + 2], color=colour, label=f"model {i}")
    axis.legend(loc="center", fontsize=7)  # over the lines
    axis.text(0.5, 5, "overlapping label", fontsize=9)
    axis.text(0.6, 5, "overlapping label", fontsize=9)
    axis.tick_params(labelsize=4)
    found = legibility.issues(figure)
    plt.close(figure)
    assert any("pt (<" in f for f in found), found
    assert any("overlap" in f and "overlapping label" in f for f in found), found
    assert any("covers" in f for f in found), found
    assert any("look alike" in f for f in found), found


def test_a_clean_figure_passes():
    figure, axis = plt.subplots(figsize=(5, 3))
    axis.plot([0, 1], [0, 1], "o-", label="a")
    axis.plot([0, 1], [1, 0], "s--", label="b")
    axis.legend(loc="upper left", bbox_to_anchor=(1.02, 1))
    axis.set_title("a title")
    assert legibility.issues(figure) == []
    plt.close(figure)


def audited(path: Path) -> list[str]:
    assert path.is_file() and path.stat().st_size > 1000, path
    return legibility.AUDITS[str(path)]


def test_generic_figures_are_legible_with_many_models(tmp_path):
    many, few = crosseval(MODELS), crosseval(MODELS[:3])
    figures.accuracy_vs_epsilon(many, "pgd_linf", tmp_path / "many.png", "Experiment arena: accuracy under pgd_linf")
    figures.accuracy_vs_epsilon(few, "pgd_linf", tmp_path / "few.png", "Experiment small: accuracy under pgd_linf")
    figures.accuracy_heatmap(many, "pgd_linf", tmp_path / "matrix.png", "Experiment arena: attacker x target")
    replicated = pd.concat([crosseval(MODELS[:6], seed=fold).assign(fold=fold) for fold in range(3)])
    title = "Experiment lwa: accuracy under pgd_linf"
    figures.accuracy_vs_epsilon(replicated, "pgd_linf", tmp_path / "folds.png", title)
    layers = [f"layer{i}" for i in range(5)]
    disparity = pd.DataFrame(
        [
            {"metric": "latent_disparity", "layer": layer, "model": model, "value": 0.1 * (i + 1) + 0.01 * j}
            for j, model in enumerate(MODELS[:6])
            for i, layer in enumerate(layers)
        ]
    )
    figures.latent_disparity_figure(disparity, tmp_path / "latent.png", "Experiment x: latent disparity")
    for name in ("many", "few", "matrix", "latent", "folds"):
        assert audited(tmp_path / f"{name}.png") == [], name


def test_paper_figures_are_legible_on_crowded_data(tmp_path):
    rng = np.random.default_rng(1)
    table = pd.DataFrame(
        {
            "method": [m.upper() for m in METHODS],
            "clean": rng.uniform(84, 91, len(METHODS)),
            "pgd_linf linf 0.1": rng.uniform(0, 30, len(METHODS)),
            "masking": [""] * (len(METHODS) - 1) + ["no collapse"],
        }
    )
    table.loc[3:8, "clean"] = 88.0 + rng.uniform(0, 0.3, 6)  # six models in one spot: their labels must not collide
    table.loc[3:8, "pgd_linf linf 0.1"] = 1.0 + rng.uniform(0, 0.5, 6)
    arena.figure_robust_vs_clean(table, "pgd_linf linf 0.1", tmp_path / "rvc.png", "Arena: robust vs clean accuracy")
    assert audited(tmp_path / "rvc.png") == []

    paper = [f"{m}/default" for m in ("rect", "l1", "l2", "dgl1", "dgl2", "mt", "mt_dgl1")]
    frame = pd.concat([crosseval(paper, "fgsm", 2), crosseval(paper, "r2_paper", 3)], ignore_index=True)
    best = {m.split("/")[0]: m for m in paper}
    datagrad.figure_own_adversary(frame, best, ["fgsm", "r2_paper"], tmp_path / "dg1.png", "DataGrad Fig. 1")
    datagrad.figure_fixed_adversaries(frame, best, "fgsm", tmp_path / "dg2.png", "DataGrad Fig. 2")
    assert audited(tmp_path / "dg1.png") == [] and audited(tmp_path / "dg2.png") == []
