"""Square Attack (advreg.attacks.square, Andriushchenko et al. 2020): it really attacks (as strong as PGD on a small
trained model), never helps the attacker, stays in the L-inf ball and the [0, 1] box, queries the model only
forward without gradients, is reproducible and independent of the batch size, and follows the paper's schedule
of square sizes. The comparison with the reference implementation (torchattacks.Square) is benchmarks/square.py
and docs/fidelity.md; the last test runs beside it on a toy model (requirements-reference.lock)."""

from __future__ import annotations

import conftest
import pytest
import torch
from torch import nn

from advreg.attacks import build_attack
from advreg.attacks.square import fraction, margin, side_length, window_counts

EPSILONS = [0.0, 0.05, 0.1, 0.2]


@pytest.fixture(scope="module")
def toy():
    return conftest.toy_problem(num_classes=3)


def craft(model, x, y, params=None, epsilons=EPSILONS, seed=0, batch_size=500):
    attack = build_attack("square", {"n_queries": 300, **(params or {})})
    artifact = attack.craft(model, x, y, epsilons, torch.Generator().manual_seed(seed), batch_size)
    return attack, artifact


def test_square_is_as_strong_as_pgd_where_pgd_succeeds(toy):
    model, x, y = toy
    attack, artifact = craft(model, x, y)
    pgd = build_attack("pgd_linf", {"steps": 10})
    pgd_artifact = pgd.craft(model, x, y, EPSILONS, torch.Generator().manual_seed(0))
    clean = conftest.accuracy(model, x, y)
    assert clean > 0.95
    eps, index = 0.2, EPSILONS.index(0.2)
    pgd_acc = conftest.accuracy(model, pgd.materialise(pgd_artifact, x, eps, index), y)
    square_acc = conftest.accuracy(model, attack.materialise(artifact, x, eps, index), y)
    assert pgd_acc < 0.05  # a budget where PGD succeeds
    assert square_acc <= pgd_acc + 0.02
    assert conftest.accuracy(model, attack.materialise(artifact, x, 0.1, EPSILONS.index(0.1)), y) < clean - 0.05


def test_budget_and_box_and_clean_points(toy):
    model, x, y = toy
    x = x.clone()
    x[:, :, 0, :] = 0.0  # pixels on the box's faces: the box clips the perturbation there
    x[:, :, 1, :] = 1.0
    attack, artifact = craft(model, x, y)
    assert artifact["delta"].dtype == torch.float16 and artifact["delta"].shape == (len(x), len(EPSILONS), 1, 6, 6)
    with torch.no_grad():
        wrong_clean = model(x).argmax(1) != y
    for index, eps in enumerate(EPSILONS):
        adv = attack.materialise(artifact, x, eps, index)
        assert adv.min() >= 0 and adv.max() <= 1
        assert (adv - x).abs().max() <= eps + 1e-7  # float32 rounding of the difference only
        if eps == 0:
            assert torch.equal(adv, x)
            continue
        # Every coordinate of an attacked point sits at a corner of the ball, unless the box clipped it.
        delta = (adv - x)[~wrong_clean]
        at_corner = (delta.abs() - eps).abs() < 1e-3
        clipped = (adv[~wrong_clean] == 0) | (adv[~wrong_clean] == 1)
        assert bool((at_corner | clipped).all())
        assert torch.equal(adv[wrong_clean], x[wrong_clean])  # misclassified when clean: left alone


def test_never_makes_a_point_correct_and_stops_at_success():
    g = torch.Generator().manual_seed(5)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 4))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    x = torch.rand(80, 1, 4, 4, generator=g)
    y = torch.randint(0, 4, (80,), generator=g)  # random labels: most points misclassified when clean
    attack, artifact = craft(model, x, y, epsilons=[0.0, 0.02, 0.1, 0.5])
    with torch.no_grad():
        right_clean = model(x).argmax(1) == y
    assert 0 < int(right_clean.sum()) < 60
    for index, eps in enumerate([0.0, 0.02, 0.1, 0.5]):
        with torch.no_grad():
            right = model(attack.materialise(artifact, x, eps, index)).argmax(1) == y
        assert not bool((right & ~right_clean).any()), f"eps {eps}: a misclassified point was made correct"


class NoGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("Square must not ask for a gradient")


class ForwardOnly(nn.Module):
    """The same model, which refuses any gradient: backward raises, and so does a forward pass with autograd on."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled():
            raise RuntimeError("forward pass with autograd enabled")
        return self.model(NoGradient.apply(x))


def test_uses_no_gradient(toy):
    model, x, y = toy
    _, plain = craft(model, x, y, {"n_queries": 50})
    with torch.enable_grad():
        _, blind = craft(ForwardOnly(model), x, y, {"n_queries": 50})
    assert torch.equal(plain["delta"], blind["delta"])
    with pytest.raises(RuntimeError, match="gradient"):  # the wrapper does refuse gradients
        with torch.enable_grad():
            probe = x[:2].clone().requires_grad_(True)
            NoGradient.apply(probe).sum().backward()


def test_reproducible_and_independent_of_batch_size(toy):
    model, x, y = toy
    _, one = craft(model, x, y, {"n_queries": 80}, seed=3)
    _, again = craft(model, x, y, {"n_queries": 80}, seed=3, batch_size=7)
    _, other = craft(model, x, y, {"n_queries": 80}, seed=4)
    assert torch.equal(one["delta"], again["delta"])
    assert not torch.equal(one["delta"], other["delta"])


def test_schedule_of_square_sizes():
    p_init = 0.8
    # n_queries = 10000: halved after iterations 10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000
    assert [fraction(i, 10000, p_init) for i in (0, 10, 11, 50, 51, 8000, 8001)] == [
        0.8,
        0.8,
        0.4,
        0.4,
        0.2,
        0.8 / 256,
        0.8 / 512,
    ]
    # rescaled to smaller budgets: 200 queries halve after iterations 0.2, 1, 4, 10, 20, 40, 80, 120, 160
    assert [fraction(i, 200, p_init) for i in (0, 1, 2, 160, 161)] == [0.8, 0.4, 0.2, 0.8 / 256, 0.8 / 512]
    assert side_length(0.8, 28, 28) == 25 and side_length(0.8 / 512, 28, 28) == 1
    assert side_length(1.0, 6, 6) == 6 and side_length(1e-6, 6, 6) == 1


def test_window_counts_and_margin():
    g = torch.Generator().manual_seed(0)
    plus = torch.rand(3, 2, 7, 5, generator=g) > 0.5
    rows = torch.tensor([[0, 4], [2, 1], [4, 0]])
    cols = torch.tensor([[0, 2], [1, 2], [2, 0]])
    counts = window_counts(plus, rows, cols, 3)
    for b in range(3):
        for t in range(2):
            r, s = int(rows[b, t]), int(cols[b, t])
            assert counts[b, t].tolist() == plus[b, :, r : r + 3, s : s + 3].sum(dim=(1, 2)).tolist()
    logits = torch.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 1.0]])
    assert margin(logits, torch.tensor([0, 2])).tolist() == [1.0, -4.0]


def test_bad_input_is_refused(toy):
    model, x, y = toy
    attack = build_attack("square", {"n_queries": 10})
    with pytest.raises(ValueError, match="square.*image inputs"):
        attack.craft(model, x.flatten(1), y, [0.1], torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="n_queries"):
        build_attack("square", {"n_queries": 0})


def test_at_least_as_strong_as_torchattacks_square(toy):
    """Beside the reference implementation (torchattacks 3.5.1 ``Square``, L-inf, margin loss, p_init 0.8, installed
    from requirements-reference.lock) on the same model, points and query budget: our robust accuracy is never above
    its lowest over three seeds (+0.02 for the random search), with every perturbation inside the budget and the
    box. Measured here (200 points): eps 0.05 1.000 vs 1.000; eps 0.1 0.93 vs 1.0; eps 0.2 0.025 vs 0.605-0.72 (100
    queries); why ours is that much stronger on these 36-pixel images is not investigated. On the arena's LeNet
    (28 x 28) the two are within 3 points (benchmarks/square.py, docs/fidelity.md)."""
    torchattacks = pytest.importorskip("torchattacks")
    model, x, y = toy
    budgets = [0.05, 0.1, 0.2]
    attack, artifact = craft(model, x, y, {"n_queries": 100}, epsilons=budgets)
    for i, eps in enumerate(budgets):
        adv = attack.adversarial(artifact, x, eps, i)
        assert (adv - x).abs().max() <= eps + 1e-6 and adv.min() >= 0 and adv.max() <= 1
        ours = conftest.accuracy(model, adv, y)
        reference = []
        for seed in range(3):
            square = torchattacks.Square(
                model, norm="Linf", eps=eps, n_queries=100, p_init=0.8, loss="margin", seed=seed
            )
            reference.append(conftest.accuracy(model, square(x, y), y))
        assert ours <= min(reference) + 0.02, (eps, ours, reference)
