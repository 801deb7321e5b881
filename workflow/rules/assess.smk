# Stages 4-5: per (experiment, fold, part) one job that computes the white-box robustness metrics of its
# models, crafts every attack's adversarial set with each of its models that is an attacker, and evaluates
# every target model of the fold on those sets. Attacks are registered in src/advreg/attacks/catalog.py.


rule assess:
    input:
        unpack(assess_inputs),
    output:
        adversarial=layout.PART_FILES["adversarial"],
        crosseval=layout.PART_FILES["crosseval"],
        robustness=layout.PART_FILES["robustness"],
        examples=layout.PART_FILES["examples"],
        worstcase=layout.PART_FILES["worstcase"],
    log:
        "logs/{experiment}/fold{fold}/assess/part{part}.log",
    benchmark:
        "results/benchmarks/{experiment}/fold{fold}/assess/part{part}.tsv"
    wildcard_constraints:
        experiment=alternatives([e.name for e in PLAN if e.evaluation.keep_adversarial]) or "(?!)",
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
        job=assess_params,
    script:
        "../../scripts/assess.py"


# `evaluation.keep_adversarial: false`: the same job, its adversarial sets evaluated and then dropped, not written
# (nothing downstream reads them). The output is not declared, so Snakemake neither expects nor hashes it.
use rule assess as assess_drop_sets with:
    output:
        crosseval=layout.PART_FILES["crosseval"],
        robustness=layout.PART_FILES["robustness"],
        examples=layout.PART_FILES["examples"],
        worstcase=layout.PART_FILES["worstcase"],
    wildcard_constraints:
        experiment=alternatives([e.name for e in PLAN if not e.evaluation.keep_adversarial]) or "(?!)",
