"""DeepFool against closed forms (DeepDefense eq. 1-2 generalised to K classes; LTS4/DeepFool reference code)."""

import pytest
import torch
from torch import nn

from advreg.attacks.base import per_sample_norm
from advreg.attacks.deepfool import DeepFool, deepfool, rho_2
from advreg.models import build_model
from advreg.models.base import LayeredClassifier


def affine_model(num_inputs=12, num_classes=5, seed=0):
    torch.manual_seed(seed)
    linear = nn.Linear(num_inputs, num_classes).double()
    return LayeredClassifier([("flat", nn.Flatten()), ("out", linear)]).eval(), linear


def predicted(model, x):
    with torch.no_grad():
        return model(x).argmax(1)


def hand_deepfool_step(linear, x, start):
    """The nearest linearised boundary of an affine model, by hand: f_k = (W_k - W_s) x + b_k - b_s,
    w_k = W_k - W_s, l = argmin_{k != s} |f_k| / ||w_k||. Returns (l, |f_l|, w_l) per sample."""
    W, b = linear.weight.detach(), linear.bias.detach()
    out = []
    for xi, s in zip(x.flatten(1), start.tolist(), strict=True):
        best = None
        for k in range(W.shape[0]):
            if k == s:
                continue
            w = W[k] - W[s]
            f = float(w @ xi + b[k] - b[s])
            d = abs(f) / float(w.norm())
            if best is None or d < best[0]:
                best = (d, k, abs(f), w)
        out.append(best[1:])
    return out


def test_affine_model_is_fooled_in_one_step_with_the_closed_form_norm():
    model, linear = affine_model()
    x = torch.rand(20, 1, 3, 4, dtype=torch.float64)
    start = predicted(model, x)
    res = deepfool(model, x, start, overshoot=0.02, max_iter=50, step_eps=1e-4)
    assert res.iterations.tolist() == [1] * 20
    assert bool(res.fooled.all())
    for i, (_target, f_abs, w) in enumerate(hand_deepfool_step(linear, x, start)):
        # Reference code: r = (|f_l| / ||w_l|| + 1e-4) * w_l / ||w_l||, returned as (1 + overshoot) * r.
        expected = 1.02 * (f_abs / float(w.norm()) + 1e-4) * w / w.norm()
        assert torch.allclose(res.perturbation[i].flatten(), expected, rtol=1e-10, atol=1e-12)
        assert float(res.perturbation[i].norm()) == pytest.approx(1.02 * (f_abs / float(w.norm()) + 1e-4), rel=1e-10)
    assert bool((predicted(model, x + res.perturbation) != start).all())


def test_without_step_eps_and_overshoot_the_iterate_sits_on_the_boundary():
    # With step_eps = 0 and overshoot = 0 the step solves eq. 1 exactly: on an affine model the iterate lands
    # *on* the boundary (logit gap 0 up to rounding), where argmax is a coin toss; further steps have length
    # ~|gap| / ||w|| ~ 0, so the sample never crosses. The 1e-4 added to the step distance (plus the overshoot)
    # puts the iterate a fixed distance beyond the boundary, which is why DeepFool then succeeds in one step.
    model, linear = affine_model(seed=1)
    x = torch.rand(10, 1, 3, 4, dtype=torch.float64)
    start = predicted(model, x)
    for max_iter in (1, 4):
        res = deepfool(model, x, start, overshoot=0.0, step_eps=0.0, max_iter=max_iter)
        with torch.no_grad():
            logits = model(x + res.perturbation)
        for i, (target, f_abs, w) in enumerate(hand_deepfool_step(linear, x, start)):
            gap = float(logits[i, target] - logits[i, start[i]])
            assert abs(gap) < 1e-9
            assert float(res.perturbation[i].norm()) == pytest.approx(f_abs / float(w.norm()), rel=1e-8)
    # With the defaults the gap is strictly positive: at least 1.02 * 1e-4 * ||w_l||.
    res = deepfool(model, x, start)
    with torch.no_grad():
        logits = model(x + res.perturbation)
    for i, (target, _f_abs, w) in enumerate(hand_deepfool_step(linear, x, start)):
        assert float(logits[i, target] - logits[i, start[i]]) >= 1.02 * 1e-4 * float(w.norm()) * (1 - 1e-6)


def trained_toy_mlp(seed=0):
    """mlp_lwa on (1, 4, 4) inputs, 3 classes, trained for a few hundred steps on separable Gaussian blobs."""
    torch.manual_seed(seed)
    model = build_model("mlp_lwa", (1, 4, 4), 3, hidden=(8,)).double()
    centres = torch.rand(3, 16, dtype=torch.float64)
    y = torch.arange(3).repeat_interleave(40)
    x = (centres[y] + 0.05 * torch.randn(120, 16, dtype=torch.float64)).clamp(0, 1).reshape(-1, 1, 4, 4)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(200):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model.eval(), x, y


def test_deepfool_fools_every_sample_of_a_trained_mlp():
    model, x, y = trained_toy_mlp()
    assert float((predicted(model, x) == y).double().mean()) > 0.9
    start = predicted(model, x)
    res = deepfool(model, x, start, step_eps=1e-4, clip=False, max_iter=50)
    assert bool(res.fooled.all())
    assert bool((predicted(model, x + res.perturbation) != start).all())
    assert int(res.iterations.min()) >= 1 and int(res.iterations.max()) <= 50
    assert bool(torch.isfinite(res.perturbation).all())


def kinked_model():
    """1-d input, logits (0, f(x)) with f(x) = x - 2 - 0.5 relu(x - 1) (for x > 0): slope 1 below x = 1 and
    0.5 above, boundary at x = 3."""
    hidden = nn.Sequential(nn.Linear(1, 2), nn.ReLU())
    out = nn.Linear(2, 2)
    with torch.no_grad():
        hidden[0].weight.copy_(torch.tensor([[1.0], [1.0]]))
        hidden[0].bias.copy_(torch.tensor([0.0, -1.0]))
        out.weight.copy_(torch.tensor([[0.0, 0.0], [1.0, -0.5]]))
        out.bias.copy_(torch.tensor([0.0, -2.0]))
    return LayeredClassifier([("flat", nn.Flatten()), ("hidden", hidden), ("out", out)]).double().eval()


def test_fooled_samples_are_frozen_while_others_continue():
    model = kinked_model()
    # Sample A (x = 1.5) sits in the slope-0.5 region reaching the boundary: one step fools it.
    # Sample B (x = 0.5): the first step (slope 1) lands at 0.5 + 1.02 * 1.5001 = 2.03 < 3, so it needs two.
    x = torch.tensor([1.5, 0.5], dtype=torch.float64).reshape(2, 1, 1, 1)
    start = torch.zeros(2, dtype=torch.long)
    res = deepfool(model, x, start)
    assert res.iterations.tolist() == [1, 2]
    assert res.fooled.tolist() == [True, True]
    # A: one step of length |f| / ||w|| + 1e-4 = 0.75 / 0.5 + 1e-4, untouched by B's second iteration.
    assert float(res.perturbation[0]) == pytest.approx(1.02 * 1.5001, rel=1e-12)
    # B: step 1 = 1.5 + 1e-4; at 2.0302 f = -0.4849 with slope 0.5, so step 2 = 0.96980 + 1e-4.
    x1 = 0.5 + 1.02 * 1.5001
    f1 = x1 - 2 - 0.5 * (x1 - 1)
    assert float(res.perturbation[1]) == pytest.approx(1.02 * (1.5001 + abs(f1) / 0.5 + 1e-4), rel=1e-12)
    # Each sample's result is the one it gets alone.
    for i in range(2):
        alone = deepfool(model, x[i : i + 1], start[i : i + 1])
        assert torch.equal(alone.perturbation, res.perturbation[i : i + 1])
        assert torch.equal(alone.iterations, res.iterations[i : i + 1])


def test_max_iter_caps_the_iterations_and_reports_unfooled():
    model = kinked_model()
    x = torch.tensor([0.5], dtype=torch.float64).reshape(1, 1, 1, 1)
    res = deepfool(model, x, torch.zeros(1, dtype=torch.long), max_iter=1)
    assert res.iterations.tolist() == [1] and res.fooled.tolist() == [False]


def test_zero_gradient_gives_no_nan():
    # A constant model: every w_k = 0, so no class is reachable; the sample is never moved and never fooled.
    linear = nn.Linear(4, 3).double()
    with torch.no_grad():
        linear.weight.zero_()
        linear.bias.copy_(torch.tensor([1.0, 0.0, -1.0]))
    model = LayeredClassifier([("flat", nn.Flatten()), ("out", linear)]).eval()
    x = torch.rand(3, 1, 2, 2, dtype=torch.float64)
    res = deepfool(model, x, torch.zeros(3, dtype=torch.long), max_iter=3)
    assert torch.equal(res.perturbation, torch.zeros_like(x))
    assert res.fooled.tolist() == [False] * 3 and res.iterations.tolist() == [3] * 3


def test_batch_size_does_not_change_results():
    model, x, _ = trained_toy_mlp(seed=1)
    start = predicted(model, x)
    a = deepfool(model, x, start, batch_size=7)
    b = deepfool(model, x, start, batch_size=500)
    assert torch.equal(a.iterations, b.iterations) and torch.equal(a.fooled, b.fooled)
    assert torch.allclose(a.perturbation, b.perturbation, rtol=1e-10, atol=1e-12)


def test_attack_artifact_and_materialise():
    model, x, y = trained_toy_mlp()
    attack = DeepFool()
    model = model.float()
    art = attack.craft(model, x.float(), y, [0.5], torch.Generator(), batch_size=50)
    assert art["perturbation"].dtype == torch.float32 and art["perturbation"].shape == x.shape
    assert art["fooled"].dtype == torch.bool and art["iterations"].dtype == torch.int32
    assert bool(art["fooled"].all())
    xf = x.float()
    r_norm = per_sample_norm(art["perturbation"])
    for eps in (0.0, 0.05, 0.2, float(r_norm.median()), 10.0):
        adv = attack.materialise(art, xf, eps, 0)
        dist = per_sample_norm(adv - xf)
        assert bool((dist <= eps + 1e-6).all())
        assert torch.allclose(dist, r_norm.clamp(max=eps), atol=1e-6)
    assert torch.equal(attack.materialise(art, xf, 1e9, 0), xf + art["perturbation"])
    # clip keeps adversarial inputs in the box (iterates are clipped too).
    clipped = DeepFool({"clip": True})
    art_c = clipped.craft(model, xf, y, [1.0], torch.Generator())
    adv = clipped.materialise(art_c, xf, 1e9, 0)
    assert float(adv.min()) >= 0.0 and float(adv.max()) <= 1.0


def test_start_true_moves_away_from_the_label_and_skips_misclassified():
    model, linear = affine_model(num_classes=3, seed=2)
    x = torch.rand(12, 1, 3, 4, dtype=torch.float64)
    pred = predicted(model, x)
    y = pred.clone()
    y[0] = (pred[0] + 1) % 3  # sample 0 is "misclassified": already away from its true label
    art = DeepFool({"start": "true"}).craft(model, x, y, [1.0], torch.Generator())
    assert art["iterations"][0] == 0 and bool(art["fooled"][0])
    assert torch.equal(art["perturbation"][0], torch.zeros_like(art["perturbation"][0]))
    assert art["iterations"][1:].tolist() == [1] * 11
    pred_art = DeepFool({"start": "predicted"}).craft(model, x, y, [1.0], torch.Generator())
    assert pred_art["iterations"].tolist() == [1] * 12  # "predicted" attacks sample 0 too


def test_rho_2_on_a_hand_case():
    x = torch.zeros(2, 1, 2, 2)
    x[0].fill_(0.5)  # ||x0|| = 1
    x[1, 0, 1, 0] = 2.0  # ||x1|| = 2
    r = torch.zeros(2, 1, 2, 2)
    r[0, 0, 0, 0], r[0, 0, 0, 1] = 0.3, 0.4  # ||r0|| = 0.5
    r[1, 0, 1, 1] = 3.0  # ||r1|| = 3
    ratio, plain = rho_2(r, x)
    assert ratio == pytest.approx((0.5 / 1 + 3 / 2) / 2)
    assert plain == pytest.approx((0.5 + 3) / 2)
    with pytest.raises(ValueError, match="zero for sample"):
        rho_2(r, torch.zeros_like(x))
    with pytest.raises(ValueError, match="shape"):
        rho_2(r[:1], x)


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="start"):
        DeepFool({"start": "target"})
    with pytest.raises(ValueError, match="max_iter"):
        DeepFool({"max_iter": 0})
    model, _ = affine_model()
    x = torch.rand(2, 1, 3, 4, dtype=torch.float64)
    with pytest.raises(ValueError, match="start_labels"):
        deepfool(model, x, torch.tensor([0, 7]))
    with pytest.raises(ValueError, match="start_labels"):
        deepfool(model, x, torch.zeros(3, dtype=torch.long))
