"""Reader (and a small writer for tests) of the CIFAR-10 "python version": pickled batches in a tarball.

The batches are pickles, so they are read with a restricted unpickler that can rebuild numpy arrays and
nothing else: any other global (``os.system``, ``builtins.eval``, ...) is refused with an error naming it
and the file. Tar members are read in memory, never extracted, and unsafe member names are refused.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import struct
import tarfile
from pathlib import Path
from typing import Any

import numpy as np

try:  # numpy >= 2
    from numpy._core.multiarray import _reconstruct
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core.multiarray import _reconstruct

from advreg.artifacts import atomic_write_bytes

FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
BATCH_NAMES = (*TRAIN_BATCHES, TEST_BATCH)
IMAGE_SHAPE = (32, 32, 3)
PIXELS = 3 * 32 * 32
NUM_CLASSES = 10

# The only globals a pickled numpy array needs. Resolved to our own objects (no import by name), and the
# numpy 1.x module path maps to numpy 2's implementation.
_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class UnsafePickleError(ValueError):
    """A pickle asked for a global outside the numpy-array allow-list."""


class _NumpyOnlyUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BufferedIOBase, source: str) -> None:
        # encoding="bytes": the original batches are Python 2 pickles; their str keys become bytes (b"data")
        super().__init__(file, encoding="bytes")
        self._source = source

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"{self._source}: refusing to unpickle global {module}.{name} "
                "(only numpy arrays are allowed in a CIFAR batch)"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(f"{self._source}: refusing persistent id {pid!r} in a CIFAR batch")


def restricted_loads(data: bytes, source: str) -> Any:
    """Unpickle ``data`` allowing only what numpy arrays need; ``source`` names the file in errors."""
    try:
        return _NumpyOnlyUnpickler(io.BytesIO(data), source).load()
    except UnsafePickleError:
        raise
    except Exception as exc:  # corrupt pickles raise many types
        raise ValueError(f"{source}: not a valid CIFAR batch pickle ({type(exc).__name__}: {exc})") from exc


def _decode_batch(data: bytes, source: str) -> tuple[np.ndarray, np.ndarray]:
    batch = restricted_loads(data, source)
    if not isinstance(batch, dict):
        raise ValueError(f"{source}: expected a dict, got {type(batch).__name__}")
    raw = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if raw is None or labels is None:
        raise ValueError(f"{source}: missing key b'data' or b'labels' (keys: {sorted(map(repr, batch))})")
    if not isinstance(raw, np.ndarray) or raw.dtype != np.uint8 or raw.ndim != 2 or raw.shape[1] != PIXELS:
        shape = getattr(raw, "shape", None)
        dtype = getattr(raw, "dtype", type(raw).__name__)
        raise ValueError(f"{source}: b'data' must be uint8 of shape (N, {PIXELS}), got {dtype} {shape}")
    try:
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"{source}: b'labels' is not a list of integers ({exc})") from exc
    if labels.shape != (raw.shape[0],):
        raise ValueError(f"{source}: {raw.shape[0]} images but labels of shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise ValueError(f"{source}: labels outside 0..{NUM_CLASSES - 1} (min {labels.min()}, max {labels.max()})")
    images = raw.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images, dtype=np.uint8), labels


def _check_member_name(archive: Path, name: str) -> None:
    """Refuse absolute names (POSIX or Windows style) and any '..' component."""
    parts = name.replace("\\", "/").split("/")
    absolute = name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":")
    if absolute or ".." in parts:
        raise ValueError(f"CIFAR archive {archive}: refusing unsafe member name {name!r} (absolute or '..')")


def _read_from_tar(archive: Path) -> dict[str, bytes]:
    wanted = {f"{FOLDER}/{batch}": batch for batch in BATCH_NAMES}
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            for member in tar:
                _check_member_name(archive, member.name)
                key = member.name[2:] if member.name.startswith("./") else member.name
                if key not in wanted:
                    continue
                if not member.isfile():
                    raise ValueError(f"CIFAR archive {archive}: member {member.name!r} is not a regular file")
                if wanted[key] in found:
                    raise ValueError(f"CIFAR archive {archive}: member {member.name!r} appears twice")
                handle = tar.extractfile(member)
                assert handle is not None  # regular files always have a payload
                found[wanted[key]] = handle.read()
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ValueError(f"CIFAR archive {archive}: cannot read tar archive ({exc})") from exc
    missing = [f"{FOLDER}/{b}" for b in BATCH_NAMES if b not in found]
    if missing:
        raise ValueError(f"CIFAR archive {archive}: missing member(s) {', '.join(missing)}")
    return found


def _batch_folder(path: Path) -> Path:
    if (path / TRAIN_BATCHES[0]).exists() or not (path / FOLDER).is_dir():
        return path
    return path / FOLDER


def _read_from_folder(path: Path) -> dict[str, bytes]:
    folder = _batch_folder(path)
    missing = [b for b in BATCH_NAMES if not (folder / b).is_file()]
    if missing:
        raise ValueError(f"CIFAR folder {folder}: missing batch file(s) {', '.join(missing)}")
    return {batch: (folder / batch).read_bytes() for batch in BATCH_NAMES}


class BatchChecksumError(ValueError):
    """A batch file's MD5 differs from its pin."""


def _check_batches(raw: dict[str, bytes], member_md5: dict[str, str], where: str) -> None:
    for batch, want in sorted(member_md5.items()):
        got = hashlib.md5(raw[batch]).hexdigest()
        if got != want:
            raise BatchChecksumError(
                f"CIFAR batch {where}/{batch}: MD5 {got}, expected {want} (corrupt or not the canonical file)"
            )


def load_cifar10(path: str | os.PathLike, member_md5: dict[str, str] | None = None) -> dict[str, np.ndarray]:
    """Decode CIFAR-10 from ``cifar-10-python.tar.gz`` or an extracted ``cifar-10-batches-py`` folder.

    Returns images uint8 (N,32,32,3) (HWC) and labels int64 (N,); train = data_batch_1..5 in order.
    With ``member_md5`` (batch name -> MD5), each batch file's bytes are checked before decoding.
    """
    path = Path(path)
    if path.is_dir():
        raw, where = _read_from_folder(path), str(_batch_folder(path))
    elif path.is_file():
        raw, where = _read_from_tar(path), f"{path}:{FOLDER}"
    else:
        raise FileNotFoundError(f"CIFAR source {path} does not exist")
    if member_md5:
        _check_batches(raw, member_md5, where)
    decoded = {batch: _decode_batch(raw[batch], f"{where}/{batch}") for batch in BATCH_NAMES}
    train = [decoded[b] for b in TRAIN_BATCHES]
    return {
        "train_images": np.concatenate([images for images, _ in train]),
        "train_labels": np.concatenate([labels for _, labels in train]),
        "test_images": decoded[TEST_BATCH][0],
        "test_labels": decoded[TEST_BATCH][1],
    }


class _Python2StylePickler(pickle._Pickler):
    """Writes pickles like the original CIFAR files (Python 2 cPickle, protocol 2): every string is a
    byte string (BINSTRING opcodes) and arrays are rebuilt by ``numpy.core.multiarray._reconstruct``."""

    dispatch = dict(pickle._Pickler.dispatch)

    def _save_byte_string(self, obj: str | bytes) -> None:
        data = obj.encode("latin-1") if isinstance(obj, str) else obj
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)

    dispatch[bytes] = _save_byte_string
    dispatch[str] = _save_byte_string

    def save_global(self, obj: Any, name: str | None = None) -> None:
        if obj is _reconstruct:
            self.write(pickle.GLOBAL + b"numpy.core.multiarray\n_reconstruct\n")
            return
        super().save_global(obj, name)


def _python2_style_pickle(obj: Any) -> bytes:
    buffer = io.BytesIO()
    _Python2StylePickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def _batch_bytes(images: np.ndarray, labels: np.ndarray, label: str) -> bytes:
    data = np.ascontiguousarray(images.transpose(0, 3, 1, 2)).reshape(len(images), PIXELS)
    payload = {
        b"batch_label": label.encode(),
        b"labels": [int(x) for x in labels],  # a list, like the original files (small test data only)
        b"data": data,
        b"filenames": [f"fake_{label.replace(' ', '_')}_{i}.png".encode() for i in range(len(images))],
    }
    return _python2_style_pickle(payload)


def write_cifar_batches(
    folder_or_tar: str | os.PathLike,
    train_arrays: tuple[np.ndarray, np.ndarray],
    test_arrays: tuple[np.ndarray, np.ndarray],
    batches: int = 5,
) -> Path:
    """Write small fake CIFAR-10 batches in the original format (for tests).

    ``train_arrays``/``test_arrays`` are (images uint8 (N,32,32,3), labels). The training set is split into
    ``batches`` consecutive batches (``data_batch_1..``). A path ending in ``.tar.gz``/``.tgz`` gets a
    tarball with members under ``cifar-10-batches-py/``; otherwise the files go to
    ``<folder>/cifar-10-batches-py/``. Returns the tarball or the batch folder.
    """
    target = Path(folder_or_tar)
    for what, (images, _) in (("train", train_arrays), ("test", test_arrays)):
        images = np.asarray(images)
        if images.dtype != np.uint8 or images.shape[1:] != IMAGE_SHAPE:
            raise ValueError(
                f"write_cifar_batches: {what} images must be uint8 (N,32,32,3), got {images.dtype} {images.shape}"
            )
    train_images, train_labels = (np.asarray(a) for a in train_arrays)
    files: dict[str, bytes] = {}
    chunks = zip(np.array_split(train_images, batches), np.array_split(train_labels, batches), strict=True)
    for i, (images, labels) in enumerate(chunks, start=1):
        files[f"data_batch_{i}"] = _batch_bytes(images, labels, f"training batch {i} of {batches}")
    files[TEST_BATCH] = _batch_bytes(np.asarray(test_arrays[0]), np.asarray(test_arrays[1]), "testing batch 1 of 1")

    if target.name.endswith((".tar.gz", ".tgz")):
        buffer = io.BytesIO()
        # gzip header without time stamp, members with mtime 0: identical input gives an identical tarball
        with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz:
            with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
                for name, data in files.items():
                    info = tarfile.TarInfo(f"{FOLDER}/{name}")
                    info.size, info.mtime, info.mode = len(data), 0, 0o644
                    tar.addfile(info, io.BytesIO(data))
        atomic_write_bytes(target, buffer.getvalue())
        return target
    folder = target / FOLDER
    for name, data in files.items():
        atomic_write_bytes(folder / name, data)
    return folder
