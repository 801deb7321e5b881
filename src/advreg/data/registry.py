"""The datasets the pipeline knows: where their raw files come from and what their decoded arrays must be.

Two kinds of checksums, with different jobs:

- ``file_md5`` pins the bytes of the canonical upstream *files*. It is checked right after a download, so a
  broken or tampered mirror is rejected before anything is decoded. It is NOT checked for local or system
  copies: packagers re-compress files (Debian's Fashion-MNIST ``.gz`` files differ from upstream's, while
  their content is identical), and a user may keep the files un-gzipped.
- ``digests`` pins the SHA256 of the *decoded* arrays (see :func:`array_digest`). This is the check that
  matters, whatever the source or compression. The placeholder ``"PENDING"`` means "not pinned yet" and makes
  verification fail unless the caller passes expected digests explicitly.
- ``member_md5`` pins the MD5 of files *inside* a source (CIFAR-10's pickled batch files, identical in the
  tarball and in an extracted folder). Where a decoded array could not be hashed when the registry was
  written, its digest is ``MEMBER_MD5``: the array is then vouched for by the MD5s of the batch files it is
  decoded from, checked on every source.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from advreg.params import ConfigError, Params, param

PENDING = "PENDING"
MEMBER_MD5 = "member-md5"
ARRAY_ROLES = ("train_images", "train_labels", "test_images", "test_labels")


@dataclass(frozen=True)
class DatasetSpec:
    name: str  # "mnist", "fashion_mnist", "cifar10", or a config's own
    format: str  # "idx", "cifar_python" or "npz"
    files: dict[str, str]  # role -> file name (idx: the four .gz names; cifar_python, npz: archive)
    file_md5: dict[str, str]  # role -> MD5 of the canonical upstream file; may be empty
    mirrors: tuple[str, ...]  # base URLs tried in order; file URL = mirror + file name
    system_dirs: tuple[str, ...]  # known system folders holding the same file names
    digests: dict[str, str]  # array role -> SHA256 of the decoded array, or PENDING
    shapes: dict[str, tuple[int, ...]]  # array role -> shape
    class_names: tuple[str, ...]  # empty: "0" .. "K-1", K from the labels (a config's own dataset)
    member_md5: dict[str, str] = field(default_factory=dict)  # file inside the source -> MD5
    declared_at: str = ""  # a config's own dataset: its config key ("datasets.<name>"), where its pins go


def array_digest(a: np.ndarray) -> str:
    """SHA256 of an array's C-order bytes (images uint8 (N,H,W,C), labels little-endian int64 (N,))."""
    a = np.ascontiguousarray(a)
    if a.dtype.itemsize > 1:
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
    return hashlib.sha256(a.tobytes()).hexdigest()


def _idx_files() -> dict[str, str]:
    return {
        "train_images": "train-images-idx3-ubyte.gz",
        "train_labels": "train-labels-idx1-ubyte.gz",
        "test_images": "t10k-images-idx3-ubyte.gz",
        "test_labels": "t10k-labels-idx1-ubyte.gz",
    }


def _shapes(n_train: int, n_test: int, image: tuple[int, int, int]) -> dict[str, tuple[int, ...]]:
    return {
        "train_images": (n_train, *image),
        "train_labels": (n_train,),
        "test_images": (n_test, *image),
        "test_labels": (n_test,),
    }


_PENDING_DIGESTS = {role: PENDING for role in ARRAY_ROLES}

DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        name="mnist",
        format="idx",
        files=_idx_files(),
        file_md5={
            "train_images": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train_labels": "d53e105ee54ea40749a09fcbcd1e9432",
            "test_images": "9fb629c4189551a2d022fa330f9573f3",
            "test_labels": "ec29112dd5afa0611ce80d1b7f02629c",
        },
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        system_dirs=("/usr/share/datasets/mnist",),
        # Computed from files whose MD5s equal the file_md5 pins above (torchvision's published values).
        digests={
            "train_images": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
            "train_labels": "e474323ac02fc156161b0bbb1f8c9cfeb327a74bcd9f9680a8385269a24f566c",
            "test_images": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
            "test_labels": "2fd8de6bdb8d11780b4b96dc57847bcfe6953f7c32aa48bfcd8237c3b7847243",
        },
        shapes=_shapes(60000, 10000, (28, 28, 1)),
        class_names=tuple(str(d) for d in range(10)),
    ),
    "fashion_mnist": DatasetSpec(
        name="fashion_mnist",
        format="idx",
        files=_idx_files(),
        # From the Fashion-MNIST README (upstream .gz files). Debian's re-compressed copies
        # (dataset-fashion-mnist 0.0~git20200523.55506a9-1) have other file MD5s, but decompress to IDX files
        # whose MD5s equal the published raw-file MD5s (f4a8712d..., 9018921c..., 8181f547..., 15d48437...);
        # the array digests below were computed from them.
        file_md5={
            "train_images": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train_labels": "25c81989df183df01b3e8a0aad5dffbe",
            "test_images": "bef4ecab320f06d8554ea6380940ec79",
            "test_labels": "bb300cfdad3c16e7a12a480ee83cd310",
        },
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        system_dirs=("/usr/share/datasets/fashion-mnist",),
        digests={
            "train_images": "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012",
            "train_labels": "e3245b63f7c40d1c8b652835f19744d970c1613b40ddac6bcfc87b9c46e16a0b",
            "test_images": "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a",
            "test_labels": "d51d859896c55775b9e9e219b77ff03bcec1b6ac322f313544dc3f9e7bc94fae",
        },
        shapes=_shapes(60000, 10000, (28, 28, 1)),
        class_names=(
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
    ),
    "cifar10": DatasetSpec(
        name="cifar10",
        format="cifar_python",
        files={"archive": "cifar-10-python.tar.gz"},
        file_md5={"archive": "c58f30108f718f92721af3b95e74349a"},
        mirrors=("https://www.cs.toronto.edu/~kriz/",),
        system_dirs=("/usr/share/datasets/cifar10",),
        # Label digests computed from the canonical batches; the image arrays could not be hashed when this
        # was written (no complete copy was reachable), so they are vouched for by the batch files' MD5s
        # (torchvision's published values), which every source of the python version must match.
        digests={
            "train_images": MEMBER_MD5,
            "train_labels": "f5cfe00b0f00968c0cc5ff3b1d2de51b10e33efa277c2986f4e0fa63e58c9f4f",
            "test_images": MEMBER_MD5,
            "test_labels": "cbb7365de8ed11f05cc4c3a1e7f78144127c5e851efd83762fb18202461230bb",
        },
        member_md5={
            "data_batch_1": "c99cafc152244af753f735de768cd75f",
            "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
            "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
            "data_batch_4": "634d18415352ddfa80567beed471001a",
            "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
            "test_batch": "40351d587109b95175f43aff81a1287e",
        },
        shapes=_shapes(50000, 10000, (32, 32, 3)),
        class_names=(
            "airplane",
            "automobile",
            "bird",
            "cat",
            "deer",
            "dog",
            "frog",
            "horse",
            "ship",
            "truck",
        ),
    ),
}


def get_spec(name: str) -> DatasetSpec:
    """The registry entry for ``name``; an unknown name raises ValueError listing the known ones."""
    try:
        return DATASETS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(sorted(DATASETS))}") from None


@dataclass(frozen=True)
class DatasetDigests(Params):
    """SHA256 of each decoded array (:func:`array_digest`); PENDING: not pinned yet (preparing the dataset then
    fails and prints the actual digests to pin)."""

    train_images: str = param(PENDING, "uint8 training images (N, H, W, C)")
    train_labels: str = param(PENDING, "int64 training labels")
    test_images: str = param(PENDING, "uint8 test images (N, H, W, C)")
    test_labels: str = param(PENDING, "int64 test labels")


@dataclass(frozen=True)
class CustomDatasetParams(Params):
    """A dataset a config declares itself (a subset of a standard one, or new data), kept in a local folder and
    verified like the built-in ones: every decoded array must match its pinned SHA256."""

    format: Literal["npz", "idx"] = param("npz", "one .npz file (advreg.data.npz) or the four MNIST-style IDX files")
    dir: str = param("", "the folder holding the files")
    file: str = param("", "npz: the file's name in dir (default: <name>.npz)")
    classes: tuple[str, ...] = param((), "class names in label order (default: '0' .. 'K-1')")
    description: str = param("", "what the data is, in a few words (shown in captions where it stands in)")
    digests: DatasetDigests = param(DatasetDigests, "pinned SHA256 of the decoded arrays")

    def check(self, where: str) -> None:
        if not self.dir:
            raise ConfigError(f"{where}.dir: name the folder that holds the dataset's files")


def custom_spec(name: str, p: CustomDatasetParams) -> DatasetSpec:
    """The :class:`DatasetSpec` of a config's own dataset (no mirrors: only its folder is a source)."""
    files = {"archive": p.file or f"{name}.npz"} if p.format == "npz" else _idx_files()
    return DatasetSpec(
        name=name,
        format=p.format,
        files=files,
        file_md5={},
        mirrors=(),
        system_dirs=(p.dir,),
        digests=p.digests.to_dict(),
        shapes={},
        class_names=tuple(p.classes),
        declared_at=f"datasets.{name}",
    )


def dataset_specs(declared: Mapping[str, Any] | None) -> dict[str, DatasetSpec]:
    """The built-in datasets and a config's own (``datasets:``), by name; errors name the config key."""
    out = dict(DATASETS)
    for name, block in (declared or {}).items():
        where = f"datasets.{name}"
        if name in DATASETS:
            raise ConfigError(f"{where}: {name!r} is a built-in dataset; give your own data another name")
        out[name] = custom_spec(name, CustomDatasetParams.parse(block, where))
    return out
