"""Stages that train models: reference pretraining and per-method fine-tuning."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import pandas as pd
import torch

from advreg.atomic import atomic_write_text
from advreg.checkpoints import load_model, save_model
from advreg.data import load_dataset
from advreg.methods import build_method
from advreg.models import build_model
from advreg.runtime import derive_seed, seed_everything
from advreg.splits import make_splits
from advreg.stages.job import JobContext
from advreg.training import TrainSettings, train


def _write_history(path: str | Path, history: list[dict[str, Any]]) -> None:
    atomic_write_text(path, pd.DataFrame(history).to_csv(index=False, float_format="%.6g"))


def _input_shape(dataset: Mapping[str, Any]) -> tuple[int, int, int]:
    _, h, w, c = dataset["train_images"].shape
    return (int(c), int(h), int(w))


def pretrain_reference(ctx: JobContext, *, dataset_path, model_out, history_out, experiment: str, exp_cfg: Mapping[str, Any]) -> None:
    """Train the experiment's reference model with plain cross-entropy (fold 0's split)."""
    dataset = load_dataset(dataset_path)
    splits = make_splits(dataset, exp_cfg.get("data", {}), ctx.seed, experiment, 0)
    generator = seed_everything(derive_seed(ctx.seed, experiment, "reference"))
    arch, kwargs = exp_cfg["model"]["arch"], dict(exp_cfg["model"].get("kwargs") or {})
    num_classes = len(dataset["class_names"])
    model = build_model(arch, _input_shape(dataset), num_classes, **kwargs).to(ctx.device)
    settings = TrainSettings.from_config(exp_cfg["pretrain"])
    identity = f"experiment {experiment}, reference pretraining (method plain)"
    history = train(model, build_method("plain"), settings, splits["train"], splits["val"], generator, identity, ctx.log)
    save_model(model_out, model, arch=arch, arch_kwargs=kwargs, input_shape=_input_shape(dataset), num_classes=num_classes,
               info={"experiment": experiment, "method": "reference", "variant": "pretrained"})
    _write_history(history_out, history)


def finetune_variant(
    ctx: JobContext, *, dataset_path, reference_path, model_out, history_out, experiment: str, exp_cfg: Mapping[str, Any],
    fold: int, method: str, variant: str, params: Mapping[str, Any], train_overrides: Mapping[str, Any], model_overrides: Mapping[str, Any],
) -> None:
    """Train one method variant, from the reference (``init: reference``) or from scratch (``init: scratch``)."""
    dataset = load_dataset(dataset_path)
    splits = make_splits(dataset, exp_cfg.get("data", {}), ctx.seed, experiment, fold)
    generator = seed_everything(derive_seed(ctx.seed, experiment, fold, method, variant))
    train_cfg = {**(exp_cfg.get("finetune") or {}), **dict(train_overrides)}
    init = train_cfg.get("init", "reference")
    identity = f"experiment {experiment}, fold {fold}, method {method}, variant {variant}"
    arch = exp_cfg["model"]["arch"]
    kwargs = {**(exp_cfg["model"].get("kwargs") or {}), **dict(model_overrides)}
    num_classes = len(dataset["class_names"])
    if init == "reference":
        if model_overrides:
            raise ValueError(f"{identity}: model overrides {sorted(model_overrides)} need finetune init 'scratch' (the reference fixes the architecture)")
        model, _meta = load_model(reference_path, ctx.device)
    elif init == "scratch":
        model = build_model(arch, _input_shape(dataset), num_classes, **kwargs).to(ctx.device)
    else:
        raise ValueError(f"{identity}: unknown finetune init {init!r} (known: reference, scratch)")
    settings = TrainSettings.from_config(train_cfg)
    history = train(model, build_method(method, dict(params)), settings, splits["train"], splits["val"], generator, identity, ctx.log)
    save_model(model_out, model, arch=arch, arch_kwargs=kwargs, input_shape=_input_shape(dataset), num_classes=num_classes,
               info={"experiment": experiment, "fold": fold, "method": method, "variant": variant, "params": dict(params)})
    _write_history(history_out, history)
