"""``deepfool``: multi-class L2 DeepFool (Moosavi-Dezfooli et al. 2016) and the rho_2 robustness measure.

DeepDefense sec. 3.1, eq. 1-2 states the binary step r^(i) = -f / ||grad f||^2 * grad f at the current iterate
x + Delta^(i); its multi-class form (the one DeepDefense's regulariser and its evaluation use) linearises every
pairwise gap to the start label and steps towards the nearest linearised boundary. This module follows the
authors' reference implementation (LTS4/DeepFool, ``deepfool.py``) exactly:

- start label s: the model's prediction at x for rho_2 (untargeted DeepFool moves away from it, as the
  reference code and DeepDefense's evaluation); the attack's evaluation sets start from the true label
  instead (``start: true``, the default): a point already misclassified is then "fooled" at step 0 and
  stays as it is, so a set is never easier than the clean one (from the prediction, misclassified points
  are moved away from their wrong label, often onto the true one); the candidates are all classes k != s;
- at the iterate x_i, f_k = logit_k(x_i) - logit_s(x_i), w_k = grad_x f_k(x_i), and
  l = argmin_{k != s} |f_k| / ||w_k||_2 (the distance to the nearest linearised boundary);
- r_i = (|f_l| / ||w_l||_2 + step_eps) * w_l / ||w_l||_2: the 1e-4 is added to the step *distance*
  ("added 1e-4 for numerical stability" in the reference code); without it an iterate lands exactly on the
  linearised boundary and, where the model is (locally) affine, stays there without ever crossing it;
- r_tot += r_i; the next iterate is x + (1 + overshoot) * r_tot (the overshoot scales the running total, not
  each step), clamped to [0, 1] when ``clip`` (the reference code does not clip);
- a sample stops (is frozen) as soon as argmax logits(x_i) != s, or after ``max_iter`` steps; the returned
  perturbation is (1 + overshoot) * r_tot (with ``clip``: the clipped iterate minus x).

:func:`rho_2` is DeepDefense eq. 7, the mean of ||r||_2 / ||x||_2, together with the unnormalised mean ||r||_2
(supplementary eq. 1, rho'_2); it averages over whichever samples it is given (the authors' code: all test
images, misclassified ones attacked from their predicted label).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from advreg.attacks import ATTACKS
from advreg.attacks.base import (
    DEFAULT_BATCH_SIZE,
    Attack,
    check_batch_size,
    clip_box,
    expand_like,
    per_sample_norm,
    predicted_labels,
)
from advreg.attacks.catalog import DeepFoolSettings


@dataclass
class DeepFoolResult:
    """What :func:`deepfool` returns, one row per sample."""

    perturbation: Tensor  # (N, C, H, W): the adversarial perturbation, overshoot included
    iterations: Tensor  # (N,) int32: DeepFool steps each sample took (0: already away from its start label)
    fooled: Tensor  # (N,) bool: argmax logits(x + perturbation) != start label


def _class_gradients(logits: Tensor, inputs: Tensor) -> Tensor:
    """(n, K, D): the input gradient of every logit, one batched backward pass per class.

    Each pass differentiates logits[:, k].sum(); samples do not interact (models are used in eval mode), so
    row i of the result is grad_x logit_k(x_i).
    """
    num_classes = logits.shape[1]
    rows = []
    for k in range(num_classes):
        (grad,) = torch.autograd.grad(
            logits[:, k].sum(), inputs, retain_graph=k < num_classes - 1, allow_unused=True, materialize_grads=True
        )
        rows.append(grad.flatten(1))
    return torch.stack(rows, dim=1)


def _deepfool_batch(
    model: nn.Module, x: Tensor, start: Tensor, overshoot: float, max_iter: int, step_eps: float, clip: bool
) -> tuple[Tensor, Tensor, Tensor]:
    n = x.shape[0]
    x = x.detach()
    scale = 1.0 + overshoot
    r_tot = torch.zeros_like(x)
    current = x.clone()
    iterations = torch.zeros(n, dtype=torch.int32, device=x.device)
    fooled = torch.zeros(n, dtype=torch.bool, device=x.device)
    active = torch.arange(n, device=x.device)  # samples still moving; the others are frozen
    for step in range(max_iter + 1):
        inputs = current[active].requires_grad_(True)
        logits = model(inputs)
        if logits.ndim != 2:
            raise ValueError(f"deepfool: the model must return (N, K) logits, got shape {tuple(logits.shape)}")
        if step == 0 and ((start < 0) | (start >= logits.shape[1])).any():
            bad = start[(start < 0) | (start >= logits.shape[1])][:5].tolist()
            raise ValueError(f"deepfool: start_labels must lie in [0, {logits.shape[1]}), got e.g. {bad}")
        labels = start[active]
        now_fooled = logits.detach().argmax(dim=1) != labels
        fooled[active] = now_fooled
        keep = ~now_fooled
        if step == max_iter or not bool(keep.any()):
            break
        grads = _class_gradients(logits, inputs)[keep]  # (m, K, D)
        values = logits.detach()[keep]
        labels, active = labels[keep], active[keep]
        rows = torch.arange(active.shape[0], device=x.device)
        f = values - values[rows, labels].unsqueeze(1)  # (m, K): f_k = logit_k - logit_s
        w = grads - grads[rows, labels].unsqueeze(1)  # (m, K, D): w_k = grad f_k
        w_norm = torch.linalg.vector_norm(w, dim=2)
        safe_norm = torch.where(w_norm > 0, w_norm, torch.ones_like(w_norm))
        # Distance to each linearised boundary; a class whose gap has zero gradient cannot be reached.
        dist = torch.where(w_norm > 0, f.abs() / safe_norm, torch.full_like(f, float("inf")))
        dist[rows, labels] = float("inf")  # the start label is no candidate
        target = dist.argmin(dim=1)
        d_l = dist[rows, target]
        reachable = torch.isfinite(d_l)  # all gradients zero: no step (the sample then stays unfooled)
        step_len = torch.where(reachable, (d_l + step_eps) / safe_norm[rows, target], torch.zeros_like(d_l))
        r_i = (step_len.unsqueeze(1) * w[rows, target]).reshape(-1, *x.shape[1:])
        r_tot[active] = r_tot[active] + r_i
        iterations[active] += 1
        current[active] = clip_box(x[active] + scale * r_tot[active], clip)
    perturbation = current - x if clip else scale * r_tot
    return perturbation, iterations, fooled


def deepfool(
    model: nn.Module,
    x: Tensor,
    start_labels: Tensor,
    *,
    overshoot: float = 0.02,
    max_iter: int = 50,
    step_eps: float = 1e-4,
    clip: bool = False,
    batch_size: int = 500,
) -> DeepFoolResult:
    """Multi-class L2 DeepFool (DeepDefense eq. 1-2 generalised to K classes; module docstring for details).

    Args:
        model: returns (N, K) logits; use it in eval mode (samples must not interact).
        x: (N, C, H, W) inputs.
        start_labels: (N,) labels to move away from (usually the model's predictions at ``x``).
        overshoot: the running total is scaled by 1 + overshoot at every iterate and in the result.
        max_iter: at most this many steps per sample.
        step_eps: added to each step's distance so the iterate crosses the linearised boundary.
        clip: clamp every iterate to [0, 1] (the result is then the clipped iterate minus ``x``).
        batch_size: samples per batch (memory only; results do not depend on it).

    Cost per iteration: one forward and K backward passes over the still-active samples of a batch.
    """
    settings = DeepFoolSettings.parse(
        {"overshoot": overshoot, "max_iter": max_iter, "step_eps": step_eps, "clip": clip}, "deepfool"
    )
    overshoot, max_iter, step_eps, clip = settings.overshoot, settings.max_iter, settings.step_eps, settings.clip
    check_batch_size(batch_size)
    if x.ndim < 2:
        raise ValueError(f"deepfool: x must be batched (N, C, H, W), got shape {tuple(x.shape)}")
    start_labels = torch.as_tensor(start_labels, device=x.device)
    if start_labels.shape != (x.shape[0],) or start_labels.is_floating_point():
        raise ValueError(
            f"deepfool: start_labels must be integer labels of shape ({x.shape[0]},), "
            f"got {start_labels.dtype} of shape {tuple(start_labels.shape)}"
        )
    start_labels = start_labels.long()
    parts = []
    with torch.enable_grad():
        for begin in range(0, x.shape[0], batch_size):
            stop = begin + batch_size
            part = _deepfool_batch(
                model, x[begin:stop], start_labels[begin:stop], float(overshoot), max_iter, float(step_eps), bool(clip)
            )
            parts.append(part)
    if not parts:
        return DeepFoolResult(
            torch.zeros_like(x),
            torch.zeros(0, dtype=torch.int32, device=x.device),
            torch.zeros(0, dtype=torch.bool, device=x.device),
        )
    perturbation, iterations, fooled = (torch.cat(items) for items in zip(*parts, strict=True))
    return DeepFoolResult(perturbation=perturbation, iterations=iterations, fooled=fooled)


def rho_2(perturbation: Tensor, x: Tensor) -> tuple[float, float]:
    """(mean ||r||_2 / ||x||_2, mean ||r||_2) over the given samples.

    The first is DeepDefense eq. 7 (rho_2; the normalisation follows DeepFool's paper); the second is the
    unnormalised rho'_2 of DeepDefense's supplementary eq. 1. Pass the samples to average over (the authors'
    code: every test image).
    """
    if perturbation.shape != x.shape:
        raise ValueError(f"rho_2: perturbation shape {tuple(perturbation.shape)} differs from x shape {tuple(x.shape)}")
    if x.shape[0] == 0:
        raise ValueError("rho_2: no samples to average over")
    r_norm = per_sample_norm(perturbation.double())
    x_norm = per_sample_norm(x.double())
    if bool((x_norm == 0).any()):
        idx = torch.nonzero(x_norm == 0).flatten()[:5].tolist()
        raise ValueError(f"rho_2: ||x||_2 is zero for sample(s) {idx}; the ratio of eq. 7 is undefined")
    return float((r_norm / x_norm).mean()), float(r_norm.mean())


class DeepFool(Attack):
    """DeepFool as an L2 attack: the artifact is the full DeepFool perturbation; at budget epsilon it is
    projected onto the L2 ball of radius epsilon (x + r * min(1, epsilon / ||r||_2)), so a huge epsilon
    gives plain DeepFool."""

    spec = ATTACKS["deepfool"]

    def craft(
        self,
        model: nn.Module,
        x: Tensor,
        y: Tensor,
        epsilons: Sequence[float],
        generator: torch.Generator,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> dict[str, Tensor]:
        p = self.params
        start = predicted_labels(model, x, batch_size) if p.start == "predicted" else y
        result = deepfool(
            model,
            x,
            start,
            overshoot=p.overshoot,
            max_iter=p.max_iter,
            step_eps=p.step_eps,
            clip=p.clip,
            batch_size=batch_size,
        )
        return {
            "perturbation": result.perturbation.float(),
            "fooled": result.fooled,
            "iterations": result.iterations.to(torch.int32),
        }

    def materialise(self, artifact: Mapping[str, Tensor], x: Tensor, epsilon: float, index: int) -> Tensor:
        r = artifact["perturbation"].to(device=x.device, dtype=x.dtype)
        norms = per_sample_norm(r)
        eps = float(epsilon)
        safe = torch.where(norms > 0, norms, torch.ones_like(norms))
        shrink = torch.where(norms > eps, eps / safe, torch.ones_like(norms))  # x + r * min(1, eps / ||r||)
        return clip_box(x + r * expand_like(shrink, r), self.params.clip)
