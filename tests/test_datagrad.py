"""DataGrad (datagrad.md sec. 2.1-2.3): the finite-difference update of eq. 2.4 against the exact gradient
of the DataGrad objective computed by double backpropagation, and the methods' contracts."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from advreg.methods import build_method
from advreg.methods.base import Batch
from advreg.models import build_model
from advreg.runtime import seed_everything
from advreg.splits import Split
from advreg.training.loop import evaluate_accuracy, train
from advreg.training.settings import TrainSettings


def smooth_model(seed: int = 0):
    """A tanh MLP: second derivatives are non-zero everywhere, so finite differences converge smoothly."""
    torch.manual_seed(seed)
    return build_model("mlp_lwa", (1, 4, 4), 3, hidden=(12, 10), activation="tanh").double()


def relu_model(seed: int = 0, **kwargs):
    torch.manual_seed(seed)
    return build_model("mlp_datagrad", (1, 4, 4), 3, width=16, depth=2, **kwargs).double()


def make_batch(n: int = 8, seed: int = 1) -> Batch:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 4, 4, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (n,), generator=g)
    return Batch(x, y, torch.arange(n))


def update(model, method, batch):
    """The parameter gradient the loop's ``loss.backward()`` produces, flattened; and the loss."""
    model.zero_grad(set_to_none=True)
    loss, _ = method.loss(model, batch)
    loss.backward()
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in model.parameters()]
    return torch.cat([g.flatten() for g in grads]), loss


def cosine(a, b):
    return (a @ b / (a.norm() * b.norm())).item()


def rel_error(a, b):
    return ((a - b).norm() / b.norm()).item()


# ------------------------------------------------------------------------------ finite difference -> exact


@pytest.mark.parametrize("reg", ["1", "2"])
@pytest.mark.parametrize("lam0", [0.0, 1.0])
def test_finite_difference_converges_to_double_backprop(reg, lam0):
    """lam0 = 0 isolates the regulariser's gradient (eq. 2.2-2.3), the part the finite difference estimates."""
    model, batch = smooth_model(), make_batch()
    lam = 1.0 if lam0 == 0 else 0.05
    exact, _ = update(model, build_method(f"dgl{reg}_exact", {"lam": lam, "lam0": lam0}), batch)
    errors = []
    for phi in (1e-2, 1e-3, 1e-4):
        fd, _ = update(model, build_method(f"dgl{reg}", {"lam": lam, "phi": phi, "lam0": lam0}), batch)
        errors.append(rel_error(fd, exact))
        last_cos = cosine(fd, exact)
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-3 and errors[2] < errors[0] / 50  # first-order convergence in phi
    assert last_cos > 0.999


@pytest.mark.parametrize("reg", ["1", "2"])
def test_finite_difference_converges_on_the_rectifier_network(reg):
    """On DataGrad's ReLU network the ReLU masks stay fixed for small phi, so the difference still converges."""
    model, batch = relu_model(), make_batch()
    exact, _ = update(model, build_method(f"dgl{reg}_exact", {"lam": 1.0, "lam0": 0.0}), batch)
    fd, _ = update(model, build_method(f"dgl{reg}", {"lam": 1.0, "phi": 1e-6, "lam0": 0.0}), batch)
    assert cosine(fd, exact) > 0.9999


@pytest.mark.parametrize("reg", ["1", "2"])
def test_finite_difference_value_estimates_the_regulariser(reg):
    """The logged ``reg`` is (L(x_r) - L(x)) / (degree * phi) -> mean_i R(g_i) (Euler: g . R'(g) = degree * R)."""
    model, batch = smooth_model(), make_batch()
    _, exact_logs = build_method(f"dgl{reg}_exact").loss(model, batch)
    _, fd_logs = build_method(f"dgl{reg}", {"phi": 1e-5}).loss(model, batch)
    assert fd_logs["reg"] == pytest.approx(exact_logs["reg"], rel=1e-3)
    assert fd_logs["ce"] == pytest.approx(exact_logs["ce"], rel=1e-12)


# ------------------------------------------------------------------------------ eq. 2.4 exactly


@pytest.mark.parametrize("reg", ["1", "2"])
def test_update_is_eq_2_4_from_separate_gradients(reg):
    model, batch = relu_model(), make_batch()
    lam, phi, lam0 = 0.05, 0.1, 0.7
    params = list(model.parameters())
    # three separate gradient computations
    x = batch.x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(F.cross_entropy(model(x), batch.y, reduction="sum"), x)
    clean = torch.autograd.grad(F.cross_entropy(model(batch.x), batch.y), params)
    direction = g.sign() if reg == "1" else 2 * g
    x_r = batch.x + phi * direction
    adv = torch.autograd.grad(F.cross_entropy(model(x_r), batch.y), params)
    expected = torch.cat([(lam0 * c + lam / phi * (a - c)).flatten() for c, a in zip(clean, adv, strict=True)])
    got, loss = update(model, build_method(f"dgl{reg}", {"lam": lam, "phi": phi, "lam0": lam0}), batch)
    assert torch.allclose(got, expected, rtol=1e-10, atol=1e-12)
    # the value the loop sees: lam0 L(x) + (lam/phi) (L(x_r) - L(x)), with x_r unclipped
    with torch.no_grad():
        l_clean = F.cross_entropy(model(batch.x), batch.y).item()
        l_adv = F.cross_entropy(model(x_r), batch.y).item()
    assert loss.item() == pytest.approx(lam0 * l_clean + lam / phi * (l_adv - l_clean), rel=1e-12)
    assert (x_r.min() < 0) or (x_r.max() > 1)  # no clipping to [0, 1]: the paper does not clip


def test_two_forward_passes_and_unused_parameters():
    """Two forward passes per update (sec. 3); parameters outside the main path (an aux head) get no gradient."""
    model, batch = relu_model(aux_classes=5), make_batch()
    calls = []
    model.register_forward_pre_hook(lambda module, args: calls.append(1))
    loss, logs = build_method("dgl1").loss(model, batch)
    loss.backward()
    assert len(calls) == 2
    assert model.aux_head.weight.grad is None
    assert set(logs) == {"ce", "ce_adv", "reg"} and all(math.isfinite(v) for v in logs.values())


def test_float32_update_matches_float64():
    model, batch = relu_model(), make_batch()
    ref, _ = update(model, build_method("dgl2"), batch)
    model32 = model.float()
    got, _ = update(model32, build_method("dgl2"), Batch(batch.x.float(), batch.y, batch.index))
    assert torch.allclose(got.double(), ref, rtol=1e-4, atol=1e-6)


# ------------------------------------------------------------------------------ exact method


@pytest.mark.parametrize("reg", ["1", "2"])
def test_exact_loss_passes_gradcheck(reg):
    """The double-backprop loss is differentiable in the weights with the right gradient (float64)."""
    model, batch = smooth_model(), make_batch(n=4)
    name = "blocks.fc1.linear.weight"
    method = build_method(f"dgl{reg}_exact", {"lam": 0.5})

    def loss_of(weight):
        def logits(x):
            return torch.func.functional_call(model, {name: weight}, (x,))

        return method.loss(logits, batch)[0]

    weight = dict(model.named_parameters())[name].detach().clone().requires_grad_(True)
    assert torch.autograd.gradcheck(loss_of, (weight,), eps=1e-6, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("reg", ["1", "2"])
def test_exact_loss_value(reg):
    model, batch = smooth_model(), make_batch()
    lam, lam0 = 0.3, 0.8
    loss, logs = build_method(f"dgl{reg}_exact", {"lam": lam, "lam0": lam0}).loss(model, batch)
    x = batch.x.clone().requires_grad_(True)
    ce_sum = F.cross_entropy(model(x), batch.y, reduction="sum")
    (g,) = torch.autograd.grad(ce_sum, x)
    per_sample = g.abs().flatten(1).sum(1) if reg == "1" else g.pow(2).flatten(1).sum(1)
    expected = lam0 * ce_sum.item() / len(batch.y) + lam * per_sample.mean().item()
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    assert logs["reg"] == pytest.approx(per_sample.mean().item(), rel=1e-12)


# ------------------------------------------------------------------------------ training and parameters


def toy_split(n, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.rand(n, 1, 4, 4, generator=g) * 0.3
    x[:, 0, 0, 0] += 0.7 * y
    return Split(x, y, torch.arange(n))


@pytest.mark.parametrize("name", ["dgl1", "dgl2_exact"])
def test_training_with_datagrad_lowers_the_loss(name):
    gen = seed_everything(0)
    model = build_model("mlp_datagrad", (1, 4, 4), 2, width=16, depth=2)
    train_split, val_split = toy_split(192, 1), toy_split(64, 2)
    before, _ = evaluate_accuracy(model, train_split.x, train_split.y)
    settings = TrainSettings.of(epochs=8, batch_size=32, optimizer={"name": "sgd", "lr": 0.1})
    history = train(model, build_method(name, {"lam": 0.01}), settings, train_split, val_split, gen, f"method {name}")
    after, acc = evaluate_accuracy(model, train_split.x, train_split.y)
    assert after < 0.5 * before and acc > 0.9
    assert all(math.isfinite(row["train_loss"]) for row in history[1:])


def test_unknown_and_invalid_parameters_are_named():
    with pytest.raises(ValueError, match=r"alpha.*dgl1|dgl1.*alpha"):
        build_method("dgl1", {"alpha": 1.0})
    with pytest.raises(ValueError, match="phi"):
        build_method("dgl1_exact", {"phi": 0.1})  # the exact method has no phi
    with pytest.raises(ValueError, match="dgl2.*phi"):
        build_method("dgl2", {"phi": 0.0})
    with pytest.raises(ValueError, match="dgl1.*lam"):
        build_method("dgl1", {"lam": -1.0})


def test_defaults():
    assert build_method("dgl1").params.to_dict() == {"lam": 0.01, "phi": 0.1, "lam0": 1.0}
    assert build_method("dgl2_exact").params.to_dict() == {"lam": 0.01, "lam0": 1.0}
