"""``rect``, ``l1``, ``l2``: DataGrad's baseline and its classical weight-penalty comparisons (datagrad.md, sec. 3).

- ``rect``: "the baseline sparse rectifier network, *Rect*": mean cross-entropy on clean inputs, the same
  objective as ``plain`` under the paper's name.
- ``l1`` / ``l2``: "traditional L1 and L2 regularization of the network parameters (L1 and L2,
  respectively)", appendix rows "L1 lambda" / "L2 lambda"::

      L1:  mean CE + lam * sum_W sum_ij |W_ij|
      L2:  mean CE + lam * sum_W sum_ij W_ij^2

  The paper gives no formula; we use the textbook forms. Only weight matrices and convolution kernels are
  penalised (parameters with ``ndim >= 2``); biases and BatchNorm scales/shifts (1-d) are not, as is usual
  for weight penalties. The penalty is a plain sum (not a mean) over all those entries and carries no
  factor 1/2, so with plain SGD ``l2`` equals weight decay ``2 * lam`` on the weights only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from advreg.methods import METHODS
from advreg.methods.base import Batch, Method
from advreg.methods.plain import Plain


class Rect(Plain):
    """DataGrad's *Rect* baseline (sec. 3): identical objective to ``plain`` (mean cross-entropy)."""

    spec = METHODS["rect"]


def penalised_weights(model: nn.Module) -> list[torch.Tensor]:
    """The parameters a weight penalty acts on: weight matrices and kernels (``ndim >= 2``), trainable only."""
    return [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]


class _WeightPenalty(Method):
    power: int = 1

    def penalty(self, model: nn.Module) -> torch.Tensor:
        weights = penalised_weights(model)
        if self.power == 1:
            terms = [w.abs().sum() for w in weights]
        else:
            terms = [w.pow(2).sum() for w in weights]
        return torch.stack(terms).sum() if terms else torch.zeros(())

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        ce = F.cross_entropy(model(batch.x), batch.y)
        penalty = self.penalty(model)
        return ce + self.params.lam * penalty, {"ce": ce.item(), "penalty": penalty.item()}


class L1(_WeightPenalty):
    """DataGrad's *L1* comparison: mean CE + lam * sum |W| over weight matrices/kernels (biases excluded)."""

    spec = METHODS["l1"]
    power = 1


class L2(_WeightPenalty):
    """DataGrad's *L2* comparison: mean CE + lam * sum W^2 over weight matrices/kernels (biases excluded)."""

    spec = METHODS["l2"]
    power = 2
