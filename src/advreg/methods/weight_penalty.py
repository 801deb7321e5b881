"""``rect``, ``l1``, ``l2``: DataGrad's baseline and its classical weight-penalty comparisons (datagrad.md, sec. 3).

- ``rect``: "the baseline sparse rectifier network, *Rect*": mean cross-entropy on clean inputs, the same
  objective as ``plain`` under the paper's name.
- ``l1`` / ``l2``: "traditional L1 and L2 regularization of the network parameters (L1 and L2,
  respectively)", appendix rows "L1 lambda" / "L2 lambda". The paper gives no formula. With ``reduction:
  batch_sum`` (the default) lambda weighs the penalty against the minibatch's *summed* cross-entropy, the
  objective of a minibatch of B samples being ``sum_i CE_i + lam * P(W)``; the loop minimises it divided by B::

      L1:  mean CE + (lam / B) * sum_W sum_ij |W_ij|
      L2:  mean CE + (lam / B) * sum_W sum_ij W_ij^2

  This is the reading that makes the appendix rows plausible (docs/fidelity.md): against the *mean*
  cross-entropy (``reduction: mean``, the textbook form) lam = 0.1 is a penalty of about 7,400 at He
  initialisation and drives every weight of the 3 x 784 network to zero within a few steps (measured: 9.3%
  accuracy after 5 epochs on Fashion-MNIST already at lam = 0.01), where the paper reports 93.90% for
  "L1 lambda = 0.1"; averaged over the weights (overall or per layer) the penalty has no measurable effect at
  any lam of the paper's grid, where the paper reports strong robustness from lam = 0.01 on.

  Only weight matrices and convolution kernels are penalised (parameters with ``ndim >= 2``); biases and
  BatchNorm scales/shifts (1-d) are not, as is usual for weight penalties. The penalty carries no factor 1/2,
  so with plain SGD ``l2`` is weight decay ``2 * lam / B`` on the weights only.
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

    def weight(self, batch_size: int) -> float:
        """The penalty's weight against the mean cross-entropy of a minibatch of ``batch_size`` samples."""
        return self.params.lam / batch_size if self.params.reduction == "batch_sum" else self.params.lam

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        ce = F.cross_entropy(model(batch.x), batch.y)
        penalty = self.penalty(model)
        return ce + self.weight(batch.x.shape[0]) * penalty, {"ce": ce.item(), "penalty": penalty.item()}


class L1(_WeightPenalty):
    """DataGrad's *L1* comparison: mean CE + (lam / B) * sum |W| over weight matrices/kernels (biases excluded)."""

    spec = METHODS["l1"]
    power = 1


class L2(_WeightPenalty):
    """DataGrad's *L2* comparison: mean CE + (lam / B) * sum W^2 over weight matrices/kernels (biases excluded)."""

    spec = METHODS["l2"]
    power = 2
