import copy
import sys
from pathlib import Path

import pytest
import torch
import yaml
from torch.nn import functional as F

from advreg.models import build_model

ROOT = Path(__file__).resolve().parents[1]
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
NO_FASHION = "Debian package dataset-fashion-mnist not installed (apt-get install dataset-fashion-mnist)"


def snakemake_command(workdir, *args):
    """The real `snakemake` on this workflow, run in ``workdir`` with the config ``workdir/config.yaml``."""
    return [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(workdir / "config.yaml"),
        *args,
    ]


@pytest.fixture
def default_config():
    return copy.deepcopy(yaml.safe_load((ROOT / "config" / "config.yaml").read_text()))


def tiny_config(local_dir=None):
    """A config small enough for end-to-end Snakemake runs in tests (real Fashion-MNIST, tiny subsets)."""
    training = {
        "epochs": 2,
        "batch_size": 50,
        "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
        "select": "best_val",
    }
    return {
        "seed": 7,
        "device": "cpu",
        "data": {"local_dir": local_dir, "download_dir": "resources/downloads"},
        "experiments": {
            "tiny": {
                "description": "tiny test experiment",
                "dataset": "fashion_mnist",
                "data": {"train_size": 1200, "val_size": 200, "test_size": 300},
                "model": {"arch": "mlp_deepdefense", "kwargs": {"hidden": [64, 32]}},
                "pretrain": training,
                "finetune": {
                    **training,
                    "init": "reference",
                    "epochs": 1,
                    "select": "last",
                    "optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.9},
                },
                "methods": {
                    "plain": {"variants": {"default": {}, "short": {"train": {"epochs": 1, "batch_size": 100}}}}
                },
                "attacks": {
                    "fgsm": {"epsilons": [0.0, 0.05, 0.2], "params": {"clip": True}},
                    "grad_l2": {"epsilons": [0.0, 1.0, 3.0]},
                },
                "attackers": "all",
                "evaluation": {"jobs": 2},
                "robustness": {"deepfool": {"max_iter": 20}, "fgs": {"steps": 10}},
            }
        },
    }


def accuracy(model, x, y) -> float:
    """The fraction of ``x`` that ``model`` classifies as ``y``."""
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def toy_problem(num_classes, n_train=600, n_test=200, seed=0):
    """Gaussian blobs around random class means on 1x6x6 images, and mlp_lwa (16 hidden units) trained on them."""
    g = torch.Generator().manual_seed(seed)
    means = torch.rand(num_classes, 1, 6, 6, generator=g) * 0.6 + 0.2

    def draw(n):
        y = torch.randint(0, num_classes, (n,), generator=g)
        return (means[y] + 0.1 * torch.randn(n, 1, 6, 6, generator=g)).clamp(0, 1), y

    x_train, y_train = draw(n_train)
    x_test, y_test = draw(n_test)
    torch.manual_seed(seed)
    model = build_model("mlp_lwa", (1, 6, 6), num_classes, hidden=(16,))
    optimiser = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(300):
        idx = torch.randint(0, n_train, (64,), generator=g)
        loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return model.eval(), x_test, y_test
