"""Per-point correctness of a model on a test set, stored compactly beside the counts (torch-free: numpy, pandas).

Every cross-evaluation row (:mod:`advreg.evaluation.crosseval`) and every per-sample worst-case row
(:mod:`advreg.evaluation.worstcase`) carries a ``mask``: the (N,) bool of correct (robust) predictions, test
points in split order, as hex of ``np.packbits`` (first point in the high bit of the first byte). Two models
evaluated on the same points can then be compared point by point, the paired design of
:func:`advreg.reporting.verdicts.paired_accuracy_difference`, instead of by their counts alone.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd


def encode_mask(mask: np.ndarray) -> str:
    """A (N,) bool mask as hex of ``np.packbits`` (first point in the high bit of the first byte)."""
    return np.packbits(np.asarray(mask, dtype=bool)).tobytes().hex()


def decode_mask(text: str, n: int) -> np.ndarray:
    """The (n,) bool mask :func:`encode_mask` wrote."""
    data = np.frombuffer(bytes.fromhex(str(text)), dtype=np.uint8)
    if data.size != (n + 7) // 8:
        raise ValueError(f"per-point mask of {data.size} bytes does not hold {n} points")
    return np.unpackbits(data, count=n).astype(bool)


def mean_correct(masks: Iterable[object], n: int) -> np.ndarray | None:
    """Per point, the fraction of ``masks`` (hex, :func:`encode_mask`; several evaluations of the same ``n`` points,
    e.g. one model under several budgets) that are correct: (n,) float. None if there is none, or any is missing
    (results written before masks were stored)."""
    texts = list(masks)
    if not texts or n <= 0 or any(not isinstance(t, str) or not t for t in texts):
        return None
    return np.mean([decode_mask(t, n) for t in texts], axis=0)


def fold_masks(rows: pd.DataFrame, folds: Iterable[object] | None = None) -> dict[str, list[np.ndarray | None]]:
    """Per target of ``rows`` (columns target, fold, n, mask), per fold of ``folds`` in order (default: the rows'
    own, sorted): the decoded mask of its first row, as a float array (:func:`mean_correct`); None where the target
    has no row in that fold or the row no mask. Empty without a mask or fold column."""
    if "mask" not in rows or "fold" not in rows:
        return {}
    order = sorted(rows["fold"].unique()) if folds is None else list(folds)
    out: dict[str, list[np.ndarray | None]] = {}
    for target, part in rows.groupby("target", sort=True):
        first = part.groupby("fold").first()
        out[str(target)] = [
            mean_correct([first.loc[f, "mask"]], int(first.loc[f, "n"])) if f in first.index else None for f in order
        ]
    return out
