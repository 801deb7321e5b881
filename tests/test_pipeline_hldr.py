"""End to end: the HLDR experiment (stratified cross-validation after a pretraining set, undefended / HLDR / FIMR /
HGD on D and D_N, AGNT; Figures 2-6, Table I, claims) through the real `snakemake` on a tiny VGG with real
Fashion-MNIST, two folds."""

import pandas as pd
import pytest
import torch
import yaml
from conftest import FASHION_DIR, NO_FASHION
from test_pipeline import snakemake

from advreg.checkpoints import load_model

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not FASHION_DIR.is_dir(), reason=NO_FASHION)]

TINY_VGG = {"arch": "vgg", "kwargs": {"width": 0.0625, "dense": 128}}


def hldr_config():
    return {
        "seed": 5,
        "device": "cpu",
        "data": {"local_dir": None},
        "experiments": {
            "hl": {
                "dataset": "fashion_mnist",
                "data": {
                    "scheme": "cv",
                    "train_size": 600,
                    "val_size": 100,
                    "folds": 2,
                    "pool_size": 400,
                    "finetune_size": 150,
                    "finetune_val_size": 50,
                },
                "folds": 2,
                "model": TINY_VGG,
                "pretrain": {
                    "init": "scratch",
                    "epochs": 3,
                    "batch_size": 50,
                    "optimizer": {"name": "nadam", "lr": 0.003},
                    "select": "best_val_loss",
                    "patience": 2,
                },
                "finetune": {
                    "init": "reference",
                    "epochs": 1,
                    "batch_size": 50,
                    "optimizer": {"name": "nadam", "lr": 1e-4},
                },
                "methods": {
                    "plain": {},
                    "hldr": {"variants": {"default": {}, "noisy": {"params": {"noise": True}}}},
                    "fimr": {"train": {"max_loss": 1.0e12}},
                    "hgd": {
                        "model": {"denoiser": {"width": 4, "depth": 1}},
                        "train": {"optimizer": {"name": "nadam", "lr": 1e-3}},
                    },
                    "agnt": {},
                },
                "attacks": {
                    "fgsm": {"epsilons": [0.0, 0.03, 0.1], "params": {"clip": True}},
                    "agn": {"epsilons": [0.0, 0.1, 0.3]},
                },
                # the authors' protocol: every test set crafted on the undefended model (one attacker: cheap)
                "attackers": ["plain/default"],
                "robustness": {
                    "metrics": ["latent"],
                    "latent": {"source": "plain/default", "average": "sample", "layers": "conv", "samples": 100},
                },
            }
        },
        "papers": {"hldr": {"experiment": "hl", "attacker": "plain/default"}},
    }


def test_hldr_experiment_end_to_end(tmp_path):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(hldr_config()))
    snakemake(tmp_path, "--cores", "2")
    results, paper = tmp_path / "results" / "hl", tmp_path / "results" / "papers" / "hldr"
    reference, _ = load_model(results / "reference" / "model.pt")
    hgd, meta = load_model(results / "fold1" / "models" / "hgd" / "default" / "model.pt")
    assert meta["arch_kwargs"]["denoiser"] == {"width": 4, "depth": 1, "max_width": 0, "convs": 2, "bias": False}
    # HGD trained the denoiser only: the target's weights and BatchNorm statistics are the reference's
    target = {k: v for k, v in hgd.state_dict().items() if not k.startswith("denoiser.")}
    assert target.keys() == reference.state_dict().keys()
    assert all(torch.equal(v, reference.state_dict()[k]) for k, v in target.items())
    hldr, _ = load_model(results / "fold0" / "models" / "hldr" / "default" / "model.pt")
    assert not torch.equal(
        hldr.state_dict()["blocks.conv1.conv.weight"], reference.state_dict()["blocks.conv1.conv.weight"]
    )

    frame = pd.read_csv(results / "crosseval.csv")
    assert set(frame["fold"]) == {0, 1} and set(frame["n"]) == {200}  # the two stratified halves of the pool
    robust = pd.read_csv(results / "robustness.csv")
    latent = robust[robust["metric"] == "latent_disparity"]
    assert set(latent["layer"]) == {f"conv{i}" for i in range(1, 14)}  # convolutional layers only
    # no DeepFool / FGS bisection, so no input_scale (written only beside rho_2 / rho_inf)
    assert set(robust["metric"]) == {"clean_accuracy", "latent_disparity"}

    for n in (2, 3, 4, 5, 6):
        assert (paper / "figures" / f"figure{n}.png").stat().st_size > 5_000
        assert (paper / "tables" / f"figure{n}.csv").is_file()
    figure2 = pd.read_csv(paper / "tables" / "figure2.csv")
    assert set(figure2["model"]) == {"plain/default", "hldr/default", "fimr/default", "hgd/default"}
    assert (figure2["folds"] == 2).all() and (figure2["test_points"] == 400).all()
    figure4 = pd.read_csv(paper / "tables" / "figure4.csv")
    assert set(figure4["model"]) == {"plain/default", "hldr/noisy", "agnt/default"}
    table1 = pd.read_csv(paper / "tables" / "table1.csv").set_index("model")
    assert table1.loc["hldr/default", "paper ms/sample"] == 2.1 and table1.loc["hgd/default", "paper ms/sample"] == 5.3
    assert (table1["ours ms/sample"] > 0).all()
    claims = pd.read_csv(paper / "claims.csv")
    assert set(claims["verdict"]) <= {"held", "not held", "inconclusive", "not testable"}
    testable = claims.set_index("claim")["verdict"] != "not testable"
    assert testable.sum() >= 10, claims  # FIMR and HGD on D_N were not trained: the claims about them are not testable
