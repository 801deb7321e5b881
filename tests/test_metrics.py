"""Robustness metrics against closed forms (affine and positively homogeneous models)."""

import math

import pytest
import torch
from torch import nn

from advreg.metrics.fgs_budget import fgs_accuracy, fgs_budgets, fifty_percent_epsilon
from advreg.metrics.latent import latent_disparity
from advreg.models.base import LayeredClassifier


def binary_affine(seed=0):
    torch.manual_seed(seed)
    linear = nn.Linear(6, 2).double()
    return LayeredClassifier([("flat", nn.Flatten()), ("out", linear)]).eval(), linear


def test_per_sample_fgs_budget_is_margin_over_l1_norm():
    model, linear = binary_affine()
    x = torch.rand(40, 1, 2, 3, dtype=torch.float64)
    with torch.no_grad():
        y = model(x).argmax(1)  # all correct, so every budget is positive
    budgets = fgs_budgets(model, x, y, eps_max=50.0, steps=40, clip=False)
    w = linear.weight.detach()
    logits = model(x).detach()
    margin = (logits[torch.arange(40), y] - logits[torch.arange(40), 1 - y]).abs()
    exact = margin / (w[1] - w[0]).abs().sum()
    assert torch.allclose(budgets.per_sample.double(), exact, atol=1e-6)
    assert not budgets.censored.any()
    # eps_50: the smallest budget that misclassifies half of them = the 20th smallest per-sample budget
    eps_50 = exact.sort().values[19].item()
    assert math.isclose(budgets.eps_50, eps_50, abs_tol=1e-6)
    assert fgs_accuracy(model, x, y, budgets.eps_50, clip=False) == pytest.approx(0.5)
    assert fifty_percent_epsilon(model, x, y, eps_max=50.0, steps=40, clip=False) == budgets.eps_50
    x_inf = x.flatten(1).abs().max(1).values
    assert budgets.rho_inf_per_sample == pytest.approx((exact / x_inf).mean().item(), abs=1e-5)
    # eq. 8 at the one epsilon misclassifying half the images (Table 1's reading): eps_50 * mean 1 / ||x||_inf
    assert budgets.rho_inf == pytest.approx(eps_50 * (1 / x_inf).mean().item(), abs=1e-5)
    assert budgets.rho_inf > budgets.eps_50  # ||x||_inf < 1 here; on MNIST (||x||_inf = 1) they coincide


def test_misclassified_samples_have_zero_budget_and_unfooled_are_censored():
    model, _ = binary_affine(1)
    x = torch.rand(10, 1, 2, 3, dtype=torch.float64)
    with torch.no_grad():
        pred = model(x).argmax(1)
    y = pred.clone()
    y[:3] = 1 - y[:3]
    budgets = fgs_budgets(model, x, y, eps_max=1e-9, steps=5, clip=False)
    assert (budgets.per_sample[:3] == 0).all() and not budgets.censored[:3].any()
    assert budgets.censored[3:].all() and (budgets.per_sample[3:] == 1e-9).all()
    assert math.isnan(budgets.eps_50) and math.isnan(budgets.rho_inf)


def test_latent_disparity_of_a_positively_homogeneous_layer():
    torch.manual_seed(0)
    model = LayeredClassifier(
        [
            ("fc1", nn.Sequential(nn.Flatten(), nn.Linear(6, 5, bias=False), nn.ReLU())),
            ("out", nn.Linear(5, 2)),
        ]
    ).eval()
    x = torch.rand(8, 1, 2, 3)
    assert latent_disparity(model, x, x) == {"fc1": 0.0}
    # relu(W (2x)) = 2 relu(W x): the disparity |s(2x) - s(x)| / |s(x)| is exactly 1
    assert latent_disparity(model, x, 2 * x, batch_size=3)["fc1"] == pytest.approx(1.0, rel=1e-6)


def test_robustness_rows_on_a_trained_model():
    from advreg.methods import build_method
    from advreg.metrics.robustness import robustness_rows
    from advreg.models import build_model
    from advreg.runtime import seed_everything
    from advreg.splits import Split
    from advreg.training.loop import train
    from advreg.training.settings import TrainSettings

    gen = seed_everything(0)
    n = 300
    y = torch.randint(0, 3, (n,), generator=gen)
    x = torch.rand(n, 1, 4, 4, generator=gen) * 0.4
    x[torch.arange(n), 0, 0, y] += 0.5  # class written in one of three pixels
    data = Split(x, y, torch.arange(n))
    model = build_model("mlp_lwa", (1, 4, 4), 3, hidden=(16,))
    train(
        model,
        build_method("plain"),
        TrainSettings.of(epochs=20, batch_size=30, optimizer={"name": "sgd", "lr": 0.5, "momentum": 0.9}),
        data,
        data,
        gen,
        "metrics job",
        log=lambda m: None,
    )
    rows = robustness_rows(model, x, y, {"fgs": {"steps": 25}})
    values = {(r["metric"], r["layer"]): r["value"] for r in rows}
    assert values[("clean_accuracy", "")] > 0.9
    assert values[("deepfool_success_rate", "")] == 1.0 and values[("rho_2", "")] > 0
    assert values[("rho_2_unnormalised", "")] > 0
    assert 0 < values[("eps_ref", "")] < 0.5 and 0 < values[("rho_inf_per_sample", "")]
    # no eps_ref model: each model's eps_ref is its own 50% epsilon, so its accuracy there is (about) 50%
    assert values[("eps_ref", "")] == values[("eps_50", "")]
    assert values[("acc_at_1_eps_ref", "")] <= 0.5 + 1e-9 < values[("acc_at_0.2_eps_ref", "")]
    inv_inf = (1 / x.flatten(1).abs().max(1).values).mean().item()
    assert values[("rho_inf", "")] == pytest.approx(values[("eps_50", "")] * inv_inf, rel=1e-6)
    assert values[("latent_disparity", "fc1")] > 0
    # every accuracy row carries its per-point correctness (DeepDefense's paired verdicts); other rows none
    from advreg.evaluation.points import decode_mask

    masks = {r["metric"]: r["mask"] for r in rows if r["mask"] is not None}
    assert set(masks) == {"clean_accuracy", "acc_at_0.2_eps_ref", "acc_at_0.5_eps_ref", "acc_at_1_eps_ref"}
    for metric, mask in masks.items():
        assert decode_mask(mask, n).mean() == pytest.approx(values[(metric, "")])
    assert (decode_mask(masks["clean_accuracy"], n) == (model(x).argmax(1) == y).numpy()).all()
    # rho_2, rho'_2, rho_inf and the per-sample rho_inf carry per-point values whose statistic is the value itself
    # (the paired bootstrap of the verdicts resamples them): rho_inf's median budget is eps_50 exactly
    from advreg.evaluation.points import decode_values
    from advreg.metrics.point_statistics import STATISTICS

    stored = {r["metric"]: decode_values(r["per_point"]) for r in rows if r["per_point"] is not None}
    assert set(stored) == set(STATISTICS)
    for metric, arrays in stored.items():
        assert all(a.shape == (n,) for a in arrays)
        assert float(STATISTICS[metric](*arrays)) == pytest.approx(values[(metric, "")], rel=1e-6)
    with pytest.raises(ValueError, match="deepfol"):
        robustness_rows(model, x, y, {"deepfol": {}})


def test_eps_ref_of_one_model_is_applied_to_every_model():
    """DeepDefense Table 1: every model's accuracy is reported at fractions of ONE model's 50% epsilon."""
    from advreg.metrics.catalog import RobustnessParams
    from advreg.metrics.robustness import reference_epsilon, robustness_rows

    model, _ = binary_affine(2)
    other, _ = binary_affine(3)
    x = torch.rand(40, 1, 2, 3, dtype=torch.float64)
    with torch.no_grad():
        y = model(x).argmax(1)
    settings = RobustnessParams.parse(
        {"metrics": ["fgs"], "fgs": {"eps_max": 50.0, "steps": 40, "clip": False, "eps_ref_model": "a/b"}}, "r"
    )
    eps_ref = reference_epsilon(other, x, y, settings)
    assert eps_ref == fifty_percent_epsilon(other, x, y, eps_max=50.0, steps=40, clip=False)
    values = {r["metric"]: r["value"] for r in robustness_rows(model, x, y, settings, eps_ref=eps_ref)}
    own = values["eps_50"]
    assert values["eps_ref"] == eps_ref and abs(own - eps_ref) > 1e-3
    for fraction in (0.2, 0.5, 1):
        assert values[f"acc_at_{fraction:g}_eps_ref"] == fgs_accuracy(model, x, y, fraction * eps_ref, clip=False)
    # at its own 50% epsilon the model would be at 50%; at the other model's it is above or below accordingly
    assert (values["acc_at_1_eps_ref"] > 0.5) == (eps_ref < own)
    with pytest.raises(ValueError, match="eps_ref_model"):
        RobustnessParams.parse({"fgs": {"eps_ref_model": "deepdefense"}}, "r")
