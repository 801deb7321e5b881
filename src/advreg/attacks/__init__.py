"""Attacks by name. A new attack subclasses :class:`advreg.attacks.base.Attack` and is added to
``ATTACKS``; the attack rule, the cross-evaluation and the config validation pick it up from here."""

from __future__ import annotations

from advreg.attacks.base import Attack, input_gradient
from advreg.attacks.fgsm import FGSM

ATTACKS: dict[str, type[Attack]] = {cls.name: cls for cls in (FGSM,)}


def build_attack(name: str, params: dict | None = None) -> Attack:
    if name not in ATTACKS:
        raise ValueError(f"unknown attack {name!r} (known: {', '.join(sorted(ATTACKS))})")
    return ATTACKS[name](params)


__all__ = ["Attack", "ATTACKS", "build_attack", "input_gradient"]
