"""Latent disparity per hidden layer: sum |s_i(x) - s_i(x_a)| / sum |s_i(x)| (HLDR Fig. 6, eq. 3's terms).

``s_i`` are the hidden activations of :meth:`LayeredClassifier.forward_with_activations` (for VGG the
post-BN outputs of every layer). The ratio is of sums over the whole set, as HLDR's code computes its
regularizer over a batch.
"""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def latent_disparity(
    model: nn.Module, x: torch.Tensor, x_adv: torch.Tensor, batch_size: int = 1000
) -> dict[str, float]:
    """Layer name -> normalised L1 disparity between clean and adversarial activations."""
    model.eval()
    diff: dict[str, float] = {}
    total: dict[str, float] = {}
    for start in range(0, x.shape[0], batch_size):
        _, clean = model.forward_with_activations(x[start : start + batch_size])
        _, adv = model.forward_with_activations(x_adv[start : start + batch_size])
        for name, activation in clean.items():
            diff[name] = diff.get(name, 0.0) + (activation - adv[name]).abs().sum().item()
            total[name] = total.get(name, 0.0) + activation.abs().sum().item()
    return {name: diff[name] / total[name] if total[name] > 0 else float("nan") for name in diff}
