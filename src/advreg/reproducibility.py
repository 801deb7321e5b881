"""Fix the numeric libraries' code paths before torch is imported, so that results are bit-identical on any
x86-64 machine (torch-free; every job runs :func:`apply` first, via scripts/_library.py).

A CPU's instruction set changes which kernels run, and with them the bits of every result: ATen picks its
vectorised kernels by CPU capability (``ATEN_CPU_CAPABILITY``), MKL its BLAS code path (conditional numerical
reproducibility, ``MKL_CBWR``), oneDNN its convolution kernels (``ONEDNN_MAX_CPU_ISA``); and the number of threads
changes how reductions are split. In ``portable`` mode (the default) every job fixes all of them to a level
every x86-64 machine of the last ten years has, AVX2 (MKL in its strict mode, which also keeps results
independent of the thread count where it can), and the thread count to ``reproducibility.threads``; two
machines then compute the same bits. ``native`` keeps the machine's fastest paths (a machine with AVX-512 then
gives other bits than one with AVX2 only); the thread count is fixed in both modes. GPU runs are not covered:
different GPU models run different kernels (docs and README). Measured: this is not enough on every machine: on an
AMD EPYC (AVX-512) MKL gives the same bits under every ``MKL_CBWR`` branch (it ignores the branch there), other bits
than the earlier AVX2 machines (README, "Reproducibility and integrity").
"""

from __future__ import annotations

import os
import platform
import sys

from advreg.settings import ReproducibilityParams

# The AVX2 level, for each library that picks its kernels by the CPU (values documented by each library).
PORTABLE_X86 = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2,STRICT", "ONEDNN_MAX_CPU_ISA": "AVX2"}
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def numeric_environment(settings: ReproducibilityParams, machine: str | None = None) -> dict[str, str]:
    """The environment variables a job sets before importing torch (on other machines than x86-64 the
    instruction-set variables do not apply and only the thread count is fixed)."""
    env = {name: str(settings.threads) for name in THREAD_VARIABLES}
    if settings.mode == "portable" and (machine or platform.machine()) in ("x86_64", "AMD64"):
        env.update(PORTABLE_X86)
    return env


def apply(settings: ReproducibilityParams) -> dict[str, str]:
    """Set :func:`numeric_environment` in this process; it must run before torch is imported (the libraries
    read these variables once, when they load)."""
    if "torch" in sys.modules:
        raise RuntimeError("advreg.reproducibility.apply() must run before torch is imported")
    env = numeric_environment(settings)
    os.environ.update(env)
    return env
