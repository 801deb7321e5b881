"""Speed and robust accuracy of our Square Attack (L-inf, src/advreg/attacks/square.py) beside the reference
implementation in ``torchattacks`` (``torchattacks.Square``, a port of the authors' / AutoAttack's code), on the
same model, inputs, budget and query budget.

Model: a trained arena model of the default preset (``results/arena_fmnist_lenet/...``, after ``make run``), else
an untrained LeNet of the same widths; inputs: the first ``--n`` test points of that experiment's split. When
``torchattacks`` is not importable, only our numbers are printed. Both attacks are random searches with different
random streams (and torchattacks draws one square per iteration for the whole batch, we draw one per sample), so
their robust accuracies agree only up to that randomness.

Usage: .venv/bin/python benchmarks/square.py [--n 500] [--eps 0.1] [--queries 200 1000]
       [--model results/arena_fmnist_lenet/reference/model.pt]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import yaml

from advreg.attacks import build_attack
from advreg.checkpoints import load_model
from advreg.data.prepare import load_dataset
from advreg.models import build_model
from advreg.runtime import configure, seed_everything
from advreg.settings import DataParams
from advreg.splits import make_splits

EXPERIMENT = "arena_fmnist_lenet"


def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def timed(fn, device: torch.device) -> tuple[torch.Tensor, float]:
    start = time.perf_counter()
    out = fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=500, help="test inputs")
    parser.add_argument("--eps", type=float, default=0.1)
    parser.add_argument("--queries", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--p-init", type=float, default=0.8)
    parser.add_argument("--model", default=f"results/{EXPERIMENT}/reference/model.pt")
    parser.add_argument("--config", default="config/config.yaml")
    args = parser.parse_args()
    device = configure(torch.get_num_threads(), "auto")
    exp = yaml.safe_load(Path(args.config).read_text())["experiments"][EXPERIMENT]
    seed = yaml.safe_load(Path(args.config).read_text())["seed"]
    dataset = load_dataset(f"results/data/{exp['dataset']}.pt")
    test = make_splits(dataset, DataParams.parse(exp.get("data"), "data"), seed, EXPERIMENT, 0)["test"]
    x, y = test.x[: args.n].to(device), test.y[: args.n].to(device)
    if Path(args.model).is_file():
        model, _ = load_model(Path(args.model), device)
        source = args.model
    else:
        seed_everything(0)
        model = build_model("lenet", tuple(x.shape[1:]), 10, **exp["model"].get("kwargs", {})).to(device).eval()
        source = "untrained LeNet (no trained model found)"
    try:
        import torchattacks
    except ImportError:
        torchattacks = None
    print(f"device {device}, threads {torch.get_num_threads()}, model {source}, {len(x)} inputs, eps {args.eps:g}")
    print(f"clean accuracy {accuracy(model, x, y):.4f}")
    if torchattacks is None:
        print("torchattacks is not importable: reference implementation skipped (pip install torchattacks)")
    print(f"{'implementation':<16}{'queries':>8}{'seconds':>9}{'img/s':>9}{'robust acc':>12}")
    for queries in args.queries:
        ours = build_attack("square", {"n_queries": queries, "p_init": args.p_init})

        def run_ours(attack=ours):
            artifact = attack.craft(model, x, y, [args.eps], torch.Generator().manual_seed(0))
            return attack.materialise(artifact, x, args.eps, 0)

        adv, seconds = timed(run_ours, device)
        print(f"{'advreg':<16}{queries:>8}{seconds:>9.2f}{len(x) / seconds:>9.0f}{accuracy(model, adv, y):>12.4f}")
        if torchattacks is not None:
            reference = torchattacks.Square(
                model, norm="Linf", eps=args.eps, n_queries=queries, n_restarts=1, p_init=args.p_init, seed=0
            )
            adv, seconds = timed(lambda ref=reference: ref(x, y), device)
            assert (adv - x).abs().max() <= args.eps + 1e-6 and adv.min() >= 0 and adv.max() <= 1
            print(
                f"{'torchattacks':<16}{queries:>8}{seconds:>9.2f}{len(x) / seconds:>9.0f}"
                f"{accuracy(model, adv, y):>12.4f}"
            )


if __name__ == "__main__":
    main()
