"""DeepDefense's input space: MatConvNet's preprocessing as the model's input layer, and the space's norms.

DeepDefense trains "as in the MatConvNet examples" (deepdefense.md sec. 4.2-4.3) and its code loads MatConvNet's
preprocessed data (ZiangYan/deepdefense.pytorch README: "we follow [DeepFool] to use matconvnet to pre-process
data"): MatConvNet's ``cnn_mnist.m`` keeps 0-255 pixels and subtracts the per-pixel mean image of the training
set. ||x|| in eq. 3, 6, 7 and 8, rho'_2 (supplementary eq. 1) and the space DeepFool and FGS act in are this
space: supplementary Table 1's rho'_2 over Table 1's rho_2 is 1846-1888 for all eight MNIST models, the mean
||255 x - mean|| of the MNIST test set is 1838 (raw 0-255: 2370; [0, 1] pixels: 9.3); docs/fidelity.md.

The models keep taking [0, 1] pixels (every attack budget stays in [0, 1] pixel units); ``preprocess:
matconvnet`` puts :class:`MeanImageInput` (x -> 255 x - mean) at the start of the first block. Its mean image is a
buffer, fitted once on the training split the model is first trained on (:func:`fit_input_layers`, called by the
training loop; a fitted layer is never refitted), saved in the state dict, so fine-tuned models inherit the
reference's. :func:`input_space` gives the metrics the map: a perturbation r in pixels is ``scale * r`` there
(the map is affine with one scale), an input x is ``layer(x)``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

__all__ = ["MeanImageInput", "InputSpace", "input_space", "input_scale", "fit_input_layers", "with_input_layer"]

PREPROCESS_CHOICES = ("none", "matconvnet")


class MeanImageInput(nn.Module):
    """MatConvNet's preprocessing (``cnn_mnist.m``: ``data - dataMean`` on 0-255 pixels) as an input layer:
    x in [0, 1] -> ``scale * x - mean``, ``mean`` the per-pixel mean image (C, H, W) of ``scale * x`` over the
    training split (buffers ``mean`` and ``fitted``; :meth:`fit`). Running it unfitted is an error."""

    def __init__(self, input_shape: Sequence[int], scale: float = 255.0) -> None:
        super().__init__()
        self.scale = float(scale)
        self.register_buffer("mean", torch.zeros(tuple(input_shape)))
        self.register_buffer("fitted", torch.zeros((), dtype=torch.bool))

    @torch.no_grad()
    def fit(self, x: Tensor) -> None:
        """Set ``mean`` to the per-pixel mean of ``scale * x`` over the samples of ``x`` (N, C, H, W)."""
        if x.ndim != 4 or tuple(x.shape[1:]) != tuple(self.mean.shape) or x.shape[0] == 0:
            raise ValueError(
                f"input layer: cannot fit the mean image {tuple(self.mean.shape)} on data of shape {tuple(x.shape)}"
            )
        self.mean.copy_((self.scale * x.double()).mean(dim=0).to(self.mean.dtype))
        self.fitted.fill_(True)

    def forward(self, x: Tensor) -> Tensor:
        if not bool(self.fitted):
            raise RuntimeError(
                "input layer (preprocess: matconvnet): the mean image is not fitted; fit it on the training split "
                "(advreg.models.preprocess.fit_input_layers; the training loop does) before running the model"
            )
        return self.scale * x - self.mean

    def extra_repr(self) -> str:
        return f"scale={self.scale:g}, mean={tuple(self.mean.shape)}"


@dataclass(frozen=True)
class InputSpace:
    """The space a model's ||x|| is measured in: ``layer`` maps [0, 1] pixels there (None: the pixels
    themselves); a pixel perturbation r is ``scale * r`` there."""

    layer: MeanImageInput | None

    @property
    def scale(self) -> float:
        return 1.0 if self.layer is None else self.layer.scale

    def inputs(self, x: Tensor) -> Tensor:
        """x (in [0, 1] pixels) in this space."""
        return x if self.layer is None else self.layer(x)

    def perturbation(self, r: Tensor) -> Tensor:
        """A pixel perturbation r in this space (the map is affine with one scale)."""
        return r if self.layer is None else self.layer.scale * r


def input_scale(preprocess: str) -> float:
    """The factor from [0, 1] pixels to the input space ``preprocess`` names (255 for matconvnet, else 1)."""
    return 255.0 if preprocess == "matconvnet" else 1.0


def _input_layers(model: nn.Module) -> list[MeanImageInput]:
    return [m for m in model.modules() if isinstance(m, MeanImageInput)]


def input_space(model: nn.Module) -> InputSpace:
    """The space of ``model``'s :class:`MeanImageInput` (at most one), or the [0, 1] pixels if it has none."""
    layers = _input_layers(model)
    if len(layers) > 1:
        raise ValueError(f"model has {len(layers)} MatConvNet input layers; at most one is allowed")
    return InputSpace(layers[0] if layers else None)


def fit_input_layers(model: nn.Module, x: Tensor) -> bool:
    """Fit every unfitted :class:`MeanImageInput` of ``model`` on ``x`` (the training split); True if one was."""
    fitted = False
    for layer in _input_layers(model):
        if not bool(layer.fitted):
            layer.fit(x.to(layer.mean.device))
            fitted = True
    return fitted


def with_input_layer(
    blocks: list[tuple[str, nn.Module]], preprocess: str, input_shape: Sequence[int]
) -> list[tuple[str, nn.Module]]:
    """``blocks`` with a :class:`MeanImageInput` called ``input`` at the start of the first block (an
    ``nn.Sequential``) when ``preprocess`` is ``matconvnet``; unchanged for ``none``. The other layers keep
    their state-dict keys."""
    if preprocess == "none":
        return blocks
    if preprocess != "matconvnet":
        raise ValueError(f"preprocess {preprocess!r} is not one of {PREPROCESS_CHOICES}")
    (name, first), rest = blocks[0], blocks[1:]
    if not isinstance(first, nn.Sequential):
        raise ValueError(f"the first block {name!r} is not an nn.Sequential; cannot put the input layer in it")
    layers = OrderedDict([("input", MeanImageInput(input_shape, input_scale(preprocess))), *first.named_children()])
    return [(name, nn.Sequential(layers)), *rest]
