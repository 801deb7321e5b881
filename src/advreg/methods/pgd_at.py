"""``pgd_at``: PGD adversarial training (Madry, Makelov, Schmidt, Tsipras, Vladu 2018, "Towards deep learning
models resistant to adversarial attacks"), the cross-paper arena's baseline.

Madry et al. sec. 2, eq. (2.1): the saddle-point problem ``min_theta E max_{||delta||_inf <= eps} L(theta, x + delta,
y)``; by Danskin's theorem (sec. 2.1 and Appendix A) its gradient is the loss gradient at a maximiser, which the
inner PGD approximates. Per minibatch:

    x_adv = PGD_eps(x, y)          (random start in the L-inf ball, ``steps`` steps of ``a * sign(grad_x CE)``,
                                    each projected onto the ball and the [0, 1] box; a = step_ratio * eps / steps)
    loss  = (1 - w) CE(f(x_adv), y) + w CE(f(x), y)        (Madry et al.: w = 0, adversarial examples only)

The inner maximisation is :class:`advreg.attacks.pgd.PGDLinf`'s own run (one restart, the last iterate, as in
Madry et al.'s code), so the training adversary and the ``pgd_linf`` evaluation attack are the same algorithm;
``x_adv`` is a constant of the outer step (no gradient through the search). The random starts come from a
generator seeded once from the job's seeded global generator (as Parseval's row draws), so a run is
deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from advreg.attacks.pgd import PGDLinf, random_start
from advreg.methods import METHODS
from advreg.methods.base import Batch, Method
from advreg.methods.lwa import network_mode
from advreg.params import Params


class PGDAT(Method):
    """Madry et al.'s PGD adversarial training: the cross-entropy at every sample's L-inf PGD point."""

    spec = METHODS["pgd_at"]

    def __init__(self, params: Mapping[str, Any] | Params | None = None) -> None:
        super().__init__(params)
        p = self.params
        self.attack = PGDLinf(
            {
                "steps": p.steps,
                "step_ratio": p.step_ratio,
                "random_start": p.random_start,
                "restarts": 1,
                "clip": p.clip,
            }
        )
        self.generator: torch.Generator | None = None

    def setup(self, model: nn.Module, train_x: Tensor, train_y: Tensor) -> None:
        seed = int(torch.randint(0, 2**62, (1,)).item())  # from the job's seeded global generator
        self.generator = torch.Generator().manual_seed(seed)

    def adversarial(self, model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
        """The PGD points of ``x`` (a constant: detached), the network in ``inner_mode``."""
        p = self.params
        if self.generator is None:
            self.generator = torch.Generator().manual_seed(0)
        x = x.detach()
        if p.random_start:
            start = random_start(x, p.epsilon, "linf", self.generator)
        else:
            start = torch.zeros_like(x)
        with network_mode(model, p.inner_mode):
            adv = self.attack.run(model, x, y, p.epsilon, start)
        return adv.detach()

    def loss(self, model: nn.Module, batch: Batch) -> tuple[Tensor, dict[str, float]]:
        p = self.params
        x_adv = self.adversarial(model, batch.x, batch.y)
        adversarial = F.cross_entropy(model(x_adv), batch.y)
        logs = {"ce_adv": adversarial.item()}
        if p.clean_weight == 0:
            return adversarial, logs
        clean = F.cross_entropy(model(batch.x), batch.y)
        logs["ce"] = clean.item()
        return (1.0 - p.clean_weight) * adversarial + p.clean_weight * clean, logs
