"""``hgd``: the higher-level representation guided denoiser (latent-disparity-regularization.md, sec. II-C and V;
Liao et al. 2018), feature-guided.

The model must carry a denoiser in front of the network (model kwargs ``denoiser: {...}``:
:class:`advreg.models.denoiser.DenoisedClassifier`; when fine-tuning, the reference's weights are loaded into
it). Only the denoiser is trained, on the pairs of D (or D_N): the target network's parameters are frozen
(``requires_grad`` off, so the optimiser never updates them) and it runs in eval mode (its BatchNorm running
statistics stay too), "so that the target neural network need not be optimized further". The loss is

    | s_f(x) - s_f(x_hat) |_1,   x_hat = x_a - D(x_a),

summed over the layer's units and averaged over the minibatch, with ``s_f`` the output of the target's last
convolutional layer (sec. V: the feature guided denoiser) on the benign ``x`` (no denoiser) and on the denoised
adversarial ``x_hat``. ``guide: logits`` uses the log-softmax output instead, as the authors' code.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from advreg.methods import METHODS
from advreg.methods.base import Batch
from advreg.methods.pairs import PairedMethod


def last_convolutional_layer(network: nn.Module, x: torch.Tensor) -> str:
    """Name of the network's last hidden block with a spatial (N, C, H, W) output."""
    was_training = network.training
    network.eval()
    with torch.no_grad():
        _, activations = network.forward_with_activations(x[:1])
    network.train(was_training)
    spatial = [name for name, a in activations.items() if a.ndim == 4]
    if not spatial:
        raise ValueError("method 'hgd' (feature guide): the network has no convolutional hidden layer")
    return spatial[-1]


class HGD(PairedMethod):
    """HGD: train the denoiser in front of the frozen network to undo the pairs' perturbation (feature-guided)."""

    spec = METHODS["hgd"]
    layer: str = ""

    def setup(self, model: nn.Module, train_x: torch.Tensor, train_y: torch.Tensor) -> None:
        if getattr(model, "denoiser", None) is None or not callable(getattr(model, "target", None)):
            raise ValueError(
                "method 'hgd' needs a model with a denoiser in front (model kwargs denoiser: {width: ..., depth: ...})"
            )
        for name, parameter in model.named_parameters():
            parameter.requires_grad_(name.startswith("denoiser."))
        if self.params.guide == "feature":
            device = next(model.parameters()).device
            self.layer = last_convolutional_layer(model.target(), train_x[:1].to(device))

    def _guide(self, network: nn.Module, x: torch.Tensor) -> torch.Tensor:
        if self.params.guide == "feature":
            return network.forward_to(x, self.layer)
        return F.log_softmax(network(x), dim=1)

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        target = model.target().eval()  # the frozen network: eval mode, shared modules (the denoiser keeps its mode)
        x_a = self.partners(batch)
        with torch.no_grad():
            guide_clean = self._guide(target, batch.x)
        guide_denoised = self._guide(target, model.denoiser(x_a))
        loss = (guide_clean - guide_denoised).abs().flatten(1).sum(1).mean()
        return loss, {"guide_l1": loss.item()}
