"""Portable mode: the same bits whatever CPU the job runs on. Two different CPUs are simulated on this machine
by the environment the caller sets (ATen's capability, MKL's code path, oneDNN's ISA): in portable mode every job
overrides them and the weights after ten training steps are identical; in native mode they differ (so the test
can fail)."""

import os
import platform
import subprocess
import sys

import pytest
from conftest import ROOT

from advreg.reproducibility import PORTABLE_X86, numeric_environment
from advreg.settings import ReproducibilityParams

TRAIN_TEN_STEPS = """
import hashlib, sys
sys.path.insert(0, {src!r})
from advreg.reproducibility import apply
from advreg.settings import ReproducibilityParams
apply(ReproducibilityParams.of(mode={mode!r}, threads=1))
import torch
import torch.nn.functional as F
from advreg.models import build_model
from advreg.runtime import configure
configure(1, "cpu")
digests = []
for arch in ("mlp_deepdefense", "lenet"):
    torch.manual_seed(0)
    model = build_model(arch, (1, 28, 28), 10)
    g = torch.Generator().manual_seed(1)
    optimiser = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for _ in range(10):
        x, y = torch.rand(64, 1, 28, 28, generator=g), torch.randint(0, 10, (64,), generator=g)
        optimiser.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimiser.step()
    weights = b"".join(p.detach().numpy().tobytes() for p in model.state_dict().values())
    digests.append(hashlib.sha256(weights).hexdigest())
print(" ".join(digests))
"""
OTHER_CPU = {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "SSE4_2", "ONEDNN_MAX_CPU_ISA": "SSE41"}


def trained_weights(mode: str, cpu: dict[str, str]) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in OTHER_CPU} | cpu
    script = TRAIN_TEN_STEPS.format(src=str(ROOT / "src"), mode=mode)
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.split()


@pytest.mark.skipif(platform.machine() != "x86_64", reason="the simulated CPUs are x86-64 instruction sets")
def test_portable_mode_gives_the_same_bits_on_another_cpu_and_native_mode_does_not():
    assert trained_weights("portable", {}) == trained_weights("portable", OTHER_CPU)
    native, other = trained_weights("native", {}), trained_weights("native", OTHER_CPU)
    assert native[0] != other[0] and native[1] != other[1], "MKL (MLP) and oneDNN/ATen (LeNet) should both differ"


def test_environment_per_mode():
    portable = numeric_environment(ReproducibilityParams.of(threads=3), machine="x86_64")
    assert portable == {**PORTABLE_X86, "OMP_NUM_THREADS": "3", "MKL_NUM_THREADS": "3"}
    native = numeric_environment(ReproducibilityParams.of(mode="native"), machine="x86_64")
    assert native == {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    assert numeric_environment(ReproducibilityParams.of(), machine="aarch64") == native  # no x86 ISA to fix
