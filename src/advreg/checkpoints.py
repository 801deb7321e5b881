"""Save and load trained models as safe artifacts (architecture name + kwargs + state dict)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from advreg.artifacts import load_artifact, save_artifact
from advreg.models import build_model


def save_model(
    path: str | Path,
    model: torch.nn.Module,
    *,
    arch: str,
    arch_kwargs: dict,
    input_shape: Sequence[int],
    num_classes: int,
    info: dict[str, Any] | None = None,
) -> None:
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    save_artifact(
        path,
        {
            "arch": arch,
            "arch_kwargs": dict(arch_kwargs),
            "input_shape": [int(s) for s in input_shape],
            "num_classes": int(num_classes),
            "state_dict": state,
            "info": dict(info or {}),
        },
    )


def load_model(path: str | Path, device: torch.device | str = "cpu") -> tuple[torch.nn.Module, dict[str, Any]]:
    """Rebuild the model from its artifact, in eval mode on ``device``; return it and the artifact's metadata."""
    blob = load_artifact(path)
    missing = {"arch", "arch_kwargs", "input_shape", "num_classes", "state_dict"} - set(blob)
    if missing:
        raise ValueError(f"{path} is not a model artifact (missing {sorted(missing)})")
    model = build_model(blob["arch"], tuple(blob["input_shape"]), blob["num_classes"], **blob["arch_kwargs"])
    model.load_state_dict(blob["state_dict"])
    model.to(device).eval()
    meta = {k: v for k, v in blob.items() if k != "state_dict"}
    return model, meta
