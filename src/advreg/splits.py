"""Turn a stored dataset into an experiment's train / validation / test tensors.

Images are stored as uint8 (N, H, W, C); models receive float32 (N, C, H, W) in [0, 1] (x / 255), so every
attack budget is in pixel units of the [0, 1] box. The split is a seeded random permutation of the
training set (validation first, then training), and a seeded random subset of the test set when
``test_size`` is smaller than it, so reduced presets use a fixed, representative subset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from advreg.data.prepare import load_dataset
from advreg.runtime import derive_seed
from advreg.settings import DataParams


@dataclass
class Split:
    x: torch.Tensor  # float32 (N, C, H, W) in [0, 1]
    y: torch.Tensor  # int64 (N,)
    index: torch.Tensor  # positions in the stored split they came from


def to_model_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, H, W, C) -> float32 (N, C, H, W) in [0, 1]."""
    if images.dtype != torch.uint8 or images.ndim != 4:
        raise ValueError(f"expected uint8 images of shape (N, H, W, C), got {images.dtype} {tuple(images.shape)}")
    return images.permute(0, 3, 1, 2).contiguous().to(torch.float32).div_(255.0)


def _take(images: torch.Tensor, labels: torch.Tensor, index: torch.Tensor) -> Split:
    return Split(to_model_input(images[index]), labels[index].clone(), index)


def _size(value: Any, available: int, key: str) -> int:
    if value is None:
        return available
    value = int(value)
    if value > available:
        raise ValueError(f"data.{key} = {value} but only {available} samples are available")
    return value


def make_splits(
    dataset: Mapping[str, Any], data: DataParams, seed: int, experiment: str, fold: int
) -> dict[str, Split]:
    """Train, validation and test splits for one experiment and fold (see module docstring)."""
    n_train_pool = dataset["train_labels"].shape[0]
    n_test_pool = dataset["test_labels"].shape[0]
    val_size = _size(data.val_size, n_train_pool, "val_size")
    train_size = _size(data.train_size, n_train_pool - val_size, "train_size")
    test_size = _size(data.test_size, n_test_pool, "test_size")

    gen = torch.Generator().manual_seed(derive_seed(seed, experiment, "split", fold))
    order = torch.randperm(n_train_pool, generator=gen)
    val_index = order[:val_size]
    train_index = order[val_size : val_size + train_size]
    if test_size < n_test_pool:
        test_index = torch.randperm(n_test_pool, generator=gen)[:test_size].sort().values
    else:
        test_index = torch.arange(n_test_pool)
    images, labels = dataset["train_images"], dataset["train_labels"]
    return {
        "train": _take(images, labels, train_index),
        "val": _take(images, labels, val_index),
        "test": _take(dataset["test_images"], dataset["test_labels"], test_index),
    }


def load_test_split(dataset_path: str | Path, data: DataParams, seed: int, experiment: str, fold: int) -> Split:
    """The experiment's test split, read from the stored dataset (what every assessment job uses)."""
    return make_splits(load_dataset(dataset_path), data, seed, experiment, fold)["test"]
