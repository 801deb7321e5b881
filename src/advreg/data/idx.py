"""Reader and writer for the IDX format of MNIST-like datasets (unsigned-byte images and labels).

Layout: two zero bytes, a type byte (0x08 = unsigned byte), a byte giving the number of dimensions, one
big-endian uint32 per dimension, then the payload in C order. Files may be gzip-compressed; compression is
detected by the gzip magic bytes, never by the file name.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from advreg.artifacts import atomic_write_bytes

GZIP_MAGIC = b"\x1f\x8b"
UBYTE = 0x08
LABELS_MAGIC = 0x00000801  # unsigned byte, 1 dimension
IMAGES_MAGIC = 0x00000803  # unsigned byte, 3 dimensions
IMAGE_ROLES = ("train_images", "test_images")
LABEL_ROLES = ("train_labels", "test_labels")


def _raw_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:2] != GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError; truncation is an EOFError
        raise ValueError(f"IDX file {path}: corrupt gzip stream ({exc})") from exc


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read a (possibly gzip-compressed) IDX file of unsigned bytes: labels 1-d, images 3-d, dtype uint8."""
    path = Path(path)
    data = _raw_bytes(path)
    if len(data) < 4:
        raise ValueError(f"IDX file {path}: only {len(data)} bytes, too short for an IDX header")
    (magic,) = struct.unpack(">I", data[:4])
    if magic not in (LABELS_MAGIC, IMAGES_MAGIC):
        if data[:2] == b"\x00\x00" and data[2] != UBYTE and data[3] in (1, 3):
            raise ValueError(f"IDX file {path}: data type 0x{data[2]:02x} is not supported (only unsigned byte 0x08)")
        raise ValueError(
            f"IDX file {path}: bad magic number 0x{magic:08x} "
            f"(expected 0x{LABELS_MAGIC:08x} for labels or 0x{IMAGES_MAGIC:08x} for images)"
        )
    ndim = data[3]
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise ValueError(f"IDX file {path}: truncated header ({len(data)} bytes, {ndim} dimensions need {header_len})")
    dims = struct.unpack(f">{ndim}I", data[4:header_len])
    if 0 in dims:
        raise ValueError(f"IDX file {path}: declared dimensions {dims} contain a zero")
    expected = int(np.prod(dims, dtype=np.int64))
    actual = len(data) - header_len
    if actual < expected:
        raise ValueError(
            f"IDX file {path}: truncated payload: dimensions {dims} need {expected} bytes, file has {actual}"
        )
    if actual > expected:
        raise ValueError(f"IDX file {path}: {actual - expected} trailing bytes after the payload of dimensions {dims}")
    # copy() so the result owns writable memory instead of viewing the immutable decompressed bytes
    return np.frombuffer(data, dtype=np.uint8, offset=header_len).reshape(dims).copy()


def write_idx(path: str | os.PathLike, array: np.ndarray, compress: bool = True) -> Path:
    """Write a uint8 array (labels 1-d, images 3-d) as an IDX file, gzip-compressed if ``compress``.

    The gzip header carries no time stamp or name, so identical arrays give identical files.
    """
    path = Path(path)
    array = np.asarray(array)
    if array.dtype != np.uint8 or array.ndim not in (1, 3):
        raise ValueError(
            f"write_idx({path}): need a uint8 array with 1 (labels) or 3 (images) dimensions, "
            f"got {array.dtype} with shape {array.shape}"
        )
    header = struct.pack(f">BBBB{array.ndim}I", 0, 0, UBYTE, array.ndim, *array.shape)
    data = header + np.ascontiguousarray(array).tobytes()
    if compress:
        data = gzip.compress(data, compresslevel=6, mtime=0)
    atomic_write_bytes(path, data)
    return path


def load_idx_dataset(paths: dict[str, Path]) -> dict[str, np.ndarray]:
    """Decode the four IDX files of a dataset: images uint8 (N,H,W,1), labels int64 (N,)."""
    missing = [role for role in (*IMAGE_ROLES, *LABEL_ROLES) if role not in paths]
    if missing:
        raise ValueError(f"IDX dataset: no file given for {', '.join(missing)}")
    arrays: dict[str, np.ndarray] = {}
    for role in IMAGE_ROLES:
        images = read_idx(paths[role])
        if images.ndim != 3:
            raise ValueError(f"IDX file {paths[role]} ({role}): expected 3-d images, got shape {images.shape}")
        arrays[role] = images[..., np.newaxis]
    for role in LABEL_ROLES:
        labels = read_idx(paths[role])
        if labels.ndim != 1:
            raise ValueError(f"IDX file {paths[role]} ({role}): expected 1-d labels, got shape {labels.shape}")
        arrays[role] = labels.astype(np.int64)
    for split in ("train", "test"):
        n_images, n_labels = len(arrays[f"{split}_images"]), len(arrays[f"{split}_labels"])
        if n_images != n_labels:
            raise ValueError(
                f"IDX dataset: {paths[f'{split}_images']} holds {n_images} images but "
                f"{paths[f'{split}_labels']} holds {n_labels} labels"
            )
    return {role: arrays[role] for role in ("train_images", "train_labels", "test_images", "test_labels")}
