"""HLDR's VGG-16 with batch normalisation (latent-disparity-regularization.md, sec. V, "Our VGG model").

Thirteen 3x3 convolutions (padding 1) in five blocks ``[64, 64, M, 128, 128, M, 256 x3, M, 512 x3, M,
512 x3, M]``, batch norm after every convolution, then flatten -> dense 512 -> act -> BN -> dense
num_classes. The paper says ELU ("rectified exponential nonlinearities"); the authors' code
(dmschwar/robust-ldr, ``HLDR_VGG_16.py``) uses ReLU and the order conv -> act -> BN.

Blocks: ``conv1 .. conv13`` (each: [max-pool] -> conv -> act -> BN), ``fc1`` ([max-pool] -> flatten ->
dense -> act -> BN), ``out`` (dense). A max-pool sits at the *start* of the block after the convolution it
follows, so every hidden activation is exactly a post-BN output, as the authors' code collects them for the
HLDR penalty (``hiddenModelOutputs``: BN outputs taken before ``MaxPool2D``).
"""

from __future__ import annotations

import math
from collections import OrderedDict

from torch import nn

from .base import LayeredClassifier, infer_output_shape, make_activation, scaled
from .catalog import VGGParams
from .pooling import MaxPool2x2

__all__ = ["vgg", "VGG16_CONFIG"]

VGG16_CONFIG: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M",
)  # fmt: skip


def _pool() -> MaxPool2x2:
    # ceil_mode=True is Keras' MaxPool2D(padding='same') for 2x2/stride 2, and lets 28x28 inputs through
    # (28 -> 14 -> 7 -> 4 -> 2 -> 1).
    return MaxPool2x2(ceil_mode=True)


def _act_bn(layers: OrderedDict, act: nn.Module, bn: nn.Module, order: str) -> None:
    if order == "act_bn":
        layers["act"], layers["bn"] = act, bn
    else:
        layers["bn"], layers["act"] = bn, act


def vgg(input_shape: tuple[int, int, int], num_classes: int, p: VGGParams) -> LayeredClassifier:
    """VGG-16-BN of HLDR (latent-disparity-regularization.md, sec. V; FIDELITY.md for the code's choices).

    Args:
        width: channel multiplier; every layer gets ``max(1, round(c * width))`` channels, the dense layer
            ``max(1, round(dense * width))`` units.
        activation: "elu" (paper), "relu" (authors' code) or "tanh" (the code's fallback).
        order: "act_bn" (conv -> act -> BN, the authors' code) or "bn_act".
        dense: width of the penultimate dense layer (512).

    Convolutions keep PyTorch's default initialisation and biases; BatchNorm uses PyTorch's defaults
    (eps 1e-5, momentum 0.1), not Keras' (eps 1e-3, momentum 0.99).
    """
    width, order = p.width, p.order

    def act() -> nn.Module:
        return make_activation(p.activation)

    blocks: list[tuple[str, nn.Module]] = []
    c_in, pool_pending = input_shape[0], False
    for entry in VGG16_CONFIG:
        if entry == "M":
            pool_pending = True
            continue
        c_out = scaled(int(entry), width)
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        if pool_pending:
            layers["pool"] = _pool()
        layers["conv"] = nn.Conv2d(c_in, c_out, kernel_size=3, padding=1)
        _act_bn(layers, act(), nn.BatchNorm2d(c_out), order)
        blocks.append((f"conv{len(blocks) + 1}", nn.Sequential(layers)))
        c_in, pool_pending = c_out, False

    final_pool = _pool()
    flat = math.prod(infer_output_shape(nn.Sequential(*(m for _, m in blocks), final_pool), input_shape, "vgg"))
    units = scaled(p.dense, width)
    fc1: OrderedDict[str, nn.Module] = OrderedDict()
    fc1["pool"] = final_pool
    fc1["flatten"] = nn.Flatten(start_dim=1)
    fc1["linear"] = nn.Linear(flat, units)
    _act_bn(fc1, act(), nn.BatchNorm1d(units), order)
    blocks.append(("fc1", nn.Sequential(fc1)))
    blocks.append(("out", nn.Sequential(OrderedDict(linear=nn.Linear(units, num_classes)))))
    return LayeredClassifier(blocks)
