# Stage 6: figures and tables for the HTML report (snakemake --report results/report.html).


rule render_accuracy:
    input:
        "results/{experiment}/crosseval.csv",
    output:
        figure=report(
            "results/{experiment}/figures/accuracy_{attack}.png",
            caption="../../report/captions/accuracy_figure.rst",
            category="{experiment}",
            subcategory="{attack}",
            labels={"experiment": "{experiment}", "attack": "{attack}", "kind": "figure"},
        ),
        table_csv=report(
            "results/{experiment}/tables/accuracy_{attack}.csv",
            caption="../../report/captions/accuracy_table.rst",
            category="{experiment}",
            subcategory="{attack}",
            labels={"experiment": "{experiment}", "attack": "{attack}", "kind": "table (CSV)"},
        ),
        table_md="results/{experiment}/tables/accuracy_{attack}.md",
    log:
        "logs/{experiment}/render_{attack}.log",
    benchmark:
        "results/benchmarks/{experiment}/render_{attack}.tsv"
    params:
        description=lambda wildcards: PLAN[wildcards.experiment].config.get("description", ""),
        norm=lambda wildcards: ATTACKS[wildcards.attack].norm,
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/render.yaml"
    script:
        "../../scripts/render_accuracy.py"


rule render_robustness:
    input:
        "results/{experiment}/robustness.csv",
    output:
        figure=report(
            "results/{experiment}/figures/latent_disparity.png",
            caption="../../report/captions/latent_disparity.rst",
            category="{experiment}",
            subcategory="White-box robustness",
            labels={"experiment": "{experiment}", "kind": "latent disparity figure"},
        ),
        table_csv=report(
            "results/{experiment}/tables/robustness.csv",
            caption="../../report/captions/robustness_table.rst",
            category="{experiment}",
            subcategory="White-box robustness",
            labels={"experiment": "{experiment}", "kind": "robustness table (CSV)"},
        ),
        table_md="results/{experiment}/tables/robustness.md",
    log:
        "logs/{experiment}/render_robustness.log",
    benchmark:
        "results/benchmarks/{experiment}/render_robustness.tsv"
    params:
        description=lambda wildcards: PLAN[wildcards.experiment].config.get("description", ""),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/render.yaml"
    script:
        "../../scripts/render_robustness.py"
