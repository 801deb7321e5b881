"""The white-box robustness metrics' settings (torch-free: the workflow's plan is built from this)."""

from __future__ import annotations

from dataclasses import dataclass

from advreg.attacks.catalog import DeepFoolSettings
from advreg.params import Params, param


@dataclass(frozen=True)
class FGSBudgetParams(Params):
    """FGS budgets found by bisection: rho_inf (DeepDefense eq. 8) and epsilon_ref (Table 1)."""

    eps_max: float = param(0.5, "largest FGS epsilon searched; samples not fooled there are censored", gt=0)
    steps: int = param(20, "bisection halvings", ge=1)
    clip: bool = param(True, "keep FGS inputs in the [0, 1] pixel box")


@dataclass(frozen=True)
class LatentParams(Params):
    """Latent disparity per hidden layer under white-box FGSM (HLDR Fig. 6)."""

    epsilon: float = param(8 / 255, "FGSM budget of the adversarial inputs", ge=0)
    clip: bool = param(True, "keep FGSM inputs in the [0, 1] pixel box")


@dataclass(frozen=True)
class RobustnessParams(Params):
    """White-box robustness metrics of every model of an experiment (DeepFool rho_2, FGS rho_inf and eps_ref,
    latent disparity)."""

    enabled: bool = param(True, "compute the metrics (false: skip them for this experiment)")
    deepfool: DeepFoolSettings = param(DeepFoolSettings, "DeepFool for rho_2 and rho'_2 (DeepDefense eq. 7)")
    fgs: FGSBudgetParams = param(FGSBudgetParams, "FGS budgets for rho_inf and eps_ref (DeepDefense eq. 8-9)")
    latent: LatentParams = param(LatentParams, "latent disparity under FGSM (HLDR Fig. 6)")
