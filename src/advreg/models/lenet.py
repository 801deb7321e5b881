"""LeNet as used by DeepDefense (reference model) and by LWA.

Blocks: ``conv1`` (conv 5x5 -> [act] -> max-pool 2), ``conv2`` (same), ``fc1`` (flatten -> linear -> act),
``out`` ([dropout] -> linear).
"""

from __future__ import annotations

import math
from collections import OrderedDict

from torch import nn

from .base import LayeredClassifier, infer_output_shape, make_activation
from .catalog import LeNetParams
from .init import initialise
from .pooling import MaxPool2x2
from .preprocess import with_input_layer

__all__ = ["lenet"]


def _conv_block(c_in: int, c_out: int, act: str | None) -> nn.Sequential:
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    layers["conv"] = nn.Conv2d(c_in, c_out, kernel_size=5)  # unpadded
    act_module = make_activation(act)
    if act_module is not None:
        layers["act"] = act_module
    layers["pool"] = MaxPool2x2()
    return nn.Sequential(layers)


def lenet(input_shape: tuple[int, int, int], num_classes: int, p: LeNetParams) -> LayeredClassifier:
    """LeNet (deepdefense.md, supplementary Table 3; authors' ``models/mnist.py``).

    Conv-5-20, MaxPool-2, Conv-5-50, MaxPool-2, FC-``fc_width`` (500), ``activation`` (ReLU), FC-num_classes.
    The convolutions are unpadded (MNIST: 28 -> 24 -> 12 -> 8 -> 4, so FC-500 sees 50*4*4 = 800 inputs; other
    input sizes get their flatten size from a side-effect-free dummy pass) and, as in the DeepDefense
    reference model, have NO activation by default (``conv_activation=None``; "tanh"/"relu" allowed; it goes
    between conv and pool). ``dropout`` acts before the last FC.

    LWA's LeNet (learning-with-a-strong-adversary.md, sec. 7.2 "Experiments on MNIST" / Table 2) is
    ``conv_activation="tanh", activation="tanh", dropout=0.5``. The authors' MXNet notebook
    (``MNIST_LeNet.ipynb``, after the MXNet LeNet example: conv -> tanh -> pool) uses a narrower FC layer:
    ``fc_width`` 100 (FIDELITY.md: 100/200/400). ``channels`` (20, 50) narrows the convolutions (the cross-paper
    arena's reduced preset: (6, 16), LeCun et al.'s LeNet-5 widths). ``preprocess="matconvnet"``: DeepDefense's
    input space, 255 x minus the training mean image, as the first layer of ``conv1`` (:mod:`.preprocess`).
    """
    c1, c2 = p.channels
    conv1 = _conv_block(input_shape[0], c1, p.conv_activation)
    conv2 = _conv_block(c1, c2, p.conv_activation)
    flat = math.prod(infer_output_shape(nn.Sequential(conv1, conv2), input_shape, "lenet"))

    fc1: OrderedDict[str, nn.Module] = OrderedDict()
    fc1["flatten"] = nn.Flatten(start_dim=1)
    fc1["linear"] = nn.Linear(flat, p.fc_width)
    fc1["act"] = make_activation(p.activation)
    out: OrderedDict[str, nn.Module] = OrderedDict()
    if p.dropout > 0:
        out["dropout"] = nn.Dropout(p.dropout)
    out["linear"] = nn.Linear(p.fc_width, num_classes)
    blocks = [("conv1", conv1), ("conv2", conv2), ("fc1", nn.Sequential(fc1)), ("out", nn.Sequential(out))]
    return initialise(LayeredClassifier(with_input_layer(blocks, p.preprocess, input_shape)), p.init)
