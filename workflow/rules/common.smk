# Helpers shared by all rules: config validation, the plan (torch-free: src/advreg/plan.py), input functions
# and the final outputs. Library code lives in src/advreg; this file only wires it to Snakemake.
import re
import sys
from pathlib import Path

from snakemake.utils import validate

SRC_DIR = str(Path(workflow.basedir) / "src")
if SRC_DIR not in sys.path:
    sys.path.insert(0, SRC_DIR)
SCRIPTS_DIR = str(Path(workflow.basedir) / "scripts")  # _shown: report-readable parameters of the render rules
if SCRIPTS_DIR not in sys.path:
    sys.path.append(SCRIPTS_DIR)

from _shown import shown

from advreg import layout
from advreg.ids import NAME_PATTERN, REFERENCE, VARIANT_PATTERN, ModelId
from advreg.data.stand_ins import apply_stand_ins, stand_in_note
from advreg.plan import build_plan
from advreg.reporting import labels as report_labels
from advreg.reporting import scale as report_scale
from advreg.settings import reproducibility_settings

from advreg.plugins import load_plugins

load_plugins(config)  # before the schema: a plugin's own errors (import, shadowing a built-in) name the key
validate(config, "../schemas/config.schema.yaml")
STAND_INS = apply_stand_ins(config)  # experiment -> the built-in dataset its stand-in replaces
PLAN = build_plan(config)
GPUS = config.get("cluster", {}).get("gpu", 0)
TORCH_THREADS = reproducibility_settings(config).threads


def alternatives(names):
    """Regex matching exactly one of ``names`` (for wildcard constraints)."""
    return "|".join(map(re.escape, names))


def workflow_file(path):
    """A path from the config: as given if it exists (relative to the working directory), else relative
    to the workflow's folder (so `--directory` runs find the project's config/published files)."""
    if Path(path).exists():
        return path
    return str(Path(workflow.basedir) / path)


def dataset_file(wildcards):
    return layout.DATASET.format(dataset=PLAN[wildcards.experiment].dataset)


def experiment_priority(wildcards):
    """The experiment's `priority` (a scheduling hint) for each of its jobs."""
    return PLAN[wildcards.experiment].priority


def wildcard_model(wildcards):
    return ModelId(wildcards.method, wildcards.variant)


def pretrain_params(wildcards):
    exp = PLAN[wildcards.experiment]
    return {
        "arch": exp.arch,
        "model_kwargs": exp.model.to_dict(),
        "data": exp.data.to_dict(),
        "pretrain": exp.pretrain.to_dict(),
    }


def train_inputs(wildcards):
    exp = PLAN[wildcards.experiment]
    inputs = {"dataset": dataset_file(wildcards)}
    if exp.variant(wildcard_model(wildcards)).train.init == "reference":
        inputs["reference"] = layout.model_path(exp.name, 0, REFERENCE)
    return inputs


def train_params(wildcards):
    exp = PLAN[wildcards.experiment]
    return {"arch": exp.arch, "data": exp.data.to_dict(), **exp.variant(wildcard_model(wildcards)).job_params()}


def train_part_inputs(exp):
    inputs = {"dataset": layout.DATASET.format(dataset=exp.dataset)}
    if any(v.train.init == "reference" for v in exp.variants):
        inputs["reference"] = layout.model_path(exp.name, 0, REFERENCE)
    return inputs


def train_part_files(exp, fold, part, what):
    """What training part ``part`` of fold ``fold`` writes per model: ``what`` is a layout pattern (MODEL, ...)."""
    return [
        what.format(experiment=exp.name, fold=fold, method=m.method, variant=m.variant) for m in exp.train_parts()[part]
    ]


def train_part_logs(exp, fold, part):
    """The part's own log (start-up, the models in turn), then one log per model, as the per-model rule writes."""
    return [f"logs/{exp.name}/fold{fold}/train/part{part}.log"] + [
        f"logs/{exp.name}/fold{fold}/train/{m.method}/{m.variant}.log" for m in exp.train_parts()[part]
    ]


def fold_models(wildcards):
    """Every model of the fold (the targets of every assessment part), by model id."""
    exp = PLAN[wildcards.experiment]
    return {str(m): layout.model_path(exp.name, int(wildcards.fold), m) for m in exp.model_ids()}


def assess_inputs(wildcards):
    return {"dataset": dataset_file(wildcards), **fold_models(wildcards)}


def assess_params(wildcards):
    return PLAN[wildcards.experiment].assess_params(int(wildcards.part))


def experiment_parts(experiment):
    exp = PLAN[experiment]
    return [
        {"fold": fold, **{what: layout.part_file(exp.name, fold, part, what) for what in layout.PART_FILES}}
        for fold in range(exp.folds)
        for part in range(exp.jobs)
    ]


def experiment_histories(experiment):
    """History CSV -> (experiment, fold, model id) for every trained model (the reference once)."""
    exp = PLAN[experiment]
    out = {}
    for fold in range(exp.folds):
        for m in exp.model_ids():
            if fold == 0 or not m.is_reference:
                out[layout.model_path(exp.name, fold, m, "history.csv")] = (exp.name, fold, str(m))
    return out


def experiment_timings(experiment):
    """Timing JSON -> (experiment, fold, model id) for every trained model (the reference has none)."""
    exp = PLAN[experiment]
    return {
        layout.TIMING.format(experiment=exp.name, fold=fold, method=m.method, variant=m.variant): (
            exp.name,
            fold,
            str(m),
        )
        for fold in range(exp.folds)
        for m in exp.model_ids()
        if not m.is_reference
    }


def summary_inputs(wildcards):
    parts = experiment_parts(wildcards.experiment)
    return (
        [p[what] for p in parts for what in ("crosseval", "robustness", "examples", "worstcase")]
        + list(experiment_histories(wildcards.experiment))
        + list(experiment_timings(wildcards.experiment))
    )


def paper_block(wildcards):
    return PLAN.papers[wildcards.paper]


def paper_inputs(wildcards):
    spec, params = paper_block(wildcards)
    inputs = [
        layout.experiment_file(getattr(layout, what.upper()), e) for e in params.experiments() for what in spec.reads
    ]
    published = getattr(params, "published", "")
    return inputs + ([workflow_file(published)] if published else [])


def paper_params(wildcards):
    spec, params = paper_block(wildcards)
    published = getattr(params, "published", "")
    return {
        "params": params.to_dict(),
        "inputs": {
            e: {w: layout.experiment_file(getattr(layout, w.upper()), e) for w in spec.reads}
            for e in params.experiments()
        },
        "context": {
            "published": workflow_file(published) if published else None,
            "experiments": {e: PLAN[e].summary() for e in params.experiments()},
            "data_notes": {e: stand_in_note(config, PLAN[e].dataset) for e in params.experiments()},
            "scale": run_scale()["papers"][wildcards.paper],
        },
    }


def run_scale():
    """The run's scale per paper (advreg.reporting.scale): the preset, and per paper its experiments' dataset (and
    the one a stand-in replaces), training images and epochs, and the datasets the paper itself used."""
    papers = {}
    for name, (spec, params) in PLAN.papers.items():
        published = getattr(params, "published", "")
        experiments = {}
        for e in params.experiments():
            exp = PLAN[e]
            experiments[e] = {
                "dataset": exp.dataset,
                "stand_in_for": STAND_INS.get(e, ""),
                "train_size": exp.data.train_size,
                "epochs": sorted({v.train.epochs for v in exp.variants}),
                "pretrain_epochs": exp.pretrain.epochs if exp.pretrain is not None else None,
            }
        papers[name] = {
            "label": report_labels.paper_label(name),
            "paper_datasets": report_scale.published_datasets(workflow_file(published) if published else None),
            "experiments": experiments,
        }
    preset = ", ".join(Path(str(f)).name for f in workflow.configfiles) or "config.yaml"
    return {"preset": preset, "papers": papers}


def experiment_facts(name):
    """The caption line of experiment ``name``: dataset, model, sizes, epochs and budgets, every value resolved."""
    exp = PLAN[name]
    pretrain = exp.pretrain.epochs if exp.pretrain is not None else None
    return report_scale.experiment_facts(exp.summary(), [v.train.epochs for v in exp.variants], pretrain)


def final_outputs():
    outputs = []
    for exp in PLAN:
        # every summarised file a report item or a paper may name (worstcase: a report item no LWA paper reads)
        wanted = (layout.CROSSEVAL, layout.ROBUSTNESS, layout.WORSTCASE, layout.FIGURES)
        outputs += [layout.experiment_file(p, exp.name) for p in wanted]
    outputs += [layout.PAPER.format(paper=name) for name in PLAN.papers]
    return outputs
