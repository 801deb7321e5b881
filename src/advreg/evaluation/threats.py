"""Which attack runs form a threat model of the per-sample worst case (:mod:`advreg.evaluation.worstcase`).

Threat models are the norms ``linf`` and ``l2`` at every budget > 0 (``sigma``, Gaussian noise, is a corruption,
not a threat model, and stays a per-attack column); an attack that does not clip to the [0, 1] pixel box
(``clip: false``) leaves the threat model's input domain and does not enter it. Dependency-free, so the workflow's
plan can ask it (which experiments have a worst case to offer) without importing numpy or pandas.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

THREAT_NORMS = ("linf", "l2")


def threat_model(norm: str, epsilon: float, params: Mapping[str, Any] | None = None) -> tuple[str, float] | None:
    """The threat model (norm, budget) an attack run at ``epsilon`` belongs to, or None: a norm other than linf/l2,
    budget 0 (clean), or an attack whose ``params`` say ``clip: false`` (outside the pixel box)."""
    if norm not in THREAT_NORMS or not float(epsilon) > 0 or not (params or {}).get("clip", True):
        return None
    return norm, float(f"{float(epsilon):.10g}")  # one key for budgets written alike in two attacks


def has_threat_model(attacks: Iterable[tuple[str, Iterable[float], Mapping[str, Any]]]) -> bool:
    """Whether any of ``attacks`` ((norm, budgets, params) each) runs a threat model, i.e. whether an experiment's
    worstcase.csv holds rows."""
    return any(threat_model(norm, e, params) for norm, budgets, params in attacks for e in budgets)
