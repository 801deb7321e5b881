"""Expand the validated config into the jobs of the pipeline (no torch needed).

The JSON schema (workflow/schemas/config.schema.yaml) checks the config's shape; this module checks its
meaning before any job runs: that every dataset, architecture, method, attack and parameter name is known,
and it expands method grids into named variants. Errors name the offending key by its full path.

Vocabulary used across the pipeline:

- *experiment*: one dataset + one architecture + a set of methods and attacks (a paper's table, say).
- *method* / *variant*: a training objective and one named setting of its hyperparameters.
- *model id*: ``"{method}/{variant}"``; the pretrained reference model is ``"reference/pretrained"``.
- *attacker*: a model id whose gradients generate an adversarial set; every target model is evaluated
  on every attacker's set (the diagonal, attacker == target, is the white-box case).
"""

from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

REFERENCE_METHOD = "reference"
REFERENCE_VARIANT = "pretrained"
REFERENCE_ID = f"{REFERENCE_METHOD}/{REFERENCE_VARIANT}"

NAME_PATTERN = r"[a-z][a-z0-9_]*"
VARIANT_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.=+-]*"


class ConfigError(ValueError):
    """The config is well-formed but names something unknown or inconsistent."""


@dataclass(frozen=True)
class Variant:
    method: str
    name: str
    params: dict[str, Any]
    train: dict[str, Any]
    model_kwargs: dict[str, Any]

    @property
    def model_id(self) -> str:
        return f"{self.method}/{self.name}"


@dataclass
class Experiment:
    name: str
    config: dict[str, Any]
    variants: list[Variant] = field(default_factory=list)

    @property
    def dataset(self) -> str:
        return self.config["dataset"]

    @property
    def has_reference(self) -> bool:
        return "pretrain" in self.config

    @property
    def folds(self) -> list[int]:
        return list(range(int(self.config.get("folds", 1))))

    @property
    def attacks(self) -> list[str]:
        return list(self.config["attacks"])

    def model_ids(self) -> list[str]:
        ids = [REFERENCE_ID] if self.has_reference else []
        return ids + [v.model_id for v in self.variants]

    def attackers(self) -> list[str]:
        wanted = self.config.get("attackers", "all")
        return self.model_ids() if wanted == "all" else list(wanted)

    def variant(self, method: str, name: str) -> Variant:
        for v in self.variants:
            if v.method == method and v.name == name:
                return v
        raise ConfigError(f"experiments.{self.name}: no variant {method}/{name}")


def method_of(model_id: str) -> str:
    """The method part of a model id ``method/variant``."""
    return model_id.partition("/")[0]


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


def expand_variants(method: str, spec: Mapping[str, Any], where: str) -> list[Variant]:
    """Explicit ``variants`` plus the cartesian product of ``grid``, each on top of the method's ``params``."""
    base_params = dict(spec.get("params") or {})
    base_train = dict(spec.get("train") or {})
    base_model = dict(spec.get("model") or {})
    out: list[Variant] = []
    for name, vspec in (spec.get("variants") or {}).items():
        vspec = vspec or {}
        out.append(
            Variant(
                method,
                str(name),
                {**base_params, **(vspec.get("params") or {})},
                {**base_train, **(vspec.get("train") or {})},
                {**base_model, **(vspec.get("model") or {})},
            )
        )
    grid = spec.get("grid") or {}
    if grid:
        keys = list(grid)
        for values in itertools.product(*(grid[k] for k in keys)):
            assignment = dict(zip(keys, values))
            out.append(Variant(method, grid_variant_name(assignment), {**base_params, **assignment}, base_train, base_model))
    if not out:
        out.append(Variant(method, "default", base_params, base_train, base_model))
    names = [v.name for v in out]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"{where}: variant names {duplicates} are defined twice")
    for v in out:
        if not re.fullmatch(VARIANT_PATTERN, v.name):
            raise ConfigError(f"{where}.variants.{v.name}: variant names may use letters, digits and _ . = + - only")
    return out


def _check_params(kind: str, name: str, given: Mapping[str, Any], known: Mapping[str, Any], where: str) -> None:
    unknown = sorted(set(given) - set(known))
    if unknown:
        listing = ", ".join(sorted(known)) or "none"
        raise ConfigError(f"{where}: unknown parameter(s) {unknown} for {kind} '{name}' (known: {listing})")


def build_plan(config: Mapping[str, Any]) -> dict[str, Experiment]:
    """Check names and parameters, expand grids; return experiments by name."""
    # Imported here so that this module stays importable without the registries' dependencies.
    from advreg.attacks import ATTACKS
    from advreg.data.registry import DATASETS
    from advreg.methods import METHODS
    from advreg.models import MODEL_NAMES

    plan: dict[str, Experiment] = {}
    for exp_name, raw in (config.get("experiments") or {}).items():
        where = f"experiments.{exp_name}"
        if not re.fullmatch(NAME_PATTERN, exp_name):
            raise ConfigError(f"{where}: experiment names must match {NAME_PATTERN}")
        exp_cfg = copy.deepcopy(dict(raw))
        if exp_cfg["dataset"] not in DATASETS:
            raise ConfigError(f"{where}.dataset: unknown dataset {exp_cfg['dataset']!r} (known: {', '.join(DATASETS)})")
        arch = exp_cfg["model"]["arch"]
        if arch not in MODEL_NAMES:
            raise ConfigError(f"{where}.model.arch: unknown architecture {arch!r} (known: {', '.join(MODEL_NAMES)})")
        experiment = Experiment(exp_name, exp_cfg)
        for method, mspec in exp_cfg["methods"].items():
            mwhere = f"{where}.methods.{method}"
            if method == REFERENCE_METHOD:
                raise ConfigError(f"{mwhere}: '{REFERENCE_METHOD}' is reserved for the pretrained model")
            if method not in METHODS:
                raise ConfigError(f"{mwhere}: unknown method {method!r} (known: {', '.join(sorted(METHODS))})")
            for variant in expand_variants(method, mspec or {}, mwhere):
                _check_params("method", method, variant.params, METHODS[method].defaults, f"{mwhere}.{variant.name}")
                experiment.variants.append(variant)
        needs_reference = any(
            {**exp_cfg.get("finetune", {}), **v.train}.get("init", "reference") == "reference" for v in experiment.variants
        )
        if needs_reference and not experiment.has_reference:
            raise ConfigError(f"{where}: methods fine-tune from the reference (finetune.init: reference) but there is no 'pretrain' section")
        for attack, aspec in exp_cfg["attacks"].items():
            awhere = f"{where}.attacks.{attack}"
            if attack not in ATTACKS:
                raise ConfigError(f"{awhere}: unknown attack {attack!r} (known: {', '.join(sorted(ATTACKS))})")
            _check_params("attack", attack, (aspec or {}).get("params") or {}, ATTACKS[attack].defaults, awhere)
        known_ids = set(experiment.model_ids())
        wanted = exp_cfg.get("attackers", "all")
        if wanted != "all":
            missing = [a for a in wanted if a not in known_ids]
            if missing:
                raise ConfigError(f"{where}.attackers: {missing} are not models of this experiment (known: {sorted(known_ids)})")
        plan[exp_name] = experiment
    if not plan:
        raise ConfigError("experiments: the config defines no experiment")
    return plan


def iter_model_jobs(plan: Mapping[str, Experiment]) -> Iterable[tuple[str, int, str]]:
    """(experiment, fold, model id) for every trained model."""
    for exp in plan.values():
        for fold in exp.folds:
            for variant in exp.variants:
                yield exp.name, fold, variant.model_id
