"""Training settings of a config's ``pretrain`` / ``finetune`` sections and of a variant's ``train`` overrides
(torch-free: the workflow's plan is built from this)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from advreg.params import ConfigError, Params, param


@dataclass(frozen=True)
class OptimizerParams(Params):
    """The optimiser (``momentum`` and ``nesterov`` apply to SGD only)."""

    name: Literal["sgd", "adam", "nadam"] = param("sgd", "SGD, Adam or Nadam (HLDR)")
    lr: float = param(0.01, "learning rate", gt=0)
    momentum: float = param(0.0, "SGD momentum", ge=0)
    weight_decay: float = param(0.0, "L2 weight decay added by the optimiser", ge=0)
    nesterov: bool = param(False, "Nesterov momentum (SGD)")

    def check(self, where: str) -> None:
        if self.name != "sgd" and (self.momentum or self.nesterov):
            raise ConfigError(f"{where}: momentum and nesterov apply to sgd only, not {self.name}")


@dataclass(frozen=True)
class LRScheduleParams(Params):
    """Multiply the learning rate by ``gamma`` after the given fractions of the epochs."""

    milestones: tuple[float, ...] = param(
        (), "fractions of the epochs after which the rate is multiplied by gamma", gt=0, le=1
    )
    gamma: float = param(0.1, "factor applied at each milestone", gt=0)


@dataclass(frozen=True)
class MonitorParams(Params):
    """Extra per-epoch measurements on the validation split, kept in the model's history (learning curves:
    LWA Fig. 2, DeepDefense Fig. 2). They consume no random numbers of the training and change no result."""

    attack: str = param("", "accuracy under this attack, white-box, at epsilon (column val_acc_<attack>); '': none")
    epsilon: float = param(0.0, "the attack's budget", ge=0)
    rho_2: bool = param(False, "DeepFool's rho_2 (DeepDefense eq. 7) of the model (column val_rho_2)")
    samples: int = param(1000, "validation samples the measurements use (the first ones)", ge=1)


@dataclass(frozen=True)
class TrainSettings(Params):
    """How a model is trained: from the reference or from scratch, optimiser, schedule and model selection."""

    init: Literal["reference", "scratch"] = param(
        "reference", "fine-tune the experiment's reference or train from scratch"
    )
    epochs: int = param(1, "passes over the training split", ge=0)
    batch_size: int = param(100, "samples per update", ge=1)
    equal_steps: bool = param(
        False,
        "every epoch makes the updates of one pass over the training split as given, also for a method that enlarges "
        "it (DataGrad multitask's rotated copies, HLDR's pairs): it then covers its set in proportionally fewer passes "
        "and every method makes the same number of optimiser updates (the arena, issue 24); false: one pass over the "
        "enlarged set per epoch",
    )
    optimizer: OptimizerParams = param(OptimizerParams, "the optimiser")
    lr_schedule: LRScheduleParams | None = param(None, "learning-rate milestones (none: constant rate)")
    select: Literal["last", "best_val", "best_val_loss"] = param(
        "last",
        "keep the last epoch, the epoch of best validation accuracy or of lowest validation loss (HLDR; earliest on "
        "ties)",
    )
    patience: int | None = param(
        None,
        "early stopping: stop after this many epochs without improving the selection criterion (HLDR sec. IV: 100 "
        "on the validation loss); null: never",
        ge=1,
    )
    batchnorm: Literal["train", "frozen"] = param("train", "frozen: BatchNorm layers stay in eval mode (DeepDefense)")
    seeding: Literal["per_model", "shared"] = param(
        "per_model",
        "per_model: each method variant draws its initial weights and minibatch order from a seed of its own; shared: "
        "every variant of the experiment's fold draws both from one seed, as one script with one seed trains them all",
    )
    max_loss: float = param(1.0e3, "a loss above this (or non-finite) stops the job as diverged", gt=0)
    monitor: MonitorParams = param(MonitorParams, "extra per-epoch measurements for learning curves")

    def check(self, where: str) -> None:
        if self.patience is not None and self.select == "last":
            raise ConfigError(f"{where}.patience: early stopping needs select 'best_val' or 'best_val_loss'")
