"""Attacks by name (torch-free registry; implementations are imported when a job builds one).

A new attack: a module with a subclass of :class:`advreg.attacks.base.Attack` (``spec = ATTACKS["name"]``),
and one entry in :mod:`advreg.attacks.catalog` with its parameters. The assessment job, the cross-evaluation,
the config validation, the config schema and the README tables pick it up from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from advreg.attacks.catalog import ATTACKS, AttackSpec

if TYPE_CHECKING:
    from advreg.attacks.base import Attack


def build_attack(name: str, params: Mapping[str, Any] | None = None, where: str | None = None) -> Attack:
    """The attack ``name`` with ``params`` (validated; errors name ``where``, the config key, if given)."""
    spec = ATTACKS.get_spec(name)
    return spec.load()(spec.parse(params, where))


__all__ = ["ATTACKS", "AttackSpec", "build_attack"]
