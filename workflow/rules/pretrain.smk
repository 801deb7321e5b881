# Stage 2: the reference network of each experiment (plain cross-entropy), shared by all folds.


rule pretrain_reference:
    input:
        dataset=lambda wildcards: dataset_path(wildcards.experiment),
    output:
        model="results/{experiment}/reference/model.pt",
        history="results/{experiment}/reference/history.csv",
    log:
        "logs/{experiment}/pretrain.log",
    benchmark:
        "results/benchmarks/{experiment}/pretrain.tsv"
    params:
        experiment=experiment_params("data", "model", "pretrain"),
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
        "../../scripts/pretrain.py"
