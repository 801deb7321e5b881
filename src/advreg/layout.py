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
}
# Per experiment, gathered over folds and parts (tidy, torch-free to read).
CROSSEVAL = "results/{experiment}/crosseval.csv"
ROBUSTNESS = "results/{experiment}/robustness.csv"
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


# A paper's outputs built from measured times: HLDR's Table I (training time per sample of each method) and its
# claims page, which judges the paper's timing claim on those times. Everything else a paper writes is reproducible.
TIMED_PAPER_OUTPUTS = {"hldr": ("claims.", "tables/table1.")}


def is_reproducible(path: str) -> bool:
    """Whether a result file (path relative to the working directory, with /) is identical on every rerun."""
    name = path.rsplit("/", 1)[-1]
    if name.endswith((CHECKPOINT_SUFFIX, f"{CHECKPOINT_SUFFIX}.sha256")):
        return False
    for paper, prefixes in TIMED_PAPER_OUTPUTS.items():
        if path.startswith(tuple(f"results/papers/{paper}/{prefix}" for prefix in prefixes)):
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
