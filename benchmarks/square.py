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

import torch
from arena_inputs import DEFAULT_MODEL, accuracy, arena_inputs, timed

from advreg.attacks import build_attack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=500, help="test inputs")
    parser.add_argument("--eps", type=float, default=0.1)
    parser.add_argument("--queries", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--p-init", type=float, default=0.8)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--config", default="config/config.yaml")
    args = parser.parse_args()
    device, model, x, y, source = arena_inputs(args.n, args.model, args.config)
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
