"""Training methods by name. A new method subclasses :class:`advreg.methods.base.Method` and is added
to ``METHODS``; the fine-tune rule and the config validation pick it up from here."""

from __future__ import annotations

from advreg.methods.base import Batch, Method
from advreg.methods.plain import Plain

from advreg.parameterised import build, registry

METHODS: dict[str, type[Method]] = registry(Plain)


def build_method(name: str, params: dict | None = None) -> Method:
    return build(METHODS, "method", name, params)


__all__ = ["Batch", "Method", "METHODS", "build_method"]
