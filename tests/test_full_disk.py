"""A full disk: writing an artifact fails with the system's error and leaves neither a partial file nor a stale
digest record behind (a real 1 MB tmpfs; needs root, as in CI)."""

import errno
import os
import subprocess

import pytest
import torch

from advreg.artifacts import digest_path, save_artifact


@pytest.fixture
def tiny_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_leaves_no_partial_artifact(tiny_disk):
    save_artifact(tiny_disk / "small.pt", {"x": torch.zeros(1000)})  # fits
    with pytest.raises(OSError) as info:
        save_artifact(tiny_disk / "big.pt", {"x": torch.zeros(1_000_000)})  # 4 MB on a 1 MB disk
    assert info.value.errno == errno.ENOSPC
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["small.pt", "small.pt.sha256"]  # no big.pt, no temp file
    assert not digest_path(tiny_disk / "big.pt").exists()
