"""Per-point correctness of a model on a test set, stored compactly beside the counts (torch-free: numpy, pandas).

Every cross-evaluation row (:mod:`advreg.evaluation.crosseval`) and every per-sample worst-case row
(:mod:`advreg.evaluation.worstcase`) carries a ``mask``: the (N,) bool of correct (robust) predictions, test
points in split order, as hex of ``np.packbits`` (first point in the high bit of the first byte). Two models
evaluated on the same points can then be compared point by point, the paired design of
:func:`advreg.reporting.verdicts.paired_accuracy_difference`, instead of by their counts alone.

A robustness value that is a statistic of per-point values (rho_2 a mean of ||r|| / ||x||, rho_inf an FGS budget's
median times a mean; :mod:`advreg.metrics.robustness`) carries its per-point values the same way (``per_point``:
:func:`encode_values`), so two models' values get a paired bootstrap interval over the test points
(:func:`advreg.reporting.verdicts.paired_bootstrap`).
"""

from __future__ import annotations

import base64
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


def encode_values(rows: np.ndarray) -> str:
    """Per-point values, (N,) or (k, N) (k arrays over the same N points, e.g. a budget and a scale factor), as
    ``"k:"`` followed by base64 of their float32 bytes in C order (float32: the values feed intervals, not
    estimates; +inf survives, e.g. a budget censored at the search's end)."""
    data = np.atleast_2d(np.asarray(rows, dtype=np.float32))
    if data.ndim != 2 or not data.shape[1]:
        raise ValueError(f"per-point values must be (N,) or (k, N) with N > 0, got shape {np.shape(rows)}")
    return f"{data.shape[0]}:" + base64.b64encode(np.ascontiguousarray(data).tobytes()).decode("ascii")


def decode_values(text: object) -> tuple[np.ndarray, ...] | None:
    """The k arrays of N float64 values :func:`encode_values` wrote; None for a missing entry (results written
    before per-point values were stored, or a metric without them)."""
    if not isinstance(text, str) or ":" not in text:
        return None
    head, body = text.split(":", 1)
    data = np.frombuffer(base64.b64decode(body), dtype=np.float32).astype(np.float64)
    k = int(head)
    if k <= 0 or data.size % k:
        raise ValueError(f"per-point values: {data.size} numbers do not form {k} rows")
    return tuple(data.reshape(k, -1))


def per_point_values(frame: pd.DataFrame) -> dict[tuple[str, str], list[tuple[np.ndarray, ...] | None]]:
    """Per (model, metric) of the robustness rows that store per-point values (``per_point``: rho_2, rho'_2,
    rho_inf; :mod:`advreg.metrics.robustness`), per fold in fold order: the decoded arrays; None where a fold's row
    has none (results written before they were stored). Empty without the column.
    ``frame``: robustness.csv rows (columns model, metric, fold, layer, per_point); folds are the frame's own, so
    pass one model's rows to get only the folds it has."""
    if "per_point" not in frame:
        return {}
    frame = frame.assign(fold=frame["fold"].fillna(0) if "fold" in frame else 0)  # as robustness_tables counts them
    folds = sorted(frame["fold"].unique())
    layer = frame["layer"].fillna("") if "layer" in frame else pd.Series("", index=frame.index)
    rows = frame[(layer == "") & frame["per_point"].notna()]
    out: dict[tuple[str, str], list[tuple[np.ndarray, ...] | None]] = {}
    for (model, metric), part in rows.groupby(["model", "metric"], sort=True):
        first = part.groupby("fold").first()
        out[(str(model), str(metric))] = [
            decode_values(first.loc[f, "per_point"]) if f in first.index else None for f in folds
        ]
    return out
