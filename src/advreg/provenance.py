"""The run manifest, and the check of a run's artifacts against expected hashes (torch-free).

:func:`build_manifest` records, for one run: the SHA256 of every result file (those that must be identical on
every rerun, and, apart, the ones that record timings), the config and its hash, the installed versions of the
locked packages, the plugins used (:mod:`advreg.plugins`: distribution, version, SHA256 of their files), the git
commit, and what every job logged about its machine (device, threads, CPU capability,
reproducibility settings) and the machine's CPU. The ``manifest`` rule writes it as ``results/manifest.json``.

:func:`write_expected` keeps the reproducible hashes of a run as ``sha256  path`` lines (``make expected`` writes
config/expected/default-<vendor>.sha256 for the default preset); :func:`verify` recomputes a run's hashes against such a
file and names every file that is missing, extra or different (``make verify``).

Usage: ``python -m advreg.provenance expected RESULTS OUT`` / ``python -m advreg.provenance verify RESULTS EXPECTED``
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from advreg.atomic import atomic_write_text
from advreg.layout import MANIFEST, is_reproducible

JOB_LINE = re.compile(r"^advreg job: (.*)$", re.M)


def sha256_of(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def result_hashes(results: str | Path) -> tuple[dict[str, str], dict[str, str]]:
    """(reproducible, timed): path relative to the results folder's parent (``results/...``) -> SHA256."""
    root = Path(results)
    reproducible, timed = {}, {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = (Path(root.name) / path.relative_to(root)).as_posix()
        if rel == MANIFEST or path.name.startswith("."):
            continue
        (reproducible if is_reproducible(rel) else timed)[rel] = sha256_of(path)
    return reproducible, timed


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def locked_versions(lock: str | Path) -> dict[str, str | None]:
    """Installed version of every package the lock pins (None if missing)."""
    names = re.findall(r"^([A-Za-z0-9._-]+)==", Path(lock).read_text(), re.M)
    out = {}
    for name in sorted(names, key=str.lower):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_commit(workflow_dir: str | Path) -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(workflow_dir), *args], capture_output=True, text=True, timeout=30
        ).stdout

    commit = git("rev-parse", "HEAD").strip()
    return {"commit": commit or None, "dirty": bool(git("status", "--porcelain", "--untracked-files=no").strip())}


def cpu_description() -> dict[str, Any]:
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = re.search(r"^model name\s*:\s*(.*)$", info, re.M)
    flags = set(re.search(r"^flags\s*:\s*(.*)$", info, re.M).group(1).split()) if "flags" in info else set()
    return {
        "machine": platform.machine(),
        "model": model.group(1) if model else platform.processor(),
        "avx2": "avx2" in flags,
        "avx512f": "avx512f" in flags,
    }


def job_settings(logs: str | Path) -> list[str]:
    """The distinct first lines of the jobs' logs (device, threads, torch, reproducibility, CPU capability)."""
    seen = set()
    for path in Path(logs).rglob("*.log"):
        match = JOB_LINE.search(path.read_text(errors="replace")[:2000])
        if match:
            seen.add(match.group(1))
    return sorted(seen)


def plugins_in(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The plugins the run used (advreg.plugins): source, distribution and version, their files' SHA256."""
    from advreg.plugins import load_plugins, plugin_provenance, used_names

    used = used_names(config)
    return plugin_provenance([p for p in load_plugins(config) if (p.kind, p.name) in used])


def build_manifest(results: str | Path, config: Mapping[str, Any], lock: str | Path, workflow_dir: str | Path,
                   logs: str | Path) -> dict[str, Any]:  # fmt: skip
    reproducible, timed = result_hashes(results)
    return {
        "config": dict(config),
        "config_sha256": hashlib.sha256(canonical_json(config).encode()).hexdigest(),
        "reproducibility": dict(config.get("reproducibility") or {}),
        "git": git_commit(workflow_dir),
        "python": sys.version.split()[0],
        "packages": locked_versions(lock),
        "plugins": plugins_in(config),
        "cpu": cpu_description(),
        "jobs": job_settings(logs),
        "artifacts": reproducible,
        "timed": timed,
    }


def write_manifest(out: str | Path, manifest: Mapping[str, Any]) -> None:
    atomic_write_text(out, json.dumps(manifest, indent=1, sort_keys=False, default=str) + "\n")


def write_expected(results: str | Path, out: str | Path) -> int:
    """``sha256  path`` lines of every reproducible result file; returns their number."""
    reproducible, _ = result_hashes(results)
    atomic_write_text(out, "".join(f"{digest}  {path}\n" for path, digest in reproducible.items()))
    return len(reproducible)


def read_expected(path: str | Path) -> dict[str, str]:
    out = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if line.strip():
            digest, _, name = line.partition("  ")
            if len(digest) != 64 or not name:
                raise ValueError(f"{path}:{number}: not a 'sha256  path' line: {line!r}")
            out[name] = digest
    return out


def verify(results: str | Path, expected_file: str | Path) -> list[str]:
    """Every difference between a run and the expected hashes, one line each (empty: identical)."""
    expected = read_expected(expected_file)
    actual, _ = result_hashes(results)
    problems = [f"missing: {p}" for p in sorted(set(expected) - set(actual))]
    problems += [f"not expected: {p}" for p in sorted(set(actual) - set(expected))]
    problems += [f"differs: {p}" for p in sorted(set(expected) & set(actual)) if expected[p] != actual[p]]
    return problems


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "expected":
        print(f"{write_expected(argv[1], argv[2])} artifacts -> {argv[2]}")
        return 0
    if len(argv) == 3 and argv[0] == "verify":
        problems = verify(argv[1], argv[2])
        for line in problems:
            print(line)
        count = len(read_expected(argv[2]))
        print(f"{count} expected artifacts: " + ("all identical" if not problems else f"{len(problems)} problems"))
        return 1 if problems else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
