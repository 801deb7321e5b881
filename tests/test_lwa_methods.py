"""LWA's training methods (lwa, lwa_rep, goodfellow): each update checked in float64 against the paper's equation,
computed here independently on a hand-written forward pass of the same MLP."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from advreg.methods import build_method
from advreg.methods.base import Batch
from advreg.models import build_model
from advreg.params import ConfigError
from advreg.splits import Split
from advreg.training.loop import train
from advreg.training.settings import TrainSettings

SHAPE = (1, 4, 4)
CLASSES = 3
LR = 0.5


def tiny_mlp(hidden=(6, 5), seed=0, **kwargs):
    torch.manual_seed(seed)
    return build_model("mlp_lwa", SHAPE, CLASSES, hidden=hidden, activation="tanh", **kwargs).double()


def batch(n=7, seed=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, *SHAPE, generator=g, dtype=torch.float64)
    y = torch.randint(0, CLASSES, (n,), generator=g)
    return Batch(x, y, torch.arange(n))


def weights(model):
    """[(W, b), ...] of the hidden layers and the output layer, in order (copies with gradients enabled)."""
    layers = [model.blocks[name].linear for name in model.hidden_names + [model.output_name]]
    return [(layer.weight.detach().clone().requires_grad_(True), layer.bias.detach().clone().requires_grad_(True))
            for layer in layers]  # fmt: skip


def rep(ws, x, upto):
    """Hand-written forward of the tanh MLP up to hidden layer ``upto`` (1-based)."""
    h = x.flatten(1)
    for w, b in ws[:upto]:
        h = torch.tanh(h @ w.T + b)
    return h


def head(ws, h, after):
    """Hand-written forward from hidden layer ``after``'s output (0: the input) to the logits."""
    h = h.flatten(1)
    for w, b in ws[after:-1]:
        h = torch.tanh(h @ w.T + b)
    w, b = ws[-1]
    return h @ w.T + b


def sgd_steps(model, method, batches):
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    for b in batches:
        opt.zero_grad(set_to_none=True)
        loss, _ = method.loss(model, b)
        loss.backward()
        opt.step()


def expected_steps(ws, batches, objective):
    """SGD on ``objective(ws, batch)`` (a scalar), independently of the methods' code."""
    for b in batches:
        params = [t for pair in ws for t in pair]
        grads = torch.autograd.grad(objective(ws, b), params)
        flat = [(p - LR * g).detach().requires_grad_(True) for p, g in zip(params, grads, strict=True)]
        ws = [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]
    return ws


def assert_same_weights(model, ws):
    layers = [model.blocks[n].linear for n in model.hidden_names + [model.output_name]]
    for (w, b), layer in zip(ws, layers, strict=True):
        torch.testing.assert_close(layer.weight, w.detach(), rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(layer.bias, b.detach(), rtol=1e-10, atol=1e-12)


def input_grad(ws, x, y):
    """Per-sample gradient of the cross-entropy with respect to the input (the sum makes samples independent)."""
    x = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(F.cross_entropy(head(ws, x, 0), y, reduction="sum"), x)
    return g


BATCHES = [batch(seed=s) for s in (1, 2, 3)]


@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_lwa_update_is_the_loss_gradient_at_the_fixed_maximiser(norm):
    """Alg. 2 / eq. 2 with Proposition 6: theta <- theta - lr * grad_theta mean l(x + r), r = c g/||g||_2 (L2) or
    c sign(g) (L-inf, sec. 6.1.1 items 1-2), g = grad_x l(x) held fixed."""
    c = 0.7
    model = tiny_mlp()
    ws = weights(model)
    sgd_steps(model, build_method("lwa", {"c": c, "norm": norm}), BATCHES)

    def objective(ws, b):
        g = input_grad(ws, b.x, b.y)
        if norm == "l2":
            r = c * g / g.flatten(1).norm(dim=1).reshape(-1, 1, 1, 1)
        else:
            r = c * torch.sign(g)
        return F.cross_entropy(head(ws, b.x + r.detach(), 0), b.y)

    assert_same_weights(model, expected_steps(ws, BATCHES, objective))


def test_lwa_alpha_direction_update():
    """sec. 6.1.2: r = c r_I/||r_I||_2 with Algorithm 1 on the softmax Jacobian, computed here per sample."""
    c = 0.9
    model = tiny_mlp()
    ws = weights(model)
    sgd_steps(model, build_method("lwa", {"c": c, "direction": "alpha"}), BATCHES)

    def objective(ws, b):
        rs = []
        for xi, yi in zip(b.x, b.y, strict=True):
            probs = lambda v: torch.softmax(head(ws, v.reshape(1, *SHAPE), 0), dim=1)[0]  # noqa: E731
            alpha = probs(xi).detach()
            jac = torch.autograd.functional.jacobian(probs, xi).reshape(CLASSES, -1)  # T = d alpha / dx
            best, r = math.inf, None
            for j in range(CLASSES):
                if j == int(yi):
                    continue
                diff = jac[j] - jac[yi]
                dist = (alpha[yi] - alpha[j]) / diff.norm()  # Proposition 3, L2
                if dist < best:
                    best, r = dist, diff
            rs.append(c * r / r.norm())
        r = torch.stack(rs).reshape(b.x.shape).detach()
        return F.cross_entropy(head(ws, b.x + r, 0), b.y)

    assert_same_weights(model, expected_steps(ws, BATCHES, objective))


@pytest.mark.parametrize("budget", ["absolute", "relative"])
def test_lwa_rep_update_follows_algorithm_3(budget):
    """Eq. 4 / Alg. 3: r from grad_h l(N_cla(h)) scaled to c (or c ||h||), N_cla's gradient at h + r and N_rep's
    through h = N_rep(x), r held fixed."""
    c = 0.4
    model = tiny_mlp(representation_layer="fc1")
    ws = weights(model)
    sgd_steps(model, build_method("lwa_rep", {"c": c, "budget": budget}), BATCHES)

    def objective(ws, b):
        h = rep(ws, b.x, 1)
        hd = h.detach().clone().requires_grad_(True)
        (g,) = torch.autograd.grad(F.cross_entropy(head(ws, hd, 1), b.y, reduction="sum"), hd)
        r = c * g / g.norm(dim=1, keepdim=True)
        if budget == "relative":
            r = r * h.detach().norm(dim=1, keepdim=True)
        return F.cross_entropy(head(ws, h + r.detach(), 1), b.y)

    assert_same_weights(model, expected_steps(ws, BATCHES, objective))


def test_lwa_rep_perturbs_the_representation_by_norm_c():
    """The classifier part sees h + r with ||r||_2 = c per sample; the input layer sees x unperturbed."""
    c = 0.3
    model = tiny_mlp(hidden=(6, 5, 4), representation_layer="fc2")
    b = batch()
    seen = {"fc1": [], "fc3": []}
    hooks = [model.blocks[n].register_forward_pre_hook(lambda m, a, n=n: seen[n].append(a[0].detach())) for n in seen]
    build_method("lwa_rep", {"c": c}).loss(model, b)
    for hook in hooks:
        hook.remove()
    assert all(torch.equal(x, b.x) for x in seen["fc1"])  # raw data never perturbed
    h = model.forward_to(b.x, "fc2").detach()
    assert torch.equal(seen["fc3"][0], h)  # the inner maximisation differentiates at the clean representation
    r = seen["fc3"][-1] - h  # the update's input to N_cla
    torch.testing.assert_close(r.norm(dim=1), torch.full((b.x.shape[0],), c, dtype=torch.float64))


def test_lwa_rep_on_lenet_and_lwa_cifar_uses_their_split():
    torch.manual_seed(0)
    lenet = build_model("lenet", (1, 28, 28), 10, conv_activation="tanh", activation="tanh", fc_width=20,
                        representation_layer="conv2")  # fmt: skip
    cifar = build_model("lwa_cifar", (3, 32, 32), 10, width=0.0625, crop=28)
    for model, after, shape in ((lenet, "fc1", (50, 4, 4)), (cifar, "fc2", (128,))):
        x, y = torch.rand(3, *([1, 28, 28] if model is lenet else [3, 32, 32])), torch.tensor([0, 1, 2])
        captured = []
        hook = model.blocks[after].register_forward_pre_hook(lambda m, a, seen=captured: seen.append(a[0].detach()))
        model.eval()
        loss, _ = build_method("lwa_rep", {"c": 0.5}).loss(model, Batch(x, y, torch.arange(3)))
        hook.remove()
        assert captured[-1].shape[1:] == shape and torch.isfinite(loss)
        clean = model.forward_to(x, model.representation_layer).detach()
        assert torch.allclose((captured[-1] - clean).flatten(1).norm(dim=1), torch.full((3,), 0.5), atol=1e-5)


@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_goodfellow_update_is_the_mixed_objective(norm):
    """alpha l(x) + (1 - alpha) l(x + r), r = eps sign(g) (L-inf) or eps sign(g)/||sign(g)||_2 (L2), r fixed."""
    alpha, eps = 0.3, 0.8
    model = tiny_mlp()
    ws = weights(model)
    sgd_steps(model, build_method("goodfellow", {"alpha": alpha, "epsilon": eps, "norm": norm}), BATCHES)

    def objective(ws, b):
        s = torch.sign(input_grad(ws, b.x, b.y))
        if norm == "l2":
            s = s / torch.sqrt((s != 0).flatten(1).sum(1).double()).reshape(-1, 1, 1, 1)
        clean = F.cross_entropy(head(ws, b.x, 0), b.y)
        return alpha * clean + (1 - alpha) * F.cross_entropy(head(ws, b.x + eps * s.detach(), 0), b.y)

    assert_same_weights(model, expected_steps(ws, BATCHES, objective))


def test_goodfellow_at_alpha_one_is_plain_training():
    """Same loss, same gradient, same random numbers (dropout) as plain cross-entropy."""
    model_a, model_b = tiny_mlp(dropout=0.5), tiny_mlp(dropout=0.5)
    model_a.train()
    model_b.train()
    for b in BATCHES:
        torch.manual_seed(11)
        la, _ = build_method("goodfellow", {"alpha": 1.0}).loss(model_a, b)
        la.backward()
        torch.manual_seed(11)
        lb, _ = build_method("plain").loss(model_b, b)
        lb.backward()
        assert la.item() == lb.item()
        for pa, pb in zip(model_a.parameters(), model_b.parameters(), strict=True):
            assert torch.equal(pa.grad, pb.grad)


def test_inner_mode_eval_uses_the_deterministic_network_and_restores_modes():
    model = tiny_mlp(dropout=0.5)
    model.train()
    model.blocks["fc2"].eval()  # a frozen part (as the loop's batchnorm: frozen) must stay so
    b = batch()
    captured = []
    hook = model.blocks["out"].register_forward_hook(lambda m, a, out: captured.append(m.training))
    build_method("lwa", {"inner_mode": "eval"}).loss(model, b)
    hook.remove()
    assert captured == [False, True]  # the inner pass in eval mode, the update in training mode
    assert model.training and not model.blocks["fc2"].training and model.blocks["out"].training


def test_zero_gradient_leaves_the_sample_clean():
    """A sample whose loss gradient is zero (here: all weights zero) gets r = 0, not NaN."""
    model = tiny_mlp()
    for p in model.parameters():
        torch.nn.init.zeros_(p)
    loss, _ = build_method("lwa").loss(model, batch())
    assert loss.item() == pytest.approx(math.log(CLASSES))


def test_parameters_are_checked():
    with pytest.raises(ConfigError, match="L2 ball only"):
        build_method("lwa", {"direction": "alpha", "norm": "linf"})
    with pytest.raises(ConfigError, match="alpha"):
        build_method("goodfellow", {"alpha": 1.5})
    with pytest.raises(ConfigError, match="budget"):
        build_method("lwa_rep", {"budget": "proportional"})


@pytest.mark.parametrize("name", ["lwa", "lwa_rep", "goodfellow"])
def test_methods_train_in_the_loop(name):
    """Each method trains a small MLP on separable blobs through the real training loop."""
    g = torch.Generator().manual_seed(0)
    means = torch.rand(CLASSES, *SHAPE, generator=g)
    y = torch.randint(0, CLASSES, (300,), generator=g)
    x = (means[y] + 0.05 * torch.randn(300, *SHAPE, generator=g)).clamp(0, 1)
    torch.manual_seed(0)
    model = build_model("mlp_lwa", SHAPE, CLASSES, hidden=(16, 16))
    settings = TrainSettings.of(
        init="scratch", epochs=4, batch_size=20, optimizer={"name": "sgd", "lr": 0.2, "momentum": 0.9}
    )
    history = train(model, build_method(name, {"c": 0.2} if name != "goodfellow" else {"epsilon": 0.2}), settings,
                    Split(x[:240], y[:240], torch.arange(240)), Split(x[240:], y[240:], torch.arange(60)),
                    torch.Generator().manual_seed(1), name, log=lambda _: None)  # fmt: skip
    assert history[-1]["val_acc"] > 0.9 and history[-1]["train_loss"] < history[1]["train_loss"]
