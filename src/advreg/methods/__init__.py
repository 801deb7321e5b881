"""Training methods by name. A new method subclasses :class:`advreg.methods.base.Method` and is added
to ``METHODS``; the fine-tune rule and the config validation pick it up from here."""

from __future__ import annotations

from advreg.methods.base import Batch, Method
from advreg.methods.plain import Plain

METHODS: dict[str, type[Method]] = {cls.name: cls for cls in (Plain,)}


def build_method(name: str, params: dict | None = None) -> Method:
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r} (known: {', '.join(sorted(METHODS))})")
    return METHODS[name](params)


__all__ = ["Batch", "Method", "METHODS", "build_method"]
