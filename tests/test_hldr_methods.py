"""HLDR's methods (latent-disparity-regularization.md): the HLDR penalty (eq. 3), FIMR (eq. 2) by hand, HGD's frozen
target behind its denoiser, AGNT, the fine-tuning pairs D / D_N, and Figure 6's latent disparity."""

import math

import pytest
import torch
import torch.nn.functional as F

from advreg.methods import build_method
from advreg.methods.base import Batch
from advreg.methods.branch_norm import BranchStatistics, recording, reusing
from advreg.methods.fimr import inverse_probability_sum
from advreg.methods.hldr import latent_disparity_penalty
from advreg.methods.pairs import agn_copies, batchnorm_statistics_kept, fgsm_partners, fine_tuning_pairs
from advreg.metrics.latent import latent_disparity
from advreg.metrics.robustness import robustness_rows
from advreg.models import build_model
from advreg.models import denoiser as denoiser_module
from advreg.models.denoiser import Denoiser
from advreg.splits import Split
from advreg.stages.train import extend_reference
from advreg.training.loop import train
from advreg.training.settings import TrainSettings

SHAPE = (1, 12, 12)


def tiny_vgg(seed=0, **kwargs):
    torch.manual_seed(seed)
    return build_model("vgg", SHAPE, 4, width=0.0625, dense=16, **kwargs)


def data(n=24, seed=1):
    g = torch.Generator().manual_seed(seed)
    return Split(torch.rand(n, *SHAPE, generator=g), torch.arange(n) % 4, torch.arange(100, 100 + n))


def batch_of(split):
    return Batch(split.x, split.y, split.index)


# --------------------------------------------------------------------------------------------- HLDR (eq. 3)


def test_penalty_by_hand_both_normalisations():
    clean = {"a": torch.tensor([[1.0, -2.0], [3.0, 0.0]]), "b": torch.tensor([[[1.0]], [[1.0]]])}
    adv = {"a": torch.tensor([[1.0, 0.0], [0.0, 0.0]]), "b": torch.tensor([[[2.0]], [[1.0]]])}
    # sample 0: |diff| = 2 + 1 = 3, |clean| = 3 + 1 = 4; sample 1: |diff| = 3, |clean| = 4
    assert latent_disparity_penalty(clean, adv, "sample").item() == pytest.approx((3 / 4 + 3 / 4) / 2)
    assert latent_disparity_penalty(clean, adv, "batch").item() == pytest.approx(6 / 8)
    adv["a"][1, 0] = 3.0  # sample 1 now identical: 0 / 4
    assert latent_disparity_penalty(clean, adv, "sample").item() == pytest.approx(3 / 8)
    assert latent_disparity_penalty(clean, adv, "batch").item() == pytest.approx(3 / 8)


def test_hldr_penalty_is_zero_for_identical_pairs_and_grows_with_the_disparity():
    model, split = tiny_vgg().train(), data()
    method = build_method("hldr", {"xi": 0.25, "budgets": [0.0]})
    expanded = method.prepare_data(split, model)
    assert torch.equal(method.partners(batch_of(expanded)), expanded.x)  # budget 0: x_a = x
    model.train()
    loss, logs = method.loss(model, batch_of(expanded))
    assert logs["disparity"] == 0.0
    assert loss.item() == pytest.approx(0.75 * F.cross_entropy(model(split.x), split.y).item(), rel=1e-6)
    direction = torch.sign(torch.randn(split.x.shape, generator=torch.Generator().manual_seed(3)))
    values = []
    for t in (0.01, 0.05, 0.2):
        with torch.no_grad():
            _, clean = model.forward_with_activations(split.x)
            _, adv = model.forward_with_activations(split.x + t * direction)
        values.append(latent_disparity_penalty(clean, adv).item())
    assert 0 < values[0] < values[1] < values[2]


def test_hldr_loss_on_pairs_and_its_gradient_reaches_every_layer():
    model, split = tiny_vgg().train(), data()
    method = build_method("hldr", {"xi": 0.5})
    expanded = method.prepare_data(split, model)
    assert expanded.x.shape[0] == 3 * split.x.shape[0]  # budgets 0, 16/255, 32/255
    b = batch_of(Split(expanded.x[-8:], expanded.y[-8:], expanded.index[-8:]))  # budget 32/255
    loss, logs = method.loss(model, b)
    assert logs["disparity"] > 0 and loss.item() == pytest.approx(0.5 * logs["ce"] + 0.5 * logs["disparity"], rel=1e-5)
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_adversarial_pass_leaves_batchnorm_running_statistics_alone():
    model, split = tiny_vgg().train(), data()
    reference = tiny_vgg().train()
    reference(split.x)  # one clean pass in training mode
    with batchnorm_statistics_kept(model):
        model(split.x + 0.3)
    model(split.x)
    for (name, ours), theirs in zip(model.state_dict().items(), reference.state_dict().values(), strict=True):
        assert torch.equal(ours, theirs), name
    # and the HLDR loss updates them with the clean batch only
    method = build_method("hldr", {"budgets": [0.1]})
    expanded = method.prepare_data(split, model)
    fresh, clean_only = tiny_vgg().train(), tiny_vgg().train()
    method.loss(fresh, batch_of(expanded))
    clean_only(expanded.x)
    assert torch.equal(fresh.blocks.conv1.bn.running_mean, clean_only.blocks.conv1.bn.running_mean)


def mixed_batch(model, params):
    """A batch of D holding budget-0 pairs (the first n entries) and 32/255 pairs (the next n)."""
    split = data()
    method = build_method("hldr", {"budgets": [0.0, 32 / 255], **params})
    expanded = method.prepare_data(split, model)
    return method, batch_of(expanded), split.x.shape[0]


def test_budget_zero_pairs_add_nothing_in_a_mixed_batch_by_default():
    model = tiny_vgg().train()
    method, batch, n = mixed_batch(model, {})
    assert method.params.batchnorm == "benign"
    stats = BranchStatistics()
    with recording(model, stats):
        _, clean = model.forward_with_activations(batch.x)
    with reusing(model, stats):
        _, adv = model.forward_with_activations(method.partners(batch))
    assert all(torch.equal(clean[k][:n], adv[k][:n]) for k in clean)  # budget 0: the same activity, bit for bit
    assert all(not torch.equal(clean[k][n:], adv[k][n:]) for k in clean)
    diff = sum((clean[k] - adv[k]).abs().flatten(1).sum(1) for k in clean)
    total = sum(clean[k].abs().flatten(1).sum(1) for k in clean)
    assert (diff[:n] == 0).all() and (diff[n:] > 0).all()
    fresh = tiny_vgg().train()
    _, logs = method.loss(fresh, batch)
    assert logs["disparity"] == pytest.approx((diff[n:] / total[n:]).sum().item() / (2 * n), rel=1e-5)
    # own batch statistics (the authors' separate BN layers): the budget-0 pairs add a penalty in the same batch
    own, batch, n = mixed_batch(tiny_vgg().train(), {"batchnorm": "own"})
    model = tiny_vgg().train()
    _, clean = model.forward_with_activations(batch.x)
    with batchnorm_statistics_kept(model):
        _, adv = model.forward_with_activations(own.partners(batch))
    assert latent_disparity_penalty({k: v[:n] for k, v in clean.items()}, {k: v[:n] for k, v in adv.items()}) > 1e-3


def test_benign_pass_with_recorded_statistics_is_batchnorm_in_training_mode():
    model, reference = tiny_vgg().train(), tiny_vgg().train()
    x = data().x
    stats = BranchStatistics()
    with recording(model, stats):
        logits, _ = model.forward_with_activations(x)
    expected = reference(x)
    assert torch.allclose(logits, expected, atol=1e-5)
    for ours, theirs in zip(model.modules(), reference.modules(), strict=True):
        if isinstance(ours, torch.nn.modules.batchnorm._BatchNorm):
            assert torch.allclose(ours.running_mean, theirs.running_mean, atol=1e-6)
            assert torch.allclose(ours.running_var, theirs.running_var, atol=1e-6)
            assert ours.num_batches_tracked == theirs.num_batches_tracked == 1
    assert all("forward" not in vars(m) for m in model.modules())  # the class's forward again
    with reusing(model, stats):  # the adversarial pass: the benign map, running statistics untouched
        before = model.blocks.conv1.bn.running_mean.clone()
        shifted, _ = model.forward_with_activations(x + 0.2)
    assert torch.equal(before, model.blocks.conv1.bn.running_mean)
    assert not torch.allclose(shifted, logits)
    other = tiny_vgg().train()
    with reusing(other, BranchStatistics()), pytest.raises(RuntimeError, match="the benign pass did not"):
        other(x)


# --------------------------------------------------------------------------------------------- FIMR (eq. 2)


def test_fimr_penalty_by_hand():
    logits = torch.log(torch.tensor([[0.5, 0.25, 0.25], [0.8, 0.1, 0.1]]))
    assert inverse_probability_sum(logits).tolist() == pytest.approx([2 + 4 + 4, 1.25 + 10 + 10])
    y = torch.tensor([0, 1])
    ce = (-math.log(0.5) - math.log(0.1)) / 2

    class Fixed(torch.nn.Module):
        def forward(self, x):
            return logits

    for reduction, penalty in (("mean", (10 + 21.25) / 2), ("batch_sum", 10 + 21.25)):
        method = build_method("fimr", {"zeta": 0.1, "reduction": reduction})
        loss, _ = method.loss(Fixed(), Batch(torch.zeros(2, 1), y, torch.arange(2)))
        assert loss.item() == pytest.approx(0.9 * ce + 0.1 * penalty, rel=1e-6)


def test_fimr_trains_on_benign_samples_and_their_noisy_copies():
    split = data()
    assert build_method("fimr").prepare_data(split, tiny_vgg()) is split
    noisy = build_method("fimr", {"noise": True, "sigma": 0.1}).prepare_data(split, tiny_vgg())
    assert noisy.x.shape[0] == 2 * split.x.shape[0] and torch.equal(noisy.x[: split.x.shape[0]], split.x)
    assert torch.equal(noisy.x[split.x.shape[0] :], agn_copies(split, 0.1, 0, True))


# --------------------------------------------------------------------------------------------- pairs, AGNT


def test_pairs_are_fgsm_of_the_starting_model_then_the_noise():
    model, split = tiny_vgg(), data()
    expanded, partners = fine_tuning_pairs(split, model, (0.0, 0.1), noise=True, sigma=0.2, noise_seed=4, clip=False)
    n = split.x.shape[0]
    assert expanded.x.shape[0] == partners.shape[0] == 3 * n and torch.equal(expanded.index, torch.arange(3 * n))
    assert torch.equal(expanded.x[n : 2 * n], split.x) and torch.equal(expanded.y[2 * n :], split.y)
    x = split.x.clone().requires_grad_(True)
    model.eval()
    (grad,) = torch.autograd.grad(F.cross_entropy(model(x), split.y, reduction="sum"), x)
    assert torch.equal(partners[:n], split.x)
    assert torch.allclose(partners[n : 2 * n], split.x + 0.1 * grad.sign())
    noise = partners[2 * n :] - split.x
    assert abs(noise.std().item() - 0.2) < 0.02 and torch.equal(partners[2 * n :], agn_copies(split, 0.2, 4, False))
    assert model.training is False  # its mode is restored
    clipped = fgsm_partners(model, split.x, split.y, [0.5], clip=True)
    assert clipped.min() >= 0 and clipped.max() <= 1


def test_noise_is_shared_by_the_methods_of_a_fold_and_differs_between_folds():
    split = data()
    agnt = build_method("agnt", {"sigma": 0.1}).prepare_data(split, tiny_vgg())
    hldr = build_method("hldr", {"noise": True, "sigma": 0.1})
    hldr.prepare_data(split, tiny_vgg())
    n = split.x.shape[0]
    assert torch.equal(hldr.partners(Batch(split.x, split.y, torch.arange(3 * n, 4 * n))), agnt.x)
    other_fold = Split(split.x, split.y, split.index + 1)
    assert not torch.equal(agn_copies(other_fold, 0.1, 0, True), agnt.x)
    assert not torch.equal(agn_copies(split, 0.1, 1, True), agnt.x)  # another noise_seed


def test_agnt_is_cross_entropy_on_the_noisy_copies():
    model, split = tiny_vgg().eval(), data()
    method = build_method("agnt")
    noisy = method.prepare_data(split, model)
    loss, _ = method.loss(model, batch_of(noisy))
    assert loss.item() == pytest.approx(F.cross_entropy(model(noisy.x), split.y).item())
    assert not torch.equal(noisy.x, split.x) and noisy.x.min() >= 0 and noisy.x.max() <= 1


# --------------------------------------------------------------------------------------------- HGD


def test_denoised_model_starts_as_the_reference_and_reports_the_targets_activations():
    reference = tiny_vgg().eval()
    denoised = extend_reference(reference, tiny_vgg(seed=9, denoiser={"width": 4, "depth": 2}), "test")
    x = data().x
    assert torch.equal(denoised(x), reference(x))  # zero-initialised output layer: D(x) = 0
    keys = set(denoised.state_dict())
    assert set(reference.state_dict()) <= keys and all(
        k.startswith("denoiser.") for k in keys - set(reference.state_dict())
    )
    with torch.no_grad():
        denoised.denoiser.out.bias.fill_(0.1)  # D(x) = 0.1: x_hat = x - 0.1
        _, acts = denoised.forward_with_activations(x)
        _, expected = reference.forward_with_activations(x - 0.1)
    assert list(acts) == list(expected) and all(torch.allclose(acts[k], expected[k]) for k in acts)


def test_the_denoisers_decoder_convolves_its_concatenated_input(monkeypatch):
    """The decoder's first unit sums two convolutions over the weight's slices instead of concatenating its inputs:
    the same map as the unit on the concatenation, with gradients, at every depth."""

    def concatenating(unit, h, skip):
        return unit(torch.cat([h, skip], dim=1))

    torch.manual_seed(0)
    x = torch.rand(6, 1, 12, 12, requires_grad=True)
    for depth in (1, 2):
        denoiser = Denoiser(1, width=4, depth=depth).eval()
        torch.nn.init.normal_(denoiser.out.weight, std=0.5)
        for bn in (m for m in denoiser.modules() if isinstance(m, torch.nn.BatchNorm2d)):
            bn.running_mean.uniform_(-0.2, 0.2)
            bn.running_var.uniform_(0.5, 2.0)

        ours = denoiser.noise(x)
        with monkeypatch.context() as plain:
            plain.setattr(denoiser_module, "_unit_on_concatenation", concatenating)
            expected = denoiser.noise(x)
        assert expected.abs().max() > 0.05 and torch.allclose(ours, expected, atol=1e-6)
        assert not torch.equal(ours, expected)  # two computations (else the patch did nothing)
        (g_ours,) = torch.autograd.grad(ours.square().sum(), x)
        (g_expected,) = torch.autograd.grad(expected.square().sum(), x)
        assert torch.allclose(g_ours, g_expected, atol=1e-5)


def test_hgd_trains_the_denoiser_only():
    reference = tiny_vgg().eval()
    model = extend_reference(reference, tiny_vgg(seed=9, denoiser={"width": 4, "depth": 1}), "test")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    split, val = data(48), data(16, seed=2)
    settings = TrainSettings.of(epochs=2, batch_size=16, optimizer={"name": "nadam", "lr": 0.01, "weight_decay": 0.01})
    history = train(
        model, build_method("hgd"), settings, split, val, torch.Generator().manual_seed(0), "hgd test", print
    )
    after = model.state_dict()
    target = [k for k in before if not k.startswith("denoiser.")]
    assert target and all(torch.equal(before[k], after[k]) for k in target)  # weights and BatchNorm statistics
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("denoiser."))
    assert len(history) == 3


def test_hgd_guides_by_the_last_convolutional_layer_and_needs_a_denoiser():
    model = extend_reference(tiny_vgg().eval(), tiny_vgg(seed=9, denoiser={"width": 4, "depth": 1}), "test")
    method = build_method("hgd", {"budgets": [0.1]})
    split = data()
    expanded = method.prepare_data(split, model)
    method.setup(model, expanded.x, expanded.y)
    assert method.layer == "conv13"
    model.train()
    loss, _ = method.loss(model, batch_of(expanded))
    with torch.no_grad():
        target = model.target().eval()
        expected = target.forward_to(split.x, "conv13") - target.forward_to(
            method.partners(batch_of(expanded)), "conv13"
        )
    assert loss.item() == pytest.approx(expected.abs().flatten(1).sum(1).mean().item(), rel=1e-5)  # D = 0 at start
    with pytest.raises(ValueError, match="needs a model with a denoiser"):
        build_method("hgd").setup(tiny_vgg(), split.x, split.y)


# --------------------------------------------------------------------------------------------- Figure 6


def test_latent_disparity_per_sample_on_convolutional_layers_from_a_source_model():
    model, source, split = tiny_vgg().eval(), tiny_vgg(seed=5).eval(), data()
    x_adv = split.x + 0.05
    per_sample = latent_disparity(model, split.x, x_adv, batch_size=7, average="sample", layers="conv")
    assert list(per_sample) == [f"conv{i}" for i in range(1, 14)]
    with torch.no_grad():
        _, clean = model.forward_with_activations(split.x)
        _, adv = model.forward_with_activations(x_adv)
    ratio = (clean["conv5"] - adv["conv5"]).abs().sum((1, 2, 3)) / clean["conv5"].abs().sum((1, 2, 3))
    assert per_sample["conv5"] == pytest.approx(ratio.mean().item(), rel=1e-5)
    pooled = latent_disparity(model, split.x, x_adv)
    assert "fc1" in pooled and pooled["conv5"] == pytest.approx(
        ((clean["conv5"] - adv["conv5"]).abs().sum() / clean["conv5"].abs().sum()).item(), rel=1e-5
    )
    settings = {"metrics": ["latent"], "latent": {"epsilon": 0.1, "average": "sample", "layers": "conv", "samples": 10}}
    rows = robustness_rows(model, split.x, split.y, settings, latent_source=source)
    assert [r["metric"] for r in rows].count("latent_disparity") == 13 and rows[0]["metric"] == "clean_accuracy"
    x = split.x[:10].clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(F.cross_entropy(source(x), split.y[:10], reduction="sum"), x)
    transferred = latent_disparity(
        model, split.x[:10], (split.x[:10] + 0.1 * grad.sign()).clamp(0, 1), average="sample", layers="conv"
    )
    assert {r["layer"]: r["value"] for r in rows if r["layer"]} == pytest.approx(transferred)
