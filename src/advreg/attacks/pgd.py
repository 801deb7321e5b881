"""``pgd_linf`` / ``pgd_l2``: projected gradient descent on the cross-entropy (Madry et al. 2018,
"Towards deep learning models resistant to adversarial attacks", sec. 2.1 and Appendix).

    x^(0) = x + U(ball_eps)             (random start; x^(0) = x without it)
    x^(t+1) = P_{ball_eps(x) ∩ [0,1]}( x^(t) + a * s(grad_x CE(f(x^(t)), y)) ),   t = 0 .. steps - 1

with a = step_ratio * eps / steps and s = sign (L-infinity) or g / ||g||_2 (L2). The attack returns the last
iterate (Madry et al.). With ``restarts`` > 1 each further restart runs only on the samples no earlier restart
fooled, and each sample keeps the first restart whose (stored, see below) point the attacker misclassifies;
a sample no restart fools keeps the restart of highest cross-entropy on the attacker, which is also the
most useful point for transfer to the other targets of the cross-evaluation.

Budget dependence: the result depends on epsilon, so the artifact stores one perturbation per budget,
``delta`` of shape (N, E, C, H, W) in float16. :meth:`PerBudgetAttack.materialise` re-projects it onto the
budget's ball (float16 rounding of a point on the boundary may fall just outside) and clips it to the box.
The restart selection judges the point exactly as materialise will rebuild it, so "fooled" is a property
of what the cross-evaluation sees, not of the float32 iterate.

Randomness: one base seed is drawn from the job's generator; every (budget, restart) run derives its own CPU
generator from it and draws the random start for *all* N samples, then uses the rows it needs. Results
therefore do not depend on ``batch_size``, on which samples a restart runs on, or on the device.

This module also holds what the APGD attacks (:mod:`advreg.attacks.apgd`) share with PGD: parameter and
input checks, projections, random starts, the per-budget artifact and the run-selection bookkeeping.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from advreg.attacks import ATTACKS
from advreg.attacks.base import (
    DEFAULT_BATCH_SIZE,
    Attack,
    check_batch_size,
    clip_box,
    expand_like,
    l2_normalise,
    per_sample_norm,
)
from advreg.runtime import derive_seed

# ----------------------------------------------------------------------------------------------------------
# Input checks
# ----------------------------------------------------------------------------------------------------------


def check_epsilons(attack: str, epsilons: Sequence[float]) -> list[float]:
    out = []
    for i, eps in enumerate(epsilons):
        value = float(eps)
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"attack '{attack}': epsilon #{i} is {eps!r}; budgets must be finite and >= 0")
        out.append(value)
    return out


def check_inputs(attack: str, x: torch.Tensor, y: torch.Tensor) -> None:
    if not torch.is_floating_point(x) or x.ndim < 2:
        raise ValueError(
            f"attack '{attack}': inputs x must be a floating (N, C, H, W) tensor, got {x.dtype} {tuple(x.shape)}"
        )
    if y.ndim != 1 or y.shape[0] != x.shape[0] or y.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8):
        raise ValueError(
            f"attack '{attack}': labels y must be an integer tensor of shape ({x.shape[0]},), "
            f"got {y.dtype} {tuple(y.shape)}"
        )


def check_logits(attack: str, logits: torch.Tensor, n: int, min_classes: int = 2, why: str = "") -> int:
    if logits.ndim != 2 or logits.shape[0] != n:
        raise ValueError(f"attack '{attack}': the model must return (N, K) logits, got shape {tuple(logits.shape)}")
    if logits.shape[1] < min_classes:
        raise ValueError(
            f"attack '{attack}' needs a model with at least {min_classes} classes; this one has {logits.shape[1]}{why}"
        )
    return int(logits.shape[1])


# ----------------------------------------------------------------------------------------------------------
# Geometry and randomness
# ----------------------------------------------------------------------------------------------------------


def project_delta(delta: torch.Tensor, eps: float, norm: str) -> torch.Tensor:
    """``delta`` projected onto the ``norm`` ball of radius ``eps`` (per sample)."""
    if norm == "linf":
        return delta.clamp(-eps, eps)
    if norm == "l2":
        norms = per_sample_norm(delta)
        scale = torch.where(norms > eps, eps / norms.clamp_min(1e-30), torch.ones_like(norms))
        return delta * expand_like(scale, delta)
    raise ValueError(f"unknown norm {norm!r} (known: linf, l2)")


def project(adv: torch.Tensor, x: torch.Tensor, eps: float, norm: str, clip: bool) -> torch.Tensor:
    """Onto the ball around ``x``, then the [0, 1] box. For x in the box, clipping only shrinks every
    coordinate of the perturbation, so the result stays in the ball (the standard PGD composition)."""
    return clip_box(x + project_delta(adv - x, eps, norm), clip)


def base_seed(generator: torch.Generator) -> int:
    """One draw from the job's generator; every run derives its own generator from it."""
    return int(torch.randint(0, 2**62, (1,), generator=generator).item())


def run_generator(seed: int, *parts: object) -> torch.Generator:
    generator = torch.Generator(device="cpu")
    generator.manual_seed(derive_seed(seed, *parts))
    return generator


def random_start(x: torch.Tensor, eps: float, norm: str, generator: torch.Generator) -> torch.Tensor:
    """A perturbation uniform in the ``norm`` ball of radius ``eps``, one per sample, drawn on the CPU.

    L-infinity: each coordinate uniform in [-eps, eps]. L2: a Gaussian direction normalised to the unit
    sphere times the radius eps * U^(1/d) (d = inputs per sample), which is uniform in the ball's volume.
    """
    shape = tuple(x.shape)
    if norm == "linf":
        delta = (2.0 * torch.rand(shape, generator=generator, dtype=torch.float32) - 1.0) * eps
    elif norm == "l2":
        direction = l2_normalise(torch.randn(shape, generator=generator, dtype=torch.float32))
        d = math.prod(shape[1:])
        u = torch.rand(shape[0], generator=generator, dtype=torch.float64)
        radius = (eps * u.pow(1.0 / d)).to(torch.float32)
        delta = direction * expand_like(radius, direction)
    else:
        raise ValueError(f"unknown norm {norm!r} (known: linf, l2)")
    return delta.to(device=x.device, dtype=x.dtype)


def logits_and_grad(
    model: nn.Module, adv: torch.Tensor, loss_fn: Callable[[torch.Tensor], torch.Tensor], need_grad: bool = True
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Per-sample loss, logits and the gradient of the summed loss with respect to the inputs (the sum
    keeps each sample's gradient independent of the others in the batch)."""
    if not need_grad:
        with torch.no_grad():
            logits = model(adv)
            return loss_fn(logits).detach(), logits.detach(), None
    with torch.enable_grad():
        leaf = adv.detach().requires_grad_(True)
        logits = model(leaf)
        loss = loss_fn(logits)
        (grad,) = torch.autograd.grad(loss.sum(), leaf)
    return loss.detach(), logits.detach(), grad.detach()


def batches(indices: torch.Tensor, batch_size: int) -> Iterator[torch.Tensor]:
    for start in range(0, indices.numel(), batch_size):
        yield indices[start : start + batch_size]


# ----------------------------------------------------------------------------------------------------------
# Per-budget artifact and run selection
# ----------------------------------------------------------------------------------------------------------


class CraftStart(NamedTuple):
    """What :meth:`PerBudgetAttack.begin_craft` hands to ``craft``: the inputs (detached, labels int64), the checked
    budgets and batch size, the run seed (one draw from the job's generator) and the zero perturbations (N, E, ...)."""

    x: Tensor
    y: Tensor
    epsilons: list[float]
    batch_size: int
    seed: int
    delta: Tensor


class PerBudgetAttack(Attack):
    """An attack whose artifact is one float16 perturbation per budget: ``delta`` (N, E, C, H, W)."""

    def begin_craft(
        self, x: Tensor, y: Tensor, epsilons: Sequence[float], generator: torch.Generator, batch_size: int
    ) -> CraftStart:
        """The checks and set-up every ``craft`` begins with: inputs, budgets and batch size checked (errors name the
        attack), :func:`base_seed` drawn once, and a float16 zero perturbation per budget to fill in."""
        check_inputs(self.name, x, y)
        epsilons = check_epsilons(self.name, epsilons)
        batch_size = check_batch_size(batch_size)
        x, y = x.detach(), y.detach().long()
        seed = base_seed(generator)
        delta = torch.zeros((x.shape[0], len(epsilons), *x.shape[1:]), dtype=torch.float16, device=x.device)
        return CraftStart(x, y, epsilons, batch_size, seed, delta)

    def realise(self, delta: torch.Tensor, x: torch.Tensor, eps: float) -> torch.Tensor:
        """What :meth:`materialise` rebuilds from ``delta`` once stored: float16 round trip, projection onto
        the ball, box clipping."""
        if eps == 0:
            return clip_box(x, self.params.clip)
        delta = delta.to(torch.float16).to(device=x.device, dtype=x.dtype)
        return clip_box(x + project_delta(delta, eps, self.norm), self.params.clip)

    def materialise(self, artifact: Mapping[str, Tensor], x: Tensor, epsilon: float, index: int) -> torch.Tensor:
        if "delta" not in artifact:
            raise ValueError(
                f"attack '{self.name}': artifact has no 'delta' (keys: {sorted(artifact)}); was it made by "
                f"another attack?"
            )
        delta = artifact["delta"]
        if delta.ndim != x.ndim + 1 or delta.shape[0] != x.shape[0] or tuple(delta.shape[2:]) != tuple(x.shape[1:]):
            raise ValueError(
                f"attack '{self.name}': artifact delta of shape {tuple(delta.shape)} does not fit inputs "
                f"of shape {tuple(x.shape)} (expected (N, E, *x.shape[1:]))"
            )
        if not 0 <= int(index) < delta.shape[1]:
            raise ValueError(
                f"attack '{self.name}': budget index {index} out of range for {delta.shape[1]} stored budgets"
            )
        eps = float(epsilon)
        if not math.isfinite(eps) or eps < 0:
            raise ValueError(f"attack '{self.name}': epsilon must be finite and >= 0, got {epsilon!r}")
        return self.realise(delta[:, int(index)], x, eps)


class Selection:
    """Per sample, the point kept over several runs (restarts, target classes, attack stages) at one budget.

    A run's point replaces the kept one when the attacker misclassifies it (as realised from storage) and no
    earlier run fooled the sample, or, while none has, when its cross-entropy on the attacker is higher.
    """

    def __init__(self, attack: PerBudgetAttack, model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float) -> None:
        self.attack, self.model, self.x, self.y, self.eps = attack, model, x, y, eps
        self.delta = torch.zeros_like(x)
        self.fooled = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
        self.loss = torch.full((x.shape[0],), -math.inf, dtype=x.dtype, device=x.device)

    def remaining(self) -> torch.Tensor:
        return (~self.fooled).nonzero().flatten()

    def offer(self, index: torch.Tensor, adv: torch.Tensor) -> None:
        x = self.x[index]
        delta = adv - x
        with torch.no_grad():
            logits = self.model(self.attack.realise(delta, x, self.eps))
        wrong = logits.argmax(1) != self.y[index]
        loss = F.cross_entropy(logits, self.y[index], reduction="none").to(self.loss.dtype)
        take = ~self.fooled[index] & (wrong | (loss > self.loss[index]))
        self.delta[index] = torch.where(expand_like(take, delta), delta, self.delta[index])
        self.loss[index] = torch.where(take, loss, self.loss[index])
        self.fooled[index] = self.fooled[index] | wrong


# ----------------------------------------------------------------------------------------------------------
# PGD
# ----------------------------------------------------------------------------------------------------------


class _PGD(PerBudgetAttack):
    def step_direction(self, grad: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def run(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, start: torch.Tensor) -> torch.Tensor:
        """One PGD run from ``x + start``: the last iterate."""
        clip = self.params.clip
        size = self.params.step_ratio * eps / self.params.steps
        adv = project(x + start, x, eps, self.norm, clip)
        loss_fn = functools.partial(F.cross_entropy, target=y, reduction="none")
        for _ in range(self.params.steps):
            _, _, grad = logits_and_grad(model, adv, loss_fn)
            adv = project(adv + size * self.step_direction(grad), x, eps, self.norm, clip)
        return adv

    def craft(
        self,
        model: nn.Module,
        x: Tensor,
        y: Tensor,
        epsilons: Sequence[float],
        generator: torch.Generator,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> dict[str, Tensor]:
        x, y, epsilons, batch_size, seed, out = self.begin_craft(x, y, epsilons, generator, batch_size)
        for e, eps in enumerate(epsilons):
            if eps == 0 or x.shape[0] == 0:
                continue
            kept = Selection(self, model, x, y, eps)
            for r in range(self.params.restarts):
                index = torch.arange(x.shape[0], device=x.device) if r == 0 else kept.remaining()
                if index.numel() == 0:
                    break
                if self.params.random_start:
                    start = random_start(x, eps, self.norm, run_generator(seed, self.name, e, r))
                else:
                    start = torch.zeros_like(x)
                for part in batches(index, batch_size):
                    kept.offer(part, self.run(model, x[part], y[part], eps, start[part]))
            out[:, e] = kept.delta.to(torch.float16)
        return {"delta": out}


class PGDLinf(_PGD):
    """L-infinity PGD (Madry et al. 2018, eq. in sec. 2.1): steps of ``a * sign(grad)``."""

    spec = ATTACKS["pgd_linf"]

    def step_direction(self, grad: Tensor) -> Tensor:
        return torch.sign(grad)


class PGDL2(_PGD):
    """L2 PGD: Madry et al.'s projected gradient method on the L2 ball (their appendix evaluates L2-bounded
    attacks), with the usual steepest-ascent step for that norm, ``a * grad / ||grad||_2``, projection by
    rescaling onto the ball and a random start uniform in the ball."""

    spec = ATTACKS["pgd_l2"]

    def step_direction(self, grad: Tensor) -> Tensor:
        return l2_normalise(grad)
