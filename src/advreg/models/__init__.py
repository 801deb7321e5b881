"""Every architecture of the four papers behind one registry and one API (torch-free registry).

``build_model(name, input_shape, num_classes, **kwargs)`` returns a :class:`advreg.models.base.LayeredClassifier`:
``forward`` gives logits, ``forward_with_activations`` also gives every hidden block's output, ``forward_from``
resumes from a (perturbed) hidden activation, ``representation_layer`` names the LWA_Rep split.

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

Keyword arguments are declared in :mod:`advreg.models.catalog`. Parameter initialisation uses only torch's
global RNG (seed it before building); shape inference at construction consumes no random numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from advreg.models.catalog import ADDITIVE_KWARGS, MODEL_NAMES, MODELS, ModelParams, ModelSpec
from advreg.params import ConfigError

if TYPE_CHECKING:
    from advreg.models.base import LayeredClassifier


def check_input_shape(input_shape: Any, model: str) -> tuple[int, int, int]:
    """Validate ``(C, H, W)`` and return it as a tuple of ints."""
    try:
        shape = tuple(input_shape)
    except TypeError:
        shape = ()
    if len(shape) != 3 or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in shape):
        raise ConfigError(f"{model}: input_shape must be (C, H, W) with positive ints, got {input_shape!r}")
    return shape  # type: ignore[return-value]


def build_model(
    name: str, input_shape: tuple[int, int, int], num_classes: int, where: str | None = None, **kwargs: Any
) -> LayeredClassifier:
    """Build architecture ``name`` for (N, C, H, W) inputs of per-sample shape ``input_shape``.

    Raises ConfigError (a ValueError) for an unknown ``name`` (listing the known ones), an unknown kwarg
    (naming it and the model) or an invalid value (naming the model and the kwarg); ``where`` is the config
    key of the kwargs, if any.
    """
    spec = MODELS.get_spec(name)
    params = spec.parse(kwargs, where or f"model '{name}'")
    return build_from_params(spec, input_shape, num_classes, params)


def build_from_params(spec: ModelSpec, input_shape: Any, num_classes: Any, params: ModelParams) -> LayeredClassifier:
    input_shape = check_input_shape(input_shape, spec.name)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ConfigError(f"{spec.name}: num_classes must be an integer >= 2, got {num_classes!r}")
    net = spec.load()(input_shape, num_classes, params)
    if params.representation_layer is not None:
        net.representation_layer = params.representation_layer
    if params.aux_classes and net.aux_head is None:  # mlp_datagrad builds its own (He-initialised) head
        from advreg.models.base import auxiliary_head

        net.aux_head = auxiliary_head(net, input_shape, params.aux_classes)
    if params.denoiser is not None:  # HGD: the denoiser goes in front; the blocks and their keys stay as they are
        from advreg.models.denoiser import with_denoiser

        net = with_denoiser(net, input_shape, params.denoiser)
    return net


def model_kwargs(name: str) -> dict[str, Any]:
    """The architecture kwargs ``name`` accepts, with their defaults."""
    return MODELS.get_spec(name).params().to_dict()


def parse_model_kwargs(name: str, kwargs: Mapping[str, Any] | None, where: str) -> ModelParams:
    return MODELS.get_spec(name, where).parse(kwargs, where)


__all__ = ["ADDITIVE_KWARGS", "MODELS", "MODEL_NAMES", "ModelSpec", "build_model", "model_kwargs", "parse_model_kwargs"]
