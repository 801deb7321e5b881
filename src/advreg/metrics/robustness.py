"""White-box robustness metrics of one model as tidy rows (metric, layer, value).

- ``clean_accuracy``, and with the DeepFool or FGS groups ``input_scale``: the factor from [0, 1] pixels to the
  space every norm below is taken in, the model's input space (:func:`advreg.models.preprocess.input_space`: 255
  with DeepDefense's ``preprocess: matconvnet``, 255 x minus the training mean image; 1 without);
- DeepFool (DeepDefense sec. 4.1): ``rho_2`` (eq. 7, mean ||r||_2 / ||x||_2), ``rho_2_unnormalised``
  (supplementary eq. 1, in the input space's units: 0-255 with matconvnet, as the paper's), ``deepfool_success_rate``
  and ``deepfool_mean_iterations``, over every test image, each attacked away from the model's own prediction (as
  the authors' code; docs/fidelity.md);
- FGS (eq. 8-9, Table 1; :mod:`advreg.metrics.fgs_budget`; unclipped by default, as eq. 9): ``eps_50`` (the
  model's smallest FGS epsilon misclassifying 50% of the test images, in [0, 1] pixel units: eps_50 * input_scale
  in the input space), ``rho_inf`` (eq. 8 at that one epsilon: eps_50 * mean ||sign g||_inf / ||x||_inf, both
  in the input space), ``rho_inf_per_sample`` (mean of each image's smallest fooling epsilon over
  ||x||_inf, by bisection) with ``rho_inf_censored_fraction``, ``eps_ref`` (the eps_50 of the model that
  ``fgs.eps_ref_model`` names, the same for every model of the experiment, as Table 1 uses the DeepDefense
  model's; the model's own eps_50 when it names none) and ``acc_at_{0.2,0.5,1}_eps_ref``, the model's accuracy
  under FGS at those fractions of eps_ref;
- ``latent_disparity`` per hidden layer under FGSM at ``latent.epsilon`` (HLDR Fig. 6, 8/255 by default),
  white-box or crafted on ``latent.source`` (HLDR's code: the undefended model).

``metrics`` selects the groups (``deepfool``, ``fgs``, ``latent``); ``clean_accuracy`` is always computed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from advreg.attacks.base import clip_box, input_gradient, predicted_labels
from advreg.attacks.deepfool import deepfool, rho_2_per_point
from advreg.evaluation.points import encode_mask, encode_values
from advreg.metrics.catalog import RobustnessParams
from advreg.metrics.fgs_budget import fgs_budgets, fgs_correct, fifty_percent_epsilon
from advreg.metrics.latent import latent_disparity
from advreg.models.preprocess import input_space

FRACTIONS = (0.2, 0.5, 1.0)


def robustness_rows(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    settings: RobustnessParams | Mapping[str, Any] | None = None,
    batch_size: int = 1000,
    latent_source: nn.Module | None = None,
    eps_ref: float | None = None,
) -> list[dict[str, Any]]:
    """The metrics of the module docstring as rows {metric, layer, value}, for the groups ``settings.metrics``
    names. ``latent_source``: the model whose FGSM perturbs the inputs of the latent disparity (the model
    ``settings.latent.source`` names; None: ``model`` itself, white-box). ``eps_ref``: the eps_50 of the model
    ``settings.fgs.eps_ref_model`` names (:func:`reference_epsilon`); None: the model's own."""
    settings = RobustnessParams.parse(settings, "robustness")
    model.eval()
    rows: list[dict[str, Any]] = []

    def add(
        metric: str,
        value: float,
        layer: str = "",
        correct: torch.Tensor | None = None,
        per_point: torch.Tensor | None = None,
    ) -> None:
        mask = encode_mask(correct.cpu().numpy()) if correct is not None else None
        values = encode_values(per_point.detach().cpu().numpy()) if per_point is not None else None
        rows.append({"metric": metric, "layer": layer, "value": float(value), "mask": mask, "per_point": values})

    predicted = predicted_labels(model, x, batch_size)
    add("clean_accuracy", (predicted == y).float().mean().item(), correct=predicted == y)
    if "deepfool" in settings.metrics or "fgs" in settings.metrics:
        add("input_scale", input_space(model).scale)
    if "deepfool" in settings.metrics:
        _deepfool_rows(model, x, predicted, settings, batch_size, add)
    if "fgs" in settings.metrics:
        _fgs_rows(model, x, y, settings, batch_size, add, eps_ref)
    if "latent" in settings.metrics:
        lat = settings.latent
        xs, ys = x[: lat.samples], y[: lat.samples]
        source = model if latent_source is None else latent_source.eval()
        sign = torch.sign(input_gradient(source, xs, ys, batch_size))
        x_adv = clip_box(xs + lat.epsilon * sign, lat.clip)
        disparity = latent_disparity(model, xs, x_adv, batch_size, average=lat.average, layers=lat.layers)
        for layer, value in disparity.items():
            add("latent_disparity", value, layer)
    return rows


def _deepfool_rows(
    model: nn.Module,
    x: torch.Tensor,
    predicted: torch.Tensor,
    settings: RobustnessParams,
    batch_size: int,
    add: Callable[..., None],
) -> None:
    df = settings.deepfool
    space = input_space(model)
    result = deepfool(
        model,
        x,
        predicted,
        overshoot=df.overshoot,
        max_iter=df.max_iter,
        step_eps=df.step_eps / space.scale,  # step_eps is in the input space's units
        clip=df.clip,
        batch_size=batch_size,
    )
    ratios, norms = rho_2_per_point(space.perturbation(result.perturbation), space.inputs(x))
    add("rho_2", float(ratios.mean()), per_point=ratios)
    add("rho_2_unnormalised", float(norms.mean()), per_point=norms)
    add("deepfool_success_rate", result.fooled.float().mean().item())
    add("deepfool_mean_iterations", result.iterations.float().mean().item())


def reference_epsilon(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, settings: RobustnessParams, batch_size: int = 1000
) -> float:
    """eps_ref for every model of an experiment: the eps_50 of ``model`` (the one ``fgs.eps_ref_model`` names)."""
    fgs = settings.fgs
    return fifty_percent_epsilon(
        model, x, y, eps_max=fgs.eps_max, steps=fgs.steps, clip=fgs.clip, batch_size=batch_size
    )


def _fgs_rows(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    settings: RobustnessParams,
    batch_size: int,
    add: Callable[..., None],
    eps_ref: float | None,
) -> None:
    fgs = settings.fgs
    budgets = fgs_budgets(
        model, x, y, eps_max=fgs.eps_max, steps=fgs.steps, clip=fgs.clip, batch_size=batch_size,
        space=input_space(model),
    )  # fmt: skip
    add("eps_50", budgets.eps_50)
    # per point: each image's smallest fooling epsilon (+inf where censored: beyond the search) and its term of
    # eq. 8's mean, the statistic :func:`advreg.metrics.point_statistics.rho_inf` recomputes on resampled points
    budget = torch.where(budgets.censored, torch.full_like(budgets.per_sample, math.inf), budgets.per_sample)
    add("rho_inf", budgets.rho_inf, per_point=torch.stack([budget, budgets.inf_factor]))
    add("rho_inf_per_sample", budgets.rho_inf_per_sample, per_point=budgets.per_sample_terms)
    add("rho_inf_censored_fraction", budgets.censored.float().mean().item())
    reference = budgets.eps_50 if eps_ref is None else float(eps_ref)
    add("eps_ref", reference)
    for fraction in FRACTIONS:
        if math.isnan(reference):
            add(f"acc_at_{fraction:g}_eps_ref", math.nan)
            continue
        correct = fgs_correct(model, x, y, fraction * reference, clip=fgs.clip, batch_size=batch_size)
        add(f"acc_at_{fraction:g}_eps_ref", correct.float().mean().item(), correct=correct)
