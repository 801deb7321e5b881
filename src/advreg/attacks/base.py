"""The interface every attack implements.

An attack is run once per (attacker model, attack) by the attack rule, which stores what :meth:`craft`
returns; every target model is then evaluated on :meth:`materialise` of that artifact at each budget.
Splitting the two lets an attack store its result compactly: FGSM's sign pattern does not depend on
epsilon, so one stored int8 pattern serves every epsilon.
"""

from __future__ import annotations

from typing import ClassVar, Sequence

import torch
from torch import nn

from advreg.parameterised import Parameterised


class Attack(Parameterised):
    kind: ClassVar[str] = "attack"

    def craft(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, epsilons: Sequence[float]) -> dict[str, torch.Tensor]:
        """Compute the attack's stored artifact for inputs ``x`` (N, C, H, W) in [0, 1] and labels ``y``."""
        raise NotImplementedError

    def materialise(self, artifact: dict[str, torch.Tensor], x: torch.Tensor, epsilon: float) -> torch.Tensor:
        """Adversarial inputs at budget ``epsilon`` from the stored artifact and the clean inputs."""
        raise NotImplementedError


def input_gradient(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Gradient of the summed cross-entropy with respect to the inputs, computed in batches.

    The sum (not the mean) makes each sample's gradient independent of the batch size.
    """
    grads = []
    for start in range(0, x.shape[0], batch_size):
        xb = x[start : start + batch_size].detach().clone().requires_grad_(True)
        loss = nn.functional.cross_entropy(model(xb), y[start : start + batch_size], reduction="sum")
        (grad,) = torch.autograd.grad(loss, xb)
        grads.append(grad)
    return torch.cat(grads) if grads else torch.empty_like(x)
