"""What every rule script does first: open its log, set determinism, threads and device."""

from __future__ import annotations

import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator


@dataclass
class JobContext:
    log: Callable[[str], None]
    device: Any  # torch.device, or None for jobs that do not use torch
    seed: int


@contextmanager
def job(log_path: str | Path, threads: int, config: dict, torch_runtime: bool = True) -> Iterator[JobContext]:
    """Context for one rule execution; a failure's traceback goes to the log and is re-raised.

    With ``torch_runtime`` (the default) torch is configured for determinism, ``threads`` and the config's
    device; table and figure jobs pass False and never import torch.
    """
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", encoding="utf-8") as handle:

        def log(message: str) -> None:
            handle.write(message + "\n")
            handle.flush()

        try:
            device = None
            if torch_runtime:
                import torch

                from advreg.runtime import configure

                device = configure(threads, config.get("device", "auto"))
                log(f"advreg job: device={device} threads={torch.get_num_threads()} torch={torch.__version__}")
            else:
                log("advreg job: no torch needed")
            yield JobContext(log=log, device=device, seed=int(config["seed"]))
        except BaseException:
            handle.write(traceback.format_exc())
            raise
