"""The white-box robustness metrics' settings (torch-free: the workflow's plan is built from this)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from advreg.attacks.catalog import DeepFoolSettings
from advreg.params import ConfigError, Params, param

METRIC_GROUPS = ("deepfool", "fgs", "latent")  # DeepFool rho_2, FGS rho_inf / eps_ref, latent disparity


@dataclass(frozen=True)
class FGSBudgetParams(Params):
    """FGS budgets found by bisection: rho_inf (DeepDefense eq. 8-9, at the epsilon misclassifying 50%) and the
    accuracies at fractions of epsilon_ref (Table 1)."""

    eps_max: float = param(
        0.5, "largest FGS epsilon searched, in [0, 1] pixel units; samples not fooled there are censored", gt=0
    )
    steps: int = param(20, "bisection halvings", ge=1)
    clip: bool = param(False, "keep FGS inputs in the [0, 1] pixel box (DeepDefense eq. 9 does not)")
    eps_ref_model: str = param(
        "",
        "model id whose 50% FGS epsilon is every model's eps_ref (DeepDefense Table 1: the DeepDefense model of "
        "the network); '': each model its own",
    )

    def check(self, where: str) -> None:
        if self.eps_ref_model:
            from advreg.ids import ModelId

            ModelId.parse(self.eps_ref_model, f"{where}.eps_ref_model")


@dataclass(frozen=True)
class LatentParams(Params):
    """Latent disparity per hidden layer under FGSM (HLDR Fig. 6): white-box, or crafted on a source model."""

    epsilon: float = param(8 / 255, "FGSM budget of the adversarial inputs", ge=0)
    clip: bool = param(True, "keep FGSM inputs in the [0, 1] pixel box")
    source: str = param(
        "", "model id whose FGSM perturbs every model's inputs (HLDR's code: the undefended model); '': white-box"
    )
    average: Literal["set", "sample"] = param(
        "set", "ratio of the sums over the test set, or mean of the per-sample ratios (HLDR's code, Fig. 6)"
    )
    layers: Literal["all", "conv"] = param(
        "all", "every hidden layer, or the convolutional ones only (spatial outputs; HLDR Fig. 6)"
    )
    samples: int | None = param(None, "the first this many test samples (HLDR's code: 100); null: all", ge=1)


@dataclass(frozen=True)
class RobustnessParams(Params):
    """White-box robustness metrics of every model of an experiment (DeepFool rho_2, FGS rho_inf and eps_ref,
    latent disparity)."""

    enabled: bool = param(True, "compute the metrics (false: skip them for this experiment)")
    metrics: tuple[str, ...] = param(
        METRIC_GROUPS, f"the metric groups computed, of {', '.join(METRIC_GROUPS)} (clean accuracy always)"
    )
    deepfool: DeepFoolSettings = param(DeepFoolSettings, "DeepFool for rho_2 and rho'_2 (DeepDefense eq. 7)")
    fgs: FGSBudgetParams = param(FGSBudgetParams, "FGS budgets for rho_inf and eps_ref (DeepDefense eq. 8-9, Table 1)")
    latent: LatentParams = param(LatentParams, "latent disparity under FGSM (HLDR Fig. 6)")

    def check(self, where: str) -> None:
        unknown = sorted(set(self.metrics) - set(METRIC_GROUPS))
        if unknown:
            raise ConfigError(f"{where}.metrics: unknown metric groups {unknown} (known: {', '.join(METRIC_GROUPS)})")
