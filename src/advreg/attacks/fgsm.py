"""``fgsm``: the fast gradient sign method, x + epsilon * sign(grad_x L(f(x), y)).

Goodfellow et al. (2014); DeepDefense eq. 9 (FGS); HLDR eq. 1 (FGSM); DataGrad's R1 ("Laplacian")
adversarial noise, sec. 2.1 step 2 with the L1 penalty, whose immediate gradient is the sign; LWA sec. 6.1.1
item 2 (the L-infinity solution). The stored artifact is the int8 sign pattern, valid for every epsilon.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from advreg.attacks import ATTACKS
from advreg.attacks.base import DEFAULT_BATCH_SIZE, Attack, clip_box, input_gradient


class FGSM(Attack):
    spec = ATTACKS["fgsm"]

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

    def materialise(self, artifact: Mapping[str, Tensor], x: Tensor, epsilon: float, index: int) -> Tensor:
        adv = x + float(epsilon) * artifact["sign"].to(device=x.device, dtype=x.dtype)
        return clip_box(adv, self.params.clip)
