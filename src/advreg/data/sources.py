"""Where a dataset's raw files come from: a local folder (user or system), or a download from mirrors.

Nothing here decodes or trusts the files; :mod:`advreg.data.prepare` verifies the decoded arrays.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from advreg.data.cifar import BATCH_NAMES
from advreg.data.cifar import FOLDER as CIFAR_FOLDER
from advreg.data.registry import DatasetSpec

CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """Every mirror failed for at least one file; the message lists each URL tried and why."""


def _idx_candidates(folder: Path, file_name: str) -> list[Path]:
    names = [file_name]
    if file_name.endswith(".gz"):
        names.append(file_name[: -len(".gz")])
    return [folder / name for name in names]


def _cifar_candidates(folder: Path, file_name: str) -> list[Path]:
    return [folder / file_name, folder / CIFAR_FOLDER]


def _usable(path: Path) -> bool:
    if path.name == CIFAR_FOLDER and path.is_dir():
        return all((path / batch).is_file() for batch in BATCH_NAMES)
    return path.is_file()


def files_in(spec: DatasetSpec, folder: Path) -> dict[str, Path] | None:
    """role -> path if ``folder`` holds every file of ``spec`` (or an accepted variant), else None."""
    candidates = _cifar_candidates if spec.format == "cifar_python" else _idx_candidates
    found: dict[str, Path] = {}
    for role, file_name in spec.files.items():
        path = next((p for p in candidates(folder, file_name) if _usable(p)), None)
        if path is None:
            return None
        found[role] = path
    return found


def candidate_dirs(spec: DatasetSpec, local_dir: Path | None, system_dirs: Sequence[str]) -> list[Path]:
    """The folders :func:`find_local` tries, in order."""
    dirs = []
    if local_dir is not None:
        local_dir = Path(local_dir).expanduser()
        dirs += [local_dir / spec.name, local_dir]
    dirs += [Path(d) for d in system_dirs]
    return dirs


def find_local(
    spec: DatasetSpec, local_dir: Path | None, system_dirs: Sequence[str]
) -> tuple[Path, dict[str, Path]] | None:
    """First folder holding ALL of ``spec``'s files: ``local_dir/<name>/``, ``local_dir/``, then system dirs.

    IDX files may also be present un-gzipped (name without ``.gz``); CIFAR may also be an extracted
    ``cifar-10-batches-py`` folder. Returns (folder, role -> path), or None when no folder qualifies.
    """
    for folder in candidate_dirs(spec, local_dir, system_dirs):
        if folder.is_dir():
            found = files_in(spec, folder)
            if found is not None:
                return folder, found
    return None


def _url(mirror: str, file_name: str) -> str:
    return (mirror if mirror.endswith("/") else mirror + "/") + file_name


def _fetch_one(url: str, dest: Path, md5: str | None, timeout: float) -> None:
    """Download ``url`` to ``dest`` via a temporary file in the same folder; check ``md5`` if given."""
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        digest = hashlib.md5()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            for block in iter(lambda: response.read(CHUNK), b""):
                digest.update(block)
                out.write(block)
        if md5 is not None and digest.hexdigest() != md5.lower():
            raise ValueError(f"MD5 mismatch: got {digest.hexdigest()}, expected {md5}")
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        reason = exc.reason
        return f"{type(reason).__name__}: {reason}" if isinstance(reason, BaseException) else str(reason)
    return f"{type(exc).__name__}: {exc}"


def offline_hint(spec: DatasetSpec) -> str:
    names = ", ".join(spec.files.values())
    if spec.format == "cifar_python":
        names += f" (or its extracted {CIFAR_FOLDER} folder)"
    elif spec.format == "idx":
        names += " (gzipped or not)"
    return (
        f"To work offline, put {names} into a folder and set data.local_dir in the config to it "
        f"(the files may sit directly in it or in a '{spec.name}/' subfolder)."
    )


def download_files(
    spec: DatasetSpec,
    dest: Path,
    mirrors: Sequence[str] | None = None,
    timeout: float = 30,
    log: Callable[[str], None] | None = None,
) -> tuple[dict[str, Path], dict[str, str]]:
    """Like :func:`download`, also returning role -> the mirror each file came from."""
    mirrors = tuple(spec.mirrors if mirrors is None else mirrors)
    dest = Path(dest)
    created = not dest.exists()
    dest.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    used: dict[str, str] = {}
    try:
        for role, file_name in spec.files.items():
            target = dest / file_name
            failures: list[str] = []
            md5 = spec.file_md5.get(role)
            for mirror in mirrors:
                url = _url(mirror, file_name)
                if log is not None:
                    log(f"[data] {spec.name}: downloading {url}")
                try:
                    _fetch_one(url, target, md5, timeout)
                except Exception as exc:  # network, HTTP and checksum errors all mean "try the next mirror"
                    failures.append(f"  {url}: {_reason(exc)}")
                    continue
                paths[role], used[role] = target, mirror
                break
            else:
                tried = "\n".join(failures) if failures else "  (no mirrors configured)"
                raise DownloadError(
                    f"could not download {file_name} of dataset {spec.name!r} from any mirror.\n"
                    f"URLs tried:\n{tried}\n{offline_hint(spec)}"
                )
    except BaseException:
        for path in paths.values():  # a partial set of files is of no use: leave nothing behind
            path.unlink(missing_ok=True)
        if created and not any(dest.iterdir()):
            dest.rmdir()
        raise
    return paths, used


def download(
    spec: DatasetSpec, dest: Path, mirrors: Sequence[str] | None = None, timeout: float = 30
) -> dict[str, Path]:
    """Download every file of ``spec`` into ``dest``, trying ``mirrors`` (default ``spec.mirrors``) in order.

    Each file goes to a temporary file in ``dest`` and is renamed once complete and, where ``spec.file_md5``
    pins it, MD5-checked (a mismatch deletes it and tries the next mirror). If every mirror fails for a file,
    raises :class:`DownloadError` listing each URL tried and why, after removing the files this call
    downloaded. Returns role -> path.
    """
    return download_files(spec, dest, mirrors, timeout)[0]


def remove_downloaded(paths: dict[str, Path]) -> None:
    """Delete files a download produced (and their folder if it ends up empty)."""
    folders = {p.parent for p in paths.values()}
    for path in paths.values():
        path.unlink(missing_ok=True)
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            pass
