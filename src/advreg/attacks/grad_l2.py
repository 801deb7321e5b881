"""``grad_l2``: the loss gradient scaled to an L2 norm, x + epsilon * g / ||g||_2, g = grad_x L(f(x), y).

LWA sec. 6.1.1, item 1 (the L2 solution of eq. 5; "Adv_Loss"), and DataGrad's R2 noise: sec. 2.1 step 2,
the immediate gradient of the L2 penalty, 2 * dL/dd. The paper gives no scale for R2 noise at evaluation
(only R1's pixel gains), so by default the direction is normalised and epsilon is its L2 norm, as in LWA;
``normalise: false`` applies DataGrad's eq. 2.4 literally, x + epsilon * 2 * g (docs/fidelity.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from advreg.attacks import ATTACKS
from advreg.attacks.base import DEFAULT_BATCH_SIZE, Attack, clip_box, input_gradient, l2_normalise


class GradL2(Attack):
    spec = ATTACKS["grad_l2"]

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
        direction = l2_normalise(grad) if self.params.normalise else 2.0 * grad
        return {"direction": direction.float()}

    def materialise(self, artifact: Mapping[str, Tensor], x: Tensor, epsilon: float, index: int) -> torch.Tensor:
        return clip_box(x + float(epsilon) * artifact["direction"].to(device=x.device, dtype=x.dtype), self.params.clip)
