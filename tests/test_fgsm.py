"""FGSM against closed forms on an affine classifier (Goodfellow et al. 2014; DeepDefense eq. 9)."""

import torch
from torch import nn

from advreg.attacks import ATTACKS, build_attack
from advreg.models.base import LayeredClassifier


def affine_model(num_inputs=12, num_classes=3, seed=0):
    torch.manual_seed(seed)
    linear = nn.Linear(num_inputs, num_classes)
    return LayeredClassifier([("flat", nn.Flatten()), ("out", linear)]).eval(), linear


def test_fgsm_matches_closed_form_on_binary_affine_model():
    # Two classes: the CE gradient w.r.t. x is (p - onehot) @ W, so its sign for label 0 is sign(w1 - w0).
    model, linear = affine_model(num_inputs=12, num_classes=2)
    x = torch.rand(5, 1, 3, 4)
    y = torch.zeros(5, dtype=torch.long)
    attack = build_attack("fgsm", {"clip": False})
    art = attack.craft(model, x, y, [0.1], torch.Generator())
    w = linear.weight.detach()
    expected_sign = torch.sign(w[1] - w[0]).reshape(1, 1, 3, 4).expand(5, -1, -1, -1)
    assert torch.equal(art["sign"].float(), expected_sign)
    eps = 0.05
    adv = attack.materialise(art, x, eps, 0)

    # The margin logit_1 - logit_0 grows by exactly eps * ||w1 - w0||_1.
    def margin(z):
        return z[:, 1] - z[:, 0]

    with torch.no_grad():
        gain = margin(model(adv)) - margin(model(x))
    assert torch.allclose(gain, torch.full((5,), eps * (w[1] - w[0]).abs().sum().item()), atol=1e-5)


def test_fgsm_is_linf_bounded_and_clipped():
    model, _ = affine_model()
    x = torch.rand(8, 1, 3, 4)
    y = torch.randint(0, 3, (8,))
    attack = build_attack("fgsm")
    art = attack.craft(model, x, y, [0.3], torch.Generator())
    assert art["sign"].dtype == torch.int8
    adv = attack.materialise(art, x, 0.3, 0)
    assert (adv - x).abs().max() <= 0.3 + 1e-6
    assert adv.min() >= 0 and adv.max() <= 1
    assert torch.equal(attack.materialise(art, x, 0.0, 0), x)


def test_fgsm_result_does_not_depend_on_batch_size():
    model, _ = affine_model()
    x = torch.rand(7, 1, 3, 4)
    y = torch.randint(0, 3, (7,))
    a = build_attack("fgsm").craft(model, x, y, [0.1], torch.Generator(), batch_size=2)["sign"]
    b = build_attack("fgsm").craft(model, x, y, [0.1], torch.Generator(), batch_size=7)["sign"]
    assert torch.equal(a, b)


def test_unknown_attack_parameter_is_named():
    import pytest

    assert "fgsm" in ATTACKS
    with pytest.raises(ValueError, match="clipp"):
        build_attack("fgsm", {"clipp": True})
