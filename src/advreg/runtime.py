"""Device choice, thread counts, seeds and determinism for every job.

Seeds are derived, never drawn: :func:`derive_seed` hashes the config's base seed together with the
job's wildcards (experiment, fold, method, variant, ...), so each job has its own stream, reruns are
bit-identical, and adding a new job never changes the seeds of existing ones.
"""

from __future__ import annotations

import hashlib
import os
import random

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


def configure(threads: int = 1, device: str = "auto") -> torch.device:
    """Set deterministic algorithms and thread counts, and pick the device.

    ``device`` is ``"auto"`` (CUDA when present, else CPU), ``"cpu"`` or ``"cuda"``. Asking for CUDA
    where there is none is an error rather than a silent fallback.
    """
    # cuBLAS needs this set before its first use to be deterministic.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
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
