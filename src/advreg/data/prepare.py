"""Turn a registry dataset into a verified artifact (what the Snakemake data rule calls), and read it back.

Sources are tried in order: the user folder (config ``data.local_dir``: ``<local_dir>/<name>/`` then
``<local_dir>/``), the spec's system folders (e.g. Debian's ``/usr/share/datasets/...``), files an earlier
call downloaded into ``<download_dir>/<name>/``, and finally the mirrors. Whatever the source, every decoded
array must match its pinned shape and SHA256 digest before anything is written.

The artifact holds the data, class names and digests only: not the source, which differs between machines
and would make otherwise identical outputs differ. The source is logged and returned instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from advreg.artifacts import load_artifact, save_artifact
from advreg.data.cifar import BATCH_NAMES as CIFAR_BATCH_NAMES
from advreg.data.cifar import BatchChecksumError, load_cifar10
from advreg.data.idx import load_idx_dataset
from advreg.data.npz import load_npz_dataset
from advreg.data.registry import ARRAY_ROLES, MEMBER_MD5, PENDING, DatasetSpec, array_digest, get_spec
from advreg.data.sources import DownloadError, candidate_dirs, download_files, files_in, find_local, remove_downloaded

DATASET_KEYS = ("name", *ARRAY_ROLES, "class_names", "digests")


class DatasetChecksumError(ValueError):
    """Decoded arrays do not match their pinned digests or shapes, or no digest is pinned."""


def _resolve_source(
    spec: DatasetSpec,
    local_dir: Path | None,
    system_dirs: Sequence[str],
    download_dir: Path,
    mirrors: Sequence[str] | None,
    log: Callable[[str], None],
) -> tuple[str, dict[str, Path], dict[str, Path]]:
    """(source description, role -> path, files downloaded by this call)."""
    found = find_local(spec, local_dir, system_dirs)
    if found is not None:
        folder, paths = found
        return str(folder), paths, {}
    cache = Path(download_dir) / spec.name
    cached = files_in(spec, cache) if cache.is_dir() else None
    if cached is not None:
        return str(cache), cached, {}
    if not (mirrors or spec.mirrors):  # a config's own dataset: its folder is the only source
        wanted = ", ".join(spec.files.values())
        folders = [str(d) for d in candidate_dirs(spec, local_dir, system_dirs)]
        raise DownloadError(
            f"dataset {spec.name!r}: none of the folders {folders} holds all of its files ({wanted}); "
            "check the folder declared for it"
        )
    searched = [*candidate_dirs(spec, local_dir, system_dirs), cache]
    log(f"[data] {spec.name}: no local copy in {', '.join(map(str, searched))}; downloading into {cache}")
    try:
        paths, used = download_files(spec, cache, mirrors, log=log)
    except DownloadError as exc:
        raise DownloadError(
            f"{exc}\nFolders searched for a local copy (none held all files): {', '.join(map(str, searched))}"
        ) from exc
    return "download:" + ", ".join(dict.fromkeys(used.values())), paths, paths


def _decode(spec: DatasetSpec, paths: dict[str, Path]) -> dict[str, np.ndarray]:
    if spec.format == "idx":
        return load_idx_dataset(paths)
    if spec.format == "npz":
        return load_npz_dataset(paths["archive"])
    if spec.format == "cifar_python":
        try:
            return load_cifar10(paths["archive"], member_md5=spec.member_md5)
        except BatchChecksumError as exc:
            raise DatasetChecksumError(f"dataset {spec.name!r}: {exc}") from exc
    raise ValueError(f"dataset {spec.name!r}: unknown format {spec.format!r} (expected 'idx', 'cifar_python' or 'npz')")


def _expected_digests(spec: DatasetSpec, expected_digests: Mapping[str, str] | None) -> dict[str, str]:
    extra = set(expected_digests or {}) - set(ARRAY_ROLES)
    if extra:
        raise ValueError(
            f"dataset {spec.name!r}: expected_digests has unknown array name(s) {sorted(extra)}; "
            f"known: {', '.join(ARRAY_ROLES)}"
        )
    return {role: spec.digests.get(role, PENDING) for role in ARRAY_ROLES} | dict(expected_digests or {})


def class_names(spec: DatasetSpec, arrays: dict[str, np.ndarray]) -> tuple[str, ...]:
    """The spec's class names, or "0" .. "K-1" (K from the labels) for a dataset declared without them."""
    if spec.class_names:
        return spec.class_names
    top = max((int(arrays[r].max()) for r in ("train_labels", "test_labels") if arrays[r].size), default=0)
    return tuple(str(k) for k in range(top + 1))


def _check_member_pins(spec: DatasetSpec, expected: dict[str, str]) -> None:
    """An array pinned as MEMBER_MD5 is vouched for by the MD5s of the files it is decoded from: only formats whose
    decoder checks them (CIFAR's batch files) may use the marker, and only with every member MD5 given."""
    marked = [role for role in ARRAY_ROLES if expected[role] == MEMBER_MD5]
    if not marked:
        return
    if spec.format != "cifar_python":
        raise DatasetChecksumError(
            f"dataset {spec.name!r}: array(s) {', '.join(marked)} are pinned as {MEMBER_MD5!r}, but the "
            f"{spec.format!r} format has no member files whose MD5s could vouch for them; pin their SHA256"
        )
    missing = sorted(set(CIFAR_BATCH_NAMES) - set(spec.member_md5))
    if missing:
        raise DatasetChecksumError(
            f"dataset {spec.name!r}: array(s) {', '.join(marked)} are pinned as {MEMBER_MD5!r}, but no MD5 is "
            f"pinned for member file(s) {', '.join(missing)}: nothing would verify them"
        )


def _verify(spec: DatasetSpec, arrays: dict[str, np.ndarray], expected: dict[str, str], source: str) -> dict[str, str]:
    """Check shapes, label range and pinned digests; return the actual digests. Raises DatasetChecksumError."""
    for role in ARRAY_ROLES:
        want = spec.shapes.get(role)
        if want is not None and tuple(arrays[role].shape) != tuple(want):
            raise DatasetChecksumError(
                f"dataset {spec.name!r}: array {role} has shape {tuple(arrays[role].shape)}, expected "
                f"{tuple(want)} (source: {source})"
            )
    names = class_names(spec, arrays)
    for role in ("train_labels", "test_labels"):
        labels = arrays[role]
        if labels.size and (labels.min() < 0 or labels.max() >= len(names)):
            raise DatasetChecksumError(
                f"dataset {spec.name!r}: array {role} has labels outside 0..{len(names) - 1} "
                f"(min {labels.min()}, max {labels.max()}; source: {source})"
            )
    actual = {role: array_digest(arrays[role]) for role in ARRAY_ROLES}
    wrong = [
        role for role in ARRAY_ROLES if expected[role] not in (PENDING, MEMBER_MD5) and expected[role] != actual[role]
    ]
    if wrong:
        lines = "\n".join(f"  {r}: expected {expected[r]}, actual {actual[r]}" for r in wrong)
        raise DatasetChecksumError(
            f"dataset {spec.name!r}: SHA256 mismatch for array(s) {', '.join(wrong)} decoded from {source}:\n"
            f"{lines}\nThe files are corrupt or not the canonical dataset; replace them."
        )
    return actual


def _require_pins(spec: DatasetSpec, expected: dict[str, str], actual: dict[str, str], source: str) -> None:
    """Unpinned digests fail verification: the data is not known bad, only unverifiable."""
    pending = [role for role in ARRAY_ROLES if expected[role] == PENDING]
    if pending and spec.declared_at:  # a config's own dataset: its pins live in the config
        lines = "\n".join(f"      {r}: {actual[r]}" for r in pending)
        raise DatasetChecksumError(
            f"dataset {spec.name!r}: no SHA256 pinned for array(s) {', '.join(pending)} in the config's "
            f"{spec.declared_at}.digests, so the data from {source} cannot be verified. After checking the files "
            f"are the data you mean, set these keys in your config ({spec.declared_at}.digests.<array>):\n"
            f"datasets:\n  {spec.name}:\n    digests:\n{lines}"
        )
    if pending:
        lines = "\n".join(f"  {r}: {actual[r]}" for r in pending)
        raise DatasetChecksumError(
            f"dataset {spec.name!r}: no SHA256 pinned for array(s) {', '.join(pending)} (registry says "
            f"{PENDING!r}), so the data from {source} cannot be verified. Pin the digests in "
            f"advreg/data/registry.py (or pass expected_digests) after checking the files are the canonical "
            f"dataset; the decoded arrays' digests are:\n{lines}"
        )


def prepare_dataset(
    name: str | DatasetSpec,
    out_path: Path,
    *,
    local_dir: Path | None = None,
    system_dirs: Sequence[str] | None = None,
    download_dir: Path,
    mirrors: Sequence[str] | None = None,
    expected_digests: Mapping[str, str] | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Find or download dataset ``name``, decode and verify it, and save it to ``out_path``.

    ``name`` is a registry name (or a :class:`DatasetSpec`, for tests). ``system_dirs`` defaults to the
    spec's; ``expected_digests`` overrides the spec's pinned digests per array. On any failure nothing is
    written, and files this call downloaded are removed if they proved bad. Returns a summary:
    {"name", "source", "shapes", "digests"}.
    """
    spec = name if isinstance(name, DatasetSpec) else get_spec(name)
    expected = _expected_digests(spec, expected_digests)
    _check_member_pins(spec, expected)
    system_dirs = spec.system_dirs if system_dirs is None else tuple(system_dirs)
    source, paths, downloaded = _resolve_source(spec, local_dir, system_dirs, download_dir, mirrors, log)
    log(f"[data] {spec.name}: source {source}")
    try:
        arrays = _decode(spec, paths)
        digests = _verify(spec, arrays, expected, source)
    except ValueError:  # undecodable or wrong data (DatasetChecksumError is a ValueError)
        remove_downloaded(downloaded)  # files this call downloaded are bad: never reuse them
        raise
    _require_pins(spec, expected, digests, source)
    save_artifact(
        out_path,
        {
            "name": spec.name,
            **{role: torch.from_numpy(arrays[role]) for role in ARRAY_ROLES},
            "class_names": list(class_names(spec, arrays)),
            "digests": digests,
        },
    )
    shapes = {role: tuple(arrays[role].shape) for role in ARRAY_ROLES}
    log(f"[data] {spec.name}: wrote {out_path} ({shapes['train_images']} train, {shapes['test_images']} test)")
    return {"name": spec.name, "source": source, "shapes": shapes, "digests": digests}


def load_dataset(path: str | Path, verify: bool = False) -> dict[str, Any]:
    """Read a dataset artifact written by :func:`prepare_dataset`, checking its keys, dtypes and shapes.

    With ``verify``, also recompute the arrays' digests and compare them with the stored ones.
    """
    path = Path(path)
    data = load_artifact(path)

    def bad(why: str) -> ValueError:
        return ValueError(f"{path} is not an advreg dataset artifact: {why}")

    if not isinstance(data, dict):
        raise bad(f"top level is {type(data).__name__}, not a dict")
    missing = [key for key in DATASET_KEYS if key not in data]
    if missing:
        raise bad(f"missing key(s) {', '.join(missing)}")
    for split in ("train", "test"):
        images, labels = data[f"{split}_images"], data[f"{split}_labels"]
        if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.ndim != 4:
            raise bad(f"{split}_images must be a uint8 tensor (N,H,W,C)")
        if not isinstance(labels, torch.Tensor) or labels.dtype != torch.int64 or labels.shape != images.shape[:1]:
            raise bad(f"{split}_labels must be an int64 tensor with one label per image")
    if not isinstance(data["class_names"], list) or not all(isinstance(c, str) for c in data["class_names"]):
        raise bad("class_names must be a list of strings")
    if verify:
        for role in ARRAY_ROLES:
            actual = array_digest(data[role].numpy())
            if actual != data["digests"].get(role):
                raise DatasetChecksumError(
                    f"{path}: array {role} has digest {actual}, the artifact records {data['digests'].get(role)}"
                )
    return data
