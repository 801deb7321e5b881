"""Cross-evaluation: every target model on one attacker's adversarial set, at every budget.

This is the experiment none of the four papers ran in full: DataGrad's appendix tables (one attacker
per table, all models as targets, sec. 3) generalised to every attack. The row where attacker ==
target is the white-box case; every other row is a transfer (black-box) attack.

Per (target, budget): the number of inputs and of correct predictions (accuracy); the attack success rate,
the fraction of the inputs the target classifies correctly when clean that it misclassifies under attack;
and the mean L2 and L-infinity norms of the perturbations actually applied (after clipping), which are the
same for every target of a set; ``mask``, the per-point correctness (hex of ``np.packbits``,
:mod:`advreg.evaluation.points`), so that two models on the same points can be compared point by point.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

import torch
from torch import nn

from advreg.attacks.base import Attack, per_sample_norm, predicted_labels
from advreg.evaluation.points import encode_mask


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
    clean_ok: Mapping[str, torch.Tensor] | None = None,
    per_point: MutableMapping[tuple[str, int], torch.Tensor] | None = None,
) -> list[dict[str, Any]]:
    """One tidy row per (target, epsilon).

    ``x``/``y`` are the clean test inputs the artifact was crafted on; ``targets`` maps model ids
    (``"method/variant"``) to models in eval mode on the same device as ``x``. ``clean_ok`` (target -> (N,)
    bool, clean predictions correct) may be passed when already known. ``per_point``, when given, receives per
    (target, budget index) the (N,) bool of correct predictions (for the per-sample worst case,
    :mod:`advreg.evaluation.worstcase`); the rows are the same either way.
    """
    n = x.shape[0]
    if clean_ok is None:
        clean_ok = {name: predicted_labels(model, x, batch_size) == y for name, model in targets.items()}
    rows: list[dict[str, Any]] = []
    for index, epsilon in enumerate(epsilons):
        correct = {name: 0 for name in targets}
        fooled = {name: 0 for name in targets}
        l2_sum = linf_sum = 0.0
        points: dict[str, list[torch.Tensor]] = {name: [] for name in targets}
        for start in range(0, n, batch_size):
            stop = start + batch_size
            part = {k: v[start:stop] for k, v in artifact.items()}
            adv = attack.adversarial(part, x[start:stop], float(epsilon), index)
            delta = adv - x[start:stop]
            l2_sum += per_sample_norm(delta, 2.0).sum().item()
            linf_sum += per_sample_norm(delta, float("inf")).sum().item()
            unperturbed = torch.equal(adv, x[start:stop])  # e.g. epsilon 0: the clean predictions hold, exactly
            for name, model in targets.items():
                ok = clean_ok[name][start:stop] if unperturbed else model(adv).argmax(1) == y[start:stop]
                correct[name] += ok.sum().item()
                fooled[name] += (clean_ok[name][start:stop] & ~ok).sum().item()
                points[name].append(ok)
        for name in targets:
            ok_all = torch.cat(points[name]) if points[name] else clean_ok[name][:0]
            if per_point is not None:
                per_point[(name, index)] = ok_all
            clean_correct = int(clean_ok[name].sum().item())
            rows.append(
                {
                    "attacker": attacker,
                    "target": name,
                    "white_box": name == attacker,
                    "epsilon": float(epsilon),
                    "n": n,
                    "correct": correct[name],
                    "accuracy": correct[name] / n if n else float("nan"),
                    "clean_correct": clean_correct,
                    "fooled": fooled[name],
                    "success_rate": fooled[name] / clean_correct if clean_correct else float("nan"),
                    "mean_l2": l2_sum / n if n else float("nan"),
                    "mean_linf": linf_sum / n if n else float("nan"),
                    "mask": encode_mask(ok_all.cpu().numpy()),
                }
            )
    return rows
