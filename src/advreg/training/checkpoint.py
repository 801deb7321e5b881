"""Per-epoch training checkpoints, so that a job killed mid-run (``kill -9``, a node lost, the OOM killer) resumes
from its last completed epoch and still ends with the bit-identical model of an uninterrupted run.

A checkpoint holds everything the loop (:mod:`advreg.training.loop`) carries from one epoch to the next: the
model's and the optimiser's state, the learning-rate schedule's position, every random number generator the job
draws from (the loop's generator: shuffling and random crops; torch's global CPU generator: dropout, methods' noise;
the CUDA generators if any, Python's and NumPy's), the method's own changing state (:meth:`Method.state_dict`, e.g. the
generator of Parseval's row subsets), the best-so-far model of model selection with its score and patience
count, the history rows so far, the accumulated step timings and the position in the current shuffle of the
training set (``order``, ``position``: with ``equal_steps`` an epoch may end inside one).

It is written after every epoch with :func:`advreg.artifacts.save_artifact`: tensors and plain values only, to a
temporary name in the same folder and renamed atomically (a kill never leaves half a checkpoint), with its SHA256
beside it, written so that a kill between the two renames leaves a checkpoint its record accepts (``replacing``:
the record lists the new SHA256 beside the old while the file is replaced); it is read back with
``weights_only=True`` after the SHA256 check. A *fingerprint* of everything that
determines the training (the job's identity, the method and its parameters, the training settings, the model's
weights as training starts, the generators' states as training starts, i.e. the seed, and the training and
validation data with their sample ids) is stored in it: a checkpoint whose fingerprint differs (the config changed,
the reference was retrained) is never resumed, it is deleted and training starts over. So is one that fails its
SHA256 check or cannot be read: the final model is the same either way, only the time saved is lost. The train
stage deletes the checkpoint once the final model and history are written.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from advreg.artifacts import digest_path, load_artifact, save_artifact
from advreg.methods.base import Method
from advreg.splits import Split
from advreg.training.settings import TrainSettings

FORMAT = 1  # bump when the checkpoint's content changes: older ones are then not resumed
STATE_KEYS = (
    "epoch",
    "stopped",
    "model",
    "optimizer",
    "scheduler",
    "rng",
    "method",
    "best_state",
    "best_score",
    "stale",
    "history",
    "step_seconds",
    "samples",
    "order",
    "position",
)


def _update_with_tensor(digest: Any, tensor: torch.Tensor) -> None:
    flat = tensor.detach().cpu().contiguous().reshape(-1)
    digest.update(f"{flat.dtype}{tuple(tensor.shape)}".encode())
    digest.update(flat.view(torch.uint8).numpy())


def training_fingerprint(
    model: nn.Module,
    method: Method,
    settings: TrainSettings,
    train_split: Split,
    val_split: Split,
    generator: torch.Generator,
    identity: str,
) -> str:
    """SHA256 of everything that determines a training run, taken as training starts (before any data preparation or
    draw): a checkpoint is resumed only by a run with the same fingerprint."""
    digest = hashlib.sha256()
    header = {
        "format": FORMAT,
        "identity": identity,
        "method": method.name,
        "params": method.params.to_dict(),
        "settings": settings.to_dict(),
    }
    digest.update(json.dumps(header, sort_keys=True, default=str).encode())
    for name, value in model.state_dict().items():
        digest.update(name.encode())
        _update_with_tensor(digest, value)
    for split in (train_split, val_split):
        for tensor in (split.x, split.y, split.index):
            _update_with_tensor(digest, tensor)
    _update_with_tensor(digest, generator.get_state())
    _update_with_tensor(digest, torch.get_rng_state())
    return digest.hexdigest()


def rng_states(generator: torch.Generator) -> dict[str, Any]:
    """The states of every generator a training job draws from (tensors and plain values only)."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "generator": generator.get_state(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "python": random.getstate(),
        "numpy": {
            "name": str(name),
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
    }


def restore_rng_states(states: Mapping[str, Any], generator: torch.Generator) -> None:
    """Put every generator back into the state :func:`rng_states` recorded."""
    generator.set_state(states["generator"])
    torch.set_rng_state(states["torch"])
    if states["cuda"]:
        if not torch.cuda.is_available() or torch.cuda.device_count() < len(states["cuda"]):
            raise ValueError("the checkpoint holds CUDA generator states but this machine has fewer CUDA devices")
        torch.cuda.set_rng_state_all(states["cuda"])
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    numpy = states["numpy"]
    np.random.set_state(
        (
            numpy["name"],
            numpy["keys"].numpy().astype(np.uint32),
            numpy["pos"],
            numpy["has_gauss"],
            numpy["cached_gaussian"],
        )
    )


def scheduler_state(scheduler: torch.optim.lr_scheduler.LRScheduler | None) -> dict[str, Any] | None:
    """A scheduler's position, without its milestones (a ``Counter``, which ``weights_only`` cannot load; they come
    from the settings, which the fingerprint covers)."""
    if scheduler is None:
        return None
    return {k: v for k, v in scheduler.state_dict().items() if k != "milestones"}


def load_scheduler_state(scheduler: torch.optim.lr_scheduler.LRScheduler | None, state: dict[str, Any] | None) -> None:
    if scheduler is None or state is None:
        if (scheduler is None) != (state is None):
            raise ValueError("the checkpoint's learning-rate schedule does not match the settings")
        return
    scheduler.load_state_dict({**scheduler.state_dict(), **state})


def save_checkpoint(path: str | Path, fingerprint: str, state: Mapping[str, Any]) -> None:
    """Write a checkpoint atomically (temporary file, then rename), its SHA256 in ``<path>.sha256``."""
    missing = set(STATE_KEYS) - set(state)
    if missing:
        raise ValueError(f"checkpoint {path}: state lacks {sorted(missing)}")
    # replacing: a kill between the checkpoint's rename and its record's leaves a resumable pair (save_artifact)
    save_artifact(
        path, {"format": FORMAT, "fingerprint": fingerprint, **{k: state[k] for k in STATE_KEYS}}, replacing=True
    )


def load_checkpoint(path: str | Path, fingerprint: str, log: Callable[[str], None]) -> dict[str, Any] | None:
    """The checkpoint at ``path`` if there is one made by a run with this ``fingerprint``; otherwise None (a stale,
    damaged or unreadable checkpoint is deleted, with a log line saying why)."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        blob = load_artifact(path)
    except (ValueError, OSError) as exc:
        log(f"checkpoint {path} cannot be resumed, starting over: {exc}")
        remove_checkpoint(path)
        return None
    if blob.get("format") != FORMAT or blob.get("fingerprint") != fingerprint:
        log(
            f"checkpoint {path} was made by another training run (config, data, seed or initial weights differ), "
            "starting over"
        )
        remove_checkpoint(path)
        return None
    missing = set(STATE_KEYS) - set(blob)
    if missing:
        log(f"checkpoint {path} lacks {sorted(missing)}, starting over")
        remove_checkpoint(path)
        return None
    return blob


def remove_checkpoint(path: str | Path) -> None:
    """Delete a checkpoint and its SHA256 record (nothing if absent)."""
    for file in (Path(path), digest_path(path)):
        file.unlink(missing_ok=True)
