"""Expand the validated config into the pipeline's jobs, without importing torch.

The JSON schema (workflow/schemas/config.schema.yaml) checks the config's shape; this module checks its
meaning before any job runs, with the components' own parameter declarations (``*/catalog.py``,
:mod:`advreg.params`): every dataset, architecture, method, attack, metric setting and paper is known and
every parameter has the right type and range. Errors name the offending key by its full path.

Vocabulary used across the pipeline:

- *experiment*: one dataset + one architecture + a set of methods and attacks (a paper's table, say).
- *method* / *variant*: a training objective and one named setting of its hyperparameters.
- *model id*: :class:`advreg.ids.ModelId`, written ``method/variant``; the pretrained reference model is
  ``reference/pretrained``.
- *attacker*: a model whose gradients generate an adversarial set; every target model is evaluated on every
  attacker's set (the diagonal, attacker == target, is the white-box case).
- *part*: one of the ``evaluation.jobs`` assessment jobs of a fold; the models are shared out among them.
- *training part*: with ``train_jobs: N``, one of the N jobs that train a fold's models one after the other
  (fewer processes: each job imports torch once); without it, every model has its own training job.
- *paper*: a module that renders one paper's tables, figures and claims from experiments' results.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from advreg.attacks.catalog import ATTACKS, AttackSpec
from advreg.data.registry import DatasetSpec, dataset_specs
from advreg.ids import NAME_PATTERN, REFERENCE, VARIANT_PATTERN, ModelId
from advreg.methods.catalog import METHODS
from advreg.metrics.catalog import RobustnessParams
from advreg.models.catalog import ADDITIVE_KWARGS, MODELS, ModelParams
from advreg.papers.catalog import PAPERS, PaperSpec
from advreg.params import ConfigError, Params
from advreg.plugins import load_plugins
from advreg.settings import DataParams, EvaluationParams
from advreg.training.settings import TrainSettings

__all__ = ["ConfigError", "Experiment", "Plan", "Variant", "build_plan", "grid_variant_name"]


@dataclass(frozen=True)
class Variant:
    """One model to train: its id, its method's parameters, its training settings and architecture kwargs."""

    id: ModelId
    params: Params
    train: TrainSettings
    model: ModelParams

    def job_params(self) -> dict[str, Any]:
        """Plain values for the training rule (what decides whether the model must be retrained)."""
        return {"params": self.params.to_dict(), "train": self.train.to_dict(), "model_kwargs": self.model.to_dict()}


@dataclass(frozen=True)
class AttackConfig:
    """One attack of an experiment, under its label (the config key; ``attack:`` names the registered attack
    when the label is not its name, so one attack can run with two settings)."""

    label: str
    spec: AttackSpec
    params: Params
    epsilons: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"attack": self.spec.name, "epsilons": list(self.epsilons), "params": self.params.to_dict()}


@dataclass
class Experiment:
    name: str
    description: str
    dataset: str
    data: DataParams
    arch: str
    model: ModelParams
    pretrain: TrainSettings | None
    variants: list[Variant] = field(default_factory=list)
    attacks: dict[str, AttackConfig] = field(default_factory=dict)
    attackers: list[ModelId] = field(default_factory=list)
    robustness: RobustnessParams = field(default_factory=RobustnessParams)
    folds: int = 1
    evaluation: EvaluationParams = field(default_factory=EvaluationParams)
    train_jobs: int | None = None  # training jobs per fold (None: one per model)
    priority: int = 0  # Snakemake's job priority for every job of the experiment (a scheduling hint only)

    @property
    def jobs(self) -> int:
        """Assessment jobs per fold."""
        return self.evaluation.jobs

    @property
    def has_reference(self) -> bool:
        return self.pretrain is not None

    def model_ids(self) -> list[ModelId]:
        return ([REFERENCE] if self.has_reference else []) + [v.id for v in self.variants]

    def variant(self, model_id: ModelId) -> Variant:
        for v in self.variants:
            if v.id == model_id:
                return v
        raise ConfigError(f"experiments.{self.name}: no variant {model_id}")

    def part_models(self, part: int) -> list[ModelId]:
        """The models whose white-box metrics and (if attackers) adversarial sets part ``part`` computes."""
        return self.model_ids()[part :: self.jobs]

    def train_parts(self) -> list[list[ModelId]]:
        """With ``train_jobs``: the models each training job of a fold trains, shared out in turn (else empty)."""
        if not self.train_jobs:
            return []
        ids = [v.id for v in self.variants]
        return [ids[part :: self.train_jobs] for part in range(self.train_jobs)]

    def train_part_params(self, part: int) -> dict[str, Any]:
        """Plain values for training part ``part`` (any of its models' settings changing reruns the part)."""
        return {
            "arch": self.arch,
            "data": self.data.to_dict(),
            "models": {str(m): self.variant(m).job_params() for m in self.train_parts()[part]},
        }

    def summary(self) -> dict[str, Any]:
        """Plain facts a paper module or a report caption needs about this experiment."""
        return {
            "name": self.name,
            "description": self.description,
            "dataset": self.dataset,
            "arch": self.arch,
            "data": self.data.to_dict(),
            "folds": self.folds,
            "variants": {str(v.id): v.params.to_dict() for v in self.variants},
            "attacks": {name: {**a.to_dict(), "norm": a.spec.norm} for name, a in self.attacks.items()},
            "training": {
                str(v.id): {
                    "epochs": v.train.epochs,
                    "batch_size": v.train.batch_size,
                    "equal_steps": v.train.equal_steps,
                    "select": v.train.select,
                }
                for v in self.variants
            },
        }

    def assess_params(self, part: int) -> dict[str, Any]:
        """Plain values for an assessment job (what decides whether it must rerun)."""
        models = self.part_models(part)
        return {
            "data": self.data.to_dict(),
            "attacks": {name: a.to_dict() for name, a in self.attacks.items()},
            "perturb": self.evaluation.perturb,
            "robustness": self.robustness.to_dict(),
            "models": [str(m) for m in models],
            "attackers": [str(m) for m in models if m in self.attackers],
            "targets": [str(m) for m in self.model_ids()],
        }


@dataclass
class Plan:
    experiments: dict[str, Experiment]
    papers: dict[str, tuple[PaperSpec, Params]]
    datasets: dict[str, DatasetSpec]  # the built-in ones and the config's own (``datasets:``)

    def __getitem__(self, name: str) -> Experiment:
        return self.experiments[name]

    def __iter__(self) -> Iterator[Experiment]:
        return iter(self.experiments.values())


def format_value(value: Any) -> str:
    """Short, path-safe text for a grid value (0.0001 -> 0.0001, 1e-05 -> 1e-05, True -> true)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def grid_variant_name(assignment: Mapping[str, Any]) -> str:
    """Name of a grid point: ``lam0.01_phi0.1`` for ``{"lam": 0.01, "phi": 0.1}`` (keys in config order)."""
    return "_".join(f"{key}{format_value(value)}" for key, value in assignment.items())


def _variant_specs(spec: Mapping[str, Any], where: str) -> list[tuple[str, dict, dict, dict]]:
    """(name, params, train overrides, model overrides) of the explicit ``variants`` and the ``grid`` points,
    each on top of the method's own ``params``/``train``/``model``; ``default`` if neither is given."""
    base = [dict(spec.get(key) or {}) for key in ("params", "train", "model")]
    out = []
    for name, vspec in (spec.get("variants") or {}).items():
        vspec = vspec or {}
        out.append(
            (
                str(name),
                *({**b, **(vspec.get(key) or {})} for b, key in zip(base, ("params", "train", "model"), strict=True)),
            )
        )
    grid = spec.get("grid") or {}
    keys = list(grid)
    for values in itertools.product(*(grid[k] for k in keys)) if keys else ():
        assignment = dict(zip(keys, values, strict=True))
        out.append((grid_variant_name(assignment), {**base[0], **assignment}, base[1], base[2]))
    if not out:
        out.append(("default", *base))
    names = [name for name, *_ in out]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"{where}: variant names {duplicates} are defined twice")
    for name, *_ in out:
        if not re.fullmatch(VARIANT_PATTERN, name):
            raise ConfigError(f"{where}.variants.{name}: variant names may use letters, digits and _ . = + - only")
    return out


def _check_sizes(data: DataParams, spec: DatasetSpec, where: str) -> None:
    """Sizes a dataset of known size cannot give (built-ins' ``shapes``), refused before any job runs; the split
    code (:mod:`advreg.splits`) draws ``val_size``, then ``train_size`` from the rest of the training split."""
    n_train, n_test = (spec.shapes.get(role, (None,))[0] for role in ("train_labels", "test_labels"))
    if n_train is None or n_test is None:
        return
    what = f"dataset {spec.name!r} has {n_train} training and {n_test} test samples"
    if data.val_size > n_train:
        raise ConfigError(f"{where}.val_size: {data.val_size} validation samples, but {what}")
    if data.train_size is not None and data.train_size > n_train - data.val_size:
        raise ConfigError(
            f"{where}.train_size: {data.train_size} training samples, but {what}: at most "
            f"{n_train - data.val_size} beside val_size {data.val_size}"
        )
    if data.test_size is not None and data.test_size > n_test:
        raise ConfigError(f"{where}.test_size: {data.test_size} test samples, but {what}")
    if data.scheme == "cv":
        train = data.train_size if data.train_size is not None else n_train - data.val_size
        pool = n_train - data.val_size - train + n_test
        if data.pool_size is not None and data.pool_size > pool:
            raise ConfigError(
                f"{where}.pool_size: {data.pool_size} samples, but the pool (the training samples not set aside "
                f"for the reference, and the test samples) of {what} holds {pool}"
            )


def _experiment(name: str, raw: Mapping[str, Any], datasets: Mapping[str, Any]) -> Experiment:
    where = f"experiments.{name}"
    if not re.fullmatch(NAME_PATTERN, name):
        raise ConfigError(f"{where}: experiment names must match {NAME_PATTERN}")
    cfg = copy.deepcopy(dict(raw))
    if cfg["dataset"] not in datasets:
        raise ConfigError(f"{where}.dataset: unknown dataset {cfg['dataset']!r} (known: {', '.join(datasets)})")
    arch = cfg["model"]["arch"]
    MODELS.get_spec(arch, f"{where}.model.arch")  # unknown: names the known ones (and how to add a plugin)
    model_kwargs = dict(cfg["model"].get("kwargs") or {})
    exp = Experiment(
        name=name,
        description=cfg.get("description", ""),
        dataset=cfg["dataset"],
        data=DataParams.parse(cfg.get("data"), f"{where}.data"),
        arch=arch,
        model=MODELS[arch].parse(model_kwargs, f"{where}.model.kwargs"),
        pretrain=TrainSettings.parse(cfg["pretrain"], f"{where}.pretrain") if "pretrain" in cfg else None,
        robustness=RobustnessParams.parse(cfg.get("robustness"), f"{where}.robustness"),
        folds=int(cfg.get("folds", 1)),
        evaluation=EvaluationParams.parse(cfg.get("evaluation"), f"{where}.evaluation"),
        train_jobs=int(cfg["train_jobs"]) if cfg.get("train_jobs") is not None else None,
        priority=int(cfg.get("priority", 0)),
    )
    _check_sizes(exp.data, datasets[exp.dataset], f"{where}.data")
    if exp.data.scheme == "cv" and exp.folds > int(exp.data.folds or 0):
        raise ConfigError(
            f"{where}.folds: {exp.folds} folds run, but data.folds splits the pool into {exp.data.folds} "
            "(folds 0 .. folds - 1 of the cross-validation run)"
        )
    finetune = dict(cfg.get("finetune") or {})
    if not exp.has_reference:  # no pretrained reference to fine-tune: every model trains from scratch unless told
        finetune.setdefault("init", "scratch")
    for method, mspec in cfg["methods"].items():
        mwhere = f"{where}.methods.{method}"
        if method == REFERENCE.method:
            raise ConfigError(f"{mwhere}: '{REFERENCE.method}' is reserved for the pretrained model")
        spec = METHODS.get_spec(method, mwhere)
        for vname, params, train, model in _variant_specs(mspec or {}, mwhere):
            vwhere = f"{mwhere}.{vname}"
            settings = TrainSettings.parse({**finetune, **train}, f"{vwhere}.train")
            changed = sorted(set(model) - set(ADDITIVE_KWARGS))
            if changed and settings.init == "reference":
                raise ConfigError(
                    f"{vwhere}.model: architecture overrides {changed} need train init 'scratch' (the reference "
                    f"fixes the architecture; only {', '.join(ADDITIVE_KWARGS)} may be added to it)"
                )
            kwargs = MODELS[arch].parse({**model_kwargs, **model}, f"{vwhere}.model")
            if spec.needs_aux_head and not getattr(kwargs, "aux_classes", 0):
                raise ConfigError(
                    f"{vwhere}.model: method '{method}' needs a model with an auxiliary head "
                    f"(architecture '{arch}' with aux_classes > 0)"
                )
            exp.variants.append(
                Variant(ModelId(method, vname), spec.parse(params, f"{vwhere}.params"), settings, kwargs)
            )
    if any(v.train.init == "reference" for v in exp.variants) and not exp.has_reference:
        raise ConfigError(
            f"{where}: methods fine-tune from the reference (init: reference) but there is no 'pretrain' section"
        )
    for label, aspec in (cfg.get("attacks") or {}).items():
        awhere = f"{where}.attacks.{label}"
        if not re.fullmatch(NAME_PATTERN, label):
            raise ConfigError(f"{awhere}: attack labels must match {NAME_PATTERN}")
        spec = ATTACKS.get_spec(aspec.get("attack", label), awhere + (".attack" if "attack" in aspec else ""))
        epsilons = tuple(float(e) for e in aspec["epsilons"])
        params = spec.parse(aspec.get("params"), f"{awhere}.params")
        exp.attacks[label] = AttackConfig(label, spec, params, epsilons)
    known = exp.model_ids()
    wanted = cfg.get("attackers", "all")
    if wanted == "all":
        exp.attackers = list(known)
    else:
        exp.attackers = [ModelId.parse(a, f"{where}.attackers") for a in wanted]
        missing = [str(a) for a in exp.attackers if a not in known]
        if missing:
            raise ConfigError(
                f"{where}.attackers: {missing} are not models of this experiment (known: {sorted(map(str, known))})"
            )
    source = exp.robustness.latent.source
    if source and ModelId.parse(source, f"{where}.robustness.latent.source") not in known:
        raise ConfigError(
            f"{where}.robustness.latent.source: {source!r} is not a model of this experiment "
            f"(known: {sorted(map(str, known))})"
        )
    if exp.jobs > len(known):
        raise ConfigError(f"{where}.evaluation.jobs: {exp.jobs} jobs for {len(known)} models")
    if exp.train_jobs is not None and not 1 <= exp.train_jobs <= len(exp.variants):
        raise ConfigError(
            f"{where}.train_jobs: {exp.train_jobs} training jobs per fold for {len(exp.variants)} models "
            "(use 1 to the number of models, or leave it out for one job per model)"
        )
    return exp


def build_plan(config: Mapping[str, Any]) -> Plan:
    """Check names and parameters, expand grids; return the experiments, papers and datasets.

    Plugins (:mod:`advreg.plugins`: installed entry points, the config's ``module:`` keys) are registered first, so
    their names and parameters are checked as the built-ins' are."""
    load_plugins(config)
    datasets = dataset_specs(config.get("datasets"))
    experiments = {name: _experiment(name, raw, datasets) for name, raw in (config.get("experiments") or {}).items()}
    if not experiments:
        raise ConfigError("experiments: the config defines no experiment")
    papers = {}
    for name, block in (config.get("papers") or {}).items():
        where = f"papers.{name}"
        spec = PAPERS.get_spec(name, where)
        params = spec.parse(block, where)
        for exp_name in params.experiments():
            if exp_name not in experiments:
                raise ConfigError(
                    f"{where}: experiment {exp_name!r} is not in this config (known: {', '.join(experiments)})"
                )
        spec.check(params, experiments, where)
        papers[name] = (spec, params)
    return Plan(experiments, papers, datasets)
