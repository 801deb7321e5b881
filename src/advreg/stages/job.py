"""What every rule script does first: open its log, set determinism, threads and device."""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advreg.settings import RuntimeParams, reproducibility_settings, runtime_settings


@dataclass
class JobContext:
    log: Callable[[str], None]
    device: Any  # torch.device, or None for jobs that do not use torch
    seed: int
    runtime: RuntimeParams


@contextmanager
def job(log_path: str | Path, config: dict, torch_runtime: bool = True) -> Iterator[JobContext]:
    """Context for one rule execution; a failure's traceback goes to the log and is re-raised.

    With ``torch_runtime`` (the default) torch is configured for determinism, the config's thread count
    (``reproducibility.threads``, not Snakemake's, which depends on ``--cores``) and device; table and figure
    jobs pass False and never import torch. The log's second line says how long the
    process took to get here (interpreter, imports, set-up): ``benchmarks/stage_times.py`` reads it as the
    job's start-up time.
    """
    with file_log(log_path) as log:
        device = None
        if torch_runtime:
            import torch

            from advreg.runtime import configure

            repro = reproducibility_settings(config)
            device = configure(repro.threads, config.get("device", "auto"))
            log(
                f"advreg job: device={device} threads={torch.get_num_threads()} torch={torch.__version__} "
                f"reproducibility={repro.mode} cpu_capability={torch.backends.cpu.get_cpu_capability()} "
                f"MKL_CBWR={os.environ.get('MKL_CBWR', '')} "
                f"ONEDNN_MAX_CPU_ISA={os.environ.get('ONEDNN_MAX_CPU_ISA', '')}"
            )
        else:
            log("advreg job: no torch needed")
        log(f"advreg start-up: {startup_seconds():.2f} s")
        yield JobContext(log=log, device=device, seed=int(config["seed"]), runtime=runtime_settings(config))


@contextmanager
def model_log(ctx: JobContext, log_path: str | Path, what: str, job_log: str | Path) -> Iterator[JobContext]:
    """``ctx`` writing to a log of its own (one model of a job that trains several): the job's log says where
    ``what`` is logged and how it ended; a failure's traceback goes to both logs."""
    ctx.log(f"{what}: log {log_path}")
    with file_log(log_path) as log:
        log(f"advreg job: {what}, trained in the job logged in {job_log} (device={ctx.device})")
        yield JobContext(log=log, device=ctx.device, seed=ctx.seed, runtime=ctx.runtime)
    ctx.log(f"{what}: done")


@contextmanager
def file_log(log_path: str | Path) -> Iterator[Callable[[str], None]]:
    """A log file (parents created): yields the function that writes a line to it, flushed at once; a failure
    inside writes its traceback to the file and is re-raised."""
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", encoding="utf-8") as handle:

        def log(message: str) -> None:
            handle.write(message + "\n")
            handle.flush()

        try:
            yield log
        except BaseException:
            handle.write(traceback.format_exc())
            raise


def startup_seconds() -> float:
    """Seconds since this process started (from /proc; the monotonic clock elsewhere is not comparable)."""
    try:
        import os

        ticks = os.sysconf("SC_CLK_TCK")
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - start_ticks / ticks
    except (OSError, ValueError, IndexError):
        return float("nan")
