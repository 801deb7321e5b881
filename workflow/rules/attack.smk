# Stage 4: one adversarial set per (attacker model, attack), reused by every target.  Attacks are
# registered in src/advreg/attacks.


rule craft_adversarial_set:
    input:
        dataset=lambda wildcards: dataset_path(wildcards.experiment),
        attacker=attacker_model,
    output:
        "results/{experiment}/fold{fold}/adversarial/{attack}/{amethod}/{avariant}.pt",
    log:
        "logs/{experiment}/fold{fold}/adversarial/{attack}/{amethod}/{avariant}.log",
    benchmark:
        "results/benchmarks/{experiment}/fold{fold}/adversarial/{attack}/{amethod}/{avariant}.tsv"
    params:
        experiment=attack_params,
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
        "../../scripts/craft_adversarial.py"
