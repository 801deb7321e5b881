"""What an attack of an experiment ran, in words, from its configured parameters (torch-free).

Reports label every column by what ran (issue 24, "honest labels"): an iterative attack states its steps and
restarts, and an attack with a published standard configuration (AutoAttack, Auto-PGD, FAB-T: Croce & Hein 2020, ICML,
sec. 5 and their ``version='standard'``; Square: Andriushchenko et al. 2020, as AutoAttack runs it; DeepFool:
Moosavi-Dezfooli et al. 2016, 50 iterations) says ``custom`` and how it differs whenever it is not that
configuration. One function, :func:`describe`, builds the text; the arena's leaderboard columns and captions use
it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from advreg.attacks.catalog import ATTACKS, AUTOATTACK_COMPONENTS, AUTOATTACK_STANDARD

# Croce & Hein (2020), AutoAttack version 'standard' (L-inf): APGD-CE (100 iterations, 1 restart), APGD-T
# (9 target classes, 100 iterations, 1 restart), FAB-T (9 target classes), Square (5000 queries); the full list of
# settings is AUTOATTACK_STANDARD (version 'standard' refuses any other value; custom with all four components
# at those settings is labelled standard too).
COMPONENT_NAMES = {"apgd_ce": "APGD-CE", "apgd_t": "APGD-T", "fab_t": "FAB-T", "square": "Square"}
APGD_STANDARD = {"n_iter": 100, "restarts": 1}
DEEPFOOL_STANDARD = {"max_iter": 50}
SQUARE_STANDARD = {"n_queries": 5000, "p_init": 0.8}  # AutoAttack's Square (Andriushchenko et al. 2020)
NOT_LABELLED = ("clip",)  # stated per attack in the arena's protocol table, not in every column name
COUNTS = ("steps", "n_iter", "max_iter", "iterations", "n_queries", "queries", "n_target_classes", "restarts")


def _plural(n: Any, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _custom(params: Mapping[str, Any], standard: Mapping[str, Any]) -> bool:
    return any(params.get(key) != value for key, value in standard.items())


def _autoattack(p: Mapping[str, Any]) -> tuple[str, set[str]]:
    """'standard', or 'custom: ' + the components run (targets, queries), the iterations and restarts of the
    APGD / FAB stages, and '; no X' for each standard component left out."""
    used = {"n_iter", "n_target_classes", "restarts", "version", "components", "n_queries"}
    same = all(p.get(key) == value for key, value in AUTOATTACK_STANDARD.items())
    if p.get("version") == "standard" or (tuple(p["components"]) == AUTOATTACK_COMPONENTS and same):
        return "standard", used
    components = list(p["components"])
    runs = []
    for name in components:
        text = COMPONENT_NAMES[name]
        if name in ("apgd_t", "fab_t"):
            text += f" {_plural(p['n_target_classes'], 'target')}"
        if name == "square":
            text += " " + _plural(p["n_queries"], "query").replace("querys", "queries")
        runs.append(text)
    if {"apgd_ce", "apgd_t", "fab_t"} & set(components):
        runs.append(_plural(p["n_iter"], "iteration"))
        if p.get("restarts", 1) != 1:
            runs.append(_plural(p["restarts"], "restart"))
    missing = ", ".join(f"no {COMPONENT_NAMES[name]}" for name in AUTOATTACK_COMPONENTS if name not in components)
    return f"custom: {', '.join(runs)}" + (f"; {missing}" if missing else ""), used


def _apgd(p: Mapping[str, Any], targeted: bool) -> tuple[str, set[str]]:
    standard = {**APGD_STANDARD, **({"n_target_classes": 9} if targeted else {})}
    parts = [_plural(p["n_target_classes"], "target")] if targeted else []
    parts += [_plural(p["n_iter"], "iteration"), _plural(p["restarts"], "restart")]
    text = ", ".join(parts)
    return (f"custom: {text}" if _custom(p, standard) else text), set(standard)


def _pgd(p: Mapping[str, Any]) -> tuple[str, set[str]]:
    text = f"{_plural(p['steps'], 'step')}, {_plural(p['restarts'], 'restart')}"
    if not p.get("random_start", True):
        text += ", no random start"
    return text, {"steps", "restarts", "random_start"}


def _square(p: Mapping[str, Any]) -> tuple[str, set[str]]:
    text = _plural(p["n_queries"], "query").replace("querys", "queries")
    if p["p_init"] != SQUARE_STANDARD["p_init"]:
        text += f", p_init {p['p_init']}"
    return (f"custom: {text}" if _custom(p, SQUARE_STANDARD) else text), set(SQUARE_STANDARD)


def _deepfool(p: Mapping[str, Any]) -> tuple[str, set[str]]:
    if _custom(p, DEEPFOOL_STANDARD):
        return f"custom: {_plural(p['max_iter'], 'iteration')}", {"max_iter"}
    return "", {"max_iter"}


def _generic(p: Mapping[str, Any]) -> tuple[str, set[str]]:
    """An attack without its own wording: its counts (steps, iterations, queries, restarts), if any."""
    used = {key for key in COUNTS if key in p}
    return ", ".join(f"{key.replace('_', ' ')} {p[key]}" for key in COUNTS if key in p), used


def _defaults(attack: str) -> dict[str, Any]:
    spec = ATTACKS.get(attack)
    return spec.parse({}).to_dict() if spec is not None else {}


def describe(attack: str, params: Mapping[str, Any] | None) -> str:
    """What the registered ``attack`` run with ``params`` (the experiment's, defaults filled in) does, for a
    column name: '' for a one-step attack at its defaults (FGSM, grad_l2, sign_l2, LWA alpha, AGN); the steps and
    restarts of PGD; 'standard' for AutoAttack's standard version; 'custom: ...' for AutoAttack, Auto-PGD, FAB-T
    or DeepFool away from their published standard configuration; then any other parameter set away from its
    default (``clip`` excepted: the protocol table states it), e.g. ``"5 steps, 1 restart"``, ``"standard"`` or
    ``"custom: APGD-CE, APGD-T 2 targets, 5 iterations; no FAB-T, no Square"``."""
    p = {**_defaults(attack), **dict(params or {})}
    if attack == "autoattack":
        text, used = _autoattack(p)
    elif attack in ("apgd_ce", "apgd_t", "fab_t"):
        text, used = _apgd(p, attack != "apgd_ce")
    elif attack in ("pgd_linf", "pgd_l2"):
        text, used = _pgd(p)
    elif attack == "deepfool":
        text, used = _deepfool(p)
    elif attack == "square":
        text, used = _square(p)
    else:
        text, used = _generic(p)
    defaults = _defaults(attack)
    others = [
        f"{key.replace('_', ' ')} {value}"
        for key, value in p.items()
        if key not in used and key not in NOT_LABELLED and key in defaults and value != defaults[key]
    ]
    return "; ".join(t for t in [text, ", ".join(others)] if t)
