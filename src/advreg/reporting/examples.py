"""A few adversarial images per (attacker, attack, budget), kept for figures (torch-free to read).

The assessment jobs store, for the first :data:`COUNT` test images, every adversarial image they evaluate,
as uint8 (k, H, W, C) (clamped to [0, 1] and rounded to 1/255) in an ``.npz`` whose keys are
``"{attacker}|{attack}|{epsilon!r}"`` (and ``"clean"``). Paper figures such as DataGrad's Figure 3 read them
without loading models or adversarial sets.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from advreg.atomic import atomic_write_bytes

COUNT = 4


def example_key(attacker: str, attack: str, epsilon: float) -> str:
    return f"{attacker}|{attack}|{float(epsilon)!r}"


def write_examples(path: str | Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Save uint8 image arrays by key, atomically and reproducibly (stored uncompressed, sorted keys)."""
    buffer = io.BytesIO()
    np.savez(buffer, **{key: np.ascontiguousarray(arrays[key], dtype=np.uint8) for key in sorted(arrays)})
    atomic_write_bytes(path, buffer.getvalue())


def read_examples(path: str | Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}
