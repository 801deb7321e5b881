"""``plain``: mean cross-entropy on clean inputs, no regularizer.

This is the baseline every paper compares against: DataGrad's *Rect* (sec. 3), LWA's *Normal*
(sec. 7.2), DeepDefense's *Clean* fine-tuning curve (Fig. 2) and HLDR's undefended model (sec. IV).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from advreg.methods import METHODS
from advreg.methods.base import Batch, Method


class Plain(Method):
    spec = METHODS["plain"]

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        logits = model(batch.x)
        loss = F.cross_entropy(logits, batch.y)
        return loss, {}
