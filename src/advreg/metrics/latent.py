"""Latent disparity per hidden layer: |s_i(x) - s_i(x_a)|_1 / |s_i(x)|_1 (HLDR Fig. 6, eq. 3's terms).

``s_i`` are the hidden activations of :meth:`LayeredClassifier.forward_with_activations` (for VGG the
post-BN outputs of every layer; for a denoised model, the network's own layers on denoised inputs). ``average:
set`` (default) takes the ratio of sums over the whole set, as HLDR's code computes its regularizer over a batch;
``sample`` the mean over samples of each sample's ratio, as HLDR's code computes Fig. 6 (``np.mean(np.sum(|h(x_a)
- h(x)|, axis=(1,2,3)) / np.sum(|h(x)|, axis=(1,2,3)))``). ``layers: conv`` keeps the layers with spatial
outputs only (Fig. 6: "hidden convolutional layers").
"""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def latent_disparity(
    model: nn.Module,
    x: torch.Tensor,
    x_adv: torch.Tensor,
    batch_size: int = 1000,
    average: str = "set",
    layers: str = "all",
) -> dict[str, float]:
    """Layer name -> normalised L1 disparity between clean and adversarial activations."""
    if average not in ("set", "sample") or layers not in ("all", "conv"):
        raise ValueError(f"latent_disparity: average {average!r} (set, sample), layers {layers!r} (all, conv)")
    model.eval()
    diff: dict[str, float] = {}
    total: dict[str, float] = {}
    for start in range(0, x.shape[0], batch_size):
        _, clean = model.forward_with_activations(x[start : start + batch_size])
        _, adv = model.forward_with_activations(x_adv[start : start + batch_size])
        for name, activation in clean.items():
            if layers == "conv" and activation.ndim != 4:
                continue
            d = (activation - adv[name]).abs().flatten(1).sum(1)
            t = activation.abs().flatten(1).sum(1)
            if average == "sample":
                d, t = d / t, torch.ones_like(t)
            diff[name] = diff.get(name, 0.0) + d.sum().item()
            total[name] = total.get(name, 0.0) + t.sum().item()
    return {name: diff[name] / total[name] if total[name] > 0 else float("nan") for name in diff}
