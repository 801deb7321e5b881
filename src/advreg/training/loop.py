"""The training loop: minibatch optimisation of a method's loss with model selection on validation.

Shared by the pretrain rule (reference models, plain cross-entropy) and the fine-tune rule (every
method). Safeguards: a non-finite loss, or one above ``max_loss``, stops the job with an error naming the
job (method, variant), the epoch and the step. Nothing time-dependent is written to the history, so
reruns are bit-identical.

Given a ``checkpoint`` path, the loop writes a checkpoint after every epoch (:mod:`advreg.training.checkpoint`)
and, when one from the same training run (same fingerprint) is there as it starts, resumes after that epoch: the
final model and history are bit-identical to those of an uninterrupted run.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from advreg.methods.base import Batch, Method
from advreg.models.crop import step_crop
from advreg.models.preprocess import fit_input_layers
from advreg.progress import progress
from advreg.splits import Split
from advreg.training.checkpoint import (
    load_checkpoint,
    load_scheduler_state,
    restore_rng_states,
    rng_states,
    save_checkpoint,
    scheduler_state,
    training_fingerprint,
)
from advreg.training.monitor import monitor_row
from advreg.training.settings import LRScheduleParams, OptimizerParams, TrainSettings


class TrainingDivergedError(RuntimeError):
    """The loss became NaN, infinite or larger than the configured bound."""


def build_optimizer(params: Iterable[nn.Parameter], spec: OptimizerParams) -> torch.optim.Optimizer:
    if spec.name == "sgd":
        return torch.optim.SGD(
            params, lr=spec.lr, momentum=spec.momentum, weight_decay=spec.weight_decay, nesterov=spec.nesterov
        )
    if spec.name == "adam":
        return torch.optim.Adam(params, lr=spec.lr, weight_decay=spec.weight_decay)
    return torch.optim.NAdam(params, lr=spec.lr, weight_decay=spec.weight_decay)


def _milestones(schedule: LRScheduleParams | None, epochs: int) -> tuple[list[int], float]:
    if schedule is None:
        return [], 1.0
    return [max(1, round(f * epochs)) for f in schedule.milestones], schedule.gamma


def _set_mode(model: nn.Module, batchnorm: str) -> None:
    model.train()
    if batchnorm == "frozen":
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.eval()


def training_batch(
    model: nn.Module, split: Split, idx: torch.Tensor, device: torch.device, generator: torch.Generator
) -> Batch:
    """The samples ``idx`` of ``split`` as a batch on ``device``; if the model crops at random (LWA's CIFAR-10
    net), cut to windows drawn here once per step from ``generator``, so every pass of the step sees the same
    crop (:mod:`advreg.models.crop`)."""
    x = split.x[idx].to(device)
    crop = step_crop(model, x, generator)
    return Batch(x if crop is None else crop(x), split.y[idx].to(device), split.index[idx], crop)


@torch.no_grad()
def evaluate_accuracy(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000
) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of ``model`` in eval mode; (nan, nan) for an empty set."""
    if x.shape[0] == 0:
        return math.nan, math.nan
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    loss_sum, correct = 0.0, 0
    for start in range(0, x.shape[0], batch_size):
        xb = x[start : start + batch_size].to(device)
        yb = y[start : start + batch_size].to(device)
        logits = model(xb)
        loss_sum += nn.functional.cross_entropy(logits, yb, reduction="sum").item()
        correct += (logits.argmax(1) == yb).sum().item()
    model.train(was_training)
    return loss_sum / x.shape[0], correct / x.shape[0]


def train(
    model: nn.Module,
    method: Method,
    settings: TrainSettings,
    train_split: Split,
    val_split: Split,
    generator: torch.Generator,
    identity: str,
    log: Callable[[str], None] = print,
    eval_batch_size: int = 1000,
    timing: dict[str, float] | None = None,
    checkpoint: str | Path | None = None,
    after_epoch: Callable[[int], None] | None = None,
    progress_seconds: float = 0.0,
) -> list[dict[str, Any]]:
    """Train ``model`` in place; return one history row per epoch (epoch 0 = before training).

    ``identity`` names the job in messages, e.g. ``"method plain, variant default"``. ``timing``, if given, receives
    ``step_seconds`` (wall time of the optimisation steps alone: loss, backward, update), ``samples`` (samples
    they processed) and ``steps`` (optimiser updates made: epochs run times updates per epoch); timings are kept
    apart from the history, which must be identical on every rerun.

    An epoch makes one update per batch of the training set as the method prepares it (which may enlarge it, e.g.
    DataGrad multitask's 5 rotations), or, with ``settings.equal_steps``, as many updates as one pass over
    ``train_split`` as given takes: batches are then drawn in turn from successive shuffles of the prepared set,
    an epoch may end inside one and the next goes on with it (with an unenlarged set both are the same).

    ``checkpoint``, if given, is where a checkpoint is written after every epoch (atomically) and resumed from when
    it belongs to this same training run; the caller deletes it once the final model is saved. ``after_epoch``, if
    given, is called with the epoch number once that epoch's checkpoint is written (tests use it to interrupt).
    ``progress_seconds`` > 0: a progress bar over the optimisation steps in ``log``, a line at most that often
    (:mod:`advreg.progress`; it reads only the clock).
    """
    device = next(model.parameters()).device
    # a model's first training fits its input layer's mean image (DeepDefense's MatConvNet preprocessing) on the
    # training split; fine-tuned models inherit the fitted one from the reference's state dict
    fit_input_layers(model, train_split.x)
    fingerprint = None
    if checkpoint is not None:  # before anything is drawn or prepared: the run as it starts
        fingerprint = training_fingerprint(model, method, settings, train_split, val_split, generator, identity)
    optimizer = build_optimizer(model.parameters(), settings.optimizer)
    milestones, gamma = _milestones(settings.lr_schedule, settings.epochs)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones, gamma) if milestones else None
    n_given = train_split.x.shape[0]
    train_split = method.prepare_data(train_split, model)  # e.g. DataGrad multitask: 5 rotated copies (footnote 4)
    method.setup(model, train_split.x, train_split.y)
    n = train_split.x.shape[0]
    if n == 0:
        raise ValueError(f"{identity}: the training split is empty")

    resumed = load_checkpoint(checkpoint, fingerprint, log) if checkpoint is not None else None
    if resumed is None:
        history: list[dict[str, Any]] = []
        val_loss, val_acc = evaluate_accuracy(model, val_split.x, val_split.y, eval_batch_size)
        history.append(
            {
                "epoch": 0,
                "train_loss": math.nan,
                "val_loss": val_loss,
                "val_acc": val_acc,
                "lr": optimizer.param_groups[0]["lr"],
                **monitor_row(model, val_split, settings.monitor, eval_batch_size),
            }
        )
        best_state, best_score, stale = None, -math.inf, 0
        step_seconds, samples = 0.0, 0
        first, stopped = 1, False
        order, position = None, 0  # the current shuffle of the prepared set and the next batch in it
    else:
        model.load_state_dict(resumed["model"])
        optimizer.load_state_dict(resumed["optimizer"])
        load_scheduler_state(scheduler, resumed["scheduler"])
        method.load_state_dict(resumed["method"])
        restore_rng_states(resumed["rng"], generator)
        history = resumed["history"]
        best_state, best_score, stale = resumed["best_state"], resumed["best_score"], resumed["stale"]
        step_seconds, samples = resumed["step_seconds"], resumed["samples"]
        first, stopped = resumed["epoch"] + 1, resumed["stopped"]
        order, position = resumed["order"], resumed["position"]
        log(f"{identity}: resumed from checkpoint {checkpoint} after epoch {resumed['epoch']}/{settings.epochs}")
    per_pass = math.ceil(n / settings.batch_size)  # batches of one shuffle of the prepared set
    steps = math.ceil(n_given / settings.batch_size) if settings.equal_steps else per_pass  # updates per epoch
    bar = progress(log, progress_seconds, settings.epochs * steps, identity, unit="step", initial=(first - 1) * steps)
    with bar:
        for epoch in range(first, settings.epochs + 1):
            if stopped:
                break
            _set_mode(model, settings.batchnorm)
            loss_sum, seen = 0.0, 0
            lr = optimizer.param_groups[0]["lr"]
            bar.set_postfix_str(f"epoch {epoch}/{settings.epochs}")
            for step in range(steps):
                if position == 0:  # a new shuffle (without equal_steps: at every epoch's start, as steps == per_pass)
                    order = torch.randperm(n, generator=generator)
                start = position * settings.batch_size
                idx = order[start : start + settings.batch_size]
                position = (position + 1) % per_pass
                batch = training_batch(model, train_split, idx, device, generator)
                started = time.perf_counter()
                optimizer.zero_grad(set_to_none=True)
                loss, _extra = method.loss(model, batch)
                value = loss.item()
                if not math.isfinite(value) or value > settings.max_loss:
                    raise TrainingDivergedError(
                        f"{identity}: training diverged at epoch {epoch}, step {step} (loss = {value}; "
                        f"bound max_loss = {settings.max_loss}). "
                        "Lower the learning rate or the regularizer's weight."
                    )
                loss.backward()
                optimizer.step()
                method.after_step(model)
                step_seconds += time.perf_counter() - started
                samples += idx.numel()
                loss_sum += value * idx.numel()
                seen += idx.numel()
                bar.update()
            if scheduler is not None:
                scheduler.step()
            val_loss, val_acc = evaluate_accuracy(model, val_split.x, val_split.y, eval_batch_size)
            history.append(
                {
                    "epoch": epoch,
                    "train_loss": loss_sum / seen,
                    "val_loss": val_loss,
                    "val_acc": val_acc,
                    "lr": lr,
                    **monitor_row(model, val_split, settings.monitor, eval_batch_size),
                }
            )
            log(f"{identity}: epoch {epoch}/{settings.epochs} train_loss {loss_sum / seen:.4f} val_acc {val_acc:.4f}")
            if settings.select != "last":
                score = val_acc if settings.select == "best_val" else -val_loss
                if score > best_score:
                    best_score, best_state, stale = score, copy.deepcopy(model.state_dict()), 0
                else:
                    stale += 1
                if settings.patience is not None and stale >= settings.patience:
                    log(f"{identity}: early stop after epoch {epoch} ({stale} epochs without improvement)")
                    stopped = True
            if checkpoint is not None:
                save_checkpoint(
                    checkpoint,
                    fingerprint,
                    {
                        "epoch": epoch,
                        "stopped": stopped,
                        "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler_state(scheduler),
                        "rng": rng_states(generator),
                        "method": method.state_dict(),
                        "best_state": best_state,
                        "best_score": best_score,
                        "stale": stale,
                        "history": history,
                        "step_seconds": step_seconds,
                        "samples": samples,
                        "order": order,
                        "position": position,
                    },
                )
            if after_epoch is not None:
                after_epoch(epoch)
    if settings.select != "last":
        if best_state is None:
            raise ValueError(f"{identity}: select '{settings.select}' needs a validation split (data.val_size > 0)")
        model.load_state_dict(best_state)
    if timing is not None:
        epochs_run = int(history[-1]["epoch"])  # every epoch makes ``steps`` updates; early stopping ends sooner
        timing.update(step_seconds=step_seconds, samples=float(samples), steps=epochs_run * steps)
    model.eval()
    return history
