"""grad_l2, sign_l2 and agn against closed forms on an affine classifier."""

import pytest
import torch
from torch import nn

from advreg.attacks import build_attack
from advreg.models.base import LayeredClassifier


def affine(num_inputs=12, num_classes=4, seed=0, dtype=torch.float64):
    torch.manual_seed(seed)
    linear = nn.Linear(num_inputs, num_classes).to(dtype)
    return LayeredClassifier([("flat", nn.Flatten()), ("out", linear)]).eval(), linear


def ce_gradient(linear, x, y):
    """Analytic d CE / dx for an affine softmax classifier: W^T (softmax - onehot)."""
    p = torch.softmax(linear(x.flatten(1)), dim=1)
    p[torch.arange(len(y)), y] -= 1.0
    return (p @ linear.weight).reshape(x.shape)


def test_grad_l2_is_the_normalised_loss_gradient():
    model, linear = affine()
    x = torch.rand(6, 1, 3, 4, dtype=torch.float64)
    y = torch.randint(0, 4, (6,))
    attack = build_attack("grad_l2")
    art = attack.craft(model, x, y, [0.5], torch.Generator())
    g = ce_gradient(linear, x, y)
    expected = g / g.flatten(1).norm(dim=1).reshape(-1, 1, 1, 1)
    assert torch.allclose(art["direction"].double(), expected, atol=1e-6)
    adv = attack.materialise(art, x, 0.5, 0)
    assert torch.allclose((adv - x).flatten(1).norm(dim=1), torch.full((6,), 0.5, dtype=torch.float64), atol=1e-6)

    # Moving along the gradient raises the loss (first order: by eps * ||g||).
    def loss(z):
        return nn.functional.cross_entropy(model(z), y, reduction="none")

    assert (loss(attack.materialise(art, x, 1e-3, 0)) > loss(x)).all()


def test_grad_l2_literal_datagrad_scale():
    model, linear = affine()
    x = torch.rand(3, 1, 3, 4, dtype=torch.float64)
    y = torch.tensor([0, 1, 2])
    attack = build_attack("grad_l2", {"normalise": False})
    art = attack.craft(model, x, y, [0.1], torch.Generator())
    assert torch.allclose(attack.materialise(art, x, 0.1, 0) - x, 0.1 * 2 * ce_gradient(linear, x, y), atol=1e-6)


def test_sign_l2_has_l2_norm_epsilon_and_fgsm_direction():
    model, _ = affine()
    x = torch.rand(5, 1, 3, 4, dtype=torch.float64)
    y = torch.randint(0, 4, (5,))
    attack = build_attack("sign_l2")
    art = attack.craft(model, x, y, [1.5], torch.Generator())
    fgsm_sign = build_attack("fgsm").craft(model, x, y, [1.5], torch.Generator())["sign"]
    assert torch.equal(art["sign"], fgsm_sign)
    delta = attack.materialise(art, x, 1.5, 0) - x
    assert torch.allclose(delta.flatten(1).norm(dim=1), torch.full((5,), 1.5, dtype=torch.float64), atol=1e-6)
    # every nonzero coordinate has the same magnitude eps / sqrt(d)
    assert torch.allclose(delta.abs().max(), torch.tensor(1.5 / 12**0.5, dtype=torch.float64), atol=1e-6)


def test_agn_is_seeded_gaussian_and_clipped():
    model, _ = affine()
    x = torch.full((400, 1, 3, 4), 0.5)
    y = torch.zeros(400, dtype=torch.long)
    attack = build_attack("agn")
    a = attack.craft(model, x, y, [0.1], torch.Generator().manual_seed(1))
    b = attack.craft(model, x, y, [0.1], torch.Generator().manual_seed(1))
    c = attack.craft(model, x, y, [0.1], torch.Generator().manual_seed(2))
    assert (
        a["noise"].dtype == torch.float16
        and torch.equal(a["noise"], b["noise"])
        and not torch.equal(a["noise"], c["noise"])
    )
    noisy = build_attack("agn", {"clip": False}).materialise(a, x, 0.1, 0)
    assert abs((noisy - x).std().item() - 0.1) < 0.005 and abs((noisy - x).mean().item()) < 0.005
    assert torch.equal(attack.materialise(a, x, 0.0, 0), x)
    clipped = attack.materialise(a, x, 5.0, 0)
    assert clipped.min() == 0.0 and clipped.max() == 1.0


@pytest.mark.parametrize("name", ["grad_l2", "sign_l2"])
def test_l2_attacks_do_not_clip_by_default_but_can(name):
    model, _ = affine(dtype=torch.float32)
    x = torch.rand(4, 1, 3, 4)
    y = torch.randint(0, 4, (4,))
    art = build_attack(name).craft(model, x, y, [3.0], torch.Generator())
    assert not (
        (build_attack(name).materialise(art, x, 3.0, 0)).clamp(0, 1) == build_attack(name).materialise(art, x, 3.0, 0)
    ).all()
    clipped = build_attack(name, {"clip": True}).materialise(art, x, 3.0, 0)
    assert clipped.min() >= 0 and clipped.max() <= 1
