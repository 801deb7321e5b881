"""LWA's Adv_Alpha (Algorithm 1, Propositions 3-4, sec. 6.1.2) against closed forms on an affine + softmax model."""

import pytest
import torch
from torch import nn

from advreg.attacks.base import per_sample_norm
from advreg.attacks.lwa_alpha import LWAAlpha, softmax_jacobian
from advreg.models.base import LayeredClassifier

N, K, SHAPE = 16, 4, (1, 2, 3)
D = 6


def affine_model(seed=0):
    torch.manual_seed(seed)
    linear = nn.Linear(D, K).double()
    return LayeredClassifier([("flat", nn.Flatten()), ("out", linear)]).eval(), linear


def inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(N, *SHAPE, dtype=torch.float64, generator=g)
    y = torch.randint(0, K, (N,), generator=g)
    return x, y


def analytic(linear, x):
    """alpha and T_k = alpha_k (W_k - sum_j alpha_j W_j) for softmax(W x + b)."""
    W = linear.weight.detach()
    with torch.no_grad():
        alpha = torch.softmax(linear(x.flatten(1)), dim=1)
    mean_w = alpha @ W  # (N, D)
    T = alpha.unsqueeze(2) * (W.unsqueeze(0) - mean_w.unsqueeze(1))  # (N, K, D)
    return alpha, T


def test_softmax_jacobian_matches_the_closed_form_and_autograd():
    model, linear = affine_model()
    x, _ = inputs()
    T = softmax_jacobian(model, x)
    assert T.shape == (N, K, *SHAPE)
    _, T_hand = analytic(linear, x)
    assert torch.allclose(T.flatten(2), T_hand, rtol=1e-10, atol=1e-14)
    full = torch.autograd.functional.jacobian(lambda z: torch.softmax(model(z), dim=1), x)  # (N, K, N, *SHAPE)
    blocks = full[torch.arange(N), :, torch.arange(N)]  # the per-sample diagonal blocks: (N, K, *SHAPE)
    assert torch.allclose(T, blocks, rtol=1e-10, atol=1e-14)


def test_chosen_class_and_direction_follow_propositions_3_and_4():
    model, linear = affine_model()
    x, y = inputs()
    art = LWAAlpha().craft(model, x, y, [1.0], torch.Generator())
    assert art["direction"].dtype == torch.float32 and art["target"].dtype == torch.int64
    alpha, T = analytic(linear, x)
    for i in range(N):  # by hand, one sample at a time
        yi = int(y[i])
        d = {j: float((alpha[i, yi] - alpha[i, j]) / (T[i, j] - T[i, yi]).norm()) for j in range(K) if j != yi}
        best = min(d, key=d.get)
        assert int(art["target"][i]) == best
        u = (T[i, best] - T[i, yi]) / (T[i, best] - T[i, yi]).norm()
        assert torch.allclose(art["direction"][i].double().flatten(), u, atol=1e-6)
    assert torch.allclose(per_sample_norm(art["direction"]), torch.ones(N), atol=1e-6)


def test_budget_is_the_l2_norm():
    model, _ = affine_model()
    x, y = inputs()
    attack = LWAAlpha()
    art = attack.craft(model, x, y, [0.3], torch.Generator())
    for c in (0.0, 0.3, 1.5):
        adv = attack.materialise(art, x, c, 0)
        assert torch.allclose(per_sample_norm(adv - x), torch.full((N,), c, dtype=torch.float64), atol=1e-6)


def linearised_flip_radius(alpha, T, y, v):
    """Smallest t >= 0 with argmax(alpha + t T v) != y (Proposition 4's linearised network), per sample."""
    rows = torch.arange(alpha.shape[0])
    rate = torch.einsum("nkd,nd->nk", T - T[rows, y].unsqueeze(1), v)  # d/dt (alpha_j - alpha_y)
    gap = (alpha[rows, y].unsqueeze(1) - alpha).clamp(min=0)
    t = torch.where(rate > 0, gap / rate.clamp(min=1e-300), torch.full_like(gap, float("inf")))
    t[rows, y] = float("inf")
    return t.min(dim=1).values


def test_lwa_direction_flips_the_linearised_network_soonest():
    # Proposition 4: along u the linearised prediction leaves y at radius min_j d_j, no later than along any
    # other unit direction, in particular the normalised loss gradient (Adv_Loss) and random directions.
    model, linear = affine_model()
    x, y = inputs()
    with torch.no_grad():
        y = model(x).argmax(1)  # correctly classified points, as in the authors' evaluation
    alpha, T = analytic(linear, x)
    u = LWAAlpha().craft(model, x, y, [1.0], torch.Generator())["direction"].double().flatten(1)
    rows = torch.arange(N)
    d = (alpha[rows, y].unsqueeze(1) - alpha) / (T - T[rows, y].unsqueeze(1)).norm(dim=2)
    d[rows, y] = float("inf")
    r_lwa = linearised_flip_radius(alpha, T, y, u)
    assert torch.allclose(r_lwa, d.min(dim=1).values, rtol=1e-5)
    xg = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(nn.functional.cross_entropy(model(xg), y, reduction="sum"), xg)
    g = g.flatten(1) / g.flatten(1).norm(dim=1, keepdim=True)
    assert bool((r_lwa <= linearised_flip_radius(alpha, T, y, g) * (1 + 1e-5)).all())
    gen = torch.Generator().manual_seed(3)
    for _ in range(10):
        v = torch.randn(N, D, dtype=torch.float64, generator=gen)
        v = v / v.norm(dim=1, keepdim=True)
        assert bool((r_lwa <= linearised_flip_radius(alpha, T, y, v) * (1 + 1e-5)).all())


def test_lwa_lowers_alpha_y_more_than_random_directions():
    # First-order change of alpha_y along a unit v is <T_y, v>. A random direction changes it by ~0 on
    # average; LWA's direction lowers it. (To first order the *most* alpha_y-lowering unit direction is the
    # normalised loss gradient -T_y / ||T_y|| (Cauchy-Schwarz; LWA sec. 6.1.1), so that one lowers alpha_y at
    # least as much as LWA's: LWA's optimality is the flip radius above, not the decrease of alpha_y.)
    model, linear = affine_model()
    x, y = inputs()
    with torch.no_grad():
        y = model(x).argmax(1)
    alpha, T = analytic(linear, x)
    attack = LWAAlpha()
    art = attack.craft(model, x, y, [0.05], torch.Generator())
    u = art["direction"].double().flatten(1)
    rows = torch.arange(N)
    T_y = T[rows, y]
    lwa_rate = -(T_y * u).sum(1)  # first-order decrease of alpha_y per unit norm
    loss_rate = T_y.norm(dim=1)  # along -T_y / ||T_y||
    assert bool((lwa_rate <= loss_rate + 1e-12).all())
    gen = torch.Generator().manual_seed(4)
    random_rates = []
    for _ in range(50):
        v = torch.randn(N, D, dtype=torch.float64, generator=gen)
        random_rates.append(-(T_y * (v / v.norm(dim=1, keepdim=True))).sum(1))
    assert float(lwa_rate.mean()) > float(torch.stack(random_rates).mean()) + 1e-3
    # The actual (non-linearised) decrease at a small budget agrees.
    c = 0.05
    with torch.no_grad():
        drop_lwa = alpha[rows, y] - torch.softmax(model(attack.materialise(art, x, c, 0)), 1)[rows, y]
        drops_random = []
        for _ in range(50):
            v = torch.randn(N, *SHAPE, dtype=torch.float64, generator=gen)
            v = v / per_sample_norm(v).reshape(-1, 1, 1, 1)
            drops_random.append(alpha[rows, y] - torch.softmax(model(x + c * v), 1)[rows, y])
    assert float(drop_lwa.mean()) > float(torch.stack(drops_random).mean())
    assert torch.allclose(drop_lwa, c * lwa_rate, rtol=0.2, atol=1e-4)


def test_clip_keeps_inputs_in_the_box_and_batch_size_is_irrelevant():
    model, _ = affine_model()
    x, y = inputs()
    art = LWAAlpha().craft(model, x, y, [2.0], torch.Generator(), batch_size=5)
    art_full = LWAAlpha().craft(model, x, y, [2.0], torch.Generator())
    assert torch.equal(art["target"], art_full["target"])
    assert torch.allclose(art["direction"], art_full["direction"], atol=1e-7)
    adv = LWAAlpha({"clip": True}).materialise(art, x, 2.0, 0)
    assert float(adv.min()) >= 0.0 and float(adv.max()) <= 1.0
    unclipped = LWAAlpha().materialise(art, x, 2.0, 0)
    assert float(unclipped.min()) < 0.0 or float(unclipped.max()) > 1.0  # LWA's default does not clip


def test_zero_jacobian_gives_a_zero_direction_and_bad_labels_are_named():
    linear = nn.Linear(D, K).double()
    with torch.no_grad():
        linear.weight.zero_()
    model = LayeredClassifier([("flat", nn.Flatten()), ("out", linear)]).eval()
    x, y = inputs()
    art = LWAAlpha().craft(model, x, y, [1.0], torch.Generator())
    assert torch.equal(art["direction"], torch.zeros_like(art["direction"]))
    assert not bool(torch.isnan(art["direction"]).any())
    with pytest.raises(ValueError, match="labels"):
        LWAAlpha().craft(model, x, torch.full((N,), K), [1.0], torch.Generator())
    with pytest.raises(ValueError, match="batch_size"):
        LWAAlpha().craft(model, x, y, [1.0], torch.Generator(), batch_size=0)
    with pytest.raises(ValueError, match="unknown parameter"):
        LWAAlpha({"batch_size": 5})  # a runtime setting, not a parameter
