# Stage 5: cross-evaluation.  Every target model of the experiment on one attacker's set at every
# budget (attacker == target is white-box), then one tidy CSV per experiment.


rule cross_evaluate:
    input:
        dataset=lambda wildcards: dataset_path(wildcards.experiment),
        adversarial="results/{experiment}/fold{fold}/adversarial/{attack}/{amethod}/{avariant}.pt",
        targets=target_models,
    output:
        "results/{experiment}/fold{fold}/crosseval/{attack}/{amethod}/{avariant}.csv",
    log:
        "logs/{experiment}/fold{fold}/crosseval/{attack}/{amethod}/{avariant}.log",
    benchmark:
        "results/benchmarks/{experiment}/fold{fold}/crosseval/{attack}/{amethod}/{avariant}.tsv"
    params:
        experiment=attack_params,
        target_ids=target_ids,
        seed=config["seed"],
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
        cpus_per_task=lambda wildcards, threads: threads,
        gpu=config.get("cluster", {}).get("gpu", 0),
    conda:
        "../../envs/torch.yaml"
    script:
        "../../scripts/cross_evaluate.py"


rule gather_crosseval:
    input:
        crosseval_parts,
    output:
        report(
            "results/{experiment}/crosseval.csv",
            caption="../../report/captions/crosseval.rst",
            category="{experiment}",
            subcategory="Cross-evaluation data",
            labels={"experiment": "{experiment}", "file": "tidy CSV"},
        ),
    log:
        "logs/{experiment}/gather_crosseval.log",
    benchmark:
        "results/benchmarks/{experiment}/gather_crosseval.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    localrule: True
    conda:
        "../../envs/render.yaml"
    script:
        "../../scripts/gather_csv.py"


rule robustness_metrics:
    input:
        dataset=lambda wildcards: dataset_path(wildcards.experiment),
        model=lambda wildcards: model_path(
            wildcards.experiment, wildcards.fold, f"{wildcards.method}/{wildcards.variant}"
        ),
    output:
        "results/{experiment}/fold{fold}/robustness/{method}/{variant}.csv",
    log:
        "logs/{experiment}/fold{fold}/robustness/{method}/{variant}.log",
    benchmark:
        "results/benchmarks/{experiment}/fold{fold}/robustness/{method}/{variant}.tsv"
    params:
        experiment=experiment_params("data", "robustness"),
        seed=config["seed"],
    threads: 2
    resources:
        mem_mb=8000,
        runtime=120,
        cpus_per_task=lambda wildcards, threads: threads,
        gpu=config.get("cluster", {}).get("gpu", 0),
    conda:
        "../../envs/torch.yaml"
    script:
        "../../scripts/robustness.py"


rule gather_robustness:
    input:
        robustness_parts,
    output:
        report(
            "results/{experiment}/robustness.csv",
            caption="../../report/captions/robustness_data.rst",
            category="{experiment}",
            subcategory="White-box robustness",
            labels={"experiment": "{experiment}", "file": "tidy CSV"},
        ),
    log:
        "logs/{experiment}/gather_robustness.log",
    benchmark:
        "results/benchmarks/{experiment}/gather_robustness.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    localrule: True
    conda:
        "../../envs/render.yaml"
    script:
        "../../scripts/gather_csv.py"
