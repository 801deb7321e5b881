"""Device choice, thread counts, seeds and determinism for every job.

Seeds are derived, never drawn: :func:`derive_seed` hashes the config's base seed together with the
job's wildcards (experiment, fold, method, variant, ...), so each job has its own stream, reruns are
bit-identical, and adding a new job never changes the seeds of existing ones.
"""

from __future__ import annotations

import hashlib
import os
import random
import sys

import numpy as np
import torch


def derive_seed(base_seed: int, *parts: object) -> int:
    """A 63-bit seed from the base seed and any number of identifying parts (stable across runs)."""
    text = "\x1f".join([str(int(base_seed)), *map(str, parts)])
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little") & ((1 << 63) - 1)


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA); return a CPU generator seeded the same way."""
    random.seed(seed)
    np.random.seed(seed % (1 << 32))
    torch.manual_seed(seed)
    generator = torch.Generator(device="cpu")
    generator.manual_seed(seed)
    return generator


def enable_deterministic_algorithms() -> None:
    """``torch.use_deterministic_algorithms(True)``, without importing ``torch._inductor`` where nothing has.

    The public call imports ``torch._inductor.config`` to set its ``deterministic`` flag, which only
    ``torch.compile`` reads (the pipeline never compiles); that import costs about 1.3 s and 150 MB in every job
    (``benchmarks/startup.py``: 3.0 s against 1.7 s for torch alone). Where inductor is already loaded, or torch
    lacks the private setter, the public call runs instead. Either way
    ``torch.are_deterministic_algorithms_enabled()`` is true afterwards.
    """
    setter = getattr(torch._C, "_set_deterministic_algorithms", None)
    if setter is None or "torch._inductor.config" in sys.modules:
        torch.use_deterministic_algorithms(True)
    else:
        setter(True, warn_only=False)
    if not torch.are_deterministic_algorithms_enabled():
        raise RuntimeError("torch did not enable deterministic algorithms")


def configure(threads: int = 1, device: str = "auto") -> torch.device:
    """Set deterministic algorithms and thread counts, and pick the device.

    ``device`` is ``"auto"`` (CUDA when present, else CPU), ``"cpu"`` or ``"cuda"``. Asking for CUDA
    where there is none is an error rather than a silent fallback.
    """
    # cuBLAS needs this set before its first use to be deterministic.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    enable_deterministic_algorithms()
    threads = max(1, int(threads))
    torch.set_num_threads(threads)
    if device == "auto":
        chosen = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    elif device in ("cpu", "cuda"):
        if device == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("config asks for device 'cuda' but torch sees no CUDA device")
        chosen = torch.device(device)
    else:
        raise ValueError(f"unknown device {device!r}: use 'auto', 'cpu' or 'cuda'")
    if chosen.type == "cuda":
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
    return chosen
