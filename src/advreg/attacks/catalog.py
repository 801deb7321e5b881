"""Every attack's name, threat model and parameters (torch-free: the workflow's plan is built from this).

An attack's implementation lives in its own module (``spec.impl``) and is imported only when a job builds
it. Batch sizes are not parameters: they change memory use, never results, and come from the config's
``runtime`` section (:mod:`advreg.runtime`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from advreg.params import ConfigError, Params, Registry, Spec, param

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


@dataclass(frozen=True)
class FABParams(Params):
    n_iter: int = param(100, "iterations of FAB's Algorithm 1 per run (AutoAttack: 100)", ge=1)
    n_target_classes: int = param(9, "target classes tried, highest clean logits first (at most K - 1 used)", ge=1)
    restarts: int = param(
        1, "runs per target class: the first from x, later ones from a random point at L-inf distance eps / 2", ge=1
    )
    eta: float = param(1.05, "overshoot: the step goes eta times the distance to the linearised boundary", ge=1)
    beta: float = param(0.9, "backward step: after a success the iterate moves to x + beta (x_adv - x)", gt=0, lt=1)
    alpha_max: float = param(0.1, "largest weight of the step from the original point (the biased step)", ge=0, le=1)
    clip: bool = param(True, "keep adversarial inputs in the [0, 1] pixel box (FAB's projection includes the box)")


AUTOATTACK_COMPONENTS = ("apgd_ce", "apgd_t", "fab_t", "square")  # the standard version, in AutoAttack's order
# Croce & Hein (2020), AutoAttack version='standard' (L-inf): every count and setting each component runs with.
AUTOATTACK_STANDARD = {
    "n_iter": 100,
    "n_target_classes": 9,
    "restarts": 1,
    "rho": 0.75,
    "alpha": 0.75,
    "random_start": True,
    "eta": 1.05,
    "beta": 0.9,
    "alpha_max": 0.1,
    "n_queries": 5000,
    "p_init": 0.8,
    "clip": True,
}


@dataclass(frozen=True)
class AutoAttackParams(APGDTParams):
    """AutoAttack (Croce & Hein 2020, sec. 5). ``version: standard`` runs APGD-CE, APGD-T, FAB-T and Square with
    AutoAttack's settings (the counts here must then keep their standard values); ``custom`` runs ``components``
    with the counts given: ``n_iter``, ``n_target_classes`` and ``restarts`` apply to APGD and FAB-T alike."""

    version: Literal["standard", "custom"] = param(
        "custom", "standard: APGD-CE, APGD-T, FAB-T, Square at AutoAttack's settings; custom: the components below"
    )
    components: tuple[Literal["apgd_ce", "apgd_t", "fab_t", "square"], ...] = param(
        ("apgd_ce", "apgd_t"),
        "custom: the attacks run, in this order, each only on the points the earlier ones left robust",
        min_items=1,
    )
    eta: float = param(1.05, "FAB-T: overshoot past the linearised boundary", ge=1)
    beta: float = param(0.9, "FAB-T: backward step after a success", gt=0, lt=1)
    alpha_max: float = param(0.1, "FAB-T: largest weight of the biased step", ge=0, le=1)
    n_queries: int = param(5000, "Square: queries per sample and budget, the init included", ge=1)
    p_init: float = param(0.8, "Square: initial fraction of the pixels a square covers", gt=0, le=1)
    draws: int = param(8, "Square: proposals drawn per query (see the square attack)", ge=1)

    def check(self, where: str) -> None:
        if len(set(self.components)) != len(self.components):
            raise ConfigError(f"{where}.components: each attack at most once, got {list(self.components)}")
        if self.version != "standard":
            return
        if self.components not in (("apgd_ce", "apgd_t"), AUTOATTACK_COMPONENTS):
            raise ConfigError(
                f"{where}.components: version 'standard' runs {list(AUTOATTACK_COMPONENTS)}; got "
                f"{list(self.components)} (use version: custom to choose the components)"
            )
        for key, value in AUTOATTACK_STANDARD.items():
            if getattr(self, key) != value:
                raise ConfigError(
                    f"{where}.{key}: version 'standard' fixes {key} = {value!r}, got {getattr(self, key)!r} "
                    f"(use version: custom to change it)"
                )


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
        "fab_t",
        FABParams,
        "fab",
        "FABT",
        "linf",
        "targeted L-inf Fast Adaptive Boundary attack, FAB-T (Croce & Hein 2020, as AutoAttack runs it)",
    ),
    attack(
        "autoattack",
        AutoAttackParams,
        "autoattack",
        "AutoAttack",
        "linf",
        "AutoAttack (Croce & Hein 2020): standard = APGD-CE, APGD-T, FAB-T, Square; custom = the chosen components",
    ),
)
