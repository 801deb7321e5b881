"""What the attack comparisons against a reference implementation (benchmarks/fab.py, benchmarks/square.py) share:
the default arena's model and test inputs, clean / robust accuracy, and a wall-clock timer.

Model: a trained arena model of the default preset (``results/arena_fmnist_lenet/...``, after ``make run``), else an
untrained LeNet of the same widths; inputs: the first ``n`` test points of that experiment's split.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
import yaml

from advreg.checkpoints import load_model
from advreg.data.prepare import load_dataset
from advreg.models import build_model
from advreg.runtime import configure, seed_everything
from advreg.settings import DataParams
from advreg.splits import make_splits

EXPERIMENT = "arena_fmnist_lenet"
DEFAULT_MODEL = f"results/{EXPERIMENT}/reference/model.pt"


def arena_inputs(
    n: int, model_path: str, config_path: str
) -> tuple[torch.device, torch.nn.Module, torch.Tensor, torch.Tensor, str]:
    """(device, model in eval mode, x, y, where the model came from) for the first ``n`` test points."""
    device = configure(torch.get_num_threads(), "auto")
    config = yaml.safe_load(Path(config_path).read_text())
    exp = config["experiments"][EXPERIMENT]
    dataset = load_dataset(f"results/data/{exp['dataset']}.pt")
    test = make_splits(dataset, DataParams.parse(exp.get("data"), "data"), config["seed"], EXPERIMENT, 0)["test"]
    x, y = test.x[:n].to(device), test.y[:n].to(device)
    if Path(model_path).is_file():
        model, _ = load_model(Path(model_path), device)
        return device, model, x, y, model_path
    seed_everything(0)
    model = build_model("lenet", tuple(x.shape[1:]), 10, **exp["model"].get("kwargs", {})).to(device).eval()
    return device, model, x, y, "untrained LeNet (no trained model found)"


def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def timed(fn, device: torch.device) -> tuple[torch.Tensor, float]:
    start = time.perf_counter()
    out = fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return out, time.perf_counter() - start
