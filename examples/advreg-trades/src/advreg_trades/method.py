"""TRADES (Zhang et al. 2019, sec. 4.1, eq. 5 and Alg. 1), batched and deterministic.

Per minibatch (x, y) of B samples, with p(x) = softmax(f(x)):

    x'_0     = x + init_std * N(0, I)                                         (Alg. 1, line 4)
    x'_{k+1} = Proj_{B_inf(x, eps) cap [0, 1]}(x'_k + a sign(grad_{x'} KL(p(x) || p(x'_k))))   (line 6)
    loss     = CE(f(x), y) + beta / B * sum_i KL(p(x_i) || p(x'_i))           (eq. 5, line 8)

with a = step_ratio * eps / steps. The search runs with the network in ``inner_mode`` (Zhang et al.'s code: eval)
and p(x) held fixed; x' is then a constant of the outer step. The Gaussian start is drawn from a generator seeded
once from the job's seeded global generator, so a run is deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from advreg.methods.base import Batch, Method
from advreg.methods.lwa import network_mode
from advreg.params import Params
from advreg_trades.catalog import TRADES as SPEC


def kl_rows(logits_clean: Tensor, logits_adv: Tensor) -> Tensor:
    """KL(p(x_i) || p(x'_i)) per sample (shape (B,)), from logits."""
    log_p = F.log_softmax(logits_clean, dim=1)
    log_q = F.log_softmax(logits_adv, dim=1)
    return (log_p.exp() * (log_p - log_q)).sum(dim=1)


class TRADES(Method):
    """Zhang et al.'s TRADES: the clean cross-entropy plus beta times the KL between clean and adversarial outputs."""

    spec = SPEC

    def __init__(self, params: Mapping[str, Any] | Params | None = None) -> None:
        super().__init__(params)
        self.generator: torch.Generator | None = None

    def setup(self, model: nn.Module, train_x: Tensor, train_y: Tensor) -> None:
        seed = int(torch.randint(0, 2**62, (1,)).item())  # from the job's seeded global generator
        self.generator = torch.Generator().manual_seed(seed)

    def adversarial(self, model: nn.Module, x: Tensor) -> Tensor:
        """x' of Alg. 1 (detached), every sample of the batch at once."""
        p = self.params
        if self.generator is None:
            self.generator = torch.Generator().manual_seed(0)
        x = x.detach()
        noise = torch.randn(x.shape, generator=self.generator).to(device=x.device, dtype=x.dtype)
        adv = x + p.init_std * noise
        step = p.step_ratio * p.epsilon / p.steps
        with network_mode(model, p.inner_mode):
            with torch.no_grad():
                clean = model(x)
            for _ in range(p.steps):
                adv = adv.detach().requires_grad_(True)
                (grad,) = torch.autograd.grad(kl_rows(clean, model(adv)).sum(), adv)
                adv = adv.detach() + step * grad.sign()
                adv = torch.min(torch.max(adv, x - p.epsilon), x + p.epsilon)
                if p.clip:
                    adv = adv.clamp(0.0, 1.0)
        return adv.detach()

    def loss(self, model: nn.Module, batch: Batch) -> tuple[Tensor, dict[str, float]]:
        x_adv = self.adversarial(model, batch.x)
        logits = model(batch.x)
        natural = F.cross_entropy(logits, batch.y)
        robust = kl_rows(logits, model(x_adv)).mean()
        return natural + self.params.beta * robust, {"ce": natural.item(), "kl": robust.item()}
