"""The run's scale beside the papers' (torch-free): which preset, dataset, epochs and training images each paper's
experiments ran with, and which dataset the paper itself used (``dataset:`` / ``datasets:`` entries of its
published-numbers YAML, ``config/published/*.yaml``).

A reduced run on another dataset reads as a failed reproduction unless the reader is told first; the Summary opens
with :func:`banner_html`, and a paper's tables grey out their "diff" columns (:func:`compares_like_with_like`
false) where the run's data is not the paper's. A stand-in (config ``stand_ins:``) counts as the paper's dataset,
and the banner says it is a stand-in.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

NAMES = {"mnist": "MNIST", "fashionmnist": "Fashion-MNIST", "cifar10": "CIFAR-10", "imagenet": "ImageNet"}


def canonical(dataset: str) -> str:
    """'CIFAR-10' / 'cifar10' -> 'cifar10', 'Fashion-MNIST' / 'fashion_mnist' -> 'fashionmnist'."""
    return re.sub(r"[^a-z0-9]", "", str(dataset).lower())


def display(dataset: str) -> str:
    return NAMES.get(canonical(dataset), str(dataset))


def published_datasets(path: str | Path | None) -> list[str]:
    """Every dataset a published-numbers YAML names (keys ``dataset`` and ``datasets``, at any depth), canonical,
    in order of appearance; empty without a file."""
    if not path or not Path(path).is_file():
        return []
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key == "dataset" and isinstance(value, str):
                    found.append(canonical(value))
                elif key == "datasets" and isinstance(value, list):
                    found.extend(canonical(v) for v in value if isinstance(v, str))
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load(Path(path).read_text()))
    return list(dict.fromkeys(found))


def compares_like_with_like(experiments: Mapping[str, Mapping[str, Any]], paper_datasets: Iterable[str]) -> bool:
    """True when every experiment runs on one of the paper's datasets (its own or a stand-in for it)."""
    wanted = {canonical(d) for d in paper_datasets}
    if not wanted:
        return False
    return all(canonical(e.get("stand_in_for") or e["dataset"]) in wanted for e in experiments.values())


def data_count(experiment: Mapping[str, Any], key: str) -> int:
    """An image count of an experiment summary's ``data`` block: ``test_size``, the test points each replicate is
    evaluated on, or ``val_size``, the validation images its histories' accuracies are measured on; 0 where it is not
    a count (the whole split, whose size is not in the plan's summary)."""
    size = (experiment.get("data") or {}).get(key)
    return int(size) if isinstance(size, int | float) and not isinstance(size, bool) and size >= 1 else 0


def _range(values: Iterable[int]) -> str:
    values = sorted(set(values))
    if not values:
        return "?"
    return f"{values[0]}" if values[0] == values[-1] else f"{values[0]}-{values[-1]}"


def _thousands(n: int | None) -> str:
    if n is None:
        return "all"
    return f"{n / 1000:g}k" if n >= 1000 and n % 100 == 0 else f"{n:,}"


def experiment_line(name: str, e: Mapping[str, Any]) -> str:
    """'exp: Fashion-MNIST, 3k training images, epochs 1-12 (pretraining 5)'."""
    data = display(e["dataset"])
    if e.get("stand_in_for"):
        data += f" (a stand-in for {display(e['stand_in_for'])})"
    epochs = f"epochs {_range(e.get('epochs') or [])}"
    if e.get("pretrain_epochs") is not None:
        epochs += f" (pretraining {e['pretrain_epochs']})"
    return f"{name}: {data}, {_thousands(e.get('train_size'))} training images, {epochs}"


def banner_rows(scale: Mapping[str, Any], claims: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """Per paper: its label, this run's experiments (one line each), the paper's datasets, whether the "diff"
    columns compare like with like and (``claims``: label -> text) how its claims were decided."""
    rows = []
    for info in scale.get("papers", {}).values():
        experiments = info.get("experiments", {})
        theirs = info.get("paper_datasets", [])
        same = compares_like_with_like(experiments, theirs)
        rows.append(
            {
                "paper": info["label"],
                "this run": "; ".join(experiment_line(n, e) for n, e in experiments.items()),
                "the paper's data": ", ".join(display(d) for d in theirs) or "no paper (this project's comparison)",
                "diff columns": "compare like with like"
                if same
                else ("different dataset: greyed out" if theirs else "no published numbers"),
            }
        )
        if claims is not None:
            rows[-1]["claims"] = claims.get(info["label"], "")
    return rows


def banner_html(scale: Mapping[str, Any], claims: Mapping[str, str] | None = None) -> str:
    """The Summary's opening banner: the preset and, per paper, the data and scale it ran at beside the paper's
    (and, with ``claims``, how its claims were decided)."""
    rows = banner_rows(scale, claims)
    runs = [e for p in scale.get("papers", {}).values() for e in p.get("experiments", {}).values()]
    sizes = [e.get("train_size") for e in runs]
    epochs = [n for e in runs for n in e.get("epochs", [])]
    datasets = sorted({display(e["dataset"]) for e in runs})
    theirs = sorted({display(d) for p in scale.get("papers", {}).values() for d in p.get("paper_datasets", [])})
    known = [s for s in sizes if s is not None]
    size = "all" if not known else _thousands(min(known))
    if known and max(known) != min(known):
        size += f"-{_thousands(max(known))}"
    lead = (
        f"<strong>This run</strong> (preset <code>{html.escape(str(scale.get('preset', '?')))}</code>): "
        f"{html.escape(', '.join(datasets) or 'no paper experiments')}, {_range(epochs)} epochs, {size} training "
        f"images; the papers used {html.escape(', '.join(theirs) or '(none)')}. Differences from the published "
        "numbers ('diff') are shown only where the run uses the paper's dataset; elsewhere they are greyed out: "
        "a reduced run on other data is not a failed reproduction."
    )
    cells = "".join("<tr>" + "".join(f"<td>{html.escape(r[k])}</td>" for k in r) + "</tr>" for r in rows)
    head = "".join(f"<th>{k}</th>" for k in (rows[0] if rows else {}))
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>" if rows else ""
    return f'<div class="banner"><p>{lead}</p>{table}</div>'


def _size(n: int | None, whole: str) -> str:
    return whole if n is None else f"{n:,}"


def experiment_facts(summary: Mapping[str, Any], epochs: Iterable[int], pretrain_epochs: int | None) -> str:
    """One line for captions, every value resolved (no 'None', no 'default'): 'fashion_mnist, model
    ``mlp_datagrad``, train / validation / test 600 / 200 / 200 images (holdout, 1 fold); epochs 2; budgets:
    fgsm (linf) 0, 0.05, 0.1'."""
    data = summary["data"]
    folds = summary.get("folds", 1)
    sizes = (
        f"{_size(data.get('train_size'), 'all remaining')} / {_size(data.get('val_size'), 'none')} / "
        f"{_size(data.get('test_size'), 'all')}"
    )
    epoch_text = f"training epochs {_range(epochs)}"
    if pretrain_epochs is not None:
        epoch_text += f", pretraining {pretrain_epochs}"
    budgets = "; ".join(
        f"{name} ({a.get('norm', '?')}) {', '.join(f'{e:g}' for e in a['epsilons'])}"
        for name, a in summary.get("attacks", {}).items()
    )
    return (
        f"{summary['dataset']}, model ``{summary['arch']}``, train / validation / test {sizes} images "
        f"({data.get('scheme', 'holdout')}, {folds} fold{'s' if folds != 1 else ''}); {epoch_text}; budgets: {budgets}"
    )
