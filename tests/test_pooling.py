"""The fast 2 x 2 max-pool computes exactly what ATen's does, so swapping it in changed no result."""

import pytest
import torch
import torch.nn.functional as F

from advreg.models import build_model
from advreg.models.pooling import MaxPool2x2, max_pool_2x2

SHAPES = [
    ((3, 4, 24, 24), False),
    ((3, 2, 7, 7), True),  # VGG's ceil_mode on odd sizes (28 -> 14 -> 7 -> 4)
    ((3, 2, 7, 9), False),
    ((2, 3, 8, 5), True),
    ((1, 1, 1, 3), True),  # too small for the fast path
]


def _inputs(shape):
    g = torch.Generator().manual_seed(0)
    yield torch.randn(shape, generator=g)
    yield torch.randint(-1, 2, shape, generator=g).float().relu()  # many ties, as after a ReLU
    yield torch.full(shape, -3.0)


@pytest.mark.parametrize(("shape", "ceil_mode"), SHAPES)
def test_values_equal_aten_without_and_with_autograd(shape, ceil_mode):
    for x in _inputs(shape):
        expected = F.max_pool2d(x, 2, 2, ceil_mode=ceil_mode)
        with torch.no_grad():
            assert torch.equal(max_pool_2x2(x, ceil_mode), expected)
        leaf = x.clone().requires_grad_(True)
        out = MaxPool2x2(ceil_mode)(leaf)
        assert torch.equal(out, expected)
        (grad,) = torch.autograd.grad(out.sum(), leaf)
        (aten,) = torch.autograd.grad(F.max_pool2d(leaf, 2, 2, ceil_mode=ceil_mode).sum(), leaf)
        assert torch.equal(grad, aten)


def test_nan_propagates_as_in_aten():
    x = torch.zeros(1, 1, 4, 4)
    x[0, 0, 1, 1] = float("nan")
    with torch.no_grad():
        out = max_pool_2x2(x)
    assert out[0, 0, 0, 0].isnan() and torch.equal(out.isnan(), F.max_pool2d(x, 2, 2).isnan())


def test_a_lenet_and_a_vgg_predict_exactly_as_with_nn_maxpool():
    torch.manual_seed(0)
    for arch, kwargs in (("lenet", {"conv_activation": "relu"}), ("vgg", {"width": 0.0625})):
        model = build_model(arch, (1, 28, 28), 10, **kwargs).eval()
        pools = [name for name, m in model.named_modules() if isinstance(m, MaxPool2x2)]
        assert pools, arch
        x = torch.rand(16, 1, 28, 28)
        with torch.no_grad():
            fast = model(x)
            for name in pools:  # the same model with ATen's pooling
                parent, _, child = name.rpartition(".")
                pool = model.get_submodule(name)
                setattr(model.get_submodule(parent), child, torch.nn.MaxPool2d(2, 2, ceil_mode=pool.ceil_mode))
            assert torch.equal(fast, model(x)), arch
