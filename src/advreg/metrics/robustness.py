"""White-box robustness metrics of one model as tidy rows (metric, layer, value).

- ``clean_accuracy``;
- DeepFool (DeepDefense sec. 4.1): ``rho_2`` (eq. 7, mean ||r||_2 / ||x||_2), ``rho_2_unnormalised``
  (supplementary eq. 1), ``deepfool_success_rate`` and ``deepfool_mean_iterations``, over every test image,
  each attacked away from the model's own prediction (as the authors' code; docs/fidelity.md);
- FGS (eq. 8-9, Table 1): ``rho_inf`` (per-sample smallest fooling epsilon by bisection),
  ``rho_inf_censored_fraction``, ``eps_ref`` (smallest epsilon misclassifying 50%), ``rho_inf_at_eps_ref``
  (eq. 8 read with one epsilon for all images: eps_ref * mean 1/||x||_inf) and ``acc_at_{0.2,0.5,1.0}_eps_ref``;
- ``latent_disparity`` per hidden layer under FGSM at ``latent.epsilon`` (HLDR Fig. 6, 8/255 by default).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from advreg.attacks.base import clip_box, input_gradient, per_sample_norm, predicted_labels
from advreg.attacks.deepfool import deepfool, rho_2
from advreg.metrics.catalog import RobustnessParams
from advreg.metrics.fgs_budget import fgs_accuracy, fgs_budgets
from advreg.metrics.latent import latent_disparity

FRACTIONS = (0.2, 0.5, 1.0)


def robustness_rows(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    settings: RobustnessParams | Mapping[str, Any] | None = None,
    batch_size: int = 1000,
) -> list[dict[str, Any]]:
    """The metrics of the module docstring as rows {metric, layer, value}."""
    settings = RobustnessParams.parse(settings, "robustness")
    model.eval()
    rows: list[dict[str, Any]] = []

    def add(metric: str, value: float, layer: str = "") -> None:
        rows.append({"metric": metric, "layer": layer, "value": float(value)})

    predicted = predicted_labels(model, x, batch_size)
    add("clean_accuracy", (predicted == y).float().mean().item())

    df = settings.deepfool
    result = deepfool(
        model,
        x,
        predicted,
        overshoot=df.overshoot,
        max_iter=df.max_iter,
        step_eps=df.step_eps,
        clip=df.clip,
        batch_size=batch_size,
    )
    normalised, unnormalised = rho_2(result.perturbation, x)
    add("rho_2", normalised)
    add("rho_2_unnormalised", unnormalised)
    add("deepfool_success_rate", result.fooled.float().mean().item())
    add("deepfool_mean_iterations", result.iterations.float().mean().item())

    fgs = settings.fgs
    budgets = fgs_budgets(model, x, y, eps_max=fgs.eps_max, steps=fgs.steps, clip=fgs.clip, batch_size=batch_size)
    add("rho_inf", budgets.rho_inf)
    add("rho_inf_censored_fraction", budgets.censored.float().mean().item())
    add("eps_ref", budgets.eps_ref)
    inv_inf = (1.0 / per_sample_norm(x, float("inf")).clamp_min(1e-12)).mean().item()
    add("rho_inf_at_eps_ref", budgets.eps_ref * inv_inf)
    for fraction in FRACTIONS:
        value = (
            math.nan
            if math.isnan(budgets.eps_ref)
            else fgs_accuracy(model, x, y, fraction * budgets.eps_ref, clip=fgs.clip, batch_size=batch_size)
        )
        add(f"acc_at_{fraction:g}_eps_ref", value)

    lat = settings.latent
    sign = torch.sign(input_gradient(model, x, y, batch_size))
    x_adv = clip_box(x + lat.epsilon * sign, lat.clip)
    for layer, value in latent_disparity(model, x, x_adv, batch_size).items():
        add("latent_disparity", value, layer)
    return rows
