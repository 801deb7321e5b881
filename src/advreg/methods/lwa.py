"""Learning with a strong adversary (learning-with-a-strong-adversary.md, sec. 5-6): ``lwa`` and ``lwa_rep``.

``lwa`` (Algorithm 2) minimises the min-max objective, eq. 2::

    min_g  sum_i  max_{||r_i|| <= c}  l(g(x_i + r_i), y_i)

The inner maximisation (eq. 3) is solved to first order as in sec. 6.1, from one forward-backward pass at the
clean point (Alg. 2 line 3):

- ``direction: loss`` (sec. 6.1.1, the perturbation the paper calls Adv_Loss): with ``g = grad_x l(x, y)``,
  the L2 solution of eq. 5 is ``r = c g / ||g||_2`` (item 1; Alg. 2 line 5 ``x + c r*/||r*||_2``); with
  ``norm: linf`` it is ``r = c sign(g)`` (item 2, the fast gradient sign);
- ``direction: alpha`` (sec. 6.1.2, Adv_Alpha): ``r = c r_I / ||r_I||_2`` with ``r_I`` from Algorithm 1
  (Propositions 3-4 on the softmax Jacobian; :func:`advreg.attacks.lwa_alpha.lwa_alpha_direction`), L2 only.

By Proposition 6 the gradient of the inner max with respect to the weights is the loss gradient at the maximiser
with the maximiser held fixed, so the update is ``grad_theta mean_i l(g(x_i + r_i), y_i)`` with ``r`` a constant
(Alg. 2 line 7: only the pseudo-samples, no clean term). Cost: one forward-backward pass for ``g`` (K backward
passes for ``alpha``), then the usual forward-backward pass at ``x + r``.

``lwa_rep`` (Algorithm 3) perturbs the representation instead, eq. 4::

    min_{N_rep, N_cla}  sum_i  max_{||r_i|| <= c}  l(N_cla(N_rep(x_i) + r_i), y_i)

``h = N_rep(x)`` is the output of the model's ``representation_layer`` (:class:`LayeredClassifier`; the split is
an architecture kwarg); ``r`` is computed from ``grad_h l(N_cla(h), y)`` (Alg. 3 lines 3-6, through the
classifier part only) and scaled to L2 norm ``c`` (line 7; ``budget: relative`` scales it to ``c ||h||_2``, as
the authors' CIFAR code does with ``c = 0.25``). The loss ``l(N_cla(h + r), y)`` is differentiated with ``r``
fixed and ``h`` still a function of the weights, which is lines 9-12: ``N_cla`` gets its gradient at
``h + r`` and ``N_rep`` gets ``dl/dh|_(h + r) * dN_rep/dW|_x``.

Choices (docs/fidelity.md): no clipping to the pixel box by default (the authors do not clip); the network is in
the mode the loop put it in (training: dropout active, BatchNorm on batch statistics) while ``r`` is computed,
``inner_mode: eval`` computes it on the deterministic network instead; a sample whose gradient is zero is not
perturbed. On a model that crops at random (``lwa_cifar``'s ``crop``) the batch arrives cut to one window per sample,
drawn once per step by the training loop (:mod:`advreg.models.crop`), so ``r`` is computed at the crop that the loss
at ``x + r`` sees: Alg. 2's pseudo-sample.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch.nn.functional as F
from torch import Tensor, nn

from advreg.attacks.base import clip_box, expand_like, input_gradient, l2_normalise, per_sample_norm
from advreg.attacks.lwa_alpha import lwa_alpha_direction
from advreg.methods import METHODS
from advreg.methods.base import Batch, Method


@contextmanager
def network_mode(model: nn.Module, mode: str) -> Iterator[None]:
    """Within the block the model is as the loop left it (``"train"``) or wholly in eval mode (``"eval"``);
    afterwards every submodule's own flag is restored (the loop may keep BatchNorm frozen)."""
    if mode == "train":
        yield
        return
    flags = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, flag in flags:
            module.training = flag


def inner_perturbation(model: nn.Module, x: Tensor, y: Tensor, *, c: float, direction: str, norm: str) -> Tensor:
    """The approximate maximiser r of eq. 3 / eq. 5 in the ball ``||r|| <= c`` (sec. 6.1), a constant tensor.

    ``model`` maps ``x`` to logits (the whole network for ``lwa``, the classifier part for ``lwa_rep``)."""
    if direction == "alpha":
        if norm != "l2":
            raise ValueError("direction 'alpha' (Algorithm 1) is implemented for the L2 ball only")
        unit, _ = lwa_alpha_direction(model, x, y)  # sec. 6.1.2: r* = c r_I / ||r_I||_2
        return (c * unit).detach()
    if direction != "loss":
        raise ValueError(f"unknown LWA direction {direction!r} (known: loss, alpha)")
    g = input_gradient(model, x, y, max(1, x.shape[0]))  # grad_x of the summed loss: per-sample gradients
    if norm == "l2":
        return (c * l2_normalise(g)).detach()  # sec. 6.1.1 item 1
    if norm == "linf":
        return (c * g.sign()).detach()  # sec. 6.1.1 item 2
    raise ValueError(f"unknown LWA norm {norm!r} (known: l2, linf)")


class ClassifierPart(nn.Module):
    """``N_cla``: the blocks of a :class:`LayeredClassifier` after hidden block ``layer``, as a module of its own
    (so attack helpers that call ``model(inputs)`` differentiate with respect to the representation)."""

    def __init__(self, model: nn.Module, layer: str) -> None:
        super().__init__()
        self.model = model
        self.layer = layer

    def forward(self, h: Tensor) -> Tensor:
        return self.model.forward_from(h, self.layer)


def representation_layer(model: nn.Module, method: str) -> str:
    layer = getattr(model, "representation_layer", None)
    if layer is None or not hasattr(model, "forward_to") or not hasattr(model, "forward_from"):
        raise ValueError(
            f"method '{method}' needs a LayeredClassifier with a representation layer (eq. 4), "
            f"got {type(model).__name__}"
        )
    return layer


class LWA(Method):
    """*LWA* (sec. 7.2): Algorithm 2, learning with an adversary on the raw data (eq. 2, Proposition 6)."""

    spec = METHODS["lwa"]

    def loss(self, model: nn.Module, batch: Batch) -> tuple[Tensor, dict[str, float]]:
        p = self.params
        x, y = batch.x, batch.y
        with network_mode(model, p.inner_mode):
            r = inner_perturbation(model, x, y, c=p.c, direction=p.direction, norm=p.norm)
        x_adv = clip_box(x.detach() + r, p.clip)  # the pseudo-samples (Alg. 2 line 5), constants
        loss = F.cross_entropy(model(x_adv), y)  # Alg. 2 line 7 / Proposition 6
        return loss, {"ce_adv": loss.item()}


class LWARep(Method):
    """*LWA_Rep* (sec. 7.2): Algorithm 3, the adversary acts on the representation layer's output (eq. 4)."""

    spec = METHODS["lwa_rep"]

    def loss(self, model: nn.Module, batch: Batch) -> tuple[Tensor, dict[str, float]]:
        p = self.params
        layer = representation_layer(model, self.name)
        h = model.forward_to(batch.x, layer)  # Alg. 3 line 3: x~ = N_rep(x), graph kept for N_rep's update
        with network_mode(model, p.inner_mode):
            r = inner_perturbation(
                ClassifierPart(model, layer), h.detach(), batch.y, c=p.c, direction=p.direction, norm="l2"
            )
        if p.budget == "relative":  # the authors' CIFAR code: ||r|| = c ||h||
            r = r * expand_like(per_sample_norm(h.detach()), r)
        loss = F.cross_entropy(model.forward_from(h + r, layer), batch.y)  # lines 9-12: r fixed, h = N_rep(x)
        return loss, {"ce_adv": loss.item(), "rep_norm": per_sample_norm(h.detach()).mean().item()}
