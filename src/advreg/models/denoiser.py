"""HGD's denoiser: a small U-Net in front of a classifier (latent-disparity-regularization.md, sec. II-C and V;
Liao et al. 2018, "DUNET").

The denoiser estimates the adversarial noise and subtracts it: ``x_hat = x - D(x)`` (Liao et al. eq. 1's
``x_hat = x* - dx_hat``). ``D`` is an encoder-decoder with lateral connections: ``depth`` levels below the
first, each halving the resolution (stride-2 first convolution) and doubling the channels up to ``max_width``;
the decoder upsamples (nearest, to the lateral input's size, so odd sizes such as 7 x 7 work), concatenates the
lateral features and convolves. Every convolution is 3 x 3 -> BN -> ReLU (Liao's C block), two per block on the
first level and ``convs`` per block below it; a final 1 x 1 convolution maps to the image's channels. It is
zero-initialised, so a fresh denoiser is the identity and the defended model starts as the reference it wraps
(our choice: the paper does not say how the denoiser starts).

Liao et al.'s DUNET (their Fig. 3; the authors' ``HLRGD_VGG_16.py``: ``numberOfFilters = [64, 128, 256, 256,
256, 256, 256, 128, 64]``) is ``width 64, depth 4, max_width 256, convs 3``: encoder C2(64), C3(128), C3(256),
C3(256), C3(256), decoder C3(256), C3(256), C3(128), C2(64). With ``bias: true`` (the authors' Keras
convolutions) it has 11,037,569 parameters on one-channel images, and with the Fashion-MNIST VGG (14,990,794)
exactly the paper's 26,028,363 (sec. VI; weights, biases and BN scales and shifts, as ``model.parameters()``
counts them). The small default (width 16, depth 2, two convolutions, no bias) keeps the reduced preset cheap.

:class:`DenoisedClassifier` puts it in front of a :class:`LayeredClassifier`: every forward method runs the
denoiser first, and the hidden activations it reports are the classifier's own (never the denoiser's), so
latent disparities of a denoised model are measured in the target network on denoised inputs. The denoiser's
parameters live under ``denoiser.*`` in the state dict; the classifier's keys are unchanged, so a reference's
weights load into the denoised model (:func:`advreg.stages.train.extend_reference`).
"""

from __future__ import annotations

from collections import OrderedDict

import torch.nn.functional as F
from torch import Tensor, nn

from .base import LayeredClassifier
from .catalog import DenoiserParams

__all__ = ["DenoisedClassifier", "Denoiser", "with_denoiser"]


def _conv(c_in: int, c_out: int, stride: int = 1, bias: bool = False) -> nn.Sequential:
    return nn.Sequential(
        OrderedDict(
            conv=nn.Conv2d(c_in, c_out, kernel_size=3, stride=stride, padding=1, bias=bias),
            bn=nn.BatchNorm2d(c_out),
            act=nn.ReLU(),
        )
    )


def _block(c_in: int, c_out: int, convs: int, stride: int, bias: bool) -> nn.Sequential:
    """``convs`` C units, the first with ``stride`` (Liao's C2 / C3 blocks)."""
    units = [_conv(c_in, c_out, stride, bias)] + [_conv(c_out, c_out, 1, bias) for _ in range(convs - 1)]
    return nn.Sequential(*units)


def _unit_on_concatenation(unit: nn.Sequential, h: Tensor, skip: Tensor) -> Tensor:
    """``unit(torch.cat([h, skip], dim=1))`` for a C unit (conv -> BN -> ReLU), without the concatenation: the
    convolution of a channel concatenation is the sum of the convolutions of its parts with the matching slices of
    the weight. The same value up to the order of the sums (at most 3e-9 apart); on CPU, oneDNN's kernel for the
    arena's 12 input channels is slow, and this halves the small denoiser's forward pass
    (``benchmarks/denoiser.py``)."""
    conv = unit.conv
    split = h.shape[1]
    z = F.conv2d(h, conv.weight[:, :split], conv.bias, conv.stride, conv.padding) + F.conv2d(
        skip, conv.weight[:, split:], None, conv.stride, conv.padding
    )
    return unit.act(unit.bn(z))


class Denoiser(nn.Module):
    """``x -> x - D(x)`` with ``D`` a U-Net of ``depth`` down-sampling levels, ``width`` channels at the top,
    doubled per level up to ``max_width`` (0: no cap), ``convs`` convolutions per block below the top level."""

    def __init__(
        self, channels: int, width: int, depth: int, max_width: int = 0, convs: int = 2, bias: bool = False
    ) -> None:
        super().__init__()
        widths = [width * 2**level for level in range(depth + 1)]
        if max_width:
            widths = [min(w, max_width) for w in widths]
        per_level = [2] + [convs] * depth
        self.encoder = nn.ModuleList([_block(channels, widths[0], 2, 1, bias)])
        for level in range(1, depth + 1):
            self.encoder.append(_block(widths[level - 1], widths[level], per_level[level], 2, bias))
        self.decoder = nn.ModuleList(
            [
                _block(widths[level + 1] + widths[level], widths[level], per_level[level], 1, bias)
                for level in reversed(range(depth))
            ]
        )
        self.out = nn.Conv2d(widths[0], channels, kernel_size=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def noise(self, x: Tensor) -> Tensor:
        """The estimated noise ``D(x)``."""
        lateral = []
        h = x
        for block in self.encoder:
            h = block(h)
            lateral.append(h)
        lateral.pop()
        for block in self.decoder:
            skip = lateral.pop()
            h = F.interpolate(h, size=skip.shape[-2:], mode="nearest")
            h = block[1:](_unit_on_concatenation(block[0], h, skip))
        return self.out(h)

    def forward(self, x: Tensor) -> Tensor:
        return x - self.noise(x)


class DenoisedClassifier(LayeredClassifier):
    """A :class:`LayeredClassifier` with a denoiser in front (HGD): same blocks, same state-dict keys, plus
    ``denoiser.*``. :meth:`target` is the classifier without the denoiser (sharing its modules)."""

    def __init__(self, net: LayeredClassifier, denoiser: nn.Module) -> None:
        super().__init__(list(net.blocks.items()), net.representation_layer, net.aux_head)
        self.denoiser = denoiser

    def target(self) -> LayeredClassifier:
        """The classifier alone (a view sharing the blocks: training it trains this model's blocks)."""
        return LayeredClassifier(list(self.blocks.items()), self.representation_layer, self.aux_head)

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(self.denoiser(x))

    def forward_aux(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return super().forward_aux(self.denoiser(x))

    def forward_with_activations(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        return super().forward_with_activations(self.denoiser(x))

    def forward_to(self, x: Tensor, upto: str) -> Tensor:
        return super().forward_to(self.denoiser(x), upto)


def with_denoiser(net: LayeredClassifier, input_shape: tuple[int, int, int], p: DenoiserParams) -> DenoisedClassifier:
    """``net`` with a fresh denoiser (PyTorch's default initialisation, zero output layer) in front."""
    return DenoisedClassifier(net, Denoiser(input_shape[0], p.width, p.depth, p.max_width, p.convs, p.bias))
