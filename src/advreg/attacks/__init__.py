"""Attacks by name. A new attack subclasses :class:`advreg.attacks.base.Attack` and is added to
``ATTACKS``; the attack rule, the cross-evaluation and the config validation pick it up from here."""

from __future__ import annotations

from advreg.attacks.agn import AGN
from advreg.attacks.apgd import APGDCE, APGDT, AutoAttackStyle
from advreg.attacks.base import Attack, input_gradient
from advreg.attacks.deepfool import DeepFool
from advreg.attacks.fgsm import FGSM
from advreg.attacks.grad_l2 import GradL2
from advreg.attacks.lwa_alpha import LWAAlpha
from advreg.attacks.pgd import PGDL2, PGDLinf
from advreg.attacks.sign_l2 import SignL2
from advreg.parameterised import build, registry

ATTACKS: dict[str, type[Attack]] = registry(
    FGSM, GradL2, SignL2, LWAAlpha, DeepFool, AGN, PGDLinf, PGDL2, APGDCE, APGDT, AutoAttackStyle
)


def build_attack(name: str, params: dict | None = None) -> Attack:
    return build(ATTACKS, "attack", name, params)


__all__ = ["Attack", "ATTACKS", "build_attack", "input_gradient"]
