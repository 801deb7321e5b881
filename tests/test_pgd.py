"""PGD (Madry et al. 2018) against closed forms on affine classifiers and against FGSM on a trained toy model."""

from itertools import pairwise

import conftest
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from advreg.attacks.fgsm import FGSM
from advreg.attacks.pgd import PGDL2, PGDLinf, project_delta
from advreg.models.base import LayeredClassifier

LINF_EPS = [0.0, 0.05, 0.1, 0.3, 1.0]
L2_EPS = [0.0, 0.25, 0.5, 1.5, 4.0]


def affine_model(num_inputs=12, num_classes=3, seed=0):
    torch.manual_seed(seed)
    linear = nn.Linear(num_inputs, num_classes)
    return LayeredClassifier([("flat", nn.Flatten()), ("out", linear)]).eval(), linear


def toy_problem(**kwargs):
    return conftest.toy_problem(**{"num_classes": 3, **kwargs})


@pytest.fixture(scope="module")
def toy():
    return toy_problem()


def accuracies(model, attack, artifact, x, y, epsilons):
    with torch.no_grad():
        return [
            (model(attack.materialise(artifact, x, eps, i)).argmax(1) == y).float().mean().item()
            for i, eps in enumerate(epsilons)
        ]


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def assert_in_ball(attack, artifact, x, epsilons, clip):
    for i, eps in enumerate(epsilons):
        adv = attack.materialise(artifact, x, eps, i)
        assert adv.shape == x.shape and adv.dtype == x.dtype
        delta = (adv - x).flatten(1)
        if attack.norm == "linf":
            assert delta.abs().max() <= eps + 1e-6, (attack.name, eps)
        else:
            assert torch.linalg.vector_norm(delta, dim=1).max() <= eps + 1e-6, (attack.name, eps)
        if clip:
            assert adv.min() >= 0 and adv.max() <= 1


@pytest.mark.parametrize("cls, epsilons", [(PGDLinf, LINF_EPS), (PGDL2, L2_EPS)])
@pytest.mark.parametrize("clip", [True, False])
def test_pgd_stays_in_ball_and_box_at_every_budget(toy, cls, epsilons, clip):
    model, x, y = toy
    attack = cls({"clip": clip, "steps": 10, "restarts": 2})
    art = attack.craft(model, x, y, epsilons, gen())
    assert set(art) == {"delta"}
    assert art["delta"].dtype == torch.float16
    assert art["delta"].shape == (x.shape[0], len(epsilons), *x.shape[1:])
    assert_in_ball(attack, art, x, epsilons, clip)


@pytest.mark.parametrize("cls, eps", [(PGDLinf, 0.3), (PGDL2, 0.3)])
def test_float16_rounding_never_leaves_the_ball(cls, eps):
    # float16(0.3) = 0.30005 > 0.3: a perturbation on the boundary is stored just outside the ball.
    torch.manual_seed(0)
    x = torch.rand(6, 1, 5, 5)
    if cls is PGDLinf:
        delta = eps * torch.sign(torch.randn_like(x))
    else:
        delta = eps * F.normalize(torch.randn_like(x).flatten(1), dim=1).view_as(x)
    art = {"delta": delta.to(torch.float16)[:, None]}
    stored = art["delta"][:, 0].float().flatten(1)
    stored_norm = stored.abs().amax(1) if cls is PGDLinf else torch.linalg.vector_norm(stored, dim=1)
    assert (stored_norm > eps).any()  # the premise: storage alone would escape
    assert_in_ball(cls({"clip": False}), art, x, [eps], clip=False)
    assert_in_ball(cls({"clip": True}), art, x, [eps], clip=True)


def test_project_delta_l2_rescales_only_outside():
    d = torch.tensor([[3.0, 4.0], [0.3, 0.4]])
    out = project_delta(d, 1.0, "l2")
    assert torch.allclose(out, torch.tensor([[0.6, 0.8], [0.3, 0.4]]))


def test_pgd_linf_reaches_the_vertex_on_a_binary_affine_model():
    # Two classes, label 0: grad_x CE = p_1 (w1 - w0), so every step moves by a * sign(w1 - w0) and PGD ends
    # at the Linf ball's vertex x + eps * sign(w1 - w0), the exact maximiser of the margin.
    model, linear = affine_model(num_inputs=12, num_classes=2)
    x = 0.2 + 0.6 * torch.rand(5, 1, 3, 4)
    y = torch.zeros(5, dtype=torch.long)
    eps = 0.1
    attack = PGDLinf({"random_start": False, "steps": 10, "clip": False})
    adv = attack.materialise(attack.craft(model, x, y, [eps], gen()), x, eps, 0)
    w = linear.weight.detach()
    vertex = x + eps * torch.sign(w[1] - w[0]).reshape(1, 1, 3, 4)
    assert torch.allclose(adv, vertex, atol=eps * 2**-10)  # float16 storage: 11 significant bits


def test_pgd_l2_reaches_the_ball_point_along_the_weight_difference():
    # L2 analogue: the maximiser of the margin on the L2 ball is x + eps * (w1 - w0) / ||w1 - w0||_2.
    model, linear = affine_model(num_inputs=12, num_classes=2)
    x = 0.2 + 0.6 * torch.rand(5, 1, 3, 4)
    y = torch.zeros(5, dtype=torch.long)
    eps = 0.5
    attack = PGDL2({"random_start": False, "steps": 10, "clip": False})
    adv = attack.materialise(attack.craft(model, x, y, [eps], gen()), x, eps, 0)
    w = linear.weight.detach()
    direction = ((w[1] - w[0]) / (w[1] - w[0]).norm()).reshape(1, 1, 3, 4)
    assert torch.allclose(adv, x + eps * direction, atol=1e-3)


@pytest.mark.parametrize("cls, epsilons", [(PGDLinf, LINF_EPS), (PGDL2, L2_EPS)])
def test_accuracy_does_not_increase_with_the_budget(toy, cls, epsilons):
    model, x, y = toy
    attack = cls()
    acc = accuracies(model, attack, attack.craft(model, x, y, epsilons, gen()), x, y, epsilons)
    assert acc[0] > 0.9  # the toy model is accurate
    assert all(a >= b for a, b in pairwise(acc)), acc
    assert acc[-1] < 0.5  # and the attack does break it


@pytest.mark.parametrize("params", [{"random_start": False}, {"restarts": 3}, {}])
def test_pgd_linf_is_at_least_as_strong_as_fgsm(toy, params):
    # From x, or with a few restarts, PGD matches or beats FGSM at every budget. A single random start can
    # land in a worse basin (on this toy model it then loses one sample of 200 at eps = 0.1), so the
    # default is only required to be stronger overall.
    model, x, y = toy
    epsilons = [0.0, 0.05, 0.1, 0.15, 0.2, 0.3]
    fgsm, pgd = FGSM(), PGDLinf(params)
    acc_fgsm = accuracies(model, fgsm, fgsm.craft(model, x, y, epsilons, gen()), x, y, epsilons)
    acc_pgd = accuracies(model, pgd, pgd.craft(model, x, y, epsilons, gen()), x, y, epsilons)
    if params:
        assert all(p <= f for p, f in zip(acc_pgd, acc_fgsm, strict=True)), (acc_pgd, acc_fgsm)
    assert sum(acc_pgd) < sum(acc_fgsm), (acc_pgd, acc_fgsm)


def test_more_restarts_never_help_the_model(toy):
    # The first restart is the same run (same derived seed); later ones only add fooled samples.
    model, x, y = toy
    epsilons = [0.1, 0.15]
    one, three = PGDLinf({"steps": 5}), PGDLinf({"steps": 5, "restarts": 3})
    acc_one = accuracies(model, one, one.craft(model, x, y, epsilons, gen(3)), x, y, epsilons)
    acc_three = accuracies(model, three, three.craft(model, x, y, epsilons, gen(3)), x, y, epsilons)
    assert all(t <= o for t, o in zip(acc_three, acc_one, strict=True)), (acc_three, acc_one)


@pytest.mark.parametrize("cls", [PGDLinf, PGDL2])
def test_same_seed_same_artifact_different_seed_different_start(toy, cls):
    model, x, y = toy
    attack = cls({"steps": 3})
    a = attack.craft(model, x, y, [0.1], gen(1))["delta"]
    b = attack.craft(model, x, y, [0.1], gen(1))["delta"]
    c = attack.craft(model, x, y, [0.1], gen(2))["delta"]
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("random_start", [False, True])
def test_batch_size_does_not_change_results(toy, random_start):
    model, x, y = toy
    epsilons = [0.05, 0.15]
    params = {"steps": 5, "restarts": 2, "random_start": random_start}
    a = PGDLinf(params).craft(model, x, y, epsilons, gen(), batch_size=500)["delta"]
    b = PGDLinf(params).craft(model, x, y, epsilons, gen(), batch_size=37)["delta"]
    assert torch.equal(a, b)


@pytest.mark.parametrize("cls", [PGDLinf, PGDL2])
def test_zero_budget_returns_the_clean_inputs(toy, cls):
    model, x, y = toy
    attack = cls()
    art = attack.craft(model, x, y, [0.0, 0.1], gen())
    assert torch.count_nonzero(art["delta"][:, 0]) == 0
    assert torch.equal(attack.materialise(art, x, 0.0, 0), x)


def test_errors_name_the_culprit(toy):
    model, x, y = toy
    with pytest.raises(ValueError, match="steps"):
        PGDLinf({"steps": 0})
    with pytest.raises(ValueError, match="random_start"):
        PGDL2({"random_start": "yes"})
    with pytest.raises(ValueError, match="step_ratio"):
        PGDLinf({"step_ratio": -1.0})
    with pytest.raises(ValueError, match="epsilon #1"):
        PGDLinf().craft(model, x, y, [0.1, -0.1], gen())
    art = PGDLinf({"steps": 1}).craft(model, x, y, [0.1], gen())
    with pytest.raises(ValueError, match="index 1"):
        PGDLinf().materialise(art, x, 0.1, 1)
    with pytest.raises(ValueError, match="does not fit"):
        PGDLinf().materialise(art, x[:, :, :3], 0.1, 0)
    with pytest.raises(ValueError, match="no 'delta'"):
        PGDLinf().materialise({"sign": art["delta"]}, x, 0.1, 0)
