"""FGS budgets that fool a model: per sample (rho_inf) and for half the test set (epsilon_ref).

DeepDefense sec. 4.1: rho_inf (eq. 8) is the mean of ||Delta x_k||_inf / ||x_k||_inf under the FGS attack
(eq. 9); epsilon_ref is "the smallest epsilon such that 50% perturbed images are misclassified", and Table 1
reports accuracies at 0.2, 0.5 and 1.0 x epsilon_ref. Here, per sample, the smallest fooling epsilon is found
by bisection along the fixed sign direction (a sample already misclassified has 0; one not fooled at
``eps_max`` is censored at ``eps_max`` and counted in ``censored``). Fooling means predicting a label other
than the true one. Both searches assume the error grows with epsilon along the sign direction between the
bracketing points, as bisection must.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from advreg.attacks.base import clip_box, input_gradient, per_sample_norm, predicted_labels


@dataclass
class FGSBudgets:
    per_sample: torch.Tensor  # (N,) smallest fooling epsilon per sample (eps_max where censored)
    censored: torch.Tensor  # (N,) bool: not fooled at eps_max
    rho_inf: float  # mean ||eps_k sign(g_k)||_inf / ||x_k||_inf (eq. 8, per-sample reading)
    eps_ref: float  # smallest epsilon with >= 50% of the samples misclassified (nan if never reached)


def _wrong(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> torch.Tensor:
    return predicted_labels(model, x, batch_size) != y


def fgs_budgets(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    eps_max: float = 0.5,
    steps: int = 20,
    clip: bool = True,
    batch_size: int = 1000,
) -> FGSBudgets:
    """Bisection for the per-sample and the 50% FGS budgets (``steps`` halvings each)."""
    model.eval()
    sign = torch.sign(input_gradient(model, x, y, batch_size))

    def wrong_at(eps: torch.Tensor) -> torch.Tensor:
        eps = eps.to(x.dtype).reshape(-1, *([1] * (x.ndim - 1))) if eps.ndim else eps
        return _wrong(model, clip_box(x + eps * sign, clip), y, batch_size)

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
    x_inf = per_sample_norm(x, float("inf")).clamp_min(1e-12)
    rho_inf = (per_sample / x_inf).mean().item()  # ||eps sign(g)||_inf = eps where g != 0

    # Global bisection on the error rate for epsilon_ref.
    def error(eps: float) -> float:
        return wrong_at(torch.tensor(eps, device=x.device)).float().mean().item()

    if error(0.0) >= 0.5:
        eps_ref = 0.0
    elif error(eps_max) < 0.5:
        eps_ref = float("nan")
    else:
        a, b = 0.0, float(eps_max)
        for _ in range(steps):
            mid = (a + b) / 2
            a, b = (a, mid) if error(mid) >= 0.5 else (mid, b)
        eps_ref = b
    return FGSBudgets(per_sample.cpu(), censored.cpu(), rho_inf, eps_ref)


def fgs_accuracy(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, epsilon: float, *, clip: bool = True, batch_size: int = 1000
) -> float:
    """Accuracy under FGS at one budget (white-box)."""
    sign = torch.sign(input_gradient(model, x, y, batch_size))
    return 1.0 - _wrong(model, clip_box(x + epsilon * sign, clip), y, batch_size).float().mean().item()
