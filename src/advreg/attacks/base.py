"""The interface every attack implements, and the small tensor helpers attacks share.

An attack is run once per (attacker model, attack) by the attack rule, which stores what :meth:`Attack.craft`
returns; every target model is then evaluated on :meth:`Attack.materialise` of that artifact at each budget.
Splitting the two lets an attack store its result compactly: FGSM's sign pattern or a normalised gradient
direction does not depend on the budget, so one stored pattern serves every epsilon; attacks whose result
does depend on it (PGD) store one perturbation per budget (axis 1 of the artifact).

Conventions: inputs are (N, C, H, W) float in [0, 1]; every tensor of an artifact has the sample axis first,
so sets can be evaluated in slices; ``norm`` says what epsilon measures ("linf", "l2", or "sigma" for noise).
An attack's name, norm and parameters are declared in :mod:`advreg.attacks.catalog`; a subclass points at its
entry with ``spec = ATTACKS["name"]``. ``batch_size`` (samples per gradient computation) is a runtime setting:
it changes memory use, never results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from advreg.attacks.catalog import AttackSpec
from advreg.params import Params

DEFAULT_BATCH_SIZE = 500


class Attack:
    spec: ClassVar[AttackSpec]

    def __init__(self, params: Mapping[str, Any] | Params | None = None) -> None:
        self.params = self.spec.parse(params)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def norm(self) -> str:
        return self.spec.norm

    def craft(
        self,
        model: nn.Module,
        x: torch.Tensor,
        y: torch.Tensor,
        epsilons: Sequence[float],
        generator: torch.Generator,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> dict[str, Tensor]:
        """Compute the stored artifact for inputs ``x`` and labels ``y`` (``generator`` for any randomness,
        on the CPU; draw with it and move the result to ``x.device`` for device-independent results)."""
        raise NotImplementedError

    def materialise(self, artifact: Mapping[str, Tensor], x: Tensor, epsilon: float, index: int) -> Tensor:
        """Adversarial inputs at budget ``epsilon`` (the ``index``-th of the crafted budgets)."""
        raise NotImplementedError

    def adversarial(self, artifact: Mapping[str, Tensor], x: Tensor, epsilon: float, index: int) -> Tensor:
        """:meth:`materialise`, with the points an artifact marks as not to perturb (``keep``, (N,) bool: the
        points the attacker misclassifies when clean, under ``evaluation.perturb: correct``) left clean."""
        adv = self.materialise(artifact, x, epsilon, index)
        if "keep" not in artifact:
            return adv
        keep = artifact["keep"].to(x.device).reshape(-1, *([1] * (x.ndim - 1)))
        return torch.where(keep, x, adv)


def input_gradient(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Gradient of the summed cross-entropy with respect to the inputs, computed in batches.

    The sum (not the mean) makes each sample's gradient independent of the batch size.
    """
    grads = []
    for start in range(0, x.shape[0], batch_size):
        xb = x[start : start + batch_size].detach().clone().requires_grad_(True)
        loss = nn.functional.cross_entropy(model(xb), y[start : start + batch_size], reduction="sum")
        (grad,) = torch.autograd.grad(loss, xb)
        grads.append(grad)
    return torch.cat(grads) if grads else torch.empty_like(x)


def predicted_labels(model: nn.Module, x: torch.Tensor, batch_size: int) -> torch.Tensor:
    """argmax of the logits, computed in batches without gradients."""
    with torch.no_grad():
        parts = [model(x[s : s + batch_size]).argmax(dim=1) for s in range(0, x.shape[0], batch_size)]
    return torch.cat(parts) if parts else torch.zeros(0, dtype=torch.long, device=x.device)


def per_sample_norm(v: torch.Tensor, p: float = 2.0) -> torch.Tensor:
    """Norm of each sample (all axes but the first): shape (N,)."""
    return torch.linalg.vector_norm(v.flatten(1), ord=p, dim=1)


def expand_like(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(N,) -> (N, 1, 1, ...) broadcastable against ``like``."""
    return values.reshape(-1, *([1] * (like.ndim - 1)))


def l2_normalise(v: torch.Tensor, tiny: float = 1e-12) -> torch.Tensor:
    """Each sample divided by its L2 norm; an all-zero sample stays zero."""
    norms = per_sample_norm(v)
    return v / expand_like(torch.where(norms > tiny, norms, torch.ones_like(norms)), v)


def clip_box(x: torch.Tensor, enabled: bool) -> torch.Tensor:
    """Clamp to the [0, 1] pixel box when ``enabled``."""
    return x.clamp(0.0, 1.0) if enabled else x


def check_batch_size(batch_size: int) -> int:
    """A positive integer (ValueError otherwise): the runtime's samples per gradient computation."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    return batch_size
