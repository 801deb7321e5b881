"""Random crops are drawn once per training step (LWA sec. 7; the authors' code crops in the data iterator), so every
forward pass of a step sees the same window: LWA's r is the gradient at the crop that the loss at x + r sees (Alg. 2
lines 3-7), Goodfellow's adversarial pass perturbs the crop of its clean pass, HLDR's partners are cut to their
samples' windows; the windows come from the loop's generator, so a resumed run is bit-identical."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from advreg.attacks.base import l2_normalise
from advreg.methods import build_method
from advreg.models import build_model
from advreg.runtime import seed_everything
from advreg.splits import Split
from advreg.training.loop import train, training_batch
from advreg.training.settings import TrainSettings

N = 6


def cropping_model():
    torch.manual_seed(0)
    return build_model("lwa_cifar", (3, 32, 32), 10, width=0.0625, crop=28, preprocess="none").train()


def positional_split(n=N):
    """Images whose pixel values say where they are (value = (row * 32 + column) / 1024 + sample / 64): two different
    windows of an image differ in every pixel."""
    grid = (torch.arange(32.0)[:, None] * 32 + torch.arange(32.0)[None, :]) / 1024
    x = grid.expand(n, 3, 32, 32) + torch.arange(n, dtype=torch.float32).reshape(n, 1, 1, 1) / 64
    return Split(x.clone(), torch.arange(n) % 10, torch.arange(n))


def passes(model, method, batch):
    """The inputs of conv1's convolution (after the input layer) in every forward pass of one loss computation."""
    seen = []
    hook = model.blocks["conv1"].conv.register_forward_pre_hook(lambda m, a: seen.append(a[0].detach().clone()))
    method.loss(model, batch)
    hook.remove()
    return seen


def step_batch(model, split):
    generator = torch.Generator().manual_seed(5)
    return training_batch(model, split, torch.arange(split.x.shape[0]), torch.device("cpu"), generator)


def test_the_loop_cuts_each_sample_to_one_random_window():
    model, split = cropping_model(), positional_split(64)
    batch = step_batch(model, split)
    assert batch.x.shape == (64, 3, 28, 28) and batch.crop is not None
    top, left = batch.crop.top, batch.crop.left
    for i in range(64):
        assert torch.equal(batch.x[i], split.x[i, :, top[i] : top[i] + 28, left[i] : left[i] + 28])
    assert top.max() <= 4 and left.max() <= 4 and len(set(zip(top.tolist(), left.tolist(), strict=True))) > 5
    assert torch.equal(batch.same_crop(split.x), batch.x)  # partners (HLDR) are cut to the same windows
    assert torch.equal(step_batch(model, split).x, batch.x)  # from the generator: deterministic


def test_mirror_flips_some_windows_with_the_crop():
    """The authors' rand_mirror (option ``mirror``): a sample's window is flipped horizontally or not, drawn per step;
    off by default (the paper mentions no flips)."""
    torch.manual_seed(0)
    model = build_model("lwa_cifar", (3, 32, 32), 10, width=0.0625, crop=28, preprocess="none", mirror=True).train()
    split = positional_split(64)
    batch = step_batch(model, split)
    flip, top, left = batch.crop.flip, batch.crop.top, batch.crop.left
    for i in range(64):
        window = split.x[i, :, top[i] : top[i] + 28, left[i] : left[i] + 28]
        assert torch.equal(batch.x[i], window.flip(-1) if flip[i] else window)
    assert 0 < int(flip.sum()) < 64 and torch.equal(batch.same_crop(split.x), batch.x)
    assert step_batch(cropping_model(), split).crop.flip is None


def test_lwa_r_is_the_gradient_at_the_crop_that_the_loss_at_x_plus_r_sees():
    """Training mode: the clean pass (for r) and the pass at x + r see the same window, and r = c g / ||g|| with g the
    loss gradient at that window. With a window drawn per forward pass the second pass's input minus the first's
    would be the difference of two windows, not r."""
    model, split, c = cropping_model(), positional_split(), 0.5
    batch = step_batch(model, split)
    clean, adversarial = passes(model, build_method("lwa", {"c": c}), batch)
    assert torch.equal(clean, batch.x)
    x = batch.x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(F.cross_entropy(model(x), batch.y, reduction="sum"), x)
    torch.testing.assert_close(adversarial - clean, c * l2_normalise(g), atol=1e-6, rtol=1e-5)
    assert torch.allclose((adversarial - clean).flatten(1).norm(dim=1), torch.full((N,), c), atol=1e-5)


def test_goodfellow_perturbs_the_crop_of_its_clean_pass():
    model, split, eps = cropping_model(), positional_split(), 0.5
    batch = step_batch(model, split)
    seen = passes(model, build_method("goodfellow", {"epsilon": eps}), batch)
    clean, adversarial = seen[0], seen[-1]
    assert torch.equal(clean, batch.x)
    x = batch.x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(F.cross_entropy(model(x), batch.y, reduction="sum"), x)
    torch.testing.assert_close(adversarial - clean, eps * l2_normalise(g.sign()), atol=1e-6, rtol=1e-5)


def test_hldr_partners_are_cut_to_their_samples_windows():
    """A paired method's x and x_a pass the network at the same window (HLDR's disparity compares the same pixels)."""
    model, split = cropping_model(), positional_split()
    method = build_method("hldr", {"budgets": [0.1]})
    expanded = method.prepare_data(split, model)  # the pairs are crafted once, in eval mode (centre crop)
    model.train()
    batch = step_batch(model, expanded)
    full = method._partners[batch.index]
    partners = method.partners(batch)
    assert partners.shape == batch.x.shape == (N, 3, 28, 28)
    for i in range(N):
        top, left = batch.crop.top[i], batch.crop.left[i]
        assert torch.equal(partners[i], full[i, :, top : top + 28, left : left + 28])
        assert torch.equal(batch.x[i], expanded.x[i, :, top : top + 28, left : left + 28])


def test_a_full_size_input_in_training_mode_is_refused_and_eval_takes_the_centre():
    model, split = cropping_model(), positional_split()
    with pytest.raises(ValueError, match="once per training step"):
        model(split.x)
    model.eval()
    seen = []
    hook = model.blocks["conv1"].conv.register_forward_pre_hook(lambda m, a: seen.append(a[0]))
    model(split.x)
    model(split.x[:, :, 2:30, 2:30])  # an already cropped input passes through
    hook.remove()
    assert torch.equal(seen[0], split.x[:, :, 2:30, 2:30]) and torch.equal(seen[1], seen[0])


class Interrupted(Exception):
    pass


def run(checkpoint=None, stop_after=None):
    generator = seed_everything(0)
    model = build_model("lwa_cifar", (3, 32, 32), 10, width=0.0625, crop=28)
    g = torch.Generator().manual_seed(1)
    split = Split(torch.rand(24, 3, 32, 32, generator=g), torch.randint(0, 10, (24,), generator=g), torch.arange(24))

    def after_epoch(epoch):
        if epoch == stop_after:
            raise Interrupted

    settings = TrainSettings.of(epochs=2, batch_size=8, optimizer={"name": "sgd", "lr": 0.05}, select="last")
    history = train(
        model,
        build_method("lwa", {"c": 0.25}),
        settings,
        split,
        Split(split.x[:8], split.y[:8], torch.arange(8)),
        generator,
        "crop resume test",
        log=lambda _: None,
        checkpoint=checkpoint,
        after_epoch=after_epoch,
    )
    return model.state_dict(), history


def test_training_with_crops_is_deterministic_and_resumes_bit_identically(tmp_path):
    reference, history = run()
    again, _ = run()
    assert all(torch.equal(reference[k], again[k]) for k in reference)
    ckpt = tmp_path / "model.pt.ckpt"
    with pytest.raises(Interrupted):
        run(ckpt, stop_after=1)
    resumed, resumed_history = run(ckpt)
    assert all(torch.equal(reference[k], resumed[k]) for k in reference)
    assert [row["train_loss"] for row in resumed_history][1:] == [row["train_loss"] for row in history][1:]
