"""The interface every training method implements.

A method turns a batch into a scalar loss; the generic loop (:mod:`advreg.training.loop`) owns the
optimizer, schedule, divergence checks and model selection. Methods that need more than a loss (a
projection after each step, as in Parseval training, or a precomputed adversarial training set, as in
DeepDefense's adversarial training) override :meth:`Method.setup` or :meth:`Method.after_step`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from advreg.parameterised import Parameterised


@dataclass
class Batch:
    """A minibatch: model inputs in [0, 1] (N, C, H, W), int64 labels, and indices into the training set."""

    x: torch.Tensor
    y: torch.Tensor
    index: torch.Tensor


class Method(Parameterised):
    """Base class of training methods. Subclasses set ``name`` and ``defaults`` and implement :meth:`loss`."""

    kind: ClassVar[str] = "method"

    def setup(self, model: nn.Module, train_x: torch.Tensor, train_y: torch.Tensor) -> None:
        """Called once before training (e.g. to precompute a fixed adversarial training set)."""

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        """Scalar loss to minimise on this batch, and extra scalars to log."""
        raise NotImplementedError

    def after_step(self, model: nn.Module) -> None:
        """Called after each optimizer step (e.g. a projection)."""
