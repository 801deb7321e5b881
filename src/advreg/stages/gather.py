"""Stage that gathers per-attacker cross-evaluation CSVs into one tidy CSV per experiment (torch-free)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from advreg.atomic import atomic_write_text


def gather_csv(paths: Sequence[str | Path], out: str | Path) -> None:
    """Concatenate tidy CSVs in a stable order."""
    frame = pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)
    keys = [c for c in ("experiment", "fold", "attack", "attacker_method", "attacker_variant", "target_method",
                        "target_variant", "method", "variant", "epsilon") if c in frame]
    frame = frame.sort_values(keys, kind="mergesort").reset_index(drop=True)
    atomic_write_text(out, frame.to_csv(index=False, float_format="%.6g"))
