# Stages 2-3: the reference network of each experiment (plain cross-entropy, shared by all folds), then one
# job per (experiment, fold, method, variant) that fine-tunes it or trains from scratch with the method's
# objective. Methods are registered in src/advreg/methods/catalog.py.


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
