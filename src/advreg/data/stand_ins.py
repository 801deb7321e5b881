"""Stand-in datasets: run any preset on a local copy of a dataset, even a partial one with its own pins, without
editing the preset.

A config (usually a second ``--configfile`` given after the preset) declares its own dataset under ``datasets:``
and names, under ``stand_ins:``, the built-in dataset it stands in for::

    datasets:
      mnist_partial: {format: idx, dir: ../shared/data/mnist-partial, description: "...", digests: {...}}
    stand_ins:
      mnist: mnist_partial

Every experiment of the preset whose ``dataset`` is ``mnist`` then runs on ``mnist_partial``. The substitution
is made on the config itself before the plan is built, so the run manifest, every job's parameters and every
caption name the stand-in, and the report says that the data is a stand-in (:func:`stand_in_note`).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from advreg.data.registry import DATASETS
from advreg.params import ConfigError


def apply_stand_ins(config: MutableMapping[str, Any]) -> dict[str, str]:
    """Replace, in every experiment of ``config``, a dataset named in ``stand_ins`` by the config's own dataset
    standing in for it; return ``{experiment: original dataset}`` for the experiments changed.

    Errors name the config key: the replaced dataset must be a built-in one, the stand-in one of ``datasets:``.
    """
    stand_ins = config.get("stand_ins") or {}
    declared = config.get("datasets") or {}
    for original, substitute in stand_ins.items():
        where = f"stand_ins.{original}"
        if original not in DATASETS:
            raise ConfigError(f"{where}: {original!r} is not a built-in dataset (known: {', '.join(DATASETS)})")
        if substitute not in declared:
            known = ", ".join(declared) or "none declared"
            raise ConfigError(
                f"{where}: the stand-in {substitute!r} is not a dataset of this config's datasets: block ({known})"
            )
    replaced = {}
    for name, experiment in (config.get("experiments") or {}).items():
        original = (experiment or {}).get("dataset")
        if original in stand_ins:
            experiment["dataset"] = stand_ins[original]
            replaced[name] = original
    return replaced


def stand_in_note(config: Mapping[str, Any], dataset: str) -> str:
    """One sentence for captions and pages: empty unless ``dataset`` stands in for a built-in dataset in this
    run, else e.g. "mnist_partial stands in for mnist: real MNIST, the first 24,345 ..."."""
    originals = [o for o, s in (config.get("stand_ins") or {}).items() if s == dataset]
    if not originals:
        return ""
    description = ((config.get("datasets") or {}).get(dataset) or {}).get("description", "")
    text = f"stand-in data: {dataset} stands in for {' and '.join(originals)}"
    return f"{text} ({description})" if description else text
