"""Per-epoch measurements beyond loss and accuracy, for learning curves (LWA Fig. 2, DeepDefense Fig. 2).

After every epoch (and before the first) the loop asks :func:`monitor_row` for extra history columns measured on
the first ``samples`` validation images: accuracy under a white-box attack at one budget (``val_acc_<attack>``)
and DeepFool's rho_2 (``val_rho_2``, DeepDefense eq. 7, from the predicted label as its evaluation). Randomness
comes from a generator of its own, the model is left in the mode it was in, and no gradient is accumulated in
the parameters, so monitoring never changes what is trained.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from advreg.attacks import build_attack
from advreg.attacks.base import predicted_labels
from advreg.attacks.catalog import DeepFoolSettings
from advreg.attacks.deepfool import deepfool, rho_2
from advreg.models.preprocess import input_space
from advreg.splits import Split
from advreg.training.settings import MonitorParams


def monitor_row(model: nn.Module, val: Split, settings: MonitorParams, batch_size: int) -> dict[str, Any]:
    if not settings.attack and not settings.rho_2:
        return {}
    device = next(model.parameters()).device
    x, y = val.x[: settings.samples].to(device), val.y[: settings.samples].to(device)
    if x.shape[0] == 0:
        return {}
    was_training = model.training
    model.eval()
    row: dict[str, Any] = {}
    if settings.attack:
        attack = build_attack(settings.attack)
        artifact = attack.craft(model, x, y, [settings.epsilon], torch.Generator().manual_seed(0), batch_size)
        adversarial = attack.adversarial(artifact, x, settings.epsilon, 0)
        row[f"val_acc_{settings.attack}"] = (
            (predicted_labels(model, adversarial, batch_size) == y).float().mean().item()
        )
    if settings.rho_2:  # in the model's input space (DeepDefense's with preprocess: matconvnet), as the metric
        space = input_space(model)
        step_eps = DeepFoolSettings().step_eps / space.scale
        result = deepfool(model, x, predicted_labels(model, x, batch_size), step_eps=step_eps, batch_size=batch_size)
        row["val_rho_2"] = rho_2(space.perturbation(result.perturbation), space.inputs(x))[0]
    model.train(was_training)
    return row
