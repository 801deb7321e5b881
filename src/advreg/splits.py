"""Turn a stored dataset into an experiment's train / validation / test tensors.

Images are stored as uint8 (N, H, W, C); models receive float32 (N, C, H, W) in [0, 1] (x / 255), so every
attack budget is in pixel units of the [0, 1] box. The split is a seeded random permutation of the
training set (validation first, then training), and a seeded random subset of the test set when
``test_size`` is smaller than it, so reduced presets use a fixed, representative subset.

``data.scheme: cv`` (HLDR sec. IV, :func:`cv_partition`): a seeded permutation of the training split gives the
reference's validation and pretraining samples (:func:`reference_splits`; set aside for the rest of the
experiment); the remaining training samples and the whole test split form the pool (optionally a random
``pool_size`` subset of it), dealt into ``folds`` stratified, disjoint subsets. Fold k's test split is subset
k; its fine-tuning and validation samples are drawn from the other subsets. The partition does not depend on
the fold, so every fold sees the same subsets. In this scheme a split's ``index`` numbers the pool: training
samples by their position in the training split, test samples after them (``n_train + j``).
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
    if data.scheme == "cv":
        return cv_splits(dataset, data, seed, experiment, fold)
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


def reference_splits(dataset: Mapping[str, Any], data: DataParams, seed: int, experiment: str) -> dict[str, Split]:
    """Train and validation splits the experiment's reference is pretrained on: fold 0's (holdout), or the
    pretraining samples set aside before the cross-validation (cv)."""
    if data.scheme != "cv":
        splits = make_splits(dataset, data, seed, experiment, 0)
        return {"train": splits["train"], "val": splits["val"]}
    part = cv_partition(dataset, data, seed, experiment)
    return {"train": _take_pool(dataset, part.reference_train), "val": _take_pool(dataset, part.reference_val)}


@dataclass
class CVPartition:
    """HLDR's cross-validation (sec. IV): indices into the pool numbering (training split first, then test)."""

    reference_train: torch.Tensor  # the reference's pretraining samples (training split)
    reference_val: torch.Tensor  # the reference's validation samples (training split)
    pool: torch.Tensor  # every sample left for the cross-validation, sorted
    fold_of: torch.Tensor  # (len(pool),) the subset each pool sample belongs to

    def subset(self, fold: int) -> torch.Tensor:
        return self.pool[self.fold_of == fold]


def stratified_folds(labels: torch.Tensor, folds: int, generator: torch.Generator) -> torch.Tensor:
    """Subset (0 .. folds - 1) of every sample: each class's samples, in a seeded random order, are dealt to the
    subsets in turn, classes one after the other, so every class's count and every subset's size differ by at most
    one between subsets (the scheme of scikit-learn's StratifiedKFold)."""
    n = labels.shape[0]
    order = torch.randperm(n, generator=generator)
    by_class = order[torch.sort(labels[order], stable=True).indices]
    fold_of = torch.empty(n, dtype=torch.int64)
    fold_of[by_class] = torch.arange(n, dtype=torch.int64) % folds
    return fold_of


def cv_partition(dataset: Mapping[str, Any], data: DataParams, seed: int, experiment: str) -> CVPartition:
    """The reference's samples and the pool's stratified subsets (independent of the fold; module docstring)."""
    if data.folds is None:
        raise ValueError("data.folds: scheme 'cv' needs the number of folds")
    n_train = dataset["train_labels"].shape[0]
    n_test = dataset["test_labels"].shape[0]
    val_size = _size(data.val_size, n_train, "val_size")
    train_size = _size(data.train_size, n_train - val_size, "train_size")
    gen = torch.Generator().manual_seed(derive_seed(seed, experiment, "cv"))
    order = torch.randperm(n_train, generator=gen)
    reference_val = order[:val_size]
    reference_train = order[val_size : val_size + train_size]
    pool = torch.cat([order[val_size + train_size :].sort().values, n_train + torch.arange(n_test)])
    pool_size = _size(data.pool_size, pool.shape[0], "pool_size")
    if pool_size < pool.shape[0]:
        pool = pool[torch.randperm(pool.shape[0], generator=gen)[:pool_size]].sort().values
    if pool.shape[0] < data.folds:
        raise ValueError(f"data: a pool of {pool.shape[0]} samples cannot be split into {data.folds} folds")
    labels = torch.cat([dataset["train_labels"], dataset["test_labels"]])[pool]
    return CVPartition(reference_train, reference_val, pool, stratified_folds(labels, data.folds, gen))


def cv_splits(dataset: Mapping[str, Any], data: DataParams, seed: int, experiment: str, fold: int) -> dict[str, Split]:
    """Fold ``fold`` of the cross-validation: test = subset ``fold``; fine-tuning (``train``) and validation samples
    drawn at random from the other subsets."""
    part = cv_partition(dataset, data, seed, experiment)
    if not 0 <= fold < int(data.folds or 0):
        raise ValueError(f"fold {fold} does not exist: data.folds = {data.folds}")
    rest = part.pool[part.fold_of != fold]
    val_size = _size(data.finetune_val_size, rest.shape[0], "finetune_val_size")
    train_size = _size(data.finetune_size, rest.shape[0] - val_size, "finetune_size")
    gen = torch.Generator().manual_seed(derive_seed(seed, experiment, "cv", "finetune", fold))
    rest = rest[torch.randperm(rest.shape[0], generator=gen)]
    return {
        "train": _take_pool(dataset, rest[val_size : val_size + train_size]),
        "val": _take_pool(dataset, rest[:val_size]),
        "test": _take_pool(dataset, part.subset(fold)),
    }


def _take_pool(dataset: Mapping[str, Any], index: torch.Tensor) -> Split:
    """Samples by pool number (training split first, then the test split), in the order given."""
    n_train = dataset["train_labels"].shape[0]
    from_train = index < n_train
    images = dataset["train_images"]
    picked = torch.empty((index.shape[0], *images.shape[1:]), dtype=images.dtype)
    labels = torch.empty(index.shape[0], dtype=dataset["train_labels"].dtype)
    picked[from_train] = images[index[from_train]]
    labels[from_train] = dataset["train_labels"][index[from_train]]
    picked[~from_train] = dataset["test_images"][index[~from_train] - n_train]
    labels[~from_train] = dataset["test_labels"][index[~from_train] - n_train]
    return Split(to_model_input(picked), labels, index.clone())


def load_test_split(dataset_path: str | Path, data: DataParams, seed: int, experiment: str, fold: int) -> Split:
    """The experiment's test split, read from the stored dataset (what every assessment job uses)."""
    return make_splits(load_dataset(dataset_path), data, seed, experiment, fold)["test"]
