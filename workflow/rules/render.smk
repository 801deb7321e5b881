# Stage 6: per experiment, the results gathered over folds and parts with its generic figures and tables;
# per paper, its tables, figures and claims beside the published numbers (src/advreg/papers). Both torch-free.


rule summarise_experiment:
    input:
        summary_inputs,
    output:
        crosseval=report(
            layout.CROSSEVAL,
            caption="../../report/captions/crosseval.rst",
            category="{experiment}",
            subcategory="Data",
            labels={"experiment": "{experiment}", "file": "cross-evaluation (tidy CSV)"},
        ),
        robustness=report(
            layout.ROBUSTNESS,
            caption="../../report/captions/robustness_data.rst",
            category="{experiment}",
            subcategory="Data",
            labels={"experiment": "{experiment}", "file": "white-box robustness (tidy CSV)"},
        ),
        histories=layout.HISTORIES,
        examples=layout.EXAMPLES,
        timings=layout.TIMINGS,
        figures=report(
            directory(layout.FIGURES),
            patterns=["{name}.png"],
            caption="../../report/captions/experiment_figure.rst",
            category="{experiment}",
            subcategory="Figures",
            labels={"experiment": "{experiment}", "figure": "{name}"},
        ),
        tables=report(
            directory(layout.TABLES),
            patterns=["{name}.csv"],
            caption="../../report/captions/experiment_table.rst",
            category="{experiment}",
            subcategory="Tables",
            labels={"experiment": "{experiment}", "table": "{name}"},
        ),
    log:
        "logs/{experiment}/summarise.log",
    benchmark:
        "results/benchmarks/{experiment}/summarise.tsv"
    localrule: True
    conda:
        "../../envs/render.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        description=lambda wildcards: PLAN[wildcards.experiment].description,
        norms=lambda wildcards: {n: a.spec.norm for n, a in PLAN[wildcards.experiment].attacks.items()},
        parts=lambda wildcards: experiment_parts(wildcards.experiment),
        histories=lambda wildcards: experiment_histories(wildcards.experiment),
        timings=lambda wildcards: experiment_timings(wildcards.experiment),
    script:
        "../../scripts/summarise_experiment.py"


rule render_paper:
    input:
        paper_inputs,
    output:
        report(
            directory(layout.PAPER),
            patterns=["{kind}/{name}.png", "{name}.md"],
            caption="../../report/captions/paper.rst",
            category="Paper: {paper}",
            labels={"paper": "{paper}", "item": "{name}"},
        ),
    log:
        "logs/papers/{paper}.log",
    benchmark:
        "results/benchmarks/papers/{paper}.tsv"
    localrule: True
    conda:
        "../../envs/render.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        job=paper_params,
    script:
        "../../scripts/render_paper.py"
