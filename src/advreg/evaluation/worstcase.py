"""Robust accuracy per threat model as RobustBench defines it (Croce et al. 2021, sec. 3; AutoAttack's evaluation,
Croce & Hein 2020): a test point counts as robust under a threat model (a norm and a budget) only if it is
classified correctly when clean and no attack of that threat model fools it, white-box or transferred from any
attacker. The per-attack accuracies of :mod:`advreg.evaluation.crosseval` are each one attack's count; their
minimum overstates robustness whenever different attacks fool different points.

Threat models are the norms ``linf`` and ``l2`` at every budget > 0 (``sigma``, Gaussian noise, is a corruption,
not a threat model, and stays a per-attack column); an attack that does not clip to the [0, 1] pixel box
(``clip: false``) leaves the threat model's input domain and does not enter it.

Per (fold, target, norm, epsilon) a row holds the number of points ``n``, the ``robust`` count and ``accuracy``,
the attack labels and attackers that entered (``;``-separated, sorted) and the per-point mask, ``np.packbits`` of
it in hex (1 = robust, test points in split order). An assessment part writes its attackers' rows
(:class:`WorstCase`); :func:`combine` ANDs the parts of a fold. Torch-free (numpy, pandas).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from advreg.atomic import atomic_write_text
from advreg.evaluation.points import decode_mask, encode_mask
from advreg.evaluation.threats import THREAT_NORMS, threat_model

__all__ = [
    "COLUMNS",
    "KEYS",
    "THREAT_NORMS",
    "WorstCase",
    "combine",
    "decode_mask",
    "encode_mask",
    "read",
    "threat_model",
    "write",
]

KEYS = ["experiment", "fold", "target", "norm", "epsilon"]
COLUMNS = [*KEYS, "n", "robust", "accuracy", "attacks", "attackers", "mask"]


class WorstCase:
    """The running per-point AND of one assessment part: start from each target's clean correctness, then
    :meth:`add` every (attack, attacker) evaluation of a threat model."""

    def __init__(self, clean_ok: Mapping[str, np.ndarray]) -> None:
        self.clean_ok = {name: np.asarray(ok, dtype=bool) for name, ok in clean_ok.items()}
        self.masks: dict[tuple[str, float], dict[str, np.ndarray]] = {}
        self.attacks: dict[tuple[str, float], set[str]] = {}
        self.attackers: dict[tuple[str, float], set[str]] = {}

    def add(self, key: tuple[str, float], attack: str, attacker: str, target: str, correct: np.ndarray) -> None:
        """AND ``correct`` ((N,) bool: the target's predictions on the set of ``attack`` by ``attacker``) into
        threat model ``key`` (:func:`threat_model`)."""
        masks = self.masks.setdefault(key, {})
        current = masks.get(target, self.clean_ok[target])
        correct = np.asarray(correct, dtype=bool)
        if correct.shape != current.shape:
            raise ValueError(f"worst case of {target}: {correct.shape[0]} predictions for {current.shape[0]} points")
        masks[target] = current & correct
        self.attacks.setdefault(key, set()).add(attack)
        self.attackers.setdefault(key, set()).add(attacker)

    def frame(self, experiment: str, fold: int) -> pd.DataFrame:
        rows = [
            mask_row(experiment, fold, target, key, mask, self.attacks[key], self.attackers[key])
            for key, masks in self.masks.items()
            for target, mask in masks.items()
        ]
        return sort(pd.DataFrame(rows, columns=COLUMNS))


def mask_row(
    experiment: str,
    fold: int,
    target: str,
    key: tuple[str, float],
    mask: np.ndarray,
    attacks: Iterable[str],
    attackers: Iterable[str],
) -> dict[str, Any]:
    n, robust = int(mask.size), int(mask.sum())
    return {
        "experiment": experiment,
        "fold": int(fold),
        "target": target,
        "norm": key[0],
        "epsilon": key[1],
        "n": n,
        "robust": robust,
        "accuracy": robust / n if n else float("nan"),
        "attacks": ";".join(sorted(set(attacks))),
        "attackers": ";".join(sorted(set(attackers))),
        "mask": encode_mask(mask),
    }


def _names(values: Iterable[Any]) -> set[str]:
    return {name for text in values if isinstance(text, str) for name in text.split(";") if name}


def combine(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """The parts' rows ANDed per (experiment, fold, target, norm, epsilon): a point is robust only if it is robust
    to every part's attackers; attacks and attackers are the union."""
    nonempty = [f for f in frames if not f.empty]
    if not nonempty:  # no part ran an attack of a threat model (e.g. LWA's unclipped L2 attacks only)
        return pd.DataFrame(columns=COLUMNS)
    frame = pd.concat(nonempty, ignore_index=True)
    rows = []
    for (experiment, fold, target, norm, epsilon), group in frame.groupby(KEYS, sort=False):
        sizes = set(group["n"].astype(int))
        if len(sizes) != 1:
            raise ValueError(
                f"worst case of {target} ({experiment} fold {fold}, {norm} {epsilon:g}): the parts hold "
                f"{sorted(sizes)} points"
            )
        n = sizes.pop()
        mask = np.logical_and.reduce([decode_mask(text, n) for text in group["mask"]])
        attacks, attackers = _names(group["attacks"]), _names(group["attackers"])
        rows.append(mask_row(experiment, fold, target, (norm, float(epsilon)), mask, attacks, attackers))
    return sort(pd.DataFrame(rows, columns=COLUMNS))


def sort(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(KEYS, kind="mergesort").reset_index(drop=True)


def read(path: str | Path) -> pd.DataFrame:
    """A worst-case CSV (masks as text, however short)."""
    return pd.read_csv(path, dtype={"mask": str, "attacks": str, "attackers": str, "target": str, "norm": str})


def write(path: str | Path, frame: pd.DataFrame) -> None:
    """Rows in a stable order, budgets and accuracies as ``%.6g`` (as crosseval.csv): byte-identical on rerun."""
    atomic_write_text(path, sort(frame[COLUMNS]).to_csv(index=False, float_format="%.6g"))
