"""``hldr``: hidden-layer latent disparity regularisation (latent-disparity-regularization.md, sec. III, eq. 3).

Eq. 3, for a fine-tuning pair ``(x, x_a)`` of D (or D_N; :mod:`advreg.methods.pairs`)::

    L = (1 - xi) * L_CE(x) + xi * sum_i |s_i(x) - s_i(x_a)| / sum_i |s_i(x)|

``s_i`` is the output of hidden layer ``i``, every hidden layer of the network (for VGG the post-BN output of
each of the 13 convolutional layers and of the dense layer: :meth:`LayeredClassifier.forward_with_activations`),
``|.|`` the L1 norm. The cross-entropy is that of the benign input, as in the authors' code (whose loss reads
the benign branch's output). Both branches share every weight (Fig. 1) and the penalty is differentiated
through both and through its normaliser.

``normalise: sample`` (default) reads eq. 3 per pair and averages the ratio over the minibatch, as the
cross-entropy; ``batch`` takes one ratio of the minibatch's sums, as the authors' code
(``K.sum(K.abs(benProjs - advProjs)) / K.sum(K.abs(benProjs))``).

BatchNorm (``batchnorm``): ``benign`` (default) normalises the adversarial pass with the benign batch's statistics
(:mod:`advreg.methods.branch_norm`): eq. 3's ``s_i(x_a)`` is the activity of the same network, so a pair with
``x_a = x`` (budget 0) adds exactly nothing to the penalty, in any batch. ``own``: the adversarial inputs pass in
training mode on batch statistics of their own, like the authors' code, whose adversarial branch has BatchNorm
layers of its own (with their own scales and shifts too, which ``own`` shares); a budget-0 pair then adds a
non-zero penalty whenever its batch also holds perturbed pairs. Either way the adversarial pass leaves the running
statistics used at test time as the benign pass set them.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from advreg.methods import METHODS
from advreg.methods.base import Batch
from advreg.methods.branch_norm import BranchStatistics, recording, reusing
from advreg.methods.pairs import PairedMethod, batchnorm_statistics_kept

TINY = 1e-12


def latent_disparity_penalty(
    clean: Mapping[str, torch.Tensor], adversarial: Mapping[str, torch.Tensor], normalise: str = "sample"
) -> torch.Tensor:
    """Eq. 3's regulariser: sum_i |s_i(x) - s_i(x_a)| / sum_i |s_i(x)| over the layers of ``clean``, per sample
    averaged over the batch (``sample``) or as one ratio of the batch's sums (``batch``)."""
    if not clean:
        raise ValueError("HLDR: the model reports no hidden activations")
    diff = sum((clean[name] - adversarial[name]).abs().flatten(1).sum(1) for name in clean)
    total = sum(clean[name].abs().flatten(1).sum(1) for name in clean)
    if normalise == "sample":
        return (diff / total.clamp_min(TINY)).mean()
    if normalise == "batch":
        return diff.sum() / total.sum().clamp_min(TINY)
    raise ValueError(f"HLDR: unknown normalise {normalise!r} (known: sample, batch)")


class HLDR(PairedMethod):
    """HLDR (eq. 3) on the pairs of D (or D_N with ``noise``)."""

    spec = METHODS["hldr"]

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        if not hasattr(model, "forward_with_activations"):
            raise ValueError(f"method 'hldr' needs a model with hidden activations, got {type(model).__name__}")
        x_a = self.partners(batch)
        if self.params.batchnorm == "benign":
            stats = BranchStatistics()
            with recording(model, stats):
                logits, clean = model.forward_with_activations(batch.x)
            with reusing(model, stats):
                _, adversarial = model.forward_with_activations(x_a)
        else:
            logits, clean = model.forward_with_activations(batch.x)
            with batchnorm_statistics_kept(model):
                _, adversarial = model.forward_with_activations(x_a)
        ce = F.cross_entropy(logits, batch.y)
        penalty = latent_disparity_penalty(clean, adversarial, self.params.normalise)
        xi = self.params.xi
        return (1.0 - xi) * ce + xi * penalty, {"ce": ce.item(), "disparity": penalty.item()}
