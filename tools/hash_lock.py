"""Add the SHA256 of every distribution file of each pinned version to requirements.lock (pip hash-checking mode).

Usage: .venv/bin/python tools/hash_lock.py [requirements.lock] [--index https://pypi.org/simple]

For each ``name==version`` line, the index's simple page (PEP 503) lists every file of that version with its
``#sha256=`` digest: wheels for every platform and the sdist, so the lock installs on any platform pip supports
and nowhere accepts a file whose bytes differ from the published ones. Lines already carrying hashes are
refreshed. The result is rewritten in place, sorted, one requirement per logical line.
"""

from __future__ import annotations

import re
import sys
import urllib.request
from pathlib import Path

PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def file_hashes(index: str, name: str, version: str) -> list[str]:
    with urllib.request.urlopen(f"{index}/{normalise(name)}/", timeout=60) as response:
        page = response.read().decode()
    stem = re.escape(normalise(name).replace("-", "_"))
    pattern = re.compile(rf'/({stem}|{re.escape(name)})-{re.escape(version)}[-.][^"#/]*#sha256=([0-9a-f]{{64}})', re.I)
    found = sorted({digest for _, digest in pattern.findall(page)})
    if not found:
        raise SystemExit(f"{name}=={version}: no files with sha256 digests on {index}")
    return found


def main(path: str = "requirements.lock", index: str = "https://pypi.org/simple") -> None:
    lines = [line.split("\\")[0].strip() for line in Path(path).read_text().replace("\\\n", " ").splitlines()]
    pins = sorted({m.group(1, 2) for line in lines if (m := PIN.match(line))}, key=lambda p: p[0].lower())
    out = [
        "# Exact pins with the SHA256 of every published file of each version (tools/hash_lock.py):",
        "# pip installs in hash-checking mode and refuses any file whose bytes differ.",
    ]
    for name, version in pins:
        hashes = file_hashes(index, name, version)
        out.append(f"{name}=={version} \\")
        out += [f"    --hash=sha256:{h}" + (" \\" if i < len(hashes) - 1 else "") for i, h in enumerate(hashes)]
        print(f"{name}=={version}: {len(hashes)} files", file=sys.stderr)
    Path(path).write_text("\n".join(out) + "\n")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--index")]
    index = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--index=")), "https://pypi.org/simple")
    main(*args, index=index)
