"""APGD-CE, APGD-T and the AutoAttack-style ensemble (Croce & Hein 2020) on affine and trained toy models."""

import math
from fractions import Fraction
from itertools import pairwise

import conftest
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from advreg.attacks.apgd import (
    APGDCE,
    APGDT,
    checkpoints,
    dlr_targeted_loss,
    target_ranking,
    targeted_loss,
)
from advreg.attacks.autoattack import AutoAttack
from advreg.attacks.fgsm import FGSM
from advreg.attacks.pgd import PGDLinf
from advreg.models import build_model
from advreg.models.base import LayeredClassifier

EPSILONS = [0.0, 0.05, 0.1, 0.15, 0.2, 0.3]
FAST = {"n_iter": 20, "n_target_classes": 3}  # K = 4 classes: all three non-true classes


def toy_problem(**kwargs):
    return conftest.toy_problem(**{"num_classes": 4, **kwargs})


@pytest.fixture(scope="module")
def toy():
    return toy_problem()


@pytest.fixture(scope="module")
def toy_accuracies(toy):
    """Accuracy at every budget of FGSM, PGD (same iterations as APGD) and the three APGD attacks (one seed)."""
    model, x, y = toy
    attacks = {
        "fgsm": FGSM(),
        "pgd_linf": PGDLinf({"steps": FAST["n_iter"]}),
        "apgd_ce": APGDCE({"n_iter": 20}),
        "apgd_t": APGDT(FAST),
        "autoattack": AutoAttack(FAST),
    }
    return {
        name: accuracies(model, a, a.craft(model, x, y, EPSILONS, gen()), x, y, EPSILONS) for name, a in attacks.items()
    }


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def accuracies(model, attack, artifact, x, y, epsilons):
    with torch.no_grad():
        return [
            (model(attack.materialise(artifact, x, eps, i)).argmax(1) == y).float().mean().item()
            for i, eps in enumerate(epsilons)
        ]


ALL = [
    (APGDCE, {"n_iter": 10}),
    (APGDT, {"n_iter": 10, "n_target_classes": 2}),
    (AutoAttack, {"n_iter": 10, "n_target_classes": 2}),
]


@pytest.mark.parametrize("cls, params", ALL)
@pytest.mark.parametrize("clip", [True, False])
def test_apgd_stays_in_linf_ball_and_box(toy, cls, params, clip):
    model, x, y = toy
    epsilons = [0.0, 0.05, 0.3, 1.0]
    attack = cls({**params, "clip": clip})
    art = attack.craft(model, x, y, epsilons, gen())
    assert art["delta"].dtype == torch.float16
    assert art["delta"].shape == (x.shape[0], len(epsilons), *x.shape[1:])
    for i, eps in enumerate(epsilons):
        adv = attack.materialise(art, x, eps, i)
        assert (adv - x).abs().max() <= eps + 1e-6, (cls.name, eps)
        if clip:
            assert adv.min() >= 0 and adv.max() <= 1


@pytest.mark.parametrize("cls, params", ALL)
def test_zero_budget_returns_the_clean_inputs(toy, cls, params):
    model, x, y = toy
    attack = cls(params)
    art = attack.craft(model, x, y, [0.0, 0.1], gen())
    assert torch.count_nonzero(art["delta"][:, 0]) == 0
    assert torch.equal(attack.materialise(art, x, 0.0, 0), x)


def test_apgd_ce_is_at_least_as_strong_as_fgsm(toy_accuracies):
    acc = toy_accuracies
    assert acc["apgd_ce"][0] > 0.9
    assert all(a <= f for a, f in zip(acc["apgd_ce"], acc["fgsm"], strict=True)), acc
    assert all(a <= f for a, f in zip(acc["apgd_t"], acc["fgsm"], strict=True)), acc


def test_autoattack_is_at_least_as_strong_as_each_stage_and_as_pgd(toy_accuracies):
    acc = toy_accuracies
    # By construction (same random stream per stage, samples treated independently): the union of both.
    assert all(a <= min(c, t) for a, c, t in zip(acc["autoattack"], acc["apgd_ce"], acc["apgd_t"], strict=True)), acc
    # Empirical, on this toy model: the ensemble beats PGD with the same number of iterations.
    assert all(a <= p for a, p in zip(acc["autoattack"], acc["pgd_linf"], strict=True)), acc
    assert all(a >= b for a, b in pairwise(acc["autoattack"])), acc


def test_checkpoints_follow_the_papers_formula():
    assert checkpoints(100) == [0, 22, 41, 57, 70, 80, 87, 93, 99]
    # p_0 = 0, p_1 = 0.22, p_j+1 = p_j + max(p_j - p_j-1 - 0.03, 0.06), w_j = ceil(p_j * N_iter), p_j <= 1.
    p = [Fraction(0), Fraction(22, 100)]
    while p[-1] + max(p[-1] - p[-2] - Fraction(3, 100), Fraction(6, 100)) <= 1:
        p.append(p[-1] + max(p[-1] - p[-2] - Fraction(3, 100), Fraction(6, 100)))
    assert [float(v) for v in p] == pytest.approx([0, 0.22, 0.41, 0.57, 0.70, 0.80, 0.87, 0.93, 0.99])
    for n_iter in (1, 3, 10, 20, 50, 100, 250, 1000):
        expected = sorted({math.ceil(v * n_iter) for v in p})
        assert checkpoints(n_iter) == expected, n_iter


def test_dlr_targeted_loss_matches_its_formula():
    logits = torch.tensor([[3.0, 1.0, 2.0, -1.0, 0.5], [0.0, 4.0, 1.0, 2.0, -3.0]])
    y = torch.tensor([0, 2])
    t = torch.tensor([2, 1])
    # row 0 sorted: 3, 2, 1, 0.5, -1 -> -(z_0 - z_2) / (3 - (1 + 0.5) / 2) = -1 / 2.25
    # row 1 sorted: 4, 2, 1, 0, -3   -> -(z_2 - z_1) / (4 - (1 + 0) / 2)   = 3 / 3.5
    expected = torch.tensor([-1.0 / 2.25, 3.0 / 3.5])
    assert torch.allclose(dlr_targeted_loss(logits, y, t), expected)
    # Invariant to shifting and positive rescaling of the logits (the point of the denominator).
    assert torch.allclose(dlr_targeted_loss(7.0 * logits - 3.0, y, t), expected)
    with pytest.raises(ValueError, match="at least 4 classes"):
        dlr_targeted_loss(logits[:, :3], torch.tensor([0, 2]), torch.tensor([1, 1]))


def test_targets_are_the_top_non_true_classes_of_the_clean_logits():
    model = LayeredClassifier([("flat", nn.Flatten()), ("out", nn.Identity())]).eval()
    x = torch.tensor([[[[0.1, 0.9, 0.5, 0.7]]], [[[0.8, 0.2, 0.6, 0.4]]]])
    ranks = target_ranking(model, x, torch.tensor([1, 2]), 3, batch_size=1)
    assert ranks.tolist() == [[3, 2, 0], [0, 3, 1]]


def test_apgd_ce_reaches_the_vertex_on_a_binary_affine_model():
    # As for PGD: the CE gradient's sign is sign(w1 - w0) everywhere, so APGD ends at x + eps * sign(w1 - w0).
    torch.manual_seed(0)
    linear = nn.Linear(12, 2)
    model = LayeredClassifier([("flat", nn.Flatten()), ("out", linear)]).eval()
    x = 0.2 + 0.6 * torch.rand(5, 1, 3, 4)
    y = torch.zeros(5, dtype=torch.long)
    eps = 0.1
    attack = APGDCE({"n_iter": 10, "random_start": False, "clip": False})
    adv = attack.materialise(attack.craft(model, x, y, [eps], gen()), x, eps, 0)
    w = linear.weight.detach()
    assert torch.allclose(adv, x + eps * torch.sign(w[1] - w[0]).reshape(1, 1, 3, 4), atol=eps * 2**-10)


@pytest.mark.parametrize("cls, params", ALL)
def test_deterministic_and_independent_of_batch_size(toy, cls, params):
    model, x, y = toy
    a = cls(params).craft(model, x, y, [0.1, 0.15], gen(1))["delta"]
    b = cls(params).craft(model, x, y, [0.1, 0.15], gen(1), batch_size=64)["delta"]
    c = cls(params).craft(model, x, y, [0.1, 0.15], gen(2))["delta"]
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_fewer_than_four_classes_use_the_targeted_cross_entropy():
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.0, 1.0, 3.0]])
    y, t = torch.tensor([0, 2]), torch.tensor([1, 0])
    assert torch.allclose(targeted_loss(logits, y, t), -F.cross_entropy(logits, t, reduction="none"))
    wide = torch.cat([logits, torch.full((2, 1), -5.0)], dim=1)
    assert torch.allclose(targeted_loss(wide, y, t), dlr_targeted_loss(wide, y, t))
    # On a 3-class toy model APGD-T (2 targets) and the ensemble still work and beat FGSM at every budget.
    model, x, y = toy_problem(num_classes=3, n_test=100)
    fgsm = FGSM()
    acc_fgsm = accuracies(model, fgsm, fgsm.craft(model, x, y, EPSILONS, gen()), x, y, EPSILONS)
    for attack in (APGDT({"n_iter": 20}), AutoAttack({"n_iter": 20})):
        acc = accuracies(model, attack, attack.craft(model, x, y, EPSILONS, gen()), x, y, EPSILONS)
        assert all(a <= f for a, f in zip(acc, acc_fgsm, strict=True)), (attack.name, acc, acc_fgsm)
        assert all(a >= b for a, b in pairwise(acc)), (attack.name, acc)
        assert acc[-1] < 0.5


def test_two_class_models_are_attacked_too():
    model = build_model("mlp_lwa", (1, 6, 6), 2, hidden=(16,)).eval()
    x, y = torch.rand(4, 1, 6, 6), torch.tensor([0, 1, 1, 0])
    for attack in (APGDCE({"n_iter": 3}), APGDT({"n_iter": 3}), AutoAttack({"n_iter": 3})):
        assert attack.craft(model, x, y, [0.1], gen())["delta"].shape == (4, 1, 1, 6, 6)


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="apgd_ce.rho: must be > 0 and <= 1"):
        APGDCE({"rho": 1.5})
    with pytest.raises(ValueError, match="apgd_t.n_target_classes: must be >= 1"):
        APGDT({"n_target_classes": 0})
    with pytest.raises(ValueError, match="autoattack.n_iter: must be an integer"):
        AutoAttack({"n_iter": 2.5})
    with pytest.raises(ValueError, match="unknown parameter"):
        APGDCE({"n_target_classes": 3})


# ------------------------------------------------------------------------------- the step-size schedule
# Algorithm 1 on one coordinate, with losses built so that each part of the schedule changes the result:
# condition 1, condition 2, halving eta, and the restart from the best point. The expected trajectories come
# from an independent scalar transcription of the paper's Algorithm 1 (below, plain Python floats), and the
# first steps of the simplest case are also written out by hand.


def _paper_checkpoints(n_iter):
    p = [Fraction(0), Fraction(22, 100)]
    while p[-1] + max(p[-1] - p[-2] - Fraction(3, 100), Fraction(6, 100)) <= 1:
        p.append(p[-1] + max(p[-1] - p[-2] - Fraction(3, 100), Fraction(6, 100)))
    return {math.ceil(q * n_iter) for q in p}


def _sign(v):
    return (v > 0) - (v < 0)


def scalar_apgd(
    f, df, x0, eps, n_iter, rho=0.75, alpha=0.75, cond1=True, cond2=True, halve=True, restart=True, strict=True
):
    """Croce & Hein (2020) Algorithm 1 for one scalar in [0, 1]; returns (x_max, every point evaluated)."""
    lo, hi = max(0.0, x0 - eps), min(1.0, x0 + eps)

    def proj(u):
        return min(max(u, lo), hi)

    checks, evaluated = _paper_checkpoints(n_iter), []

    def ev(u):
        evaluated.append(u)
        return f(u), df(u)

    eta = 2 * eps
    x_prev = proj(x0)
    f_prev, g_prev = ev(x_prev)
    x_cur = proj(x_prev + eta * _sign(g_prev))
    f_cur, g_cur = ev(x_cur)
    x_max, f_max, g_max = (x_cur, f_cur, g_cur) if f_cur > f_prev else (x_prev, f_prev, g_prev)
    increases = int(f_cur > f_prev)
    last_w, last_eta, last_f_max = 0, eta, f_max
    for k in range(1, n_iter):
        z = proj(x_cur + eta * _sign(g_cur))
        x_new = proj(x_cur + alpha * (z - x_cur) + (1 - alpha) * (x_cur - x_prev))
        f_new, g_new = ev(x_new)
        if f_new > f_max:
            x_max, f_max, g_max = x_new, f_new, g_new
        if k in checks:
            few = increases < rho * (k - last_w) if strict else increases <= rho * (k - last_w)
            reduce = (cond1 and few) or (cond2 and eta == last_eta and f_max == last_f_max)
            last_w, last_eta, last_f_max = k, eta, f_max
            if reduce:
                eta = eta / 2 if halve else eta
                if restart:
                    x_new, f_new, g_new = x_max, f_max, g_max
            increases = 0
        increases += int(f_new > f_cur)
        x_prev, x_cur, f_cur, g_cur = x_cur, x_new, f_new, g_new
    return x_max, evaluated


class _Spy(nn.Module):
    """Logits [10 + u, 0] of the single pixel u (the prediction never changes); records every point evaluated."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x):
        self.seen.append(float(x.detach().flatten()[0]))
        u = x.flatten(1)[:, :1]
        return torch.cat([10 + u, torch.zeros_like(u)], dim=1)


def _loss(c, a, b):
    def torch_f(logits):
        u = logits[:, 0] - 10
        return -(u - c).abs() + a * torch.sin(b * u)

    def f(u):
        return -abs(u - c) + a * math.sin(b * u)

    def df(u):
        return -_sign(u - c) + a * b * math.cos(b * u)

    return torch_f, f, df


def _run_apgd(c, a, b, n_iter=10, eps=0.25):
    torch_f, f, df = _loss(c, a, b)
    attack = APGDCE({"n_iter": n_iter, "random_start": False})
    spy, x = _Spy().double(), torch.full((1, 1, 1, 1), 0.5, dtype=torch.float64)
    out = attack.apgd_run(spy, x, torch.tensor([0]), eps, torch.zeros_like(x), torch_f)
    return float(out.flatten()[0]), spy.seen, (f, df)


def test_schedule_by_hand_on_a_kinked_loss():
    """f(u) = -|u - 0.55| from u = 0.5, eps = 0.25 (ball [0.25, 0.75]), eta_0 = 0.5, alpha = 0.75, 10 iterations
    (checkpoints 0, 3, 5, 6, 7, 8, 9, 10). x1 = 0.5 + 0.5 = 0.75 (f falls); z = 0.25, x2 = 0.75 + 0.75 * (0.25 -
    0.75) + 0.25 * (0.75 - 0.5) = 0.4375; z = 0.75, x3 = 0.59375 (the best so far, f = -0.04375); z = 0.25,
    x4 = 0.375. At checkpoint 3 only 2 of the 3 steps increased f (< 0.75 * 3): condition 1 halves eta to 0.25 and
    the next step restarts from x_max = 0.59375 with no momentum: z = 0.34375, x5 = 0.40625."""
    final, seen, (f, df) = _run_apgd(0.55, 0.0, 1.0)
    assert seen[:6] == [0.5, 0.75, 0.4375, 0.59375, 0.375, 0.40625]
    expected_final, expected_seen = scalar_apgd(f, df, 0.5, 0.25, 10)
    assert seen == pytest.approx(expected_seen, abs=1e-12) and final == pytest.approx(expected_final, abs=1e-12)


@pytest.mark.parametrize("part", ["cond1", "cond2", "halve", "restart"])
def test_each_part_of_the_schedule_decides_the_result(part):
    """On f(u) = -|u - 0.6| + 0.05 sin(20 u) dropping any one part of the schedule changes the trajectory and the
    point returned, so the implementation matching the complete schedule shows that each part is there."""
    final, seen, (f, df) = _run_apgd(0.6, 0.05, 20.0)
    expected_final, expected_seen = scalar_apgd(f, df, 0.5, 0.25, 10)
    assert seen == pytest.approx(expected_seen, abs=1e-12) and final == pytest.approx(expected_final, abs=1e-12)
    without_final, without_seen = scalar_apgd(f, df, 0.5, 0.25, 10, **{part: False})
    assert without_seen != pytest.approx(expected_seen, abs=1e-9) and without_final != pytest.approx(final, abs=1e-9)


@pytest.mark.parametrize("c, a, b", [(0.55, 0.1, 20.0), (0.6, 0.1, 10.0), (0.7, 0.2, 40.0), (0.55, 0.2, 10.0)])
def test_schedule_matches_the_paper_on_wiggly_losses(c, a, b):
    final, seen, (f, df) = _run_apgd(c, a, b, n_iter=25)
    expected_final, expected_seen = scalar_apgd(f, df, 0.5, 0.25, 25)
    assert seen == pytest.approx(expected_seen, abs=1e-12) and final == pytest.approx(expected_final, abs=1e-12)


def test_condition_1_is_a_strict_inequality():
    """With 50 iterations (checkpoints 0, 11, 21, 29, 35, 40, 44, 47, 50) the windows of 8 and 4 steps give
    rho * w = 6 and 3 exactly: on this loss one of them ends with exactly that many increases, where the paper's
    strict "<" keeps eta and "<=" would halve it."""
    final, seen, (f, df) = _run_apgd(0.55, 0.02, 30.0, n_iter=50)
    expected_final, expected_seen = scalar_apgd(f, df, 0.5, 0.25, 50)
    assert seen == pytest.approx(expected_seen, abs=1e-12) and final == pytest.approx(expected_final, abs=1e-12)
    assert scalar_apgd(f, df, 0.5, 0.25, 50, strict=False)[1] != pytest.approx(expected_seen, abs=1e-9)
