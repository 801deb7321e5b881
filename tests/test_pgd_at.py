"""PGD adversarial training (Madry et al. 2018): the loss is the cross-entropy at the L-inf PGD point (closed form
on an affine two-class model), and on a toy problem with robust and non-robust features it buys robustness that
plain training lacks."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from advreg.attacks.pgd import PGDLinf
from advreg.methods import build_method
from advreg.methods.base import Batch
from advreg.models import build_model
from advreg.models.base import LayeredClassifier
from advreg.params import ConfigError
from advreg.splits import Split
from advreg.training.loop import train
from advreg.training.settings import TrainSettings

SHAPE = (1, 3, 3)


def affine_two_class(seed: int = 0) -> tuple[LayeredClassifier, nn.Linear]:
    torch.manual_seed(seed)
    linear = nn.Linear(9, 2).double()
    return LayeredClassifier([("flat", nn.Flatten()), ("out", linear)]), linear


def batch(n: int = 8, seed: int = 1) -> Batch:
    g = torch.Generator().manual_seed(seed)
    x = 0.3 + 0.4 * torch.rand(n, *SHAPE, generator=g, dtype=torch.float64)  # inside the box by more than eps
    return Batch(x, torch.randint(0, 2, (n,), generator=g), torch.arange(n))


def corner(linear: nn.Linear, b: Batch, eps: float) -> torch.Tensor:
    """The exact L-inf maximiser of a two-class affine model's cross-entropy: x - eps sign(w_y - w_other)."""
    w = linear.weight.detach()
    direction = (w[b.y] - w[1 - b.y]).sign().view_as(b.x)
    return b.x - eps * direction


@pytest.mark.parametrize("random_start", [True, False])
def test_loss_and_update_are_the_cross_entropy_at_the_worst_case_point(random_start):
    """With step_ratio 2.5 the sign steps travel 2.5 eps >= the 2 eps from any start to the ball's corner, where
    they stay: the loss and its weight gradient are those of eq. (2.1)'s inner maximiser, in closed form."""
    model, linear = affine_two_class()
    b, eps = batch(), 0.05
    method = build_method("pgd_at", {"epsilon": eps, "steps": 10, "random_start": random_start})
    method.setup(model, b.x, b.y)
    loss, logs = method.loss(model, b)
    (grad,) = torch.autograd.grad(loss, linear.weight)
    expected = F.cross_entropy(model(corner(linear, b, eps)), b.y)
    (expected_grad,) = torch.autograd.grad(expected, linear.weight)
    torch.testing.assert_close(loss, expected)
    torch.testing.assert_close(grad, expected_grad)
    assert logs["ce_adv"] == pytest.approx(expected.item())
    assert linear.weight.grad is None  # the inner search leaves no gradient on the weights


def test_clean_weight_mixes_in_the_clean_cross_entropy():
    model, linear = affine_two_class()
    b, eps = batch(), 0.05
    method = build_method("pgd_at", {"epsilon": eps, "steps": 10, "clean_weight": 0.25})
    method.setup(model, b.x, b.y)
    loss, logs = method.loss(model, b)
    adv = F.cross_entropy(model(corner(linear, b, eps)), b.y)
    clean = F.cross_entropy(model(b.x), b.y)
    torch.testing.assert_close(loss, 0.75 * adv + 0.25 * clean)
    assert set(logs) == {"ce", "ce_adv"}


def test_inner_search_is_pgd_linf_itself_and_deterministic():
    """The training adversary is the evaluation attack's run (same start, same iterate), seeded from the job."""
    torch.manual_seed(3)
    model = build_model("mlp_lwa", SHAPE, 3, hidden=(8,)).double()
    g = torch.Generator().manual_seed(2)
    x, y = torch.rand(6, *SHAPE, generator=g, dtype=torch.float64), torch.randint(0, 3, (6,), generator=g)
    method = build_method("pgd_at", {"epsilon": 0.1, "steps": 5, "random_start": False})
    adv = method.adversarial(model, x, y)
    reference = PGDLinf({"steps": 5, "random_start": False}).run(model, x, y, 0.1, torch.zeros_like(x))
    torch.testing.assert_close(adv, reference)
    assert (adv - x).abs().max() <= 0.1 + 1e-12 and adv.min() >= 0 and adv.max() <= 1
    losses = []
    for _ in range(2):
        torch.manual_seed(7)
        m = build_method("pgd_at", {"epsilon": 0.1, "steps": 5})
        m.setup(model, x, y)
        losses.append(m.loss(model, Batch(x, y, torch.arange(6)))[0].item())
    assert losses[0] == losses[1]


def test_inner_mode_eval_restores_the_modes():
    torch.manual_seed(0)
    model = build_model("mlp_lwa", SHAPE, 3, hidden=(8,), dropout=0.5).double().train()
    b = batch(6)
    method = build_method("pgd_at", {"epsilon": 0.1, "steps": 3, "inner_mode": "eval", "random_start": False})
    off = method.adversarial(model, b.x, b.y)
    assert model.training and all(m.training for m in model.modules())
    torch.testing.assert_close(off, method.adversarial(model, b.x, b.y))  # deterministic network: same point


def test_parameters_are_checked():
    with pytest.raises(ConfigError, match="epsilon"):
        build_method("pgd_at", {"epsilon": 0})
    with pytest.raises(ConfigError, match="clean_weight"):
        build_method("pgd_at", {"clean_weight": 1.5})


def robust_features(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Two classes: pixel 0 is 0.5 -+ 0.2 (robust to eps 0.1, noisy), the other 8 pixels 0.5 -+ 0.04 (each
    weak, together highly predictive, every one flipped by eps 0.1: Tsipras et al.'s non-robust features)."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    sign = (2.0 * y - 1.0).view(n, 1)
    robust = 0.5 + 0.2 * sign + 0.1 * torch.randn(n, 1, generator=g)
    weak = 0.5 + 0.04 * sign + 0.01 * torch.randn(n, 8, generator=g)
    return torch.cat([robust, weak], 1).clamp(0, 1).view(n, *SHAPE), y


def test_pgd_at_is_more_robust_than_plain_training():
    x, y = robust_features(800, 0)
    xt, yt = robust_features(400, 1)
    settings = TrainSettings.of(
        init="scratch", epochs=8, batch_size=40, optimizer={"name": "sgd", "lr": 0.3, "momentum": 0.9}
    )
    robust = {}
    for name, params in (("plain", {}), ("pgd_at", {"epsilon": 0.1, "steps": 5})):
        torch.manual_seed(0)
        model = build_model("mlp_lwa", SHAPE, 2, hidden=(16,))
        train(model, build_method(name, params), settings, Split(x[:640], y[:640], torch.arange(640)),
              Split(x[640:], y[640:], torch.arange(160)), torch.Generator().manual_seed(1), name,
              log=lambda _: None)  # fmt: skip
        model.eval()
        attack = PGDLinf({"steps": 20})
        artifact = attack.craft(model, xt, yt, [0.0, 0.1], torch.Generator().manual_seed(2))
        with torch.no_grad():
            robust[name] = [
                (model(attack.materialise(artifact, xt, eps, i)).argmax(1) == yt).float().mean().item()
                for i, eps in enumerate([0.0, 0.1])
            ]
    assert robust["plain"][0] > 0.95 and robust["pgd_at"][0] > 0.85, robust  # both learn the task
    # PGD-AT keeps near the robust feature's own limit (P(N(0.2, 0.1) > 0.1) = 0.84); plain training, leaning on
    # the weak features, loses a third of the points (0.65 when written)
    assert robust["pgd_at"][1] > 0.78 and robust["pgd_at"][1] > robust["plain"][1] + 0.1, robust
