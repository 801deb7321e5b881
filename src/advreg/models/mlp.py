"""Fully connected classifiers of DataGrad, LWA and DeepDefense.

All three take (N, C, H, W) images and flatten them inside their first block. Hidden blocks are named
``fc1 .. fc{k}`` and the output block ``out``; each hidden block is ``[dropout] -> linear -> activation``
(dropout, when enabled, acts on the *previous* block's output, so the returned activations are never
dropped-out), and ``out`` is ``[dropout] -> linear``.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence

from torch import nn

from .base import LayeredClassifier, make_activation
from .catalog import MLPDataGradParams, MLPDeepDefenseParams, MLPLWAParams
from .init import initialise
from .preprocess import with_input_layer

__all__ = ["mlp_datagrad", "mlp_lwa", "mlp_deepdefense", "mlp_blocks"]


def mlp_blocks(
    in_features: int,
    hidden: Sequence[int],
    num_classes: int,
    activation: str,
    dropout: float,
    dropout_at: str = "every",
) -> list[tuple[str, nn.Module]]:
    """Blocks ``fc1..fc{len(hidden)}, out`` of a flatten -> (linear -> act)* -> linear classifier; ``dropout`` on
    every hidden activation (``dropout_at="every"``) or only on the last, before the output layer (``"last"``)."""
    blocks: list[tuple[str, nn.Module]] = []
    width_in = in_features
    for i, width in enumerate(hidden, start=1):
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        if i == 1:
            layers["flatten"] = nn.Flatten(start_dim=1)
        elif dropout > 0 and dropout_at == "every":
            layers["dropout"] = nn.Dropout(dropout)
        layers["linear"] = nn.Linear(width_in, width)
        layers["act"] = make_activation(activation)
        blocks.append((f"fc{i}", nn.Sequential(layers)))
        width_in = width
    out: OrderedDict[str, nn.Module] = OrderedDict()
    if dropout > 0:
        out["dropout"] = nn.Dropout(dropout)
    out["linear"] = nn.Linear(width_in, num_classes)
    blocks.append(("out", nn.Sequential(out)))
    return blocks


def mlp_datagrad(input_shape: tuple[int, int, int], num_classes: int, p: MLPDataGradParams) -> LayeredClassifier:
    """DataGrad's deep sparse rectifier network (datagrad.md, sec. 3 "Experimental Results").

    "three hidden layers, each with 784 latent variables, with parameters initialized following the scheme
    of (He, Zhang, Ren, & Sun, 2015)": ``depth`` hidden ReLU layers of ``width`` units. Every weight matrix
    (the output layer's included) is drawn from kaiming-normal (fan_in, ReLU gain: std sqrt(2 / fan_in));
    biases are zero. No dropout (the paper uses none).

    ``aux_classes > 0`` adds the multitask network's second set of output units (sec. 3: "two disjoint sets
    of output units, each connected to the penultimate hidden layer by a separate set of parameters",
    U_0 and U_1): ``aux_head = nn.Linear(width, aux_classes)`` on the last hidden layer, initialised like
    the rest. It is created after the main network, so the main network's initial weights do not depend on
    ``aux_classes``. Used by the ``mt*`` methods with ``aux_classes: 5`` (footnote 4's rotation classes).
    """
    in_features = math.prod(input_shape)
    blocks = mlp_blocks(in_features, [p.width] * p.depth, num_classes, "relu", 0.0)
    for _name, block in blocks:
        _he_init(block)
    aux_head = _he_init(nn.Linear(p.width, p.aux_classes)) if p.aux_classes > 0 else None
    return LayeredClassifier(blocks, aux_head=aux_head)


def _he_init(module: nn.Module) -> nn.Module:
    """Kaiming-normal weights (fan_in, ReLU gain) and zero biases for every nn.Linear in ``module``."""
    for sub in module.modules():
        if isinstance(sub, nn.Linear):
            nn.init.kaiming_normal_(sub.weight, mode="fan_in", nonlinearity="relu")
            nn.init.zeros_(sub.bias)
    return module


def mlp_lwa(input_shape: tuple[int, int, int], num_classes: int, p: MLPLWAParams) -> LayeredClassifier:
    """LWA's 2-hidden-layer MNIST network (learning-with-a-strong-adversary.md, sec. 7.2 "Experiments on
    MNIST", Table 1): 784-500-500-10 ReLU (FIDELITY.md: the authors' code).

    Table 1 varies the widths per method (Normal 100x100, Dropout 200x200, Goodfellow/LWA 500x500,
    LWA_Rep 200x500): set them with ``hidden``. ``activation`` is "relu" or "tanh"; ``dropout`` (the
    "Dropout" baseline) is applied to each hidden activation at the start of the next block, or with
    ``dropout_at="last"`` only to the last one, before the output layer (the authors' notebook). PyTorch's
    default initialisation, or the authors' notebooks' U(-0.07, 0.07) (``init="lwa_notebook"``, :mod:`.init`).
    """
    blocks = mlp_blocks(math.prod(input_shape), p.hidden, num_classes, p.activation, p.dropout, p.dropout_at)
    return initialise(LayeredClassifier(blocks), p.init)


def mlp_deepdefense(input_shape: tuple[int, int, int], num_classes: int, p: MLPDeepDefenseParams) -> LayeredClassifier:
    """DeepDefense's MNIST MLP (deepdefense.md, supplementary Table 3; authors' ``models/mnist.py``).

    784-500-150-10 with ReLU, i.e. "a four-layer MLP" counting the input layer. PyTorch's default
    initialisation, or MatConvNet's (``init="matconvnet"``, :mod:`.init`). ``preprocess="matconvnet"``: the
    paper's input space, 255 x minus the training mean image, as the first layer of ``fc1`` (:mod:`.preprocess`).
    """
    blocks = mlp_blocks(math.prod(input_shape), p.hidden, num_classes, "relu", 0.0)
    return initialise(LayeredClassifier(with_input_layer(blocks, p.preprocess, input_shape)), p.init)
