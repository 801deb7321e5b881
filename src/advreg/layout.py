"""Where every artifact of the pipeline lives (torch-free): the rules' output patterns and the path builders
that input functions, stages and paper modules use, so that a path is written once."""

from __future__ import annotations

import os

from advreg.ids import ModelId

DATASET = "results/data/{dataset}.pt"
REFERENCE_MODEL = "results/{experiment}/reference/model.pt"
REFERENCE_HISTORY = "results/{experiment}/reference/history.csv"
MODEL = "results/{experiment}/fold{fold}/models/{method}/{variant}/model.pt"
HISTORY = "results/{experiment}/fold{fold}/models/{method}/{variant}/history.csv"
# Wall time of the optimisation steps (not reproducible: kept out of the histories and the expected hashes).
TIMING = "results/{experiment}/fold{fold}/models/{method}/{variant}/timing.json"
# One assessment job per (experiment, fold, part): the parts share out the models (config evaluation.jobs).
PART_FILES = {
    "adversarial": "results/{experiment}/fold{fold}/assess/part{part}/adversarial.pt",  # every attacker's sets
    "crosseval": "results/{experiment}/fold{fold}/assess/part{part}/crosseval.csv",
    "robustness": "results/{experiment}/fold{fold}/assess/part{part}/robustness.csv",
    "examples": "results/{experiment}/fold{fold}/assess/part{part}/examples.npz",
    # per (target, threat model) the points robust to every attack of the part (advreg.evaluation.worstcase)
    "worstcase": "results/{experiment}/fold{fold}/assess/part{part}/worstcase.csv",
}
# Per experiment, gathered over folds and parts (tidy, torch-free to read).
CROSSEVAL = "results/{experiment}/crosseval.csv"
ROBUSTNESS = "results/{experiment}/robustness.csv"
WORSTCASE = "results/{experiment}/worstcase.csv"  # per-sample worst case per threat model, the parts ANDed
HISTORIES = "results/{experiment}/histories.csv"
EXAMPLES = "results/{experiment}/examples.npz"
TIMINGS = "results/{experiment}/timings.csv"  # seconds per training sample of every trained model (not reproducible)
FIGURES = "results/{experiment}/figures"
TABLES = "results/{experiment}/tables"
PAPER = "results/papers/{paper}"
LOG = "logs/{name}.log"
BENCHMARK = "results/benchmarks/{name}.tsv"


# Result files that record how long things took (or the report built from them): they differ between runs.
# Every other file under results/ is identical on every rerun with the same config.
TIMED_NAMES = ("timing.json", "timings.csv", "report.html", "manifest.json")
MANIFEST = "results/manifest.json"  # the run's provenance: hashes, config, packages, commit, machine
TIMED_DIRS = ("results/benchmarks/", "results/report/")
# The report's own pages (rule report_pages, after the manifest): summary and provenance, with the run's times.
REPORT_SUMMARY = "results/report/summary.html"
REPORT_PROVENANCE = "results/report/provenance.html"
REPORT_TIMING_FIGURE = "results/report/time_and_memory_per_rule.png"
# A training job's per-epoch checkpoint (and its .sha256), beside the model it becomes: not a result (it is deleted
# once the model is written; one left over belongs to a job that was interrupted and will resume from it).
CHECKPOINT_SUFFIX = ".ckpt"


def is_reproducible(path: str) -> bool:
    """Whether a result file (path relative to the working directory, with /) is identical on every rerun. A
    paper's outputs built from measured times are declared with the paper (``timed`` in
    :mod:`advreg.papers.catalog`, e.g. HLDR's Table I and claims); everything else a paper writes is reproducible."""
    from advreg.papers.catalog import PAPERS  # the registry imports nothing of this module's

    name = path.rsplit("/", 1)[-1]
    if name.endswith((CHECKPOINT_SUFFIX, f"{CHECKPOINT_SUFFIX}.sha256")):
        return False
    for spec in PAPERS.values():
        if spec.timed and path.startswith(tuple(f"results/papers/{spec.name}/{prefix}" for prefix in spec.timed)):
            return False
    return not path.startswith(TIMED_DIRS) and name not in TIMED_NAMES


def checkpoint_path(model_out: str | os.PathLike) -> str:
    """Where the job that writes the model ``model_out`` keeps its training checkpoint: ``<model_out>.ckpt``."""
    return f"{os.fspath(model_out)}{CHECKPOINT_SUFFIX}"


def model_path(experiment: str, fold: int, model_id: ModelId, what: str = "model.pt") -> str:
    """A model's artifact (``model.pt`` or ``history.csv``); the reference is shared by all folds."""
    pattern = {"model.pt": (REFERENCE_MODEL, MODEL), "history.csv": (REFERENCE_HISTORY, HISTORY)}[what]
    if model_id.is_reference:
        return pattern[0].format(experiment=experiment)
    return pattern[1].format(experiment=experiment, fold=fold, method=model_id.method, variant=model_id.variant)


def part_file(experiment: str, fold: int, part: int, what: str) -> str:
    return PART_FILES[what].format(experiment=experiment, fold=fold, part=part)


def experiment_file(pattern: str, experiment: str) -> str:
    return pattern.format(experiment=experiment)
