"""``lwa_alpha``: LWA's "Adv_Alpha" perturbation, Algorithm 1 with Propositions 3-4 in the L2 norm.

learning-with-a-strong-adversary.md, sec. 2: with the softmax output alpha = g(x) and its Jacobian
T = d alpha / dx at x (row T_k = grad_x alpha_k), the minimal L2 perturbation that makes the linearised
network prefer class j over the true label y has norm d_j = (alpha_y - alpha_j) / ||T_j - T_y||_2 and direction
T_j - T_y (eq. 1, Proposition 3, item 1); Proposition 4: the smallest of them, I = argmin_{j != y} d_j, solves
min ||r|| s.t. argmax (alpha + T r) != y. Sec. 6.1.2 rescales it to the budget: r* = c r_I / ||r_I||_2, so the
artifact is the unit direction u = (T_I - T_y) / ||T_I - T_y||_2 and the adversarial input is x + c u.

Notes (docs/fidelity.md): T is computed with K batched backward passes of alpha[:, k].sum() (the paper's
"K times more expensive" than the loss gradient, sec. 7.1). A class j with ||T_j - T_y|| = 0 cannot be reached
to first order and is skipped (d_j = +inf); if no class can be reached the direction is zero. The formula is
applied to every sample; the authors' evaluation perturbs only correctly classified points (for a misclassified
point some d_j are negative and the most negative one wins). LWA does not clip to the pixel box (FIDELITY.md),
hence ``clip: false`` by default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from advreg.attacks import ATTACKS
from advreg.attacks.base import DEFAULT_BATCH_SIZE, Attack, check_batch_size, clip_box, l2_normalise


def _softmax_and_jacobian(model: nn.Module, x: Tensor) -> tuple[Tensor, Tensor]:
    """alpha = softmax(model(x)) (N, K) and T = d alpha / dx (N, K, *x.shape[1:]), K batched backward passes."""
    with torch.enable_grad():
        inputs = x.detach().clone().requires_grad_(True)
        logits = model(inputs)
        if logits.ndim != 2:
            raise ValueError(f"lwa_alpha: the model must return (N, K) logits, got shape {tuple(logits.shape)}")
        alpha = torch.softmax(logits, dim=1)
        num_classes = alpha.shape[1]
        rows = []
        for k in range(num_classes):
            (grad,) = torch.autograd.grad(
                alpha[:, k].sum(), inputs, retain_graph=k < num_classes - 1, allow_unused=True, materialize_grads=True
            )
            rows.append(grad)
    return alpha.detach(), torch.stack(rows, dim=1)


def softmax_jacobian(model: nn.Module, x: Tensor) -> Tensor:
    """T = d softmax(model(x)) / dx at x: (N, K, C, H, W), row k being grad_x alpha_k (LWA sec. 2, Alg. 1 line 1).

    Samples must not interact (eval mode): each of the K backward passes differentiates alpha[:, k].sum().
    """
    return _softmax_and_jacobian(model, x)[1]


def lwa_alpha_direction(model: nn.Module, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """(u, I): the unit L2 direction (T_I - T_y)/||T_I - T_y||_2 and the class I = argmin_{j != y} d_j,
    d_j = (alpha_y - alpha_j) / ||T_j - T_y||_2 (LWA Alg. 1, Propositions 3-4, sec. 6.1.2)."""
    alpha, jac = _softmax_and_jacobian(model, x)
    n, num_classes = alpha.shape
    y = torch.as_tensor(y, device=x.device)
    if y.shape != (n,) or y.is_floating_point():
        raise ValueError(f"lwa_alpha: labels must be integers of shape ({n},), got {y.dtype} of shape {tuple(y.shape)}")
    y = y.long()
    if bool(((y < 0) | (y >= num_classes)).any()):
        bad = y[(y < 0) | (y >= num_classes)][:5].tolist()
        raise ValueError(f"lwa_alpha: labels must lie in [0, {num_classes}), got e.g. {bad}")
    rows = torch.arange(n, device=x.device)
    flat = jac.flatten(2)  # (N, K, D)
    diff = flat - flat[rows, y].unsqueeze(1)  # T_j - T_y
    norms = torch.linalg.vector_norm(diff, dim=2)
    gap = alpha[rows, y].unsqueeze(1) - alpha  # alpha_y - alpha_j
    safe = torch.where(norms > 0, norms, torch.ones_like(norms))
    dist = torch.where(norms > 0, gap / safe, torch.full_like(gap, float("inf")))  # unreachable: +inf
    dist[rows, y] = float("inf")  # j ranges over the classes other than y
    target = dist.argmin(dim=1)  # first minimiser on ties
    direction = l2_normalise(diff[rows, target]).reshape(x.shape)
    return direction, target


class LWAAlpha(Attack):
    spec = ATTACKS["lwa_alpha"]

    def craft(
        self,
        model: nn.Module,
        x: Tensor,
        y: Tensor,
        epsilons: Sequence[float],
        generator: torch.Generator,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> dict[str, Tensor]:
        bs = check_batch_size(batch_size)
        directions, targets = [], []
        for start in range(0, x.shape[0], bs):
            u, target = lwa_alpha_direction(model, x[start : start + bs], y[start : start + bs])
            directions.append(u)
            targets.append(target)
        if not directions:
            empty = torch.zeros(0, dtype=torch.int64, device=x.device)
            return {"direction": torch.zeros_like(x, dtype=torch.float32), "target": empty}
        return {"direction": torch.cat(directions).float(), "target": torch.cat(targets).to(torch.int64)}

    def materialise(self, artifact: Mapping[str, Tensor], x: Tensor, epsilon: float, index: int) -> Tensor:
        direction = artifact["direction"].to(device=x.device, dtype=x.dtype)
        return clip_box(x + float(epsilon) * direction, self.params.clip)
