"""Cross-evaluation: every target model on one attacker's adversarial set, at every budget.

This is the experiment none of the four papers ran in full: DataGrad's appendix tables (one attacker
per table, all models as targets, sec. 3) generalised to every attack. The row where attacker ==
target is the white-box case; every other row is a transfer (black-box) attack.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
from torch import nn

from advreg.attacks.base import Attack


@torch.no_grad()
def cross_evaluate(
    targets: Mapping[str, nn.Module],
    attack: Attack,
    artifact: Mapping[str, torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    epsilons: Sequence[float],
    attacker: str,
    batch_size: int = 1000,
) -> list[dict[str, Any]]:
    """One tidy row per (target, epsilon): correct count and accuracy on the adversarial inputs.

    ``x``/``y`` are the clean test inputs the artifact was crafted on; ``targets`` maps model ids
    (``"method/variant"``) to models in eval mode on the same device as ``x``.
    """
    n = x.shape[0]
    rows: list[dict[str, Any]] = []
    for epsilon in epsilons:
        correct = {name: 0 for name in targets}
        for start in range(0, n, batch_size):
            stop = start + batch_size
            part = {k: v[start:stop] for k, v in artifact.items()}
            adv = attack.materialise(part, x[start:stop], float(epsilon))
            for name, model in targets.items():
                correct[name] += (model(adv).argmax(1) == y[start:stop]).sum().item()
        for name in targets:
            target_method, target_variant = name.split("/", 1)
            attacker_method, attacker_variant = attacker.split("/", 1)
            rows.append(
                {
                    "attacker_method": attacker_method,
                    "attacker_variant": attacker_variant,
                    "target_method": target_method,
                    "target_variant": target_variant,
                    "white_box": name == attacker,
                    "epsilon": float(epsilon),
                    "n": n,
                    "correct": correct[name],
                    "accuracy": correct[name] / n if n else float("nan"),
                }
            )
    return rows
