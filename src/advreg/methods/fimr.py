"""``fimr``: regularisation by the Fisher information of the output (latent-disparity-regularization.md, sec. II-D,
eq. 2; Shen et al. 2019)::

    L = (1 - zeta) * L_CE + zeta * sum_{classes j} 1 / p_j

with ``p_j`` the model's softmax probabilities (``sum_j 1/p_j`` approximates the trace of the FIM). Trained on
the benign fine-tuning samples only ("as in [23], Shen et al.'s model is trained using only the benign samples",
sec. IV), and with ``noise`` on them and their AGN copies x_n (the D_N experiment). ``1/p_j`` is computed as
``exp(-log_softmax)`` in float64, so tiny probabilities give large but finite terms.

``reduction: mean`` (default) averages the per-sample term over the minibatch like the cross-entropy (eq. 2 per
sample); ``batch_sum`` sums it over the minibatch, as the authors' code (``K.sum(ps)`` beside Keras' mean
cross-entropy).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from advreg.methods import METHODS
from advreg.methods.base import Batch, Method
from advreg.methods.pairs import agn_copies
from advreg.splits import Split


def inverse_probability_sum(logits: torch.Tensor) -> torch.Tensor:
    """sum_j 1 / p_j per sample (eq. 2's penalty), computed in float64."""
    return torch.exp(-F.log_softmax(logits.double(), dim=1)).sum(1)


class FIMR(Method):
    """FIMR (eq. 2) on the benign fine-tuning samples (plus their AGN copies with ``noise``)."""

    spec = METHODS["fimr"]

    def prepare_data(self, train: Split, model: nn.Module) -> Split:
        if not self.params.noise:
            return train
        p = self.params
        noisy = agn_copies(train, p.sigma, p.noise_seed, p.clip)
        return Split(torch.cat([train.x, noisy]), train.y.repeat(2), torch.arange(2 * train.x.shape[0]))

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        logits = model(batch.x)
        ce = F.cross_entropy(logits, batch.y)
        inverse = inverse_probability_sum(logits)
        penalty = (inverse.mean() if self.params.reduction == "mean" else inverse.sum()).to(ce.dtype)
        zeta = self.params.zeta
        return (1.0 - zeta) * ce + zeta * penalty, {"ce": ce.item(), "fim_trace": inverse.mean().item()}
