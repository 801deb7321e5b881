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

One loop serves the attack (:func:`deepfool`, detached) and DeepDefense's regulariser (:func:`unrolled_deepfool`,
every step kept in the autograd graph, sec. 3.3); both take the class gradients from :func:`class_gradients`
(a backward pass per class, or all classes in one batched pass) and the step from :func:`linearised_step`.
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


def class_gradients(
    logits: Tensor, inputs: Tensor, classes: Tensor | None = None, *, batched: bool = False, retain_graph: bool = False
) -> Tensor:
    """(n, m, D): input gradients of logits, row i holding grad_x logit_c(x_i) for c = ``classes[i, j]``, j < m
    (``classes`` (n, m) long; None: every class, m = K, c = j).

    Samples must not interact (models in eval mode, or BatchNorm frozen), so one backward pass whose cotangent
    selects one logit per row gives every sample's gradient of its logit. ``batched``: one backward pass for all m
    at once (``is_grads_batched``: the m cotangents are vmapped through the backward graph); otherwise one
    backward pass per column. Same numbers either way (benchmarks/deepdefense.py times both).
    ``retain_graph``: keep the forward graph for a later backward pass (the unrolled regulariser's).
    """
    n, num_classes = logits.shape
    if classes is None:
        if batched:
            basis = torch.eye(num_classes, dtype=logits.dtype, device=logits.device).unsqueeze(1).expand(-1, n, -1)
            return _batched_gradients(logits, inputs, basis, retain_graph)
        rows = []
        for k in range(num_classes):
            (grad,) = torch.autograd.grad(
                logits[:, k].sum(),
                inputs,
                retain_graph=retain_graph or k < num_classes - 1,
                allow_unused=True,
                materialize_grads=True,
            )
            rows.append(grad.flatten(1))
        return torch.stack(rows, dim=1)
    m = classes.shape[1]
    basis = torch.zeros(m, n, num_classes, dtype=logits.dtype, device=logits.device)
    basis.scatter_(2, classes.T.unsqueeze(2), 1.0)  # basis[j, i] = one-hot of classes[i, j]
    if batched:
        return _batched_gradients(logits, inputs, basis, retain_graph)
    rows = []
    for j in range(m):
        (grad,) = torch.autograd.grad(
            logits,
            inputs,
            grad_outputs=basis[j],
            retain_graph=retain_graph or j < m - 1,
            allow_unused=True,
            materialize_grads=True,
        )
        rows.append(grad.flatten(1))
    return torch.stack(rows, dim=1)


def _batched_gradients(logits: Tensor, inputs: Tensor, basis: Tensor, retain_graph: bool) -> Tensor:
    (grad,) = torch.autograd.grad(
        logits,
        inputs,
        grad_outputs=basis,
        is_grads_batched=True,
        retain_graph=retain_graph,
        allow_unused=True,
        materialize_grads=True,
    )
    return grad.flatten(2).transpose(0, 1)


def nearest_boundary(logits: Tensor, grads: Tensor, labels: Tensor, candidates: Tensor) -> tuple[Tensor, Tensor]:
    """The class whose linearised boundary with ``labels`` is nearest, per row: (l (m,), reachable (m,) bool).

    ``logits`` (m, K) and ``grads`` (m, K, D) at the current iterate; ``labels`` (m,) the class to move away
    from; ``candidates`` (m, K) bool, the classes whose boundary may be chosen. With f_k = logit_k - logit_s and
    w_k = grad f_k, l = argmin over candidates of |f_k| / ||w_k||_2; a class whose w_k = 0 cannot be reached, and
    a row with no reachable candidate is not ``reachable``.
    """
    rows = torch.arange(logits.shape[0], device=logits.device)
    with torch.no_grad():
        f = logits - logits[rows, labels].unsqueeze(1)  # (m, K): f_k = logit_k - logit_s
        w = grads - grads[rows, labels].unsqueeze(1)  # (m, K, D): w_k = grad f_k
        w_norm = torch.linalg.vector_norm(w, dim=2)
        safe_norm = torch.where(w_norm > 0, w_norm, torch.ones_like(w_norm))
        dist = torch.where((w_norm > 0) & candidates, f.abs() / safe_norm, torch.full_like(f, float("inf")))
        target = dist.argmin(dim=1)
        return target, torch.isfinite(dist[rows, target])


def boundary_step(f_l: Tensor, w_l: Tensor, reachable: Tensor, step_eps: float) -> Tensor:
    """Eq. 2 for the pair (s, l): r = (|f_l| / ||w_l||_2 + step_eps) * w_l / ||w_l||_2, (m, D); zero where not
    ``reachable``. Differentiable in ``f_l`` (m,) and ``w_l`` (m, D)."""
    norm_l = torch.linalg.vector_norm(w_l, dim=1)
    safe_l = torch.where(reachable, norm_l, torch.ones_like(norm_l))
    step_len = torch.where(reachable, (f_l.abs() / safe_l + step_eps) / safe_l, torch.zeros_like(norm_l))
    return step_len.unsqueeze(1) * w_l


def _check_labels(labels: Tensor, num_classes: int, what: str, allow_negative: bool = False) -> None:
    low = -1 if allow_negative else 0
    bad = (labels < low) | (labels >= num_classes)
    if bool(bad.any()):
        raise ValueError(f"deepfool: {what} must lie in [{low}, {num_classes}), got e.g. {labels[bad][:5].tolist()}")


def _deepfool_batch(
    model: nn.Module,
    x: Tensor,
    start: Tensor,
    overshoot: float,
    max_iter: int,
    step_eps: float,
    clip: bool,
    *,
    target: Tensor | None = None,
    differentiable: bool = False,
    batched: bool = False,
    top_classes: int = 0,
) -> tuple[Tensor, Tensor, Tensor]:
    """The DeepFool loop of one batch (module docstring). ``target`` (N,): -1 for untargeted rows (move away
    from ``start``, all other classes candidates, done when argmax != start); a class c >= 0 for rows driven
    towards c (from the current prediction, c the only candidate, done when argmax == c: DeepDefense's
    misclassified training samples). ``differentiable``: keep the whole unrolled computation in the graph
    (the perturbation is then a differentiable function of the model's parameters). ``top_classes`` k > 0: an
    untargeted row considers only the k classes with the highest logits at x besides its start label, fixed
    for all steps (LTS4's ``num_classes`` = k + 1), and the gradients of only those k + 1 logits are computed."""
    n = x.shape[0]
    x = x.detach()
    scale = 1.0 + overshoot
    r_tot = torch.zeros_like(x)
    current = x  # the iterate: clip(x + (1 + overshoot) * r_tot)
    iterations = torch.zeros(n, dtype=torch.int32, device=x.device)
    fooled = torch.zeros(n, dtype=torch.bool, device=x.device)
    active = torch.arange(n, device=x.device)  # samples still moving; the others are frozen
    for step in range(max_iter + 1):
        inputs = current[active]
        if not (differentiable and inputs.requires_grad):
            inputs = inputs.detach().requires_grad_(True)
        logits = model(inputs)
        if logits.ndim != 2:
            raise ValueError(f"deepfool: the model must return (N, K) logits, got shape {tuple(logits.shape)}")
        num_classes = logits.shape[1]
        if step == 0:
            _check_labels(start, num_classes, "start_labels")
            if target is not None:
                _check_labels(target, num_classes, "target labels", allow_negative=True)
            pool = None  # per row: the classes considered besides the start label (None: all)
            if 0 < top_classes < num_classes - 1:
                ranked = logits.detach().clone()
                ranked[torch.arange(n, device=x.device), start] = float("-inf")
                pool = ranked.topk(top_classes, dim=1).indices
        predicted = logits.detach().argmax(dim=1)
        labels = start[active]
        if target is None:
            now_fooled = predicted != labels
        else:
            goal = target[active]
            towards = goal >= 0
            now_fooled = torch.where(towards, predicted == goal, predicted != labels)
            labels = torch.where(towards, predicted, labels)  # targeted rows move from the current prediction
        fooled[active] = now_fooled
        keep = ~now_fooled
        if step == max_iter or not bool(keep.any()):
            break
        # The class gradients, detached: they only choose the target l (and, for the attack, give w_l).
        classes = None  # (rows, 1 + k): the start label, then the classes considered; None: all K
        if pool is not None:
            classes = torch.cat([labels.unsqueeze(1), pool[active]], dim=1)
            if target is not None:
                towards = target[active] >= 0
                classes[towards, 1:] = target[active][towards].unsqueeze(1)
        grads = class_gradients(logits, inputs, classes, batched=batched, retain_graph=differentiable)[keep]
        values = (logits.detach() if classes is None else logits.detach().gather(1, classes))[keep]
        labels, active = labels[keep], active[keep]
        rows = torch.arange(active.shape[0], device=x.device)
        candidates = torch.ones_like(values, dtype=torch.bool)
        if classes is None:
            columns = labels  # column of the start label in values / grads
            candidates[rows, labels] = False  # the start label is no candidate
            if target is not None:
                goal = target[active]
                towards = goal >= 0
                one_hot = torch.zeros_like(candidates)
                one_hot[towards, goal[towards]] = True
                candidates = torch.where(towards.unsqueeze(1), one_hot, candidates)
        else:
            classes = classes[keep]
            columns = torch.zeros_like(labels)
            candidates[:, 0] = False
            if target is not None:
                candidates[target[active] >= 0, 2:] = False  # targeted rows: column 1 is the goal
        chosen_column, reachable = nearest_boundary(values, grads, columns, candidates)
        chosen = chosen_column if classes is None else classes[rows, chosen_column]
        if differentiable:
            # Only the chosen gap is differentiated, through one backward pass with create_graph: f_l and
            # w_l = grad f_l as functions of the weights (and of the iterate, itself a function of them).
            kept = keep.nonzero().squeeze(1)
            gap = logits[kept, chosen] - logits[kept, labels]
            (w_l,) = torch.autograd.grad(
                gap.sum(), inputs, create_graph=True, allow_unused=True, materialize_grads=True
            )
            r_i = boundary_step(gap, w_l[kept].flatten(1), reachable, step_eps)
        else:
            f_l = values[rows, chosen_column] - values[rows, columns]
            r_i = boundary_step(f_l, grads[rows, chosen_column] - grads[rows, columns], reachable, step_eps)
        r_tot = r_tot.index_add(0, active, r_i.reshape(-1, *x.shape[1:]))
        iterations[active] += 1
        current = clip_box(x + scale * r_tot, clip)
    perturbation = current - x if clip else scale * r_tot
    return perturbation, iterations, fooled


def _labels(labels: Tensor, x: Tensor, what: str) -> Tensor:
    labels = torch.as_tensor(labels, device=x.device)
    if labels.shape != (x.shape[0],) or labels.is_floating_point():
        raise ValueError(
            f"deepfool: {what} must be integer labels of shape ({x.shape[0]},), "
            f"got {labels.dtype} of shape {tuple(labels.shape)}"
        )
    return labels.long()


def _top_classes(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise ValueError(f"deepfool: top_classes must be an integer >= 0 (0: every class), got {k!r}")
    return k


def _settings(overshoot: float, max_iter: int, step_eps: float, clip: bool, x: Tensor) -> DeepFoolSettings:
    if x.ndim < 2:
        raise ValueError(f"deepfool: x must be batched (N, C, H, W), got shape {tuple(x.shape)}")
    return DeepFoolSettings.parse(
        {"overshoot": overshoot, "max_iter": max_iter, "step_eps": step_eps, "clip": clip}, "deepfool"
    )


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
    batched: bool = False,
    top_classes: int = 0,
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
        batched: all K class gradients in one backward pass (:func:`class_gradients`; same results).
        top_classes: consider only the k most likely classes besides the start label (0: all; LTS4's
            ``num_classes`` = k + 1).

    Cost per iteration: one forward and K backward passes (or one batched one) over the still-active samples.
    """
    s = _settings(overshoot, max_iter, step_eps, clip, x)
    check_batch_size(batch_size)
    start_labels = _labels(start_labels, x, "start_labels")
    parts = []
    with torch.enable_grad():
        for begin in range(0, x.shape[0], batch_size):
            stop = begin + batch_size
            part = _deepfool_batch(
                model,
                x[begin:stop],
                start_labels[begin:stop],
                float(s.overshoot),
                s.max_iter,
                float(s.step_eps),
                bool(s.clip),
                batched=batched,
                top_classes=_top_classes(top_classes),
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


def unrolled_deepfool(
    model: nn.Module,
    x: Tensor,
    start_labels: Tensor,
    target_labels: Tensor | None = None,
    *,
    overshoot: float = 0.02,
    max_iter: int = 5,
    step_eps: float = 0.0,
    clip: bool = False,
    batched: bool = False,
    top_classes: int = 0,
) -> DeepFoolResult:
    """DeepFool as a differentiable function of the model's parameters: DeepDefense's "recursive-flavoured
    network" (sec. 3.3, Fig. 1), by autograd instead of hand-written "reverse" layers.

    The same loop as :func:`deepfool` (one batch, no splitting), with every step kept in the graph: the class
    gradients w_k come from a backward pass with ``create_graph`` (ReLU masks and max-pooling indices are
    constants of it, as the weight- and index-sharing of Fig. 1), each step r_i is a differentiable function of
    the logits and of w at the iterate, and each iterate x + (1 + overshoot) * r_tot depends on the earlier
    steps. Which class each step aims at, and when a sample stops, are constants (argmin/argmax), as in the
    authors' code. ``target_labels`` (N,), optional: -1 for untargeted rows, a class c >= 0 for rows driven
    towards c from their current prediction (DeepDefense's misclassified training samples, FIDELITY.md).
    ``top_classes`` k > 0: untargeted rows consider only the k most likely classes besides their start label.
    ``perturbation`` of the result carries the graph; ``iterations`` and ``fooled`` are plain.
    """
    s = _settings(overshoot, max_iter, step_eps, clip, x)
    start_labels = _labels(start_labels, x, "start_labels")
    target = None if target_labels is None else _labels(target_labels, x, "target_labels")
    with torch.enable_grad():
        perturbation, iterations, fooled = _deepfool_batch(
            model,
            x,
            start_labels,
            float(s.overshoot),
            s.max_iter,
            float(s.step_eps),
            bool(s.clip),
            target=target,
            differentiable=True,
            batched=batched,
            top_classes=_top_classes(top_classes),
        )
    return DeepFoolResult(perturbation=perturbation, iterations=iterations, fooled=fooled)


def rho_2_per_point(perturbation: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
    """Per sample, (||r||_2 / ||x||_2, ||r||_2) in float64: the terms whose means are :func:`rho_2`'s."""
    if perturbation.shape != x.shape:
        raise ValueError(f"rho_2: perturbation shape {tuple(perturbation.shape)} differs from x shape {tuple(x.shape)}")
    if x.shape[0] == 0:
        raise ValueError("rho_2: no samples to average over")
    r_norm = per_sample_norm(perturbation.double())
    x_norm = per_sample_norm(x.double())
    if bool((x_norm == 0).any()):
        idx = torch.nonzero(x_norm == 0).flatten()[:5].tolist()
        raise ValueError(f"rho_2: ||x||_2 is zero for sample(s) {idx}; the ratio of eq. 7 is undefined")
    return r_norm / x_norm, r_norm


def rho_2(perturbation: Tensor, x: Tensor) -> tuple[float, float]:
    """(mean ||r||_2 / ||x||_2, mean ||r||_2) over the given samples.

    The first is DeepDefense eq. 7 (rho_2; the normalisation follows DeepFool's paper); the second is the
    unnormalised rho'_2 of DeepDefense's supplementary eq. 1. Pass the samples to average over (the authors'
    code: every test image). Per sample: :func:`rho_2_per_point`.
    """
    ratios, norms = rho_2_per_point(perturbation, x)
    return float(ratios.mean()), float(norms.mean())


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
