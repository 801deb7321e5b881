# Helpers shared by all rules (config validation, the expanded plan, path builders and
# input functions).  Library code lives in src/advreg; this file only wires it to Snakemake.
import re
import sys
from pathlib import Path

from snakemake.utils import validate

SRC_DIR = str(Path(workflow.basedir) / "src")
if SRC_DIR not in sys.path:
    sys.path.insert(0, SRC_DIR)

from advreg.attacks import ATTACKS
from advreg.data.registry import DATASETS
from advreg.plan import (
    NAME_PATTERN,
    REFERENCE_ID,
    REFERENCE_METHOD,
    VARIANT_PATTERN,
    build_plan,
    method_of,
)


validate(config, "../schemas/config.schema.yaml")
PLAN = build_plan(config)


def alternatives(names):
    """Regex matching exactly one of ``names`` (for wildcard constraints)."""
    return "|".join(map(re.escape, names))


def workflow_file(path):
    """A path from the config: as given if it exists (relative to the working directory), else relative
    to the workflow's folder (so `--directory` runs find the project's config/published files)."""
    if Path(path).exists():
        return path
    return str(Path(workflow.basedir) / path)


def dataset_path(experiment):
    return f"results/data/{PLAN[experiment].dataset}.pt"


def model_path(experiment, fold, model_id):
    """Where a model of an experiment lives; the reference is shared by all folds."""
    if model_id == REFERENCE_ID:
        return f"results/{experiment}/reference/model.pt"
    method, variant = model_id.split("/", 1)
    return f"results/{experiment}/fold{fold}/models/{method}/{variant}/model.pt"


def experiment_params(*keys):
    """Params function: the named parts of an experiment's config (so that changing, say, an attack's
    budgets does not retrain models)."""

    def params(wildcards):
        cfg = PLAN[wildcards.experiment].config
        return {key: cfg.get(key) for key in keys}

    return params


def attack_params(wildcards):
    cfg = PLAN[wildcards.experiment].config
    return {"data": cfg.get("data"), "attacks": {wildcards.attack: cfg["attacks"][wildcards.attack]}}


def variant_params(wildcards):
    v = PLAN[wildcards.experiment].variant(wildcards.method, wildcards.variant)
    return {"params": v.params, "train": v.train, "model_kwargs": v.model_kwargs}


def finetune_inputs(wildcards):
    exp = PLAN[wildcards.experiment]
    v = exp.variant(wildcards.method, wildcards.variant)
    init = {**(exp.config.get("finetune") or {}), **v.train}.get("init", "reference")
    inputs = {"dataset": dataset_path(wildcards.experiment)}
    if init == "reference":
        inputs["reference"] = model_path(wildcards.experiment, wildcards.fold, REFERENCE_ID)
    return inputs


def attacker_model(wildcards):
    return model_path(
        wildcards.experiment, wildcards.fold, f"{wildcards.amethod}/{wildcards.avariant}"
    )


def target_ids(wildcards):
    return PLAN[wildcards.experiment].model_ids()


def target_models(wildcards):
    return [
        model_path(wildcards.experiment, wildcards.fold, mid) for mid in target_ids(wildcards)
    ]


def crosseval_parts(wildcards):
    exp = PLAN[wildcards.experiment]
    return [
        f"results/{exp.name}/fold{fold}/crosseval/{attack}/{attacker}.csv"
        for fold in exp.folds
        for attack in exp.attacks
        for attacker in exp.attackers()
    ]


def robustness_enabled(exp):
    return (exp.config.get("robustness") or {}).get("enabled", True)


def robustness_parts(wildcards):
    exp = PLAN[wildcards.experiment]
    return [
        f"results/{exp.name}/fold{fold}/robustness/{model_id}.csv"
        for fold in exp.folds
        for model_id in exp.model_ids()
    ]


DATAGRAD_TABLES = (1, 2, 3, 4, 5)


def datagrad_model_ids(wildcards):
    """Every trained model (not the reference): the candidates for best-validation selection."""
    return [v.model_id for v in PLAN[wildcards.experiment].variants]


def datagrad_histories(wildcards):
    return [
        model_path(wildcards.experiment, 0, mid).replace("model.pt", "history.csv")
        for mid in datagrad_model_ids(wildcards)
    ]


def datagrad_r1_ids(wildcards):
    exp = PLAN[wildcards.experiment]
    return [mid for mid in exp.attackers() if method_of(mid) in ("rect", "plain", "l1", "dgl1")]


def datagrad_r1_sets(wildcards):
    r1 = PLAN[wildcards.experiment].config["published"]["r1"]
    return [
        f"results/{wildcards.experiment}/fold0/adversarial/{r1}/{mid}.pt"
        for mid in datagrad_r1_ids(wildcards)
    ]


def final_outputs():
    outputs = []
    for exp in PLAN.values():
        for attack in exp.attacks:
            outputs += [
                f"results/{exp.name}/figures/accuracy_{attack}.png",
                f"results/{exp.name}/tables/accuracy_{attack}.md",
                f"results/{exp.name}/tables/accuracy_{attack}.csv",
            ]
        if (exp.config.get("published") or {}).get("paper") == "datagrad":
            outputs += [f"results/{exp.name}/paper/claims.md"]
        if robustness_enabled(exp):
            outputs += [
                f"results/{exp.name}/figures/latent_disparity.png",
                f"results/{exp.name}/tables/robustness.md",
                f"results/{exp.name}/tables/robustness.csv",
            ]
    return outputs
