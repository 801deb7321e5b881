"""DeepDefense's methods against closed forms and finite differences: the unrolled DeepFool regulariser (eq. 3, 6,
sec. 3.3), Parseval training's orthonormality step and DeepFool adversarial training (sec. 4)."""

import pytest
import torch
from conftest import toy_problem
from torch import nn

from advreg.attacks.base import per_sample_norm
from advreg.attacks.deepfool import class_gradients, deepfool, unrolled_deepfool
from advreg.methods import build_method
from advreg.methods.base import Batch
from advreg.methods.deepdefense import deepdefense_penalty
from advreg.methods.parseval import parseval_retraction
from advreg.models import build_model
from advreg.models.base import LayeredClassifier
from advreg.splits import Split
from advreg.training.loop import train
from advreg.training.settings import TrainSettings


def affine(num_inputs=6, num_classes=2, seed=0):
    torch.manual_seed(seed)
    linear = nn.Linear(num_inputs, num_classes).double()
    return LayeredClassifier([("flat", nn.Flatten()), ("out", linear)]), linear


def tiny_relu(seed=0):
    torch.manual_seed(seed)
    return LayeredClassifier(
        [
            ("fc1", nn.Sequential(nn.Flatten(), nn.Linear(6, 8), nn.ReLU())),
            ("fc2", nn.Sequential(nn.Linear(8, 6), nn.ReLU())),
            ("out", nn.Linear(6, 4)),
        ]
    ).double()


def tiny_batch(model, wrong=3, n=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 2, 3, dtype=torch.float64, generator=g)
    with torch.no_grad():
        y = model(x).argmax(1)
    y[:wrong] = (y[:wrong] + 1) % 4  # the first `wrong` samples are misclassified
    return Batch(x, y, torch.arange(n))


# --- the unrolled DeepFool distance -------------------------------------------------------------------


def test_on_an_affine_binary_model_the_distance_is_margin_over_weight_norm_and_so_is_its_gradient():
    model, linear = affine()
    x = torch.rand(10, 1, 2, 3, dtype=torch.float64)
    with torch.no_grad():
        pred = model(x).argmax(1)
    result = unrolled_deepfool(model, x, pred, overshoot=0.0, step_eps=0.0, max_iter=5)
    w = linear.weight[1] - linear.weight[0]
    f = x.flatten(1) @ w + linear.bias[1] - linear.bias[0]
    exact = f.abs() / w.norm()  # eq. 2: |f(x)| / ||grad f|| in one step
    distance = per_sample_norm(result.perturbation)
    assert torch.allclose(distance, exact, rtol=1e-12, atol=1e-14)
    # the exact step lands on the boundary, where argmax is a coin toss: a sample may take a further, vanishing step
    assert int(result.iterations.min()) >= 1
    # the distance is a function of the weights: its gradient is the closed form's
    (auto,) = torch.autograd.grad(distance.sum(), linear.weight)
    (closed,) = torch.autograd.grad(exact.sum(), linear.weight)
    assert torch.allclose(auto, closed, rtol=1e-10, atol=1e-12)
    # the overshoot scales the result (and the iterate) by 1 + overshoot, as the authors' code
    scaled = unrolled_deepfool(model, x, pred, overshoot=0.02, step_eps=0.0)
    assert torch.allclose(per_sample_norm(scaled.perturbation), 1.02 * exact.detach(), rtol=1e-12)


def test_on_an_affine_multiclass_model_the_distance_is_the_nearest_boundary_and_misclassified_go_to_the_truth():
    model, linear = affine(num_classes=5, seed=1)
    x = torch.rand(16, 1, 2, 3, dtype=torch.float64)
    with torch.no_grad():
        logits = model(x)
    pred = logits.argmax(1)
    W = linear.weight.detach()
    y = pred.clone()
    y[:5] = (pred[:5] + 2) % 5
    target = torch.where(pred == y, torch.full_like(y, -1), y)
    first = unrolled_deepfool(model, x, pred, target, overshoot=0.0, step_eps=0.0, max_iter=1)
    distance = per_sample_norm(first.perturbation).detach()
    for i in range(16):
        s = int(pred[i])
        classes = [int(y[i])] if i < 5 else [k for k in range(5) if k != s]  # towards the truth / all others
        gaps = [abs(float(logits[i, k] - logits[i, s])) / float((W[k] - W[s]).norm()) for k in classes]
        assert float(distance[i]) == pytest.approx(min(gaps), rel=1e-10)
    # run to the end, the misclassified samples are classified as their true label, the others as anything else
    result = unrolled_deepfool(model, x, pred, target, max_iter=50, step_eps=1e-4)
    with torch.no_grad():
        after = model(x + result.perturbation).argmax(1)
    assert bool(result.fooled.all()) and torch.equal(after[:5], y[:5]) and bool((after[5:] != pred[5:]).all())


def test_unrolled_deepfool_is_the_evaluations_deepfool():
    """Same loop, same numbers: with the evaluation's settings the regulariser measures what rho_2 measures."""
    model = tiny_relu(seed=3)
    x = tiny_batch(model, n=40, seed=3).x
    with torch.no_grad():
        pred = model(x).argmax(1)
    evaluation = deepfool(model, x, pred, max_iter=50, step_eps=1e-4, batch_size=25)
    unrolled = unrolled_deepfool(model, x, pred, max_iter=50, step_eps=1e-4)
    assert torch.allclose(unrolled.perturbation.detach(), evaluation.perturbation, rtol=1e-9, atol=1e-12)
    assert torch.equal(unrolled.iterations, evaluation.iterations) and torch.equal(unrolled.fooled, evaluation.fooled)
    assert int(evaluation.iterations.max()) >= 2  # several unrolled steps


def test_batched_class_gradients_equal_the_loop():
    for arch, shape in (("mlp_deepdefense", (1, 8, 8)), ("lenet", (1, 28, 28))):
        torch.manual_seed(0)
        model = build_model(arch, shape, 10).double()
        x = torch.rand(5, *shape, dtype=torch.float64, requires_grad=True)
        logits = model(x)
        loop = class_gradients(logits, x, retain_graph=True)
        batched = class_gradients(logits, x, batched=True)
        assert loop.shape == (5, 10, x[0].numel()) and torch.allclose(loop, batched, rtol=1e-10, atol=1e-13)


def test_top_classes_restricts_deepfool_to_the_most_likely_classes():
    """LTS4's num_classes: only the k classes with the highest logits at x (besides the label) are candidates; with
    k = K - 1 that is every class, and the class gradients of the others are never computed."""
    model, linear = affine(num_classes=6, seed=4)
    x = torch.rand(30, 1, 2, 3, dtype=torch.float64)
    with torch.no_grad():
        logits = model(x)
    pred = logits.argmax(1)
    W = linear.weight.detach()
    every = deepfool(model, x, pred, max_iter=1)
    assert torch.equal(deepfool(model, x, pred, max_iter=1, top_classes=5).perturbation, every.perturbation)
    for k in (1, 2):
        first = unrolled_deepfool(model, x, pred, overshoot=0.0, step_eps=0.0, max_iter=1, top_classes=k)
        attack = deepfool(model, x, pred, overshoot=0.0, step_eps=0.0, max_iter=1, top_classes=k)
        assert torch.allclose(first.perturbation.detach(), attack.perturbation, rtol=1e-12, atol=1e-14)
        for i in range(30):
            s = int(pred[i])
            ranked = [c for c in logits[i].argsort(descending=True).tolist() if c != s][:k]
            gaps = [abs(float(logits[i, c] - logits[i, s])) / float((W[c] - W[s]).norm()) for c in ranked]
            assert float(per_sample_norm(first.perturbation[i : i + 1].detach())) == pytest.approx(min(gaps), rel=1e-10)
    # targeted rows ignore it (their only candidate is the target)
    y = (pred + 3) % 6
    towards = unrolled_deepfool(model, x, pred, y, overshoot=0.0, step_eps=0.0, max_iter=1, top_classes=1)
    full = unrolled_deepfool(model, x, pred, y, overshoot=0.0, step_eps=0.0, max_iter=1)
    assert torch.allclose(towards.perturbation, full.perturbation, rtol=1e-12, atol=1e-14)
    x_in = x.clone().requires_grad_(True)
    out = model(x_in)
    classes = torch.tensor([[0, 3], [5, 1]]).repeat(15, 1)
    picked = class_gradients(out, x_in, classes, retain_graph=True)
    batched = class_gradients(out, x_in, classes, batched=True)
    assert picked.shape == (30, 2, 6) and torch.allclose(picked, batched)
    assert torch.allclose(picked[0, 1], W[3]) and torch.allclose(picked[1, 0], W[5])
    with pytest.raises(ValueError, match="top_classes"):
        deepfool(model, x, pred, top_classes=-1)


# --- the regulariser -------------------------------------------------------------------------------------


def _gradient(model, method, batch):
    model.zero_grad(set_to_none=True)
    loss, logs = method.loss(model, batch)
    loss.backward()
    return [p.grad.clone() for p in model.parameters()], loss.item(), logs


def _finite_difference(model, method, batch, h=1e-6):
    out = []
    for p in model.parameters():
        fd = torch.zeros_like(p)
        flat = p.data.view(-1)
        for i in range(flat.numel()):
            old = flat[i].item()
            flat[i] = old + h
            plus = method.loss(model, batch)[0].item()
            flat[i] = old - h
            minus = method.loss(model, batch)[0].item()
            flat[i] = old
            fd.view(-1)[i] = (plus - minus) / (2 * h)
        out.append(fd)
    return out


def test_regulariser_gradient_matches_finite_differences_of_the_regularised_loss():
    """Float64, tiny ReLU network, correctly and wrongly classified samples, several unrolled DeepFool steps: the
    gradient the loop receives is the derivative of the loss the method reports (sec. 3.3 solved by autograd),
    with the class gradients by a loop over classes or by one batched backward pass."""
    model = tiny_relu()
    batch = tiny_batch(model)
    params = {"lam": 1.0, "c": 3.0, "d": 2.0}
    method = build_method("deepdefense", params)
    grads, loss, logs = _gradient(model, method, batch)
    assert logs["deepfool_iterations"] > 2 and logs["reg"] > 0
    ce_only = build_method("deepdefense", {"lam": 0.0})
    assert loss == pytest.approx(ce_only.loss(model, batch)[0].item() + logs["reg"])
    for auto, fd in zip(grads, _finite_difference(model, method, batch), strict=True):
        assert torch.allclose(auto, fd, rtol=1e-5, atol=1e-7), (auto - fd).abs().max()
    batched, batched_loss, _ = _gradient(model, build_method("deepdefense", {**params, "class_gradients": "batched"}),
                                         batch)  # fmt: skip
    assert batched_loss == pytest.approx(loss, rel=1e-12)
    for a, b in zip(grads, batched, strict=True):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-13)
    # with fewer candidate classes (top_classes) the gradient is still the derivative of the reported loss
    top = build_method("deepdefense", {**params, "top_classes": 1})
    top_grads, top_loss, _ = _gradient(model, top, batch)
    assert top_loss != pytest.approx(loss)
    for auto, fd in zip(top_grads, _finite_difference(model, top, batch), strict=True):
        assert torch.allclose(auto, fd, rtol=1e-5, atol=1e-7), (auto - fd).abs().max()


def test_masked_regulariser_reaches_only_one_block():
    """Fig. 5: the regulariser's gradient is masked to one layer; the cross-entropy still trains every layer."""
    model = tiny_relu(seed=1)
    batch = tiny_batch(model, seed=1)
    params = {"lam": 2.0, "c": 3.0, "d": 2.0}
    masked, _, _ = _gradient(model, build_method("deepdefense", {**params, "layer": "fc2"}), batch)
    full, _, _ = _gradient(model, build_method("deepdefense", params), batch)
    plain, _, _ = _gradient(model, build_method("deepdefense", {"lam": 0.0}), batch)
    names = [name for name, _ in model.named_parameters()]
    for name, m, f, p in zip(names, masked, full, plain, strict=True):
        if name.startswith("blocks.fc2."):
            assert torch.allclose(m, f) and not torch.allclose(m, p)
        else:
            assert torch.allclose(m, p) and not torch.allclose(f, p)
    fd = _finite_difference(model, build_method("deepdefense", params), batch)
    fc2 = [i for i, name in enumerate(names) if name.startswith("blocks.fc2.")]
    for i in fc2:
        assert torch.allclose(masked[i], fd[i], rtol=1e-5, atol=1e-7)
    method = build_method("deepdefense", {"layer": "conv9"})
    with pytest.raises(ValueError, match="conv9.*blocks"):
        method.setup(model, batch.x, batch.y)


def test_penalty_splits_correct_and_misclassified_samples():
    ratio = torch.tensor([0.1, 0.2, 0.1])
    correct = torch.tensor([True, True, False])
    penalty = deepdefense_penalty(ratio, correct, c=25.0, d=5.0)
    expected = torch.tensor([0.1 * -25, 0.2 * -25, 0.1 * 5]).exp()
    assert torch.allclose(penalty, expected)
    # correct samples: the penalty falls as the perturbation grows; misclassified ones: it rises
    model = tiny_relu(seed=2)
    batch = tiny_batch(model, seed=2, wrong=0)
    method = build_method("deepdefense", {"lam": 15.0})
    loss, logs = method.loss(model, batch)
    assert loss.item() == pytest.approx(logs["ce"] + 15.0 * logs["reg"])


def _off_centre_problem():
    """Two classes of near-constant 2x2 images (levels 0.1-0.4 and 0.6-0.9) and an affine model that separates
    them with its boundary at level 0.42, right next to class 0: accurate, but with tiny margins for class 0."""
    g = torch.Generator().manual_seed(0)
    n = 200
    y = torch.arange(n) % 2
    level = torch.where(y == 0, 0.1 + 0.3 * torch.rand(n, generator=g), 0.6 + 0.3 * torch.rand(n, generator=g))
    x = (level.reshape(n, 1, 1, 1) + 0.02 * torch.randn(n, 1, 2, 2, generator=g)).clamp(0, 1)
    model, linear = affine(num_inputs=4)
    model = model.float()
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[-4.0] * 4, [4.0] * 4]))
        linear.bias.copy_(torch.tensor([1.0, -1.0]) * 16 * 0.42)
    return model, x, y


def _ratios(model, x):
    model.eval()
    with torch.no_grad():
        pred = model(x).argmax(1)
    return per_sample_norm(deepfool(model, x, pred).perturbation) / per_sample_norm(x)


def test_deepdefense_fine_tuning_moves_the_boundary_away_from_the_closest_samples():
    """Eq. 6 penalises small ||r|| / ||x|| most: fine-tuning raises the smallest DeepFool ratio and lowers the
    penalty, where plain fine-tuning (same schedule) barely moves the boundary."""
    settings = TrainSettings.of(epochs=5, batch_size=50, optimizer={"name": "sgd", "lr": 0.01, "momentum": 0.9})
    out = {}
    for name in ("plain", "deepdefense"):
        model, x, y = _off_centre_problem()
        assert float((model(x).argmax(1) == y).float().mean()) == 1.0
        data = Split(x, y, torch.arange(x.shape[0]))
        history = train(model, build_method(name), settings, data, data, torch.Generator().manual_seed(0), name,
                        log=lambda m: None)  # fmt: skip
        ratio = _ratios(model, x)
        out[name] = (ratio.min().item(), torch.exp(-25 * ratio).mean().item(), history[-1]["val_acc"])
    (plain_min, plain_penalty, _), (dd_min, dd_penalty, dd_acc) = out["plain"], out["deepdefense"]
    assert dd_min > 1.2 * plain_min and dd_penalty < 0.7 * plain_penalty and dd_acc == 1.0


# --- Parseval training --------------------------------------------------------------------------------------


def test_parseval_retraction_fixes_orthonormal_rows_and_orthonormalises_others():
    torch.manual_seed(0)
    q, _ = torch.linalg.qr(torch.randn(8, 5, dtype=torch.float64))
    weight = q.T.clone()  # 5 orthonormal rows of length 8
    rows = torch.tensor([0, 2, 3])
    parseval_retraction(weight, rows, beta=0.1)
    assert torch.allclose(weight, q.T)
    weight = torch.randn(6, 2, 3, 3, dtype=torch.float64) * 0.4  # a kernel, unfolded to (6, 18)
    before = weight.clone()
    gap = []
    for _ in range(300):
        rows_all = torch.arange(6)
        flat = weight.view(6, -1)
        gap.append((flat @ flat.T - torch.eye(6, dtype=torch.float64)).norm().item())
        parseval_retraction(weight, rows_all, beta=0.05)
    assert gap[-1] < 1e-3 < gap[0]
    weight = before.clone()
    parseval_retraction(weight, torch.tensor([1, 4]), beta=0.05)
    changed = (weight != before).flatten(1).any(1)
    assert changed.tolist() == [False, True, False, False, True, False]


def test_parseval_method_projects_a_random_30_percent_of_rows_after_each_step():
    torch.manual_seed(0)
    model = build_model("mlp_deepdefense", (1, 4, 4), 3, hidden=(20, 10)).double()
    method = build_method("parseval", {"beta": 0.01})
    x = torch.rand(8, 1, 4, 4, dtype=torch.float64)
    method.setup(model, x, torch.zeros(8, dtype=torch.long))
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    method.after_step(model)
    for name, p in model.named_parameters():
        rows_changed = (p.detach() != before[name]).reshape(p.shape[0], -1).any(1)
        if p.ndim == 1:
            assert not rows_changed.any(), name  # biases untouched
        else:
            assert int(rows_changed.sum()) == round(0.3 * p.shape[0]), name
    hidden = build_method("parseval", {"layers": "hidden"})
    hidden.setup(model, x, torch.zeros(8, dtype=torch.long))
    assert len(hidden.weights) == 2 and all(w is not model.blocks["out"].linear.weight for w in hidden.weights)
    # the loss is the plain cross-entropy
    y = torch.zeros(8, dtype=torch.long)
    loss, _ = method.loss(model, Batch(x, y, torch.arange(8)))
    assert loss.item() == pytest.approx(nn.functional.cross_entropy(model(x), y).item())


def test_parseval_draws_are_reproducible():
    runs = []
    for _ in range(2):
        torch.manual_seed(5)
        model = build_model("mlp_deepdefense", (1, 4, 4), 3, hidden=(20, 10))
        method = build_method("parseval")
        method.setup(model, torch.zeros(1, 1, 4, 4), torch.zeros(1, dtype=torch.long))
        for _ in range(3):
            method.after_step(model)
        runs.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    assert torch.equal(runs[0], runs[1])


# --- DeepFool adversarial training --------------------------------------------------------------------------


def test_deepfool_at_trains_on_a_fixed_deepfool_set_of_the_reference_without_clean_images():
    model, x, y = toy_problem(3, n_test=120, seed=2)
    model.train()
    y = y.clone()
    y[:4] = (y[:4] + 1) % 3  # a few training labels the reference gets wrong
    reference = {k: v.clone() for k, v in model.state_dict().items()}
    train_split = Split(x, y, torch.arange(x.shape[0]) + 1000)
    method = build_method("deepfool_at")
    adversarial = method.prepare_data(train_split, model)
    assert model.training and all(torch.equal(v, model.state_dict()[k]) for k, v in reference.items())
    model.eval()
    with torch.no_grad():
        pred = model(x).argmax(1)
    expected = x + deepfool(model, x, pred).perturbation
    assert torch.allclose(adversarial.x, expected, atol=1e-6)
    assert torch.equal(adversarial.y, y) and torch.equal(adversarial.index, train_split.index)
    assert bool((per_sample_norm(adversarial.x - x) > 0).all())  # no clean image left
    with torch.no_grad():
        assert bool((model(adversarial.x).argmax(1) != pred).all())  # each example crosses the reference's boundary
    assert method.crafted["fooled"] == 1.0
    batch = Batch(adversarial.x[:10], y[:10], adversarial.index[:10])
    loss, _ = method.loss(model, batch)
    assert loss.item() == pytest.approx(nn.functional.cross_entropy(model(batch.x), batch.y).item())
    # start: true leaves the misclassified images clean
    truth = build_method("deepfool_at", {"start": "true"}).prepare_data(train_split, model)
    wrong = pred != y
    assert bool(wrong.any()) and torch.equal(truth.x[wrong], x[wrong])


def test_deepfool_at_in_the_training_loop():
    model, x, y = toy_problem(3, n_test=200, seed=3)
    data = Split(x, y, torch.arange(x.shape[0]))
    method = build_method("deepfool_at")
    settings = TrainSettings.of(epochs=2, batch_size=50, optimizer={"name": "sgd", "lr": 0.05})
    history = train(model, method, settings, data, data, torch.Generator().manual_seed(0), "at", log=lambda m: None)
    assert len(history) == 3 and method.crafted is not None and history[-1]["val_acc"] > 0.5
