"""``goodfellow``: adversarial training of Goodfellow et al. (2014), LWA's baseline "Goodfellow's method".

learning-with-a-strong-adversary.md, sec. 5, related work 2: the objective of Goodfellow et al. generalised as
``alpha D_KL(y || p) + (1 - alpha) max_r D_KL(y || p~)``, i.e. with the cross-entropy ``l``::

    alpha * l(x, y) + (1 - alpha) * l(x + r, y),    r = epsilon * sign(g),  g = grad_x l(x, y)

(Goodfellow et al. 2014, sec. 5, with alpha = 0.5). ``r`` is the fast gradient sign step, the L-inf solution
of the linearised inner maximisation (LWA sec. 6.1.1 item 2), held fixed: no gradient flows through it. The
budget is measured as ``norm`` says: ``l2`` (default) scales the sign pattern to L2 norm ``epsilon``,
``epsilon sign(g) / ||sign(g)||_2``, as the authors' code does (../shared/FIDELITY.md) and as LWA's budgets are
stated (L2); ``linf`` is Goodfellow's ``epsilon sign(g)``. The authors' MNIST code sums the clean and the
adversarial gradients, which is ``alpha = 0.5`` at twice the learning rate.

One forward pass at ``x`` serves both the input gradient and the clean loss term, so an update costs two
forward and three backward passes (two at ``alpha = 0`` or ``1``); ``alpha = 1`` skips the adversarial pass and
is plain training exactly.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from advreg.attacks.base import clip_box, l2_normalise
from advreg.methods import METHODS
from advreg.methods.base import Batch, Method


def sign_perturbation(g: Tensor, epsilon: float, norm: str) -> Tensor:
    """The fast gradient sign step of size ``epsilon``: in L2 norm (``"l2"``) or in L-inf norm (``"linf"``)."""
    sign = g.sign()
    if norm == "l2":
        return epsilon * l2_normalise(sign)
    if norm == "linf":
        return epsilon * sign
    raise ValueError(f"unknown norm {norm!r} for goodfellow (known: l2, linf)")


class Goodfellow(Method):
    """*Goodfellow's method* (LWA sec. 7.2, Table 1): the mixed clean/adversarial objective above."""

    spec = METHODS["goodfellow"]

    def loss(self, model: nn.Module, batch: Batch) -> tuple[Tensor, dict[str, float]]:
        p = self.params
        x, y = batch.x.detach(), batch.y
        if p.alpha == 1.0:  # no adversarial term: plain cross-entropy
            clean = F.cross_entropy(model(x), y)
            return clean, {"ce": clean.item()}
        x_in = x.clone().requires_grad_(True)
        ce_sum = F.cross_entropy(model(x_in), y, reduction="sum")  # summed: per-sample input gradients
        (g,) = torch.autograd.grad(ce_sum, x_in, retain_graph=p.alpha > 0)
        x_adv = clip_box(x + sign_perturbation(g.detach(), p.epsilon, p.norm), p.clip)
        adversarial = F.cross_entropy(model(x_adv), y)
        clean = ce_sum / x.shape[0]
        loss = (1.0 - p.alpha) * adversarial + (p.alpha * clean if p.alpha > 0 else 0.0)
        return loss, {"ce": clean.item(), "ce_adv": adversarial.item()}
