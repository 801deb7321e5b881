"""The interface every training method implements.

A method turns a batch into a scalar loss; the generic loop (:mod:`advreg.training.loop`) owns the
optimizer, schedule, divergence checks and model selection. Methods that need more than a loss (a
projection after each step, as in Parseval training, or a precomputed adversarial training set, as in
DeepDefense's adversarial training) override :meth:`Method.setup` or :meth:`Method.after_step`. Methods
that train on a transformed training set (DataGrad's multitask models, trained on five rotated copies of
every sample, footnote 4) override :meth:`Method.prepare_data`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from advreg.parameterised import Parameterised
from advreg.splits import Split


@dataclass
class Batch:
    """A minibatch: model inputs in [0, 1] (N, C, H, W), int64 labels, and indices into the training set."""

    x: torch.Tensor
    y: torch.Tensor
    index: torch.Tensor


class Method(Parameterised):
    """Base class of training methods. Subclasses set ``name`` and ``defaults`` and implement :meth:`loss`."""

    kind: ClassVar[str] = "method"

    def prepare_data(self, train: Split) -> Split:
        """Called once by the loop before :meth:`setup`; the split it returns is the one trained on.

        The default returns ``train`` unchanged. An override may return an expanded split; its ``index``
        is what :attr:`Batch.index` carries, so per-sample data kept on the method (e.g. auxiliary labels)
        can be looked up by it. Validation data are not passed through this hook.
        """
        return train

    def setup(self, model: nn.Module, train_x: torch.Tensor, train_y: torch.Tensor) -> None:
        """Called once before training (e.g. to precompute a fixed adversarial training set)."""

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        """Scalar loss to minimise on this batch, and extra scalars to log."""
        raise NotImplementedError

    def after_step(self, model: nn.Module) -> None:
        """Called after each optimizer step (e.g. a projection)."""
