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
    localrule: True
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
    localrule: True
    conda:
        "../../envs/render.yaml"
    script:
        "../../scripts/render_robustness.py"


rule render_datagrad:
    input:
        crosseval="results/{experiment}/crosseval.csv",
        histories=datagrad_histories,
        r1_sets=datagrad_r1_sets,
        dataset=lambda wildcards: dataset_path(wildcards.experiment),
        published=lambda wildcards: workflow_file(
            PLAN[wildcards.experiment].config["published"]["file"]
        ),
    output:
        tables=expand("results/{{experiment}}/paper/table{n}.{ext}", n=DATAGRAD_TABLES, ext=("csv", "md")),
        claims=report(
            "results/{experiment}/paper/claims.md",
            caption="../../report/captions/datagrad_claims.rst",
            category="{experiment}",
            subcategory="Paper: DataGrad",
            labels={"experiment": "{experiment}", "kind": "claims"},
        ),
        figures=report(
            expand("results/{{experiment}}/paper/figure{n}.png", n=(1, 2, 3)),
            caption="../../report/captions/datagrad_figures.rst",
            category="{experiment}",
            subcategory="Paper: DataGrad",
            labels={"experiment": "{experiment}", "kind": "figures 1-3"},
        ),
    log:
        "logs/{experiment}/render_datagrad.log",
    benchmark:
        "results/benchmarks/{experiment}/render_datagrad.tsv"
    params:
        experiment=experiment_params("dataset", "data", "attacks", "published", "methods"),
        model_ids=datagrad_model_ids,
        r1_ids=datagrad_r1_ids,
        out_dir=lambda wildcards: f"results/{wildcards.experiment}/paper",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    localrule: True
    conda:
        "../../envs/torch.yaml"
    script:
        "../../scripts/render_datagrad.py"
