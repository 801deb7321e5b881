"""Training methods by name. A new method subclasses :class:`advreg.methods.base.Method` and is added
to ``METHODS``; the fine-tune rule and the config validation pick it up from here."""

from __future__ import annotations

from advreg.methods.base import Batch, Method
from advreg.methods.datagrad import DGL1, DGL2, DGL1Exact, DGL2Exact
from advreg.methods.multitask import MT, MTDGL1, MTDGL2
from advreg.methods.plain import Plain
from advreg.methods.weight_penalty import L1, L2, Rect

from advreg.parameterised import build, registry

METHODS: dict[str, type[Method]] = registry(
    Plain,
    # DataGrad (datagrad.md, sec. 3): baseline, classical penalties, DataGrad, multitask
    Rect, L1, L2, DGL1, DGL2, DGL1Exact, DGL2Exact, MT, MTDGL1, MTDGL2,
)


def build_method(name: str, params: dict | None = None) -> Method:
    return build(METHODS, "method", name, params)


__all__ = ["Batch", "Method", "METHODS", "build_method"]
