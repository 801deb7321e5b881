"""DataGrad (datagrad.md): regularising the gradient of the loss with respect to the data.

The DataGrad objective with one regulariser (sec. 2, first display; sec. 3 sets ``L_0 = L_1``)::

    L_DG(t, d, Theta) = lam0 * L(t, d, Theta) + lam * R(J_L(t, d, Theta)),    J_L = dL/dd,

with ``R1(g) = sum |g_s|`` (*DGL1*) or ``R2(g) = sum g_s^2`` (*DGL2*) applied to each sample's input
gradient. Two ways to optimise it are provided.

Finite differences, the paper's algorithm (``dgl1``, ``dgl2``; sec. 2.1 steps 1-5, eq. 2.4)
    1. one backward pass of the summed cross-entropy gives, at once, the parameter gradient and every
       sample's input gradient ``g_i = dL_i/dd_i`` (summing keeps the samples independent);
    2./3. the adversarial direction is the regulariser's immediate gradient at ``g``: ``y = sign(g)``
       for R1, ``y = 2 g`` for R2;
    4. the adversarial example ``x_r = d + phi * y`` is a constant (not a function of Theta; no clipping,
       the paper does not clip);
    5. a second forward/backward pass at ``x_r``; the update is eq. 2.4::

           lam0 * dL(x)/dTheta + (lam / phi) * (dL(x_r)/dTheta - dL(x)/dTheta)

       with ``L`` the minibatch mean cross-entropy. As ``phi -> 0`` the bracket divided by ``phi`` tends
       to ``d/dTheta mean_i R(g_i)`` (eq. 2.2-2.3; checked in tests/test_datagrad.py).

    Two forward and two backward passes per update, as the paper states (sec. 3). The loss handed to
    the training loop is a surrogate whose ``.backward()`` produces exactly that update::

        surrogate = (lam/phi) * L(x_r) + sum_p < (lam0 - lam/phi) * dL(x)/dp (constant), p >

    (implemented by :class:`_ConstantGradient`) and whose *value* is replaced by
    ``lam0 * L(x) + (lam/phi) * (L(x_r) - L(x))``: the function whose
    gradient (with ``x_r`` held fixed) is the eq. 2.4 update, so the loop's divergence check and the
    logged ``train_loss`` see a real loss. By Euler's theorem for homogeneous ``R`` this value tends to
    ``lam0 * L + lam * mean_i g_i . R'(g_i)``: ``lam0 * L + lam * mean R1`` for DGL1, but
    ``lam0 * L + 2 * lam * mean R2`` for DGL2 (R2 has degree 2). The logged extra ``reg`` is the finite
    difference estimate of ``mean_i R(g_i)`` itself (divided by the degree).

Double backpropagation, the exact gradient of the same objective (``dgl1_exact``, ``dgl2_exact``)
    ``lam0 * mean CE + lam * mean_i R(g_i)`` with ``g_i`` from ``torch.autograd.grad(..., create_graph=True)``;
    the loop's ``.backward()`` differentiates through the input gradient (the paper calls this exact
    computation slow, sec. 2.1; it is our reference for the finite-difference approximation).

Side effects of the two passes: dropout draws two masks, and BatchNorm in training mode normalises
``x_r`` with its own batch statistics and updates its running statistics twice per step (DataGrad's MLP
has neither).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from advreg.methods import METHODS
from advreg.methods.base import Batch, Method

# R1 (*DGL1*) and R2 (*DGL2*), sec. 2.1 step 2
REGULARISERS = ("l1", "l2")


def adversarial_direction(g: torch.Tensor, reg: str) -> torch.Tensor:
    """Sec. 2.1 steps 2-3: the regulariser's immediate gradient at the input gradient ``g``."""
    if reg == "l1":
        return g.sign()
    if reg == "l2":
        return 2.0 * g
    raise ValueError(f"unknown DataGrad regulariser {reg!r} (known: {', '.join(REGULARISERS)})")


def per_sample_penalty(g: torch.Tensor, reg: str) -> torch.Tensor:
    """``R(g_i)`` for every sample ``i``: sum |g| (R1) or sum g^2 (R2) over the sample's input dimensions."""
    flat = g.flatten(1)
    if reg == "l1":
        return flat.abs().sum(1)
    if reg == "l2":
        return flat.pow(2).sum(1)
    raise ValueError(f"unknown DataGrad regulariser {reg!r} (known: {', '.join(REGULARISERS)})")


def _degree(reg: str) -> int:
    return 1 if reg == "l1" else 2


def trainable_parameters(model: nn.Module) -> list[nn.Parameter]:
    return [p for p in model.parameters() if p.requires_grad]


class _ConstantGradient(torch.autograd.Function):
    """A zero-valued scalar of ``params`` whose gradient with respect to them is ``scale * grads``.

    Equivalent to the inner-product term ``sum_p <scale * grad_p, p>`` minus its value, without the
    elementwise products over every parameter in the forward pass: backward hands the stored clean
    gradients to autograd (one scaling pass), which accumulates them into ``.grad``.
    """

    @staticmethod
    def forward(ctx: Any, scale: float, grads: list[torch.Tensor], *params: torch.Tensor) -> torch.Tensor:
        ctx.scale, ctx.grads = scale, grads
        return params[0].new_zeros(())

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        factor = grad_output * ctx.scale
        return (None, None, *[g * factor for g in ctx.grads])


def finite_difference_step(
    model: nn.Module,
    x: torch.Tensor,
    clean_pass: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor | None]],
    adversarial_loss: Callable[[torch.Tensor], torch.Tensor],
    *,
    reg: str,
    lam: float,
    phi: float,
    lam0: float,
) -> tuple[torch.Tensor, dict[str, float]]:
    """DataGrad's finite-difference update (sec. 2.1 steps 1-5, eq. 2.4) as a loss for the training loop.

    ``clean_pass(x_in)`` returns ``(L0_sum, extra)``: the *summed* main-task cross-entropy on the clean
    batch (its input gradient is every sample's ``g_i``) and an optional extra objective term with its
    graph attached, differentiated by the loop as is (the multitask ``gamma * L1``, eq. 3.1; ``None`` for
    plain DataGrad). ``adversarial_loss(x_r)`` returns the *mean* main-task cross-entropy at ``x_r``.

    The returned scalar's gradient is ``lam0 * grad L0(x) + (lam/phi) (grad L0(x_r) - grad L0(x))``
    (+ the extra term's gradient), with ``L0`` the minibatch mean; its value is
    ``lam0 * L0(x) + (lam/phi) (L0(x_r) - L0(x))`` (+ the extra term's value).
    """
    batch_size = x.shape[0]
    params = trainable_parameters(model)
    x_in = x.detach().requires_grad_(True)
    l0_sum, extra = clean_pass(x_in)
    # Step 1: one backward pass for the input gradient and the clean parameter gradient together.
    grads = torch.autograd.grad(l0_sum, [x_in, *params], retain_graph=extra is not None, allow_unused=True)
    g, clean_grads = grads[0], grads[1:]
    # Steps 2-4: adversarial direction and example (a constant: no gradient flows through it).
    x_r = (x.detach() + phi * adversarial_direction(g, reg)).detach()
    # Step 5: second forward pass; the loop's backward is the second backward pass.
    l0_adv = adversarial_loss(x_r)
    ratio = lam / phi
    scale = (lam0 - ratio) / batch_size  # clean gradient of the *mean* loss, weighted as in eq. 2.4
    used = [(p, gp) for p, gp in zip(params, clean_grads, strict=True) if gp is not None]
    surrogate = ratio * l0_adv
    if used and scale != 0:
        surrogate = surrogate + _ConstantGradient.apply(scale, [gp for _, gp in used], *[p for p, _ in used])
    l0 = l0_sum.detach() / batch_size
    objective = lam0 * l0 + ratio * (l0_adv.detach() - l0)
    if extra is not None:
        surrogate = surrogate + extra
        objective = objective + extra.detach()
    loss = surrogate - surrogate.detach() + objective  # gradient of the surrogate, value of the objective
    logs = {"ce": l0.item(), "ce_adv": l0_adv.item(), "reg": ((l0_adv.detach() - l0) / (phi * _degree(reg))).item()}
    return loss, logs


def exact_penalty_loss(
    logits_fn: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    reg: str,
    lam: float,
    lam0: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``lam0 * mean CE + lam * mean_i R(g_i)`` by double backpropagation; also returns (mean CE, mean R)."""
    x_in = x.detach().requires_grad_(True)
    ce_sum = F.cross_entropy(logits_fn(x_in), y, reduction="sum")
    (g,) = torch.autograd.grad(ce_sum, x_in, create_graph=True)
    penalty = per_sample_penalty(g, reg).mean()
    ce = ce_sum / x.shape[0]
    return lam0 * ce + lam * penalty, ce, penalty


class _DataGradFD(Method):
    reg: str = "l1"

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        y = batch.y
        return finite_difference_step(
            model,
            batch.x,
            lambda x_in: (F.cross_entropy(model(x_in), y, reduction="sum"), None),
            lambda x_r: F.cross_entropy(model(x_r), y),
            reg=self.reg,
            lam=self.params.lam,
            phi=self.params.phi,
            lam0=self.params.lam0,
        )


class DGL1(_DataGradFD):
    """*DGL1* (sec. 3): DataGrad with R1 = L1 norm of the input gradient, by eq. 2.4 (adversarial
    direction sign(g): the fast gradient sign example, sec. 2.2)."""

    spec = METHODS["dgl1"]
    reg = "l1"


class DGL2(_DataGradFD):
    """*DGL2* (sec. 3): DataGrad with R2 = squared L2 norm of the input gradient, by eq. 2.4
    (adversarial direction 2 g)."""

    spec = METHODS["dgl2"]
    reg = "l2"


class _DataGradExact(Method):
    reg: str = "l1"

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        loss, ce, penalty = exact_penalty_loss(
            model, batch.x, batch.y, reg=self.reg, lam=self.params.lam, lam0=self.params.lam0
        )
        return loss, {"ce": ce.item(), "reg": penalty.item()}


class DGL1Exact(_DataGradExact):
    """DGL1's objective ``lam0 * L + lam * mean_i ||dL_i/dd_i||_1`` optimised exactly by double backprop."""

    spec = METHODS["dgl1_exact"]
    reg = "l1"


class DGL2Exact(_DataGradExact):
    """DGL2's objective ``lam0 * L + lam * mean_i ||dL_i/dd_i||_2^2`` optimised exactly by double backprop."""

    spec = METHODS["dgl2_exact"]
    reg = "l2"
