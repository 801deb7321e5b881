"""Safe, deterministic storage of tensors and small metadata.

Every artifact the pipeline writes (datasets, models, adversarial sets) is a ``torch.save`` archive of a
dict holding tensors, numbers, strings, lists and dicts only, and is read back with
``torch.load(..., weights_only=True)``: nothing is ever unpickled blindly.

Writes are atomic (a temporary file in the same folder, then ``os.replace``) so a failing job leaves no
partial output behind, and bit-identical for identical content: the archive is serialised to memory first,
so its internal record name does not depend on the temporary file's name.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any

import torch

from advreg.atomic import atomic_write_bytes, atomic_write_text  # noqa: F401 (re-exported)


def save_artifact(path: str | os.PathLike, obj: dict[str, Any]) -> None:
    """Save a dict of tensors and plain values with ``torch.save``, atomically and reproducibly."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_artifact(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load an artifact written by :func:`save_artifact` without unpickling arbitrary objects."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"artifact {path} does not exist")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt or unsafe files
        raise ValueError(f"{path} is not a valid advreg artifact (safe load failed: {exc})") from exc


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """SHA256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()
