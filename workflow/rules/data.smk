# Stage 1: datasets.  Sources in order: data.local_dir, known system folders (e.g. Debian's
# dataset-fashion-mnist), then the canonical download mirrors; decoded arrays must match pinned SHA256s.
# A config's own datasets (datasets:) come from their folder only, verified the same way.


rule prepare_dataset:
    output:
        "results/data/{dataset}.pt",
    log:
        "logs/data/{dataset}.log",
    benchmark:
        "results/benchmarks/data/{dataset}.tsv"
    localrule: True
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        local_dir=config["data"].get("local_dir"),
        download_dir=config["data"].get("download_dir", "resources/downloads"),
        mirrors=lambda wildcards: (config["data"].get("mirrors") or {}).get(wildcards.dataset),
        declared=lambda wildcards: (config.get("datasets") or {}).get(wildcards.dataset),
    script:
        "../../scripts/prepare_dataset.py"
