"""Safe, deterministic storage of tensors and small metadata.

Every artifact the pipeline writes (datasets, models, adversarial sets) is a ``torch.save`` archive of a
dict holding tensors, numbers, strings, lists and dicts only, and is read back with
``torch.load(..., weights_only=True)``: nothing is ever unpickled blindly.

Writes are atomic (a temporary file in the same folder, then ``os.replace``) so a failing job leaves no
partial output behind, and bit-identical for identical content: the archive is serialised to memory first,
so its internal record name does not depend on the temporary file's name.

Every artifact's SHA256 is recorded when it is written, in ``<file>.sha256`` beside it (``sha256  name``, the
format of ``sha256sum``); loading checks the file against it first and refuses, naming the file, one that was
changed, damaged or truncated after it was written, or one that advreg did not write. The run manifest
(:mod:`advreg.provenance`) lists all of them.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any

import torch

from advreg.atomic import atomic_write_bytes, atomic_write_text  # noqa: F401 (re-exported)


class ArtifactIntegrityError(ValueError):
    """An artifact differs from the digest recorded when it was written, or has none."""


def digest_path(path: str | os.PathLike) -> Path:
    """Where an artifact's SHA256 is recorded: ``<file>.sha256``."""
    return Path(f"{os.fspath(path)}.sha256")


def save_artifact(path: str | os.PathLike, obj: dict[str, Any], *, replacing: bool = False) -> None:
    """Save a dict of tensors and plain values with ``torch.save``, atomically and reproducibly, and record its
    SHA256 in ``<file>.sha256``.

    The file and its record are two renames, so a job killed between them would leave a file that its record does
    not match. ``replacing`` (a file rewritten in place while the job may be killed: training checkpoints) closes
    that gap: the record first lists the new SHA256 above the lines it holds (the present file matches one of
    them: no need to hash it again), then the file is replaced, then the record keeps the new one alone; at every
    moment the file on disk matches a line of its record."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    data = buffer.getvalue()
    line = f"{hashlib.sha256(data).hexdigest()}  {Path(path).name}\n"
    record = digest_path(path)
    if replacing and Path(path).is_file() and record.is_file():
        atomic_write_text(record, line + record.read_text())
    atomic_write_bytes(path, data)
    atomic_write_text(record, line)


def check_artifact(path: str | os.PathLike) -> None:
    """Raise :class:`ArtifactIntegrityError` naming ``path`` unless its bytes match the recorded SHA256."""
    path, record = Path(path), digest_path(path)
    if not record.is_file():
        raise ArtifactIntegrityError(
            f"{path}: no recorded SHA256 ({record.name} is missing): advreg did not write this file, or its record "
            "was removed; refusing to load it (rerun the rule that makes it)"
        )
    recorded = [line.split()[0] for line in record.read_text().splitlines() if line.split()]  # see save_artifact
    actual = sha256_file(path)
    if actual not in recorded:
        raise ArtifactIntegrityError(
            f"{path}: SHA256 {actual} differs from {' or '.join(recorded) or 'nothing'} recorded in {record.name} "
            "when it was written: the file was changed, damaged or truncated since; refusing to load it (rerun the "
            "rule that makes it)"
        )


def load_artifact(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load an artifact written by :func:`save_artifact`: its SHA256 checked against the record, then read with
    ``weights_only`` (tensors and plain values only: nothing is ever unpickled blindly)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"artifact {path} does not exist")
    check_artifact(path)
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
