"""Training methods by name (torch-free registry; implementations are imported when a job trains).

A new method: a module with a subclass of :class:`advreg.methods.base.Method` (``spec = METHODS["name"]``),
and one entry in :mod:`advreg.methods.catalog` with its parameters. The training rule, the config validation,
the config schema and the README tables pick it up from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from advreg.methods.catalog import METHODS, MethodSpec

if TYPE_CHECKING:
    from advreg.methods.base import Method


def build_method(name: str, params: Mapping[str, Any] | None = None, where: str | None = None) -> Method:
    """The method ``name`` with ``params`` (validated; errors name ``where``, the config key, if given)."""
    spec = METHODS.get_spec(name)
    return spec.load()(spec.parse(params, where))


__all__ = ["METHODS", "MethodSpec", "build_method"]
