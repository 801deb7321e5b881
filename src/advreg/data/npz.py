"""Datasets kept as one ``.npz`` file (a user's own data or a subset of a standard set; torch-free).

The file holds four arrays: ``train_images`` and ``test_images`` (uint8, (N, H, W, C) or (N, H, W) for one
channel) and ``train_labels`` and ``test_labels`` (integers, one per image). It is read without pickle.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from advreg.data.registry import ARRAY_ROLES


class NpzFormatError(ValueError):
    """The file is not a dataset in the format of this module's docstring; the message says why."""


def load_npz_dataset(path: str | Path) -> dict[str, np.ndarray]:
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError) as exc:
        raise NpzFormatError(f"{path}: not a readable .npz file without pickled objects ({exc})") from exc
    missing = [role for role in ARRAY_ROLES if role not in arrays]
    if missing:
        raise NpzFormatError(f"{path}: missing array(s) {missing} (it holds {sorted(arrays)})")
    out = {}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.dtype != np.uint8 or images.ndim not in (3, 4):
            raise NpzFormatError(
                f"{path}: {split}_images must be uint8 (N, H, W[, C]), got {images.dtype} {images.shape}"
            )
        if images.ndim == 3:
            images = images[..., None]
        if labels.ndim != 1 or labels.shape[0] != images.shape[0] or not np.issubdtype(labels.dtype, np.integer):
            raise NpzFormatError(
                f"{path}: {split}_labels must be integers, one per image ({images.shape[0]}), "
                f"got {labels.dtype} {labels.shape}"
            )
        out[f"{split}_images"] = np.ascontiguousarray(images)
        out[f"{split}_labels"] = labels.astype(np.int64)
    if out["train_images"].shape[1:] != out["test_images"].shape[1:]:
        raise NpzFormatError(
            f"{path}: train and test images differ in shape ({out['train_images'].shape[1:]} vs "
            f"{out['test_images'].shape[1:]})"
        )
    return out
