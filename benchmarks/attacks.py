"""Speed of every registered attack on the default preset's models: images per second, and the cost of
crafting as a multiple of one forward+backward pass over the same inputs.

Uses the trained models under results/ when `make run` has produced them (else untrained models of the
same architectures), the experiment's test split, and each attack's parameters and budgets from
config/config.yaml (attacks the config does not list run with their defaults at epsilon 0.1). FAB-T and Square
are among them; their speed and robust accuracy beside the reference implementations (torchattacks, the authors'
autoattack) on the same model and inputs are benchmarks/fab.py and benchmarks/square.py.

Usage: .venv/bin/python benchmarks/attacks.py [--n 1000] [--config config/config.yaml]
       [--experiments deepdefense_fmnist_mlp ...]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import torch.nn.functional as F
import yaml

from advreg.attacks import ATTACKS, build_attack
from advreg.checkpoints import load_model
from advreg.data.prepare import load_dataset
from advreg.models import build_model
from advreg.runtime import configure, seed_everything
from advreg.settings import DataParams
from advreg.splits import make_splits


def fwd_bwd_seconds(model, x, y, repeats=5, batch_size=500):
    """Best time of one forward plus one backward pass to the inputs over all of ``x``, in the attacks'
    default batches of 500 (after a warm-up pass)."""
    best = float("inf")
    for i in range(repeats + 1):
        start = time.perf_counter()
        for b in range(0, len(x), batch_size):
            xb = x[b : b + batch_size].clone().requires_grad_(True)
            torch.autograd.grad(F.cross_entropy(model(xb), y[b : b + batch_size], reduction="sum"), xb)
        if i:
            best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="test inputs per attack")
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--experiments", nargs="*")
    parser.add_argument("--attacks", nargs="*", default=sorted(ATTACKS))
    args = parser.parse_args()
    config = yaml.safe_load(Path(args.config).read_text())
    device = configure(torch.get_num_threads(), config.get("device", "auto"))
    print(f"device {device}, threads {torch.get_num_threads()}, {args.n} inputs per attack")
    print(f"{'experiment':<14}{'attack':<12}{'budgets':>8}{'seconds':>9}{'img/s':>9}{'x fwd+bwd':>11}")
    for name, exp in config["experiments"].items():
        if args.experiments and name not in args.experiments:
            continue
        dataset = load_dataset(f"results/data/{exp['dataset']}.pt")
        test = make_splits(dataset, DataParams.parse(exp.get("data"), "data"), config["seed"], name, 0)["test"]
        x, y = test.x[: args.n].to(device), test.y[: args.n].to(device)
        reference = Path(f"results/{name}/reference/model.pt")
        if reference.is_file():
            model, _ = load_model(reference, device)
        else:
            seed_everything(0)
            model = (
                build_model(exp["model"]["arch"], tuple(x.shape[1:]), 10, **exp["model"].get("kwargs", {}))
                .to(device)
                .eval()
            )
        unit = fwd_bwd_seconds(model, x, y)
        for attack_name in args.attacks:
            spec = exp["attacks"].get(attack_name) or {"epsilons": [0.1]}
            attack = build_attack(attack_name, spec.get("params"))
            epsilons = [float(e) for e in spec["epsilons"]]
            attack.craft(model, x[:8], y[:8], epsilons, torch.Generator().manual_seed(0))  # warm-up
            start = time.perf_counter()
            attack.craft(model, x, y, epsilons, torch.Generator().manual_seed(0))
            if device.type == "cuda":
                torch.cuda.synchronize()
            seconds = time.perf_counter() - start
            print(
                f"{name:<14}{attack_name:<12}{len(epsilons):>8}{seconds:>9.2f}"
                f"{len(x) / seconds:>9.0f}{seconds / unit:>11.1f}"
            )


if __name__ == "__main__":
    main()
