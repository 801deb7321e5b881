"""``agnt``: training on AGN-perturbed inputs (latent-disparity-regularization.md, sec. II-E and IV; Gilmer et al.
2019, Zantedeschi et al. 2017).

"A model trained *only* on AGN-perturbed examples (i.e., D_N minus D)": the cross-entropy of ``x_n = x + n``,
``n ~ N(0, sigma^2)`` per pixel (sigma = 32/255), one noisy copy per fine-tuning sample drawn once
(:func:`advreg.methods.pairs.agn_copies`: the same copies as the D_N pairs of the fold's other methods).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from advreg.methods import METHODS
from advreg.methods.base import Batch, Method
from advreg.methods.pairs import agn_copies
from advreg.splits import Split


class AGNT(Method):
    """AGNT: mean cross-entropy on the fold's AGN-perturbed fine-tuning samples."""

    spec = METHODS["agnt"]

    def prepare_data(self, train: Split, model: nn.Module) -> Split:
        p = self.params
        return Split(agn_copies(train, p.sigma, p.noise_seed, p.clip), train.y.clone(), train.index.clone())

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        return F.cross_entropy(model(batch.x), batch.y), {}
