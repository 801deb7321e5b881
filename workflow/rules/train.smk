# Stages 2-3: the reference network of each experiment (plain cross-entropy, shared by all folds), then one
# job per (experiment, fold, method, variant) that fine-tunes it or trains from scratch with the method's
# objective. Methods are registered in src/advreg/methods/catalog.py. An experiment with `train_jobs: N`
# instead trains each fold's models in N jobs, one model after the other (rule train_part below).


rule pretrain:
    input:
        dataset=dataset_file,
    output:
        model=layout.REFERENCE_MODEL,
        history=layout.REFERENCE_HISTORY,
    log:
        "logs/{experiment}/pretrain.log",
    benchmark:
        "results/benchmarks/{experiment}/pretrain.tsv"
    priority: experiment_priority
    conda:
        "../../envs/torch.yaml"
    threads: TORCH_THREADS
    resources:
        mem_mb=8000,
        runtime=240,
        cpus_per_task=lambda wildcards, threads: threads,
        gpu=GPUS,
    params:
        job=pretrain_params,
    script:
        "../../scripts/pretrain.py"


rule train:
    input:
        unpack(train_inputs),
    output:
        model=layout.MODEL,
        history=layout.HISTORY,
        timing=layout.TIMING,
    log:
        "logs/{experiment}/fold{fold}/train/{method}/{variant}.log",
    benchmark:
        "results/benchmarks/{experiment}/fold{fold}/train/{method}/{variant}.tsv"
    wildcard_constraints:
        experiment=alternatives([e.name for e in PLAN if not e.train_jobs]) or "(?!)",
    priority: experiment_priority
    conda:
        "../../envs/torch.yaml"
    threads: TORCH_THREADS
    resources:
        mem_mb=8000,
        runtime=240,
        cpus_per_task=lambda wildcards, threads: threads,
        gpu=GPUS,
    params:
        job=train_params,
    script:
        "../../scripts/train.py"


# `train_jobs: N`: per (experiment, fold, part) one job that trains its share of the models in turn, with the
# same outputs, per-model logs and bits as the per-model jobs (each model seeds itself from its own ids); its
# processes import torch once instead of once per model. The models are known only from the config, so these
# jobs are rules made per part (Snakemake's procedural rules): train_part_<experiment>_<fold>_<part>.
for _exp in [e for e in PLAN if e.train_jobs]:
    for _fold in range(_exp.folds):
        for _part in range(_exp.train_jobs):

            rule:
                name:
                    f"train_part_{_exp.name}_{_fold}_{_part}"
                input:
                    **train_part_inputs(_exp),
                output:
                    models=train_part_files(_exp, _fold, _part, layout.MODEL),
                    histories=train_part_files(_exp, _fold, _part, layout.HISTORY),
                    timings=train_part_files(_exp, _fold, _part, layout.TIMING),
                log:
                    train_part_logs(_exp, _fold, _part),
                benchmark:
                    f"results/benchmarks/{_exp.name}/fold{_fold}/train/part{_part}.tsv"
                priority: _exp.priority
                conda:
                    "../../envs/torch.yaml"
                threads: TORCH_THREADS
                resources:
                    mem_mb=8000,
                    runtime=240,
                    cpus_per_task=TORCH_THREADS,
                    gpu=GPUS,
                params:
                    job=_exp.train_part_params(_part),
                    experiment=_exp.name,
                    fold=_fold,
                script:
                    "../../scripts/train_part.py"
