"""CIFAR-10 convolutional networks of DeepDefense (ConvNet, NIN) and LWA (a small VGG-D-like network).

Every hidden block is one convolution or dense layer with its activation and any pooling that follows it;
dropout, where enabled, sits at the start of the block after the activation it drops, so returned hidden
activations are never dropped-out.
"""

from __future__ import annotations

import math
from collections import OrderedDict

from torch import Tensor, nn

from .base import LayeredClassifier, infer_output_shape, scaled
from .catalog import ConvNetParams, LWACifarParams, NINParams
from .crop import RandomCropInput
from .pooling import MaxPool2x2
from .preprocess import input_scale, with_input_layer

__all__ = ["convnet", "nin", "lwa_cifar"]


def _he_init(net: nn.Module, input_scale: float = 1.0) -> None:
    """kaiming-normal (fan_in, ReLU gain) weights and zero biases, as in deepdefense.pytorch's models. The first
    layer's weights are divided by ``input_scale`` (255 behind DeepDefense's 0-255 input layer), so the network
    starts as He-initialised on [0, 1]-scale inputs (He's rule assumes unit-scale inputs; unscaled, 0-255 inputs
    make the first steps diverge or stall)."""
    first = True
    for module in net.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            if first and input_scale != 1:  # kaiming-normal's std sqrt(2 / fan_in), over the scale
                nn.init.normal_(module.weight, 0.0, math.sqrt(2.0 / module.weight[0].numel()) / input_scale)
            else:
                nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")
            nn.init.zeros_(module.bias)
            first = False


def _seq(**layers: nn.Module) -> nn.Sequential:
    return nn.Sequential(OrderedDict(layers))


def _spatial_head(
    hidden: list[tuple[str, nn.Module]], final: nn.Conv2d, input_shape: tuple[int, int, int], model: str
) -> nn.Sequential:
    """Output block: the final 1x1-or-larger conv, a global average pool only if its map is not 1x1, flatten."""
    shape = infer_output_shape(nn.Sequential(*(m for _, m in hidden), final), input_shape, model)
    layers: OrderedDict[str, nn.Module] = OrderedDict(conv=final)
    if shape[1:] != (1, 1):
        layers["gap"] = nn.AdaptiveAvgPool2d(1)
    layers["flatten"] = nn.Flatten(start_dim=1)
    return nn.Sequential(layers)


def convnet(input_shape: tuple[int, int, int], num_classes: int, p: ConvNetParams) -> LayeredClassifier:
    """DeepDefense's CIFAR-10 ConvNet (deepdefense.md, supplementary Table 3; authors' ``models/cifar10.py``).

    Conv-5-32 (pad 2), MaxPool-2, ReLU | Conv-5-32 (pad 2), ReLU, AvgPool-2 | Conv-5-64 (pad 2), ReLU,
    AvgPool-2 | Conv-4-64 (no pad), ReLU | Conv-1-10 -> flatten. Blocks ``conv1..conv4`` and ``out``.

    Spatial sizes: 32 -> 16 -> 8 -> 4 -> 1. Pools are 2x2 / stride 2 with ``ceil_mode=True`` (identical on
    even sizes), so 28x28 inputs also reach 1x1 (28 -> 14 -> 7 -> 4 -> 1). Only when the last map is still
    larger than 1x1 (inputs above 32) does the output block average-pool it to 1x1 before flattening; inputs
    below 25 px are rejected. ``width`` scales the 32/32/64/64 channels. ``init="he"`` (kaiming-normal, zero
    bias) follows the authors' PyTorch code; ``"default"`` keeps PyTorch's initialisation. ``preprocess=
    "matconvnet"``: 255 x minus the training mean image as the first layer of ``conv1`` (:mod:`.preprocess`;
    MatConvNet's CIFAR example further contrast-normalises and whitens: docs/fidelity.md).
    """
    model = "convnet"
    c1, c2, c3, c4 = (scaled(c, p.width) for c in (32, 32, 64, 64))
    hidden = [
        ("conv1", _seq(conv=nn.Conv2d(input_shape[0], c1, 5, padding=2),
                       pool=MaxPool2x2(ceil_mode=True), act=nn.ReLU())),
        ("conv2", _seq(conv=nn.Conv2d(c1, c2, 5, padding=2), act=nn.ReLU(), pool=nn.AvgPool2d(2, 2, ceil_mode=True))),
        ("conv3", _seq(conv=nn.Conv2d(c2, c3, 5, padding=2), act=nn.ReLU(), pool=nn.AvgPool2d(2, 2, ceil_mode=True))),
        ("conv4", _seq(conv=nn.Conv2d(c3, c4, 4), act=nn.ReLU())),
    ]  # fmt: skip
    out = _spatial_head(hidden, nn.Conv2d(c4, num_classes, 1), input_shape, model)
    net = LayeredClassifier(with_input_layer([*hidden, ("out", out)], p.preprocess, input_shape))
    if p.init == "he":
        _he_init(net, input_scale(p.preprocess))
    return net


def nin(input_shape: tuple[int, int, int], num_classes: int, p: NINParams) -> LayeredClassifier:
    """DeepDefense's Network-in-Network (deepdefense.md, supplementary Table 3; authors' ``models/cifar10.py``).

    Conv-5-192 ReLU, Conv-1-160 ReLU, Conv-1-96 ReLU, MaxPool-2 | Conv-5-192 ReLU, Conv-1-192 ReLU,
    Conv-1-192 ReLU, AvgPool-2 | Conv-3-192 ReLU, Conv-1-192 ReLU, Conv-1-10 (no ReLU), global average pool
    (Table 3's AvgPool-8 on the 8x8 map of a 32x32 input; an adaptive 1x1 average pool here, so other input
    sizes work, e.g. 28x28 -> 7x7 map). 5x5 convs pad 2, 3x3 pad 1; pools 2x2 / stride 2 with
    ``ceil_mode=True`` (identical on even sizes). Blocks take the authors' layer names: ``conv1, cccp1,
    cccp2, conv2, cccp3, cccp4, conv3, cccp5`` and ``out`` (cccp6 + pool + flatten).

    ``width`` scales every channel count but the classes. ``dropout`` acts after each pool (at the start of
    ``conv2`` and ``conv3``); the authors' code and the original NIN use 0.5. ``init="he"`` (kaiming-normal,
    zero bias) follows the authors' PyTorch code; ``"default"`` keeps PyTorch's initialisation. ``preprocess``:
    as :func:`convnet`.
    """
    dropout = p.dropout
    c = {k: scaled(v, p.width) for k, v in {"192": 192, "160": 160, "96": 96}.items()}

    def layer(c_in: int, c_out: int, k: int, *, pool: nn.Module | None = None, drop: bool = False) -> nn.Sequential:
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        if drop and dropout > 0:
            layers["dropout"] = nn.Dropout(dropout)
        layers["conv"] = nn.Conv2d(c_in, c_out, k, padding=(k - 1) // 2)
        layers["act"] = nn.ReLU()
        if pool is not None:
            layers["pool"] = pool
        return nn.Sequential(layers)

    hidden = [
        ("conv1", layer(input_shape[0], c["192"], 5)),
        ("cccp1", layer(c["192"], c["160"], 1)),
        ("cccp2", layer(c["160"], c["96"], 1, pool=MaxPool2x2(ceil_mode=True))),
        ("conv2", layer(c["96"], c["192"], 5, drop=True)),
        ("cccp3", layer(c["192"], c["192"], 1)),
        ("cccp4", layer(c["192"], c["192"], 1, pool=nn.AvgPool2d(2, 2, ceil_mode=True))),
        ("conv3", layer(c["192"], c["192"], 3, drop=True)),
        ("cccp5", layer(c["192"], c["192"], 1)),
    ]
    out = _seq(conv=nn.Conv2d(c["192"], num_classes, 1), gap=nn.AdaptiveAvgPool2d(1), flatten=nn.Flatten(start_dim=1))
    net = LayeredClassifier(with_input_layer([*hidden, ("out", out)], p.preprocess, input_shape))
    if p.init == "he":
        _he_init(net, input_scale(p.preprocess))
    return net


PREPROCESS: dict[str, tuple[float, float]] = {  # name -> (mean, divisor) of (255 x - mean) / divisor
    "paper": (117.0, 128.0),  # sec. 7's mean 117, and the divisor its stated range (-1, 1) needs (and the code's)
    "paper_256": (117.0, 256.0),  # sec. 7 as printed: "(-1, 1) by diving 256" (gives about (-0.46, 0.54))
    "code": (128.0, 128.0),  # the authors' MXNet iterator: mean_r/g/b = 128, scale = 0.0078125 = 1/128
}


class PaperInput(RandomCropInput):
    """LWA's CIFAR-10 preprocessing as an input layer (sec. 7): ``(255 x - mean) / divisor`` for ``x`` in [0, 1]
    (``preprocess``: a key of :data:`PREPROCESS`, or ``"none"``), and a ``crop x crop`` window (``crop`` > 0): the
    random one the training loop draws once per step (:mod:`advreg.models.crop`; the input arrives cropped), the
    centred one in eval mode. No parameters, no buffers: state dicts are unchanged."""

    def __init__(self, preprocess: str, crop: int, input_shape: tuple[int, int, int], mirror: bool = False) -> None:
        super().__init__()
        if crop and crop > min(input_shape[1:]):
            raise ValueError(f"lwa_cifar: crop {crop} is larger than the input {tuple(input_shape)}")
        if preprocess != "none" and preprocess not in PREPROCESS:
            raise ValueError(f"lwa_cifar: unknown preprocess {preprocess!r} (known: {', '.join(PREPROCESS)}, none)")
        self.mean, self.divisor = PREPROCESS.get(preprocess, (None, None))
        self.crop = crop
        self.mirror = mirror

    def forward(self, x: Tensor) -> Tensor:
        if self.mean is not None:
            x = (x * 255.0 - self.mean) / self.divisor
        return self.cropped(x)


def lwa_cifar(input_shape: tuple[int, int, int], num_classes: int, p: LWACifarParams) -> LayeredClassifier:
    """LWA's CIFAR-10 network (learning-with-a-strong-adversary.md, sec. 7.2 "Experiments on CIFAR-10").

    "2 stage convolution layers with 3 fully connected layers": per stage three 3x3 convs (pad 1) with ReLU,
    128 then 256 filters, each stage followed by a 2x2 max-pool of stride 2; then FC 2048 ReLU, FC 2048 ReLU,
    FC num_classes. Blocks ``conv1..conv6`` (the pools ride in conv3 and conv6), ``fc1``, ``fc2``, ``out``.

    ``representation_layer`` is ``fc1``: "the last two fully connected layers with hidden units 2048 and 10
    are classifier and other layers below formed a representation learner" (LWA_Rep perturbs the 2048-d
    output of fc1 and runs fc2/out on it). ``width`` scales filters and FC widths; ``dropout`` acts after each
    FC-2048 activation (at the start of the next block). ``batch_norm=True`` puts BN between conv and ReLU as
    the authors' MXNet code does (``ConvFactory``); the paper mentions none. PyTorch's default initialisation.

    The paper's preprocessing (sec. 7: "subtracted by mean value 117, and randomly cropped to size 28x28 ...
    normalize the pixel value into the range (-1, 1) by diving 256") is the model's input layer
    (:class:`PaperInput`, the first layer of ``conv1``), so the model takes [0, 1] pixels like every other
    and attack budgets stay in [0, 1] pixel units: ``preprocess="paper"`` maps ``x`` to ``(255 x - 117) / 128``
    (dividing by 256 cannot give the stated range (-1, 1); 128 can, and the authors' code divides by 128), so an
    L2 budget ``eps`` in the paper's units is ``eps * 128/255`` in pixel units (Table 3's 0.5 -> 0.251);
    ``"paper_256"`` divides by 256 as printed, ``"code"`` is the authors' ``(255 x - 128) / 128``. ``crop`` (the
    paper: 28): a random ``crop x crop`` window per sample in training, drawn once per step by the training loop
    (:mod:`advreg.models.crop`), and the centred one in eval mode; ``mirror`` adds the authors' random horizontal
    flips (their iterator's ``rand_mirror``; the paper mentions none).
    """
    model = "lwa_cifar"
    width, dropout, batch_norm = p.width, p.dropout, p.batch_norm
    filters = [scaled(128, width)] * 3 + [scaled(256, width)] * 3
    fc = scaled(2048, width)

    hidden: list[tuple[str, nn.Module]] = []
    c_in = input_shape[0]
    for i, c_out in enumerate(filters, start=1):
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        if i == 1 and (p.preprocess != "none" or p.crop or p.mirror):
            layers["input"] = PaperInput(p.preprocess, p.crop, tuple(input_shape), p.mirror)
        layers["conv"] = nn.Conv2d(c_in, c_out, 3, padding=1)
        if batch_norm:
            layers["bn"] = nn.BatchNorm2d(c_out)
        layers["act"] = nn.ReLU()
        if i % 3 == 0:
            layers["pool"] = MaxPool2x2()
        hidden.append((f"conv{i}", nn.Sequential(layers)))
        c_in = c_out
    flat = math.prod(infer_output_shape(nn.Sequential(*(m for _, m in hidden)), input_shape, model))

    def dense(n_in: int, n_out: int, *, first: bool = False, act: bool = True) -> nn.Sequential:
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        if first:
            layers["flatten"] = nn.Flatten(start_dim=1)
        elif dropout > 0:
            layers["dropout"] = nn.Dropout(dropout)
        layers["linear"] = nn.Linear(n_in, n_out)
        if act:
            layers["act"] = nn.ReLU()
        return nn.Sequential(layers)

    hidden.append(("fc1", dense(flat, fc, first=True)))
    hidden.append(("fc2", dense(fc, fc)))
    return LayeredClassifier([*hidden, ("out", dense(fc, num_classes, act=False))], representation_layer="fc1")
