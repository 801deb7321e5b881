"""Stages that train models: reference pretraining and per-variant training (fine-tuning or from scratch).

Both write a checkpoint after every epoch beside the model (:func:`advreg.layout.checkpoint_path`: unique per job,
so parallel jobs never share one), resume from it when a killed job is rerun, and delete it once the model and its
history are written (:mod:`advreg.training.checkpoint`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from torch import nn

from advreg.atomic import atomic_write_text
from advreg.checkpoints import load_model, save_model
from advreg.data.prepare import load_dataset
from advreg.ids import REFERENCE, ModelId
from advreg.layout import checkpoint_path
from advreg.methods import build_method
from advreg.models import MODELS, build_from_params
from advreg.runtime import derive_seed, seed_everything
from advreg.settings import DataParams
from advreg.splits import make_splits, reference_splits
from advreg.stages.job import JobContext, model_log
from advreg.training.checkpoint import remove_checkpoint
from advreg.training.loop import train
from advreg.training.settings import TrainSettings


def _write_history(path: str | Path, history: list[dict[str, Any]]) -> None:
    atomic_write_text(path, pd.DataFrame(history).to_csv(index=False, float_format="%.6g"))


def _input_shape(dataset: Mapping[str, Any]) -> tuple[int, int, int]:
    _, h, w, c = dataset["train_images"].shape
    return (int(c), int(h), int(w))


def pretrain_reference(
    ctx: JobContext,
    *,
    dataset_path: str | Path,
    model_out: str | Path,
    history_out: str | Path,
    experiment: str,
    arch: str,
    model_kwargs: Mapping[str, Any],
    data: Mapping[str, Any],
    pretrain: Mapping[str, Any],
) -> None:
    """Train the experiment's reference model with plain cross-entropy (fold 0's split; with ``data.scheme: cv``
    the pretraining samples set aside before the cross-validation)."""
    dataset = load_dataset(dataset_path)
    splits = reference_splits(dataset, DataParams.parse(data, "data"), ctx.seed, experiment)
    generator = seed_everything(derive_seed(ctx.seed, experiment, "reference"))
    spec = MODELS.get_spec(arch)
    kwargs = spec.parse(model_kwargs, "model.kwargs")
    num_classes = len(dataset["class_names"])
    model = build_from_params(spec, _input_shape(dataset), num_classes, kwargs).to(ctx.device)
    settings = TrainSettings.parse(pretrain, "pretrain")
    identity = f"experiment {experiment}, reference pretraining (method plain)"
    history = train(
        model,
        build_method("plain"),
        settings,
        splits["train"],
        splits["val"],
        generator,
        identity,
        ctx.log,
        ctx.runtime.eval_batch_size,
        checkpoint=checkpoint_path(model_out),
        progress_seconds=ctx.runtime.progress_seconds,
    )
    save_model(
        model_out,
        model,
        arch=arch,
        arch_kwargs=kwargs.to_dict(),
        input_shape=_input_shape(dataset),
        num_classes=num_classes,
        info={"experiment": experiment, "model": str(REFERENCE)},
    )
    _write_history(history_out, history)
    remove_checkpoint(checkpoint_path(model_out))


def extend_reference(reference: nn.Module, extended: nn.Module, identity: str) -> nn.Module:
    """``extended`` (the reference's architecture plus new parts) with the reference's weights; the new parts keep
    their fresh initialisation. Every reference weight must find its place, with its shape."""
    state = {k: v.to(next(extended.parameters()).device) for k, v in reference.state_dict().items()}
    try:
        missing, unexpected = extended.load_state_dict(state, strict=False)
    except RuntimeError as exc:
        raise ValueError(f"{identity}: the reference's weights do not fit the variant's architecture ({exc})") from exc
    if unexpected:
        raise ValueError(f"{identity}: the variant's architecture lacks the reference's {sorted(unexpected)}")
    extended.eval()
    return extended


def training_seed(base_seed: int, experiment: str, fold: int, model_id: ModelId, seeding: str) -> int:
    """The seed of a variant's initial weights and minibatch order: its own (``per_model``), or one for every variant
    of the experiment's fold (``shared``, as one script with one seed trains a paper's models)."""
    own = (model_id.method, model_id.variant) if seeding == "per_model" else ("shared",)
    return derive_seed(base_seed, experiment, fold, *own)


def train_variant(
    ctx: JobContext,
    *,
    dataset_path: str | Path,
    reference_path: str | Path | None,
    model_out: str | Path,
    history_out: str | Path,
    timing_out: str | Path,
    experiment: str,
    fold: int,
    model_id: ModelId,
    arch: str,
    data: Mapping[str, Any],
    params: Mapping[str, Any],
    train_settings: Mapping[str, Any],
    model_kwargs: Mapping[str, Any],
    dataset: Mapping[str, Any] | None = None,
) -> None:
    """Train one method variant, from the reference (``init: reference``) or from scratch (``init: scratch``).

    ``dataset``: the dataset at ``dataset_path``, already loaded (a training part loads it once for its models).
    """
    dataset = load_dataset(dataset_path) if dataset is None else dataset
    splits = make_splits(dataset, DataParams.parse(data, "data"), ctx.seed, experiment, fold)
    settings = TrainSettings.parse(train_settings, "train")
    generator = seed_everything(training_seed(ctx.seed, experiment, fold, model_id, settings.seeding))
    identity = f"experiment {experiment}, fold {fold}, method {model_id.method}, variant {model_id.variant}"
    spec = MODELS.get_spec(arch)
    kwargs = spec.parse(model_kwargs, "model.kwargs")
    num_classes = len(dataset["class_names"])
    if settings.init == "reference":
        model, meta = load_model(reference_path, ctx.device)
        if spec.parse(meta["arch_kwargs"]) != kwargs:  # the variant adds to the reference (a head, a denoiser)
            model = extend_reference(
                model, build_from_params(spec, _input_shape(dataset), num_classes, kwargs), identity
            )
            model = model.to(ctx.device)
    else:
        model = build_from_params(spec, _input_shape(dataset), num_classes, kwargs).to(ctx.device)
    method = build_method(model_id.method, params)
    timing: dict[str, float] = {}
    history = train(
        model,
        method,
        settings,
        splits["train"],
        splits["val"],
        generator,
        identity,
        ctx.log,
        ctx.runtime.eval_batch_size,
        timing,
        checkpoint=checkpoint_path(model_out),
        progress_seconds=ctx.runtime.progress_seconds,
    )
    per_sample = timing["step_seconds"] / timing["samples"] if timing["samples"] else float("nan")
    atomic_write_text(timing_out, json.dumps({**timing, "seconds_per_sample": per_sample}, indent=1) + "\n")
    save_model(
        model_out,
        model,
        arch=arch,
        arch_kwargs=kwargs.to_dict(),
        input_shape=_input_shape(dataset),
        num_classes=num_classes,
        info={"experiment": experiment, "fold": fold, "model": str(model_id), "params": method.params.to_dict()},
    )
    _write_history(history_out, history)
    remove_checkpoint(checkpoint_path(model_out))


def train_part(
    ctx: JobContext,
    *,
    dataset_path: str | Path,
    reference_path: str | Path | None,
    outputs: Mapping[str, list[str]],
    logs: list[str],
    experiment: str,
    fold: int,
    params: Mapping[str, Any],
) -> None:
    """Train a training part's models one after the other (``train_jobs``), each exactly as :func:`train_variant`
    alone would: ``params`` is :meth:`advreg.plan.Experiment.train_part_params`; ``outputs`` holds the lists
    ``models``, ``histories`` and ``timings`` and ``logs`` the part's log then one per model, in its order."""
    names = list(params["models"])
    lengths = {what: len(outputs[what]) for what in ("models", "histories", "timings")} | {"logs": len(logs) - 1}
    if any(n != len(names) for n in lengths.values()):
        raise ValueError(f"training part of {experiment} fold {fold}: {len(names)} models but {lengths} files")
    dataset = load_dataset(dataset_path)
    for i, name in enumerate(names):
        model_id = ModelId.parse(name)
        job = params["models"][name]
        with model_log(ctx, logs[i + 1], f"{name} ({i + 1}/{len(names)})", logs[0]) as sub:
            train_variant(
                sub,
                dataset_path=dataset_path,
                reference_path=reference_path,
                model_out=outputs["models"][i],
                history_out=outputs["histories"][i],
                timing_out=outputs["timings"][i],
                experiment=experiment,
                fold=fold,
                model_id=model_id,
                arch=params["arch"],
                data=params["data"],
                params=job["params"],
                train_settings=job["train"],
                model_kwargs=job["model_kwargs"],
                dataset=dataset,
            )
