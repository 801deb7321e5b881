"""Every attack's name, threat model and parameters (torch-free: the workflow's plan is built from this).

An attack's implementation lives in its own module (``spec.impl``) and is imported only when a job builds
it. Batch sizes are not parameters: they change memory use, never results, and come from the config's
``runtime`` section (:mod:`advreg.runtime`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from advreg.params import Params, Registry, Spec, param

NORMS = ("linf", "l2", "sigma")  # what epsilon measures: L-inf budget, L2 budget, Gaussian noise std


@dataclass(frozen=True)
class AttackSpec(Spec):
    """``norm``: what epsilon measures ("linf", "l2", or "sigma" for noise)."""

    norm: str = "linf"


def attack(name: str, params: type[Params], module: str, cls: str, norm: str, summary: str) -> AttackSpec:
    assert norm in NORMS, norm
    return AttackSpec("attack", name, params, f"advreg.attacks.{module}:{cls}", summary, norm=norm)


@dataclass(frozen=True)
class ClipParams(Params):
    clip: bool = param(True, "keep adversarial inputs in the [0, 1] pixel box")


@dataclass(frozen=True)
class NoClipParams(Params):
    clip: bool = param(False, "keep adversarial inputs in the [0, 1] pixel box (LWA does not clip)")


@dataclass(frozen=True)
class GradL2Params(Params):
    normalise: bool = param(
        True, "scale the gradient to L2 norm epsilon (false: DataGrad eq. 2.4 literally, x + epsilon * 2g)"
    )
    clip: bool = param(False, "keep adversarial inputs in the [0, 1] pixel box")


@dataclass(frozen=True)
class DeepFoolSettings(Params):
    """DeepFool's own settings (the attack's, and the robustness metric rho_2's)."""

    overshoot: float = param(0.02, "the running total is scaled by 1 + overshoot", ge=0)
    max_iter: int = param(50, "at most this many steps per sample (DeepDefense's training uses 5)", ge=1)
    step_eps: float = param(1e-4, "added to each step's distance so the iterate crosses the boundary", ge=0)
    clip: bool = param(False, "clamp iterates to [0, 1] (the reference code does not)")


@dataclass(frozen=True)
class DeepFoolParams(DeepFoolSettings):
    start: Literal["true", "predicted"] = param(
        "true",
        "label to move away from: 'true' (evaluation sets: a point already misclassified stays as it is) or the "
        "model's 'predicted' one (rho_2, as DeepDefense's code; it moves misclassified points, often onto the truth)",
    )


@dataclass(frozen=True)
class PGDParams(Params):
    steps: int = param(20, "gradient steps per restart", ge=1)
    step_ratio: float = param(2.5, "step size = step_ratio * epsilon / steps (Madry et al.: 2.5)", gt=0)
    random_start: bool = param(True, "start uniformly in the ball (Madry et al.)")
    restarts: int = param(1, "runs per budget; later ones only on samples not yet fooled", ge=1)
    clip: bool = param(True, "keep adversarial inputs in the [0, 1] pixel box")


@dataclass(frozen=True)
class APGDParams(Params):
    n_iter: int = param(100, "iterations N_iter of Algorithm 1 per run", ge=1)
    rho: float = param(0.75, "condition 1 threshold", gt=0, le=1)
    alpha: float = param(0.75, "momentum weight (1: no momentum)", gt=0, le=1)
    random_start: bool = param(True, "start uniformly in the ball (else at x)")
    restarts: int = param(1, "runs per budget (per target class for apgd_t)", ge=1)
    clip: bool = param(True, "keep adversarial inputs in the [0, 1] pixel box")


@dataclass(frozen=True)
class APGDTParams(APGDParams):
    n_target_classes: int = param(9, "target classes tried, highest clean logits first (at most K - 1 used)", ge=1)


@dataclass(frozen=True)
class SquareParams(Params):
    n_queries: int = param(
        5000, "queries (forward passes) per sample and budget, the init included (AutoAttack: 5000)", ge=1
    )
    p_init: float = param(
        0.8,
        "initial fraction of the pixels a square covers (AutoAttack: 0.8; the paper's L-inf ImageNet runs: 0.05)",
        gt=0,
        le=1,
    )
    draws: int = param(
        8, "proposals drawn per query; the first that changes the point is queried (1: Algorithm 2 as printed)", ge=1
    )
    clip: bool = param(True, "keep adversarial inputs in the [0, 1] pixel box")


ATTACKS: Registry[AttackSpec] = Registry(
    "attack",
    attack(
        "fgsm",
        ClipParams,
        "fgsm",
        "FGSM",
        "linf",
        "fast gradient sign (Goodfellow et al.; DataGrad R1; DeepDefense FGS; HLDR FGSM)",
    ),
    attack(
        "grad_l2",
        GradL2Params,
        "grad_l2",
        "GradL2",
        "l2",
        "loss gradient scaled to an L2 norm (LWA Adv_Loss; DataGrad R2)",
    ),
    attack(
        "sign_l2", NoClipParams, "sign_l2", "SignL2", "l2", "gradient sign scaled to an L2 norm (LWA Adv_Loss_Sign)"
    ),
    attack(
        "lwa_alpha", NoClipParams, "lwa_alpha", "LWAAlpha", "l2", "LWA Algorithm 1 on the softmax Jacobian (Adv_Alpha)"
    ),
    attack(
        "deepfool",
        DeepFoolParams,
        "deepfool",
        "DeepFool",
        "l2",
        "multi-class L2 DeepFool, projected onto the budget's ball",
    ),
    attack("agn", ClipParams, "agn", "AGN", "sigma", "additive Gaussian noise of standard deviation epsilon (HLDR)"),
    attack("pgd_linf", PGDParams, "pgd", "PGDLinf", "linf", "L-inf projected gradient descent (Madry et al. 2018)"),
    attack("pgd_l2", PGDParams, "pgd", "PGDL2", "l2", "L2 projected gradient descent"),
    attack("apgd_ce", APGDParams, "apgd", "APGDCE", "linf", "Auto-PGD on the cross-entropy (Croce & Hein 2020)"),
    attack("apgd_t", APGDTParams, "apgd", "APGDT", "linf", "targeted Auto-PGD on the DLR loss (Croce & Hein 2020)"),
    attack(
        "square",
        SquareParams,
        "square",
        "Square",
        "linf",
        "gradient-free L-inf random search on the margin loss (Square Attack, Andriushchenko et al. 2020)",
    ),
    attack(
        "autoattack",
        APGDTParams,
        "apgd",
        "AutoAttackStyle",
        "linf",
        "APGD-CE then APGD-T (AutoAttack without FAB-T and Square)",
    ),
)
