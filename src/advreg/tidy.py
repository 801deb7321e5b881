"""The pipeline's tidy tables (crosseval.csv, robustness.csv, histories.csv), written in one stable layout.

Torch-free, so the jobs that only gather tables (``summarise_experiment``) need not import torch (2.3 s and
650 MB a process).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from advreg.atomic import atomic_write_text

__all__ = ["CROSSEVAL_KEYS", "ROBUSTNESS_KEYS", "write_tidy"]

CROSSEVAL_KEYS = ["experiment", "fold", "attack", "attacker", "target", "epsilon"]
ROBUSTNESS_KEYS = ["experiment", "fold", "model"]


def write_tidy(path: str | Path, frames: list[pd.DataFrame], keys: list[str]) -> None:
    """Concatenate tidy frames, identifying columns first, rows in a stable order (empty: header only)."""
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=keys)
    first = [c for c in keys if c in frame]
    frame = frame[first + [c for c in frame.columns if c not in first]]
    sort = [c for c in CROSSEVAL_KEYS + ROBUSTNESS_KEYS if c in frame]
    frame = frame.sort_values(list(dict.fromkeys(sort)), kind="mergesort").reset_index(drop=True)
    atomic_write_text(path, frame.to_csv(index=False, float_format="%.6g"))
