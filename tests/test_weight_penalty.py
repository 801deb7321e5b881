"""DataGrad's baselines (datagrad.md sec. 3): ``rect`` and the classical ``l1`` / ``l2`` weight penalties."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from advreg.methods import build_method
from advreg.methods.base import Batch
from advreg.methods.weight_penalty import penalised_weights
from advreg.models import build_model


def tiny():
    torch.manual_seed(0)
    model = build_model("mlp_datagrad", (1, 2, 2), 3, width=4, depth=1).double()
    with torch.no_grad():  # non-zero biases, so excluding them is visible
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.copy_(torch.linspace(-1.0, 1.0, p.numel(), dtype=torch.float64))
    return model


def batch():
    g = torch.Generator().manual_seed(1)
    return Batch(
        torch.rand(5, 1, 2, 2, generator=g, dtype=torch.float64),
        torch.randint(0, 3, (5,), generator=g),
        torch.arange(5),
    )


def grads(model, method, b):
    model.zero_grad(set_to_none=True)
    loss, logs = method.loss(model, b)
    loss.backward()
    return loss, logs, {n: p.grad.clone() for n, p in model.named_parameters()}


@pytest.mark.parametrize("reduction, scale", [("batch_sum", 1 / 5), ("mean", 1.0)])  # batch of 5 samples
@pytest.mark.parametrize("name", ["l1", "l2"])
def test_penalty_values_by_hand(name, reduction, scale):
    model, b, lam = tiny(), batch(), 0.03
    w1, w2 = model.blocks["fc1"].linear.weight, model.blocks["out"].linear.weight
    if name == "l1":
        by_hand = sum(abs(v) for v in w1.flatten().tolist()) + sum(abs(v) for v in w2.flatten().tolist())
    else:
        by_hand = sum(v * v for v in w1.flatten().tolist()) + sum(v * v for v in w2.flatten().tolist())
    loss, logs = build_method(name, {"lam": lam, "reduction": reduction}).loss(model, b)
    ce = F.cross_entropy(model(b.x), b.y).item()
    assert logs["penalty"] == pytest.approx(by_hand, rel=1e-12)
    assert loss.item() == pytest.approx(ce + scale * lam * by_hand, rel=1e-12)


@pytest.mark.parametrize("reduction, scale", [("batch_sum", 1 / 5), ("mean", 1.0)])
@pytest.mark.parametrize("name", ["l1", "l2"])
def test_gradients_and_biases_excluded(name, reduction, scale):
    model, b, lam = tiny(), batch(), 0.5
    _, _, plain = grads(model, build_method("plain"), b)
    _, _, penalised = grads(model, build_method(name, {"lam": lam, "reduction": reduction}), b)
    params = dict(model.named_parameters())
    for key, p in params.items():
        if p.ndim == 1:  # biases: no penalty
            assert torch.equal(penalised[key], plain[key])
        else:
            extra = scale * lam * (p.sign() if name == "l1" else 2 * p)
            assert torch.allclose(penalised[key], plain[key] + extra, rtol=1e-12, atol=1e-14)


def test_penalised_weights_are_matrices_and_kernels_only():
    torch.manual_seed(0)
    vgg = build_model("vgg", (3, 32, 32), 10, width=0.125)  # has BatchNorm scales/shifts and conv biases
    weights = penalised_weights(vgg)
    assert weights and all(w.ndim >= 2 for w in weights)
    ids = {id(w) for w in weights}
    assert all(id(p) not in ids for p in vgg.parameters() if p.ndim < 2)
    assert sum(p.ndim >= 2 for p in vgg.parameters()) == len(weights)


def test_rect_is_plain():
    model, b = tiny(), batch()
    loss_rect, _, g_rect = grads(model, build_method("rect"), b)
    loss_plain, _, g_plain = grads(model, build_method("plain"), b)
    assert loss_rect.item() == loss_plain.item()
    assert all(torch.equal(g_rect[k], g_plain[k]) for k in g_plain)


def test_parameters():
    default = {"lam": 1e-4, "reduction": "batch_sum"}
    assert build_method("l1").params.to_dict() == default and build_method("l2").params.to_dict() == default
    assert build_method("rect").params.to_dict() == {}
    with pytest.raises(ValueError, match="phi"):
        build_method("l2", {"phi": 0.1})
    with pytest.raises(ValueError, match="l1.*lam"):
        build_method("l1", {"lam": -0.1})
