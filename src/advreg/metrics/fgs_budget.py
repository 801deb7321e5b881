"""FGS budgets that fool a model: per sample, and the one epsilon that misclassifies half the test set.

DeepDefense sec. 4.1, eq. 8-9: under the FGS attack Delta x_k = epsilon sign(grad_x L(y_k, f(x_k))), "we adjust
epsilon so that 50% of the image samples are misclassified", and rho_inf = mean_k ||Delta x_k||_inf / ||x_k||_inf
at that one epsilon (eps_50 here; Table 1 confirms the reading: the DeepDefense model's accuracy at 1.0 x
eps_ref is 50.00% in every block). Epsilons are in [0, 1] pixel units; the step eps sign(g) is the same step
in the model's input space (with DeepDefense's ``preprocess: matconvnet``, 255 x - mean: 255 eps there, the sign
of the gradient being the same in both), and ||.||_inf in eq. 8 is taken there (||x||_inf about 0.9 x 255 on
MNIST). Eq. 9 does not clip: ``clip`` (keep x + eps sign(g) in the [0, 1] pixel box) is off by default.
epsilon_ref is "the smallest epsilon such that 50% perturbed images are misclassified by our regularized model":
the eps_50 of one model (the DeepDefense model of the network) at which every model's accuracy
is then reported (0.2, 0.5 and 1.0 x epsilon_ref; :mod:`advreg.metrics.robustness`).

- eps_50: bisection on the error rate along each sample's fixed sign direction (0 if half the samples are
  misclassified already; nan if fewer than half are at ``eps_max``);
- rho_inf (eq. 8 with eps_50): eps_50 * mean_k ||sign(g_k)||_inf / ||x_k||_inf in the input space (the unclipped
  perturbation of eq. 9; ||sign(g_k)||_inf is 1 unless the gradient is all zero);
- per sample, the smallest fooling epsilon by bisection (0 for a sample already misclassified; one not fooled at
  ``eps_max`` is censored at ``eps_max`` and counted in ``censored``), and rho_inf_per_sample, the mean of
  eps_k / ||x_k||_inf: the per-sample reading of eq. 8, kept as a further measure.

Fooling means predicting a label other than the true one. The searches assume the error grows with epsilon along
the sign direction between the bracketing points, as bisection must.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from advreg.attacks.base import clip_box, input_gradient, per_sample_norm, predicted_labels
from advreg.models.preprocess import InputSpace


@dataclass
class FGSBudgets:
    per_sample: torch.Tensor  # (N,) smallest fooling epsilon per sample (eps_max where censored)
    censored: torch.Tensor  # (N,) bool: not fooled at eps_max
    rho_inf_per_sample: float  # mean eps_k / ||x_k||_inf (per-sample reading of eq. 8)
    eps_50: float  # smallest epsilon with >= 50% of the samples misclassified (nan if never reached)
    rho_inf: float  # eq. 8 at eps_50: eps_50 * mean ||sign(g_k)||_inf / ||x_k||_inf (nan with eps_50)
    inf_factor: torch.Tensor  # (N,) the terms of that mean, in the input space: scale ||sign(g_k)||_inf / ||x_k||_inf
    per_sample_terms: torch.Tensor  # (N,) the terms of rho_inf_per_sample: scale eps_k / ||x_k||_inf


def _wrong(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> torch.Tensor:
    return predicted_labels(model, x, batch_size) != y


def _wrong_at(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, sign: torch.Tensor, clip: bool, batch_size: int
) -> Callable[[torch.Tensor], torch.Tensor]:
    def wrong_at(eps: torch.Tensor) -> torch.Tensor:
        eps = eps.to(device=x.device, dtype=x.dtype)
        eps = eps.reshape(-1, *([1] * (x.ndim - 1))) if eps.ndim else eps
        return _wrong(model, clip_box(x + eps * sign, clip), y, batch_size)

    return wrong_at


def _half_error_epsilon(wrong_at: Callable[[torch.Tensor], torch.Tensor], eps_max: float, steps: int) -> float:
    """Bisection on the error rate for the smallest epsilon misclassifying at least half of the samples."""

    def error(eps: float) -> float:
        return wrong_at(torch.tensor(eps)).float().mean().item()

    if error(0.0) >= 0.5:
        return 0.0
    if error(eps_max) < 0.5:
        return math.nan
    a, b = 0.0, float(eps_max)
    for _ in range(steps):
        mid = (a + b) / 2
        a, b = (a, mid) if error(mid) >= 0.5 else (mid, b)
    return b


def fifty_percent_epsilon(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    eps_max: float = 0.5,
    steps: int = 20,
    clip: bool = False,
    batch_size: int = 1000,
) -> float:
    """eps_50 of ``model`` alone: the smallest FGS epsilon misclassifying half of (x, y) (nan if none <= eps_max)."""
    model.eval()
    sign = torch.sign(input_gradient(model, x, y, batch_size))
    return _half_error_epsilon(_wrong_at(model, x, y, sign, clip, batch_size), eps_max, steps)


def fgs_budgets(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    eps_max: float = 0.5,
    steps: int = 20,
    clip: bool = False,
    batch_size: int = 1000,
    space: InputSpace | None = None,
) -> FGSBudgets:
    """Bisection for the per-sample and the 50% FGS budgets (``steps`` halvings each), in [0, 1] pixel units;
    rho_inf and rho_inf_per_sample divide ``space.scale`` times them by ||x||_inf in ``space`` (the model's input
    space; None: the pixels)."""
    space = space or InputSpace(None)
    model.eval()
    sign = torch.sign(input_gradient(model, x, y, batch_size))
    wrong_at = _wrong_at(model, x, y, sign, clip, batch_size)

    n = x.shape[0]
    lo = torch.zeros(n, device=x.device)
    hi = torch.full((n,), float(eps_max), device=x.device)
    already = wrong_at(torch.zeros(n, device=x.device))
    censored = ~already & ~wrong_at(hi)
    for _ in range(steps):
        mid = (lo + hi) / 2
        fooled = wrong_at(mid)
        hi = torch.where(fooled, mid, hi)
        lo = torch.where(fooled, lo, mid)
    per_sample = torch.where(already, torch.zeros_like(hi), torch.where(censored, torch.full_like(hi, eps_max), hi))
    x_inf = per_sample_norm(space.inputs(x), float("inf")).clamp_min(1e-12)
    scale = space.scale  # an epsilon of eps pixels is scale * eps in the input space
    per_sample_terms = scale * per_sample / x_inf  # ||eps sign(g)||_inf = eps where g != 0
    rho_inf_per_sample = per_sample_terms.mean().item()
    eps_50 = _half_error_epsilon(wrong_at, eps_max, steps)
    sign_inf = per_sample_norm(sign, float("inf"))
    rho_inf = scale * eps_50 * (sign_inf / x_inf).mean().item()
    inf_factor = scale * sign_inf / x_inf
    return FGSBudgets(
        per_sample.cpu(),
        censored.cpu(),
        rho_inf_per_sample,
        eps_50,
        rho_inf,
        inf_factor.cpu(),
        per_sample_terms.cpu(),
    )


def fgs_correct(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, epsilon: float, *, clip: bool = False, batch_size: int = 1000
) -> torch.Tensor:
    """Per sample, whether ``model`` still classifies it correctly under FGS at one budget (white-box): (N,) bool."""
    sign = torch.sign(input_gradient(model, x, y, batch_size))
    return ~_wrong(model, clip_box(x + epsilon * sign, clip), y, batch_size)


def fgs_accuracy(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, epsilon: float, *, clip: bool = False, batch_size: int = 1000
) -> float:
    """Accuracy under FGS at one budget (white-box)."""
    return fgs_correct(model, x, y, epsilon, clip=clip, batch_size=batch_size).float().mean().item()
