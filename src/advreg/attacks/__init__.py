"""Attacks by name. A new attack subclasses :class:`advreg.attacks.base.Attack` and is added to
``ATTACKS``; the attack rule, the cross-evaluation and the config validation pick it up from here."""

from __future__ import annotations

from advreg.attacks.base import Attack, input_gradient
from advreg.attacks.fgsm import FGSM

from advreg.parameterised import build, registry

ATTACKS: dict[str, type[Attack]] = registry(FGSM)


def build_attack(name: str, params: dict | None = None) -> Attack:
    return build(ATTACKS, "attack", name, params)


__all__ = ["Attack", "ATTACKS", "build_attack", "input_gradient"]
