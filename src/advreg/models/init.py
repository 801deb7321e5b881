"""Weight initialisations chosen by a model's ``init`` parameter where it is not the architecture's own.

``matconvnet``: every convolution and linear layer gets N(0, 0.01^2) weights and zero biases, MatConvNet's
``cnn_mnist_init.m`` (``f = 1/100``; ``f * randn`` weights, zero biases), the recipe of the LeNet reference the
DeepDefense paper downloaded ("download a LeNet structured CNN model", deepdefense.md sec. 4.2, footnote 2) and,
as the paper trains its MLP "as in the MatConvNet examples", a reading for its MLP reference too
(docs/reproduction.md tests it). Layers without weights (the input layer, pooling) are left alone.

``lwa_notebook``: every convolution and linear layer gets U(-0.07, 0.07) weights and zero biases, the authors' LWA
MNIST notebooks (``MNIST_2layers.ipynb``: ``arr[:] = mx.rnd.uniform(-0.07, 0.07, arr.shape)`` on every weight, the
biases left at the zeros they were allocated with); an option of LWA's MLP (docs/reproduction.md tests it).
"""

from __future__ import annotations

from torch import nn

MATCONVNET_STD = 0.01
LWA_NOTEBOOK_BOUND = 0.07
SCHEMES = ("default", "matconvnet", "lwa_notebook")


def initialise(model: nn.Module, scheme: str) -> nn.Module:
    """Re-initialise ``model``'s convolutions and linear layers in place by ``scheme`` ("default": leave them as
    PyTorch made them; "matconvnet": N(0, 0.01^2) weights, zero biases; "lwa_notebook": U(-0.07, 0.07) weights,
    zero biases), in module order; returns the model."""
    if scheme == "default":
        return model
    if scheme not in SCHEMES:
        raise ValueError(f"init: unknown scheme {scheme!r} (known: {', '.join(SCHEMES)})")
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            if scheme == "matconvnet":
                nn.init.normal_(module.weight, 0.0, MATCONVNET_STD)
            else:
                nn.init.uniform_(module.weight, -LWA_NOTEBOOK_BOUND, LWA_NOTEBOOK_BOUND)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return model
