"""Every architecture of the four papers behind one registry and one API.

``build_model(name, input_shape, num_classes, **kwargs)`` returns a :class:`LayeredClassifier`: ``forward``
gives logits, ``forward_with_activations`` also gives every hidden block's output, ``forward_from`` resumes
from a (perturbed) hidden activation, ``representation_layer`` names the LWA_Rep split.

========================  ===============================================================  =================
name                      source                                                           module
========================  ===============================================================  =================
``mlp_datagrad``          DataGrad sec. 3: 3 x 784 ReLU, He init                           :mod:`.mlp`
``mlp_lwa``               LWA sec. 7.2 / Table 1: 784-500-500-10                           :mod:`.mlp`
``mlp_deepdefense``       DeepDefense supp. Table 3: 784-500-150-10                        :mod:`.mlp`
``lenet``                 DeepDefense supp. Table 3 (LWA's variant via kwargs)             :mod:`.lenet`
``vgg``                   HLDR sec. V: VGG-16 with BN                                      :mod:`.vgg`
``convnet``               DeepDefense supp. Table 3 (CIFAR-10 ConvNet)                     :mod:`.cifar`
``nin``                   DeepDefense supp. Table 3 (Network in Network)                   :mod:`.cifar`
``lwa_cifar``             LWA sec. 7.2 (CIFAR-10, VGG-D-like)                              :mod:`.cifar`
========================  ===============================================================  =================

Parameter initialisation uses only torch's global RNG (seed it before building); shape inference at
construction consumes no random numbers.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from .base import LayeredClassifier, check_input_shape, check_num_classes
from .cifar import convnet, lwa_cifar, nin
from .lenet import lenet
from .mlp import mlp_datagrad, mlp_deepdefense, mlp_lwa
from .vgg import vgg

__all__ = ["MODEL_NAMES", "LayeredClassifier", "build_model", "model_kwargs"]

_BUILDERS: dict[str, Callable[..., LayeredClassifier]] = {
    "mlp_datagrad": mlp_datagrad,
    "mlp_lwa": mlp_lwa,
    "mlp_deepdefense": mlp_deepdefense,
    "lenet": lenet,
    "vgg": vgg,
    "convnet": convnet,
    "nin": nin,
    "lwa_cifar": lwa_cifar,
}

MODEL_NAMES: tuple[str, ...] = tuple(_BUILDERS)

# Accepted by every model: overrides the default LWA_Rep split (validated against the hidden blocks).
_COMMON_KWARGS = ("representation_layer",)


def _builder(name: str) -> Callable[..., LayeredClassifier]:
    if name not in _BUILDERS:
        raise ValueError(f"unknown model name {name!r}; known models: {', '.join(MODEL_NAMES)}")
    return _BUILDERS[name]


def model_kwargs(name: str) -> dict[str, object]:
    """The architecture kwargs ``name`` accepts, with their defaults (plus ``representation_layer``)."""
    params = inspect.signature(_builder(name)).parameters.values()
    kwargs = {p.name: p.default for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}
    kwargs.update({k: None for k in _COMMON_KWARGS})
    return kwargs


def build_model(name: str, input_shape: tuple[int, int, int], num_classes: int, **kwargs) -> LayeredClassifier:
    """Build architecture ``name`` for (N, C, H, W) inputs of per-sample shape ``input_shape``.

    Raises ValueError for an unknown ``name`` (listing the known ones), an unknown kwarg (naming it and
    the model), or an invalid value (naming the model and the kwarg).
    """
    builder = _builder(name)
    accepted = model_kwargs(name)
    for key in kwargs:
        if key not in accepted:
            raise ValueError(
                f"unknown kwarg {key!r} for model {name!r}; accepted: {', '.join(sorted(accepted)) or 'none'}"
            )
    input_shape = check_input_shape(input_shape, name)
    num_classes = check_num_classes(num_classes, name)
    representation_layer = kwargs.pop("representation_layer", None)
    net = builder(input_shape, num_classes, **kwargs)
    if representation_layer is not None:
        net.representation_layer = representation_layer
    return net
