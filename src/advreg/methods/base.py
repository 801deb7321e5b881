"""The interface every training method implements.

A method turns a batch into a scalar loss; the generic loop (:mod:`advreg.training.loop`) owns the
optimizer, schedule, divergence checks and model selection. Methods that need more than a loss (a
projection after each step, as in Parseval training, or a precomputed adversarial training set, as in
DeepDefense's adversarial training) override :meth:`Method.setup` or :meth:`Method.after_step`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn


@dataclass
class Batch:
    """A minibatch: model inputs in [0, 1] (N, C, H, W), int64 labels, and indices into the training set."""

    x: torch.Tensor
    y: torch.Tensor
    index: torch.Tensor


class Method:
    """Base class: plain cross-entropy, no regularizer. Subclasses set ``name`` and ``defaults``."""

    name: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, params: dict[str, Any] | None = None):
        unknown = sorted(set(params or {}) - set(self.defaults))
        if unknown:
            raise ValueError(f"unknown parameter(s) {unknown} for method '{self.name}' (known: {sorted(self.defaults) or 'none'})")
        self.params = {**self.defaults, **(params or {})}

    def setup(self, model: nn.Module, train_x: torch.Tensor, train_y: torch.Tensor) -> None:
        """Called once before training (e.g. to precompute a fixed adversarial training set)."""

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        """Scalar loss to minimise on this batch, and extra scalars to log."""
        raise NotImplementedError

    def after_step(self, model: nn.Module) -> None:
        """Called after each optimizer step (e.g. a projection)."""
