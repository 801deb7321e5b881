"""Config sections shared by every experiment that are neither components nor training: the data sizes and
the runtime settings (torch-free)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from advreg.params import ConfigError, Params, param


@dataclass(frozen=True)
class DataParams(Params):
    """Sizes of an experiment's splits (seeded random subsets; see advreg.splits).

    ``holdout``: train / validation / test subsets; an experiment's folds are replicates with other seeds.
    ``cv`` (HLDR sec. IV): the reference is pretrained on ``train_size`` random training samples (validated on
    ``val_size`` more), which are then set aside; the rest of the training split and the test split form the
    pool, split into ``folds`` stratified disjoint subsets; fold k tests on subset k and fine-tunes on samples of
    the others."""

    scheme: Literal["holdout", "cv"] = param(
        "holdout", "holdout subsets, or HLDR's stratified k-fold cross-validation after a pretraining set"
    )
    train_size: int | None = param(
        None, "training samples (cv: the reference's pretraining samples) (null: all not used for validation)", ge=1
    )
    val_size: int = param(
        0, "validation samples, drawn from the training split (cv: the reference's, set aside with its own)", ge=0
    )
    test_size: int | None = param(None, "test samples (null: the whole test split; holdout only)", ge=1)
    folds: int | None = param(None, "cv: stratified disjoint subsets of the pool (HLDR: 10; required with cv)", ge=2)
    pool_size: int | None = param(
        None, "cv: samples of the pool, drawn at random from it (null: all the data not set aside)", ge=2
    )
    finetune_size: int | None = param(
        None, "cv: fine-tuning samples per fold, drawn from the other subsets (HLDR: 6000; null: all of them)", ge=1
    )
    finetune_val_size: int = param(
        0, "cv: validation samples per fold, drawn from the other subsets, apart from the fine-tuning ones", ge=0
    )

    def check(self, where: str) -> None:
        cv_only = {"folds": self.folds, "pool_size": self.pool_size, "finetune_size": self.finetune_size}
        if self.scheme == "holdout":
            given = sorted(k for k, v in {**cv_only, "finetune_val_size": self.finetune_val_size}.items() if v)
            if given:
                raise ConfigError(f"{where}: {given} apply to scheme 'cv' only (scheme is 'holdout')")
        else:
            if self.folds is None:
                raise ConfigError(f"{where}.folds: scheme 'cv' needs the number of folds (HLDR: 10)")
            if self.test_size is not None:
                raise ConfigError(f"{where}.test_size: with scheme 'cv' the test sets are the folds (use pool_size)")


@dataclass(frozen=True)
class EvaluationParams(Params):
    """How an experiment's adversarial sets are evaluated."""

    jobs: int = param(1, "assessment jobs per fold; the models are shared out among them (results do not change)", ge=1)
    perturb: Literal["all", "correct"] = param(
        "all",
        "perturb every test point, or only those the attacker classifies correctly when clean (LWA's evaluation; "
        "the others stay clean in its sets, for every target)",
    )
    keep_adversarial: bool = param(
        True,
        "keep the adversarial sets (assess/part*/adversarial.pt) once evaluated; false: not written (no table, "
        "figure or report reads them; turning it off reruns nothing, turning it on reruns the assessment)",
    )


@dataclass(frozen=True)
class RuntimeParams(Params):
    """Settings that change memory use, speed or the logs but never results: changing them reruns nothing."""

    batch_size: int = param(500, "samples per gradient computation in attacks and metrics", ge=1)
    eval_batch_size: int = param(1000, "samples per forward pass when evaluating accuracy", ge=1)
    progress_seconds: float = param(
        30.0, "seconds between the progress lines of training, attacks and evaluation in the job logs (0: none)", ge=0
    )


@dataclass(frozen=True)
class ReproducibilityParams(Params):
    """Settings that decide the bits of every result, fixed per job whatever the machine."""

    mode: Literal["portable", "native"] = param(
        "portable",
        "portable: every numeric library runs its AVX2 code path, so any x86-64 machine computes the same bits; "
        "native: the machine's fastest paths (results then depend on its instruction set)",
    )
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
