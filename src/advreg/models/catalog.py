"""Every architecture's name and keyword arguments (torch-free: the workflow's plan is built from this).

The builders live in :mod:`.mlp`, :mod:`.lenet`, :mod:`.vgg` and :mod:`.cifar` and receive the parsed
parameters; ``representation_layer`` (the LWA_Rep split, validated against the hidden blocks when the model
is built) is accepted by every architecture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from advreg.params import ConfigError, Params, Registry, Spec, param

MATCONVNET_INIT_HELP = (
    "weights: PyTorch's default, or matconvnet: N(0, 0.01^2) weights and zero biases (MatConvNet's cnn_mnist_init, "
    "f = 1/100, which trained the paper's LeNet reference)"
)
LWA_NOTEBOOK_INIT_HELP = "lwa_notebook: U(-0.07, 0.07) weights and zero biases (the LWA authors' MNIST notebooks)"
PREPROCESS_HELP = (
    "input layer: 'matconvnet' maps [0, 1] pixels to 255 x minus the training split's mean image (DeepDefense's "
    "space, models/preprocess.py), 'none' feeds the pixels as they are"
)


@dataclass(frozen=True)
class ModelSpec(Spec):
    pass


def model(name: str, params: type[Params], module: str, summary: str) -> ModelSpec:
    return ModelSpec("model", name, params, f"advreg.models.{module}:{name}", summary)


@dataclass(frozen=True)
class DenoiserParams(Params):
    """HGD's U-Net denoiser in front of the network (HLDR sec. II-C and V; Liao et al. 2018): x - D(x).
    Liao et al.'s DUNET, the paper's size (26,028,363 parameters with the Fashion-MNIST VGG): width 64, depth 4,
    max_width 256, convs 3, bias true."""

    width: int = param(16, "channels of the denoiser's first level (doubled at each lower level)", ge=1)
    depth: int = param(2, "down-sampling levels of the denoiser's U-Net", ge=1)
    max_width: int = param(0, "most channels of any level (DUNET: 256); 0: no cap", ge=0)
    convs: int = param(2, "3x3 convolutions per block below the first level (DUNET's C3: 3; the first level: 2)", ge=1)
    bias: bool = param(False, "convolutions with a bias (the authors' Keras DUNET; BN follows each, Liao: none)")


@dataclass(frozen=True)
class ModelParams(Params):
    representation_layer: str | None = param(
        None, "hidden block whose output LWA_Rep perturbs (default: the model's own)"
    )
    aux_classes: int = param(0, "outputs of a second (multitask) head on the last hidden layer; 0: none", ge=0)
    denoiser: DenoiserParams | None = param(
        None, "HGD: a U-Net denoiser in front of the network (models/denoiser.py); null: none"
    )


# Keyword arguments that only add to an architecture (a head, a split point, a denoiser in front) or change a
# weightless part of it (dropout): a variant may set them while fine-tuning the reference, whose weights are then
# loaded into the extended model.
ADDITIVE_KWARGS = ("representation_layer", "aux_classes", "denoiser", "dropout", "dropout_at")


@dataclass(frozen=True)
class MLPDataGradParams(ModelParams):
    width: int = param(784, "units per hidden layer", ge=1)
    depth: int = param(3, "hidden layers", ge=1)


@dataclass(frozen=True)
class MLPLWAParams(ModelParams):
    hidden: tuple[int, ...] = param(
        (500, 500), "hidden layer widths (Table 1 varies them per method)", ge=1, min_items=1
    )
    activation: Literal["relu", "tanh"] = param("relu", "hidden activation")
    dropout: float = param(0.0, "dropout probability on the hidden activations `dropout_at` names", ge=0, lt=1)
    dropout_at: Literal["every", "last"] = param(
        "every", "where dropout acts: every hidden activation, or only the last (the authors' MNIST notebook)"
    )
    init: Literal["default", "lwa_notebook"] = param(
        "default", "weights: PyTorch's default, or " + LWA_NOTEBOOK_INIT_HELP
    )


@dataclass(frozen=True)
class MLPDeepDefenseParams(ModelParams):
    hidden: tuple[int, ...] = param((500, 150), "hidden layer widths", ge=1, min_items=1)
    preprocess: Literal["none", "matconvnet"] = param("none", PREPROCESS_HELP)
    init: Literal["default", "matconvnet"] = param("default", MATCONVNET_INIT_HELP)


@dataclass(frozen=True)
class LeNetParams(ModelParams):
    conv_activation: Literal["relu", "tanh"] | None = param(
        None, "activation between conv and pool (DeepDefense: none; LWA: tanh)"
    )
    activation: Literal["relu", "tanh"] = param("relu", "activation of the fully connected hidden layer")
    fc_width: int = param(500, "units of the fully connected hidden layer", ge=1)
    dropout: float = param(0.0, "dropout probability before the last layer", ge=0, lt=1)
    channels: tuple[int, ...] = param(
        (20, 50), "output channels of conv1 and conv2 (DeepDefense, LWA: 20, 50; LeCun's LeNet-5: 6, 16)", ge=1
    )
    preprocess: Literal["none", "matconvnet"] = param("none", PREPROCESS_HELP)
    init: Literal["default", "matconvnet", "lwa_notebook"] = param(
        "default", f"{MATCONVNET_INIT_HELP}; or {LWA_NOTEBOOK_INIT_HELP}"
    )

    def check(self, where: str) -> None:
        if len(self.channels) != 2:
            raise ConfigError(f"{where}.channels: LeNet has two convolutions, got {list(self.channels)}")


@dataclass(frozen=True)
class VGGParams(ModelParams):
    width: float = param(1.0, "channel multiplier (every layer gets max(1, round(c * width)) channels)", gt=0)
    activation: Literal["elu", "relu", "tanh"] = param("elu", "activation (paper: ELU; authors' code: ReLU)")
    order: Literal["act_bn", "bn_act"] = param("act_bn", "conv -> act -> BN (authors' code) or conv -> BN -> act")
    dense: int = param(512, "units of the penultimate dense layer (scaled by width)", ge=1)


@dataclass(frozen=True)
class ConvNetParams(ModelParams):
    width: float = param(1.0, "channel multiplier", gt=0)
    init: Literal["he", "default"] = param("he", "kaiming-normal weights and zero biases (authors' code) or PyTorch's")
    preprocess: Literal["none", "matconvnet"] = param("none", PREPROCESS_HELP)


@dataclass(frozen=True)
class NINParams(ConvNetParams):
    dropout: float = param(0.0, "dropout after each pool (authors' code and NIN: 0.5)", ge=0, lt=1)


@dataclass(frozen=True)
class LWACifarParams(ModelParams):
    width: float = param(1.0, "filter and unit multiplier", gt=0)
    dropout: float = param(0.0, "dropout after each FC-2048 activation", ge=0, lt=1)
    batch_norm: bool = param(False, "BN between conv and ReLU (the authors' MXNet code; the paper has none)")
    preprocess: Literal["paper", "paper_256", "code", "none"] = param(
        "paper",
        "input layer (255 x - mean) / divisor: paper (117, 128: sec. 7's mean and its range (-1, 1)), paper_256 "
        "(117, 256: as printed), code (128, 128: the authors' MXNet code), or none",
    )
    crop: int = param(
        0,
        "crop inputs to crop x crop (random, drawn once per training step; centred in eval; paper: 28); 0: none",
        ge=0,
    )
    mirror: bool = param(
        False, "random horizontal flips in training, drawn with the crop (the authors' code; not the paper)"
    )


MODELS: Registry[ModelSpec] = Registry(
    "architecture",
    model("mlp_datagrad", MLPDataGradParams, "mlp", "DataGrad sec. 3: 3 x 784 ReLU, He init"),
    model("mlp_lwa", MLPLWAParams, "mlp", "LWA sec. 7.2 / Table 1: 784-500-500-10"),
    model("mlp_deepdefense", MLPDeepDefenseParams, "mlp", "DeepDefense supp. Table 3: 784-500-150-10"),
    model("lenet", LeNetParams, "lenet", "DeepDefense supp. Table 3 (LWA's variant via kwargs)"),
    model("vgg", VGGParams, "vgg", "HLDR sec. V: VGG-16 with BN"),
    model("convnet", ConvNetParams, "cifar", "DeepDefense supp. Table 3 (CIFAR-10 ConvNet)"),
    model("nin", NINParams, "cifar", "DeepDefense supp. Table 3 (Network in Network)"),
    model("lwa_cifar", LWACifarParams, "cifar", "LWA sec. 7.2 (CIFAR-10, VGG-D-like)"),
)
MODEL_NAMES: tuple[str, ...] = tuple(MODELS)
