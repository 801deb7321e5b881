# Stage 3: one job per (experiment, fold, method, variant): fine-tune the reference (or train from
# scratch) with the method's objective.  Methods are registered in src/advreg/methods.


rule finetune:
    input:
        unpack(finetune_inputs),
    output:
        model="results/{experiment}/fold{fold}/models/{method}/{variant}/model.pt",
        history="results/{experiment}/fold{fold}/models/{method}/{variant}/history.csv",
    log:
        "logs/{experiment}/fold{fold}/finetune/{method}/{variant}.log",
    benchmark:
        "results/benchmarks/{experiment}/fold{fold}/finetune/{method}/{variant}.tsv"
    params:
        experiment=experiment_params("data", "model", "finetune"),
        variant=variant_params,
        seed=config["seed"],
    threads: 2
    resources:
        mem_mb=8000,
        runtime=240,
        cpus_per_task=lambda wildcards, threads: threads,
        gpu=config.get("cluster", {}).get("gpu", 0),
    conda:
        "../../envs/torch.yaml"
    script:
        "../../scripts/finetune.py"
