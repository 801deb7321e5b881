"""``sign_l2``: the gradient sign scaled to an L2 norm, x + epsilon * sign(g) / ||sign(g)||_2.

LWA's Adv_Loss_Sign (sec. 6.1.1, item 2, evaluated at L2 budgets in sec. 7) and "Goodfellow's method" as
LWA's code implements it (../shared/FIDELITY.md). The stored artifact is the int8 sign pattern.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from advreg.attacks import ATTACKS
from advreg.attacks.base import DEFAULT_BATCH_SIZE, Attack, clip_box, input_gradient, l2_normalise


class SignL2(Attack):
    spec = ATTACKS["sign_l2"]

    def craft(
        self,
        model: nn.Module,
        x: Tensor,
        y: Tensor,
        epsilons: Sequence[float],
        generator: torch.Generator,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> dict[str, Tensor]:
        grad = input_gradient(model, x, y, batch_size)
        return {"sign": torch.sign(grad).to(torch.int8)}

    def materialise(self, artifact: Mapping[str, Tensor], x: Tensor, epsilon: float, index: int) -> torch.Tensor:
        direction = l2_normalise(artifact["sign"].to(device=x.device, dtype=x.dtype))
        return clip_box(x + float(epsilon) * direction, self.params.clip)
