"""``agn``: additive white Gaussian noise, x + sigma * z with z ~ N(0, I) (HLDR sec. II-E and IV).

Not an attack on gradients: the attacker model is not consulted, but the noise is drawn per
(experiment, fold, attacker) from the job's seed, so each attacker's set is a fixed, reproducible noisy copy
of the test split. Epsilon is the standard deviation sigma, in [0, 1] pixel units (HLDR: 32/255 for AGNT).
The stored artifact is z in float16 (one pattern serves every sigma).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from advreg.attacks import ATTACKS
from advreg.attacks.base import DEFAULT_BATCH_SIZE, Attack, clip_box


class AGN(Attack):
    spec = ATTACKS["agn"]

    def craft(
        self,
        model: nn.Module,
        x: Tensor,
        y: Tensor,
        epsilons: Sequence[float],
        generator: torch.Generator,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> dict[str, Tensor]:
        noise = torch.randn(x.shape, generator=generator, dtype=torch.float32)
        return {"noise": noise.to(torch.float16).to(x.device)}

    def materialise(self, artifact: Mapping[str, Tensor], x: Tensor, epsilon: float, index: int) -> torch.Tensor:
        return clip_box(x + float(epsilon) * artifact["noise"].to(device=x.device, dtype=x.dtype), self.params.clip)
