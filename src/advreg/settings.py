"""Config sections shared by every experiment that are neither components nor training: the data sizes and
the runtime settings (torch-free)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from advreg.params import Params, param


@dataclass(frozen=True)
class DataParams(Params):
    """Sizes of an experiment's splits (seeded random subsets; see advreg.splits)."""

    train_size: int | None = param(None, "training samples (null: all not used for validation)", ge=1)
    val_size: int = param(0, "validation samples, drawn from the training split", ge=0)
    test_size: int | None = param(None, "test samples (null: the whole test split)", ge=1)


@dataclass(frozen=True)
class EvaluationParams(Params):
    """How an experiment's adversarial sets are evaluated."""

    jobs: int = param(1, "assessment jobs per fold; the models are shared out among them (results do not change)", ge=1)
    perturb: Literal["all", "correct"] = param(
        "all",
        "perturb every test point, or only those the attacker classifies correctly when clean (LWA's evaluation; "
        "the others stay clean in its sets, for every target)",
    )


@dataclass(frozen=True)
class RuntimeParams(Params):
    """Settings that change memory use or speed but never results: changing them reruns nothing."""

    batch_size: int = param(500, "samples per gradient computation in attacks and metrics", ge=1)
    eval_batch_size: int = param(1000, "samples per forward pass when evaluating accuracy", ge=1)


@dataclass(frozen=True)
class ReproducibilityParams(Params):
    """Settings that decide the bits of every result, fixed per job whatever the machine."""

    threads: int = param(
        1,
        "torch threads of every compute job (results depend on it, so it is not taken from "
        "--cores; jobs run side by side instead)",
        ge=1,
    )


def runtime_settings(config: dict) -> RuntimeParams:
    return RuntimeParams.parse(config.get("runtime"), "runtime")


def reproducibility_settings(config: dict) -> ReproducibilityParams:
    return ReproducibilityParams.parse(config.get("reproducibility"), "reproducibility")
