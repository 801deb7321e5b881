"""FAB-T (advreg.attacks.fab, Croce & Hein 2020, Algorithm 1 targeted, L-inf): its projection onto the linearised
boundary within the box (against brute-force checks and the reference code's ``projection_linf`` as torchattacks
ships it), the closed-form distance on linear models, a real attack on a small trained model (as strong as PGD where
PGD succeeds, in the ball and the box, clean-wrong points untouched, reproducible, batch-size independent), and
robust accuracy beside torchattacks.FAB (targeted, L-inf) on the same model and inputs (torchattacks: pinned in
requirements-reference.lock, which `make setup` installs; those tests skip without it)."""

from __future__ import annotations

import conftest
import pytest
import torch
from torch import nn

from advreg.attacks import build_attack
from advreg.attacks.fab import linf_projection
from advreg.params import ConfigError

EPSILONS = [0.0, 0.05, 0.1, 0.2]
FAST = {"n_iter": 30, "n_target_classes": 3}


@pytest.fixture(scope="module")
def toy():
    return conftest.toy_problem(num_classes=4)


def craft(model, x, y, params=None, epsilons=EPSILONS, seed=0, batch_size=500):
    attack = build_attack("fab_t", {**FAST, **(params or {})})
    return attack, attack.craft(model, x, y, epsilons, torch.Generator().manual_seed(seed), batch_size)


def random_planes(n: int, d: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    points = torch.rand(n, d, generator=g)
    w = torch.randn(n, d, generator=g)
    w[:, :2] = 0.0  # coordinates the plane does not depend on must not move
    b = (w * torch.rand(n, d, generator=g)).sum(1) * 2 * torch.rand(n, generator=g)
    b[::5] = 1.2 * w[::5].abs().sum(1)  # every fifth plane misses the box
    return points, w, b


def test_projection_is_the_least_linf_move_onto_the_plane_within_the_box():
    points, w, b = random_planes(300, 20)
    d = linf_projection(points, w, b)
    z = points + d
    assert (z >= -1e-6).all() and (z <= 1 + 1e-6).all()  # in the box
    assert (d[:, :2] == 0).all()
    reachable = (w * torch.where(w > 0, 1.0, 0.0)).sum(1) >= b - 1e-4
    reachable &= (w * torch.where(w < 0, 1.0, 0.0)).sum(1) <= b + 1e-4  # the plane meets the box
    on_plane = ((w * z).sum(1) - b).abs() < 1e-4
    assert reachable.sum() > 50 and (~reachable).sum() > 10
    assert on_plane[reachable].all()
    # least L-inf norm: moving every coordinate by a slightly smaller radius towards the plane cannot reach it
    radius = d.abs().amax(1) * (1 - 1e-3)
    gap = b - (w * points).sum(1)
    direction = torch.sign(gap)[:, None] * torch.sign(w)
    room = torch.where(direction > 0, 1 - points, points)
    best = (w.abs() * torch.minimum(radius[:, None], room)).sum(1)
    assert (best[reachable] < gap.abs()[reachable]).all()
    # a plane out of reach: every coordinate at the box face nearest to the plane
    far = ~reachable
    assert torch.allclose(z[far][w[far] != 0], torch.where(direction[far] > 0, 1.0, 0.0)[w[far] != 0])
    # without the box: the closed form |b - <w, x>| / ||w||_1 on every coordinate
    free = linf_projection(points, w, b, box=False)
    assert torch.allclose(free.abs().amax(1), gap.abs() / w.abs().sum(1), rtol=1e-5)
    assert torch.allclose((w * (points + free)).sum(1), b, atol=1e-4)


def test_projection_equals_the_reference_code():
    fab = pytest.importorskip("torchattacks.attacks.fab")
    for d in (5, 50, 784):
        points, w, b = random_planes(200, d, seed=d)
        ours = linf_projection(points, w, b)
        ref = fab.projection_linf(points.clone(), w.clone(), b.clone())
        assert torch.allclose(ours, ref, atol=1e-5), d


class Linear(nn.Module):
    def __init__(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        super().__init__()
        self.weight, self.bias = nn.Parameter(weight), nn.Parameter(bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1) @ self.weight.T + self.bias


@pytest.mark.parametrize("classes", [2, 5])
def test_linear_model_distance_is_the_closed_form_up_to_the_overshoot(classes):
    """On a linear model the linearisation is exact: the first step lands eta times the closed-form distance
    |f(x)| / ||w_t - w_y||_1 past x (alpha is 1/2, clipped to alpha_max, and both projections agree), so the
    closest misclassified point FAB-T keeps lies between the distance to the y/t boundary and eta times it, or
    closer where another class's boundary is crossed first. Points stay inside the box (pixels in [0.3, 0.7])."""
    g = torch.Generator().manual_seed(classes)
    d = 12
    weight, bias = torch.randn(classes, d, generator=g), 0.1 * torch.randn(classes, generator=g)
    model = Linear(weight, bias).eval()
    x = 0.3 + 0.4 * torch.rand(64, 1, 3, 4, generator=g)
    with torch.no_grad():
        logits = model(x)
    y = logits.argmax(1)
    target = logits.scatter(1, y[:, None], -torch.inf).argmax(1)
    w = weight[target] - weight[y]
    closed = (logits.gather(1, y[:, None]) - logits.gather(1, target[:, None])).squeeze(1) / w.abs().sum(1)
    fits = closed * 1.05 < 0.3  # the overshoot stays inside the box
    assert fits.sum() > 20
    attack = build_attack("fab_t", {"n_iter": 50, "n_target_classes": 1})
    eps = 0.5  # wider than every distance: the stored point is FAB's closest adversarial itself
    artifact = attack.craft(model, x, y, [eps], torch.Generator().manual_seed(0))
    adv = attack.materialise(artifact, x, eps, 0)
    dist = (adv - x).flatten(1).abs().amax(1)
    with torch.no_grad():
        assert (model(adv).argmax(1) != y).all()
    # the nearest boundary of any class bounds the distance from below
    others = (logits.gather(1, y[:, None]) - logits) / (weight[None] - weight[y][:, None]).abs().sum(2).clamp_min(1e-9)
    nearest = others.scatter(1, y[:, None], torch.inf).amin(1)
    assert (dist[fits] >= nearest[fits] * (1 - 2e-3)).all()
    assert (dist[fits] <= closed[fits] * 1.05 * (1 + 2e-3)).all()
    if classes == 2:  # one boundary: the distance is the closed form up to the overshoot, and close to it
        assert (dist[fits] >= closed[fits] * (1 - 2e-3)).all()
        assert (dist[fits] <= closed[fits] * 1.01).float().mean() > 0.9  # the backward steps refine the overshoot


def test_fab_is_as_strong_as_pgd_where_pgd_succeeds(toy):
    model, x, y = toy
    attack, artifact = craft(model, x, y)
    pgd = build_attack("pgd_linf", {"steps": 10})
    pgd_artifact = pgd.craft(model, x, y, EPSILONS, torch.Generator().manual_seed(0))
    clean = conftest.accuracy(model, x, y)
    assert clean > 0.95
    eps, index = 0.2, EPSILONS.index(0.2)
    pgd_acc = conftest.accuracy(model, pgd.materialise(pgd_artifact, x, eps, index), y)
    assert pgd_acc < 0.05  # a budget where PGD succeeds
    assert conftest.accuracy(model, attack.materialise(artifact, x, eps, index), y) <= pgd_acc + 0.01
    index = EPSILONS.index(0.1)
    fab_acc = conftest.accuracy(model, attack.materialise(artifact, x, 0.1, index), y)
    assert fab_acc < clean - 0.05
    assert fab_acc <= conftest.accuracy(model, pgd.materialise(pgd_artifact, x, 0.1, index), y) + 0.02


def test_budget_box_and_clean_wrong_points(toy):
    model, x, y = toy
    x = x.clone()
    x[:, :, 0, :] = 0.0  # pixels on the box's faces
    x[:, :, 1, :] = 1.0
    y = y.clone()
    y[:10] = (y[:10] + 1) % 4  # ten points the model gets wrong
    attack, artifact = craft(model, x, y)
    assert artifact["delta"].dtype == torch.float16 and artifact["delta"].shape == (len(x), len(EPSILONS), 1, 6, 6)
    with torch.no_grad():
        wrong_clean = model(x).argmax(1) != y
    assert wrong_clean[:10].all()
    for index, eps in enumerate(EPSILONS):
        adv = attack.materialise(artifact, x, eps, index)
        assert (adv - x).abs().max() <= eps + 1e-6
        assert adv.min() >= 0 and adv.max() <= 1
        assert torch.equal(adv[wrong_clean], x[wrong_clean])  # not attacked: they stay clean
        assert conftest.accuracy(model, adv, y) <= conftest.accuracy(model, x, y)
    assert torch.equal(attack.materialise(artifact, x, 0.0, 0), x)


def test_reproducible_and_independent_of_batch_size(toy):
    model, x, y = toy
    _, first = craft(model, x, y, {"restarts": 2}, seed=3)
    _, again = craft(model, x, y, {"restarts": 2}, seed=3, batch_size=37)
    assert torch.equal(first["delta"], again["delta"])
    _, other = craft(model, x, y, {"restarts": 2}, seed=4)
    assert not torch.equal(first["delta"], other["delta"])  # the second restart starts at a random point


def test_more_targets_and_iterations_never_weaken_it(toy):
    model, x, y = toy
    weak, weak_artifact = craft(model, x, y, {"n_iter": 5, "n_target_classes": 1})
    strong, strong_artifact = craft(model, x, y, {"n_iter": 5, "n_target_classes": 3})
    for index, eps in enumerate(EPSILONS):
        w = conftest.accuracy(model, weak.materialise(weak_artifact, x, eps, index), y)
        s = conftest.accuracy(model, strong.materialise(strong_artifact, x, eps, index), y)
        assert s <= w, (eps, s, w)


def test_robust_accuracy_equals_torchattacks_fab(toy):
    """Same model and inputs, 100 iterations, every target class (K - 1 = 3), one restart (no random start: the
    reference's first restart starts at x, so both are deterministic). Robust accuracy agrees within 0.02: ours
    clips an adversarial found outside the ball onto it and counts it if it still fools the model, and float
    rounding differs near the boundary."""
    torchattacks = pytest.importorskip("torchattacks")
    model, x, y = toy
    for eps in (0.06, 0.08, 0.1, 0.12):
        attack = build_attack("fab_t", {"n_iter": 100, "n_target_classes": 3})
        ours = conftest.accuracy(
            model, attack.materialise(attack.craft(model, x, y, [eps], torch.Generator()), x, eps, 0), y
        )
        reference = torchattacks.FAB(model, norm="Linf", eps=eps, steps=100, multi_targeted=True, n_classes=4)
        ref = conftest.accuracy(model, reference(x, y), y)
        assert ours <= ref + 0.02 and ref <= ours + 0.02, (eps, ours, ref)


def test_bad_parameters_and_inputs_name_the_culprit(toy):
    model, x, y = toy
    for params, match in (({"n_iter": 0}, "n_iter"), ({"beta": 1.0}, "beta"), ({"eta": 0.5}, "eta")):
        with pytest.raises(ConfigError, match=match):
            build_attack("fab_t", params)
    with pytest.raises(ValueError, match="fab_t.*epsilon"):
        build_attack("fab_t").craft(model, x, y, [-0.1], torch.Generator())
