"""Speed and robust accuracy of our FAB-T (L-inf, src/advreg/attacks/fab.py) beside the reference implementations,
and optionally of our AutoAttack ``version: standard`` beside theirs, on the same model, inputs and budget:
``torchattacks`` (``torchattacks.FAB`` with ``multi_targeted=True``, a port of the authors' ``FABAttack_PT``;
``torchattacks.AutoAttack(version='standard')``, which runs APGD, APGD-T and FAB with torchattacks' default 10
steps, not AutoAttack's 100) and, when importable, the authors' own ``autoattack`` package
(https://github.com/fra31/auto-attack: ``FABAttack_PT(targeted=True)`` and ``AutoAttack(version='standard')``).
Neither is a dependency; each is skipped when not importable.

Model: a trained arena model of the default preset (``results/arena_fmnist_lenet/...``, after ``make run``), else
an untrained LeNet of the same widths; inputs: the first ``--n`` test points of that experiment's split. When
``torchattacks`` is not importable, only our numbers are printed. FAB-T with one restart is deterministic in both
(the first restart starts at x), so its robust accuracies should agree up to float rounding and one difference:
ours clips an adversarial found outside the ball onto it and counts it if it still fools the model.

Usage: [PYTHONPATH=path/to/auto-attack] .venv/bin/python benchmarks/fab.py [--n 500] [--eps 0.1] [--iters 10 100]
       [--targets 9] [--autoattack] [--model results/arena_fmnist_lenet/reference/model.pt]
"""

from __future__ import annotations

import argparse

import torch
from arena_inputs import DEFAULT_MODEL, accuracy, arena_inputs, timed

from advreg.attacks import build_attack


def ours(name: str, params: dict, model, x, y, eps: float):
    attack = build_attack(name, params)
    artifact = attack.craft(model, x, y, [eps], torch.Generator().manual_seed(0))
    return attack.materialise(artifact, x, eps, 0)


def row(who: str, setting: str, seconds: float, n: int, acc: float) -> None:
    print(f"{who:<14}{setting:>22}{seconds:>9.2f}{n / seconds:>9.0f}{acc:>12.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=500, help="test inputs")
    parser.add_argument("--eps", type=float, default=0.1)
    parser.add_argument("--iters", type=int, nargs="+", default=[10, 100], help="FAB iterations")
    parser.add_argument("--targets", type=int, default=9, help="target classes (at most K - 1)")
    parser.add_argument("--autoattack", action="store_true", help="also run AutoAttack standard beside torchattacks'")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--config", default="config/config.yaml")
    args = parser.parse_args()
    device, model, x, y, source = arena_inputs(args.n, args.model, args.config)
    with torch.no_grad():
        classes = model(x[:1]).shape[1]
    try:
        import torchattacks
    except ImportError:
        torchattacks = None
    try:
        import autoattack
        from autoattack.fab_pt import FABAttack_PT
    except ImportError:
        autoattack = None
    print(f"device {device}, threads {torch.get_num_threads()}, model {source}, {len(x)} inputs, eps {args.eps:g}")
    print(f"clean accuracy {accuracy(model, x, y):.4f}")
    if torchattacks is None:
        print("torchattacks is not importable: reference implementation skipped (pip install --no-deps torchattacks)")
    print(f"{'implementation':<14}{'setting':>22}{'seconds':>9}{'img/s':>9}{'robust acc':>12}")
    targets = min(args.targets, classes - 1)
    for iters in args.iters:
        setting = f"FAB-T {targets} tgt, {iters} it"
        adv, seconds = timed(
            lambda i=iters: ours("fab_t", {"n_iter": i, "n_target_classes": targets}, model, x, y, args.eps), device
        )
        row("advreg", setting, seconds, len(x), accuracy(model, adv, y))
        if torchattacks is not None:
            reference = torchattacks.FAB(
                model, norm="Linf", eps=args.eps, steps=iters, n_restarts=1, multi_targeted=True, n_classes=targets + 1
            )
            adv, seconds = timed(lambda ref=reference: ref(x, y), device)
            assert (adv - x).abs().max() <= args.eps + 1e-6 and adv.min() >= 0 and adv.max() <= 1
            row("torchattacks", setting, seconds, len(x), accuracy(model, adv, y))
        if autoattack is not None:
            authors = FABAttack_PT(
                model, norm="Linf", n_restarts=1, n_iter=iters, eps=args.eps, targeted=True, n_target_classes=targets
            )
            adv, seconds = timed(lambda ref=authors: ref.perturb(x, y), device)
            row("autoattack", setting, seconds, len(x), accuracy(model, adv, y))
    if args.autoattack:
        adv, seconds = timed(lambda: ours("autoattack", {"version": "standard"}, model, x, y, args.eps), device)
        row("advreg", "AutoAttack standard", seconds, len(x), accuracy(model, adv, y))
        if torchattacks is not None:
            reference = torchattacks.AutoAttack(model, norm="Linf", eps=args.eps, version="standard", n_classes=classes)
            adv, seconds = timed(lambda ref=reference: ref(x, y), device)
            row("torchattacks", "AutoAttack 'standard'", seconds, len(x), accuracy(model, adv, y))
        if autoattack is not None:
            authors = autoattack.AutoAttack(model, norm="Linf", eps=args.eps, version="standard", device=device)
            adv, seconds = timed(lambda ref=authors: ref.run_standard_evaluation(x, y, bs=500), device)
            row("autoattack", "AutoAttack standard", seconds, len(x), accuracy(model, adv, y))


if __name__ == "__main__":
    main()
