# Stage 6: per experiment, the results gathered over folds and parts with its generic figures and tables;
# per paper, its tables, figures and claims beside the published numbers (src/advreg/papers). Both torch-free.
# Report items are what a browser shows in the page: PNG figures and HTML tables/claims (src/advreg/reporting/html.py);
# the CSV/markdown twins stay beside them as plain outputs. Categories: one per paper, "Experiments", "Provenance"
# and the summary first (src/advreg/reporting/labels.py).
from advreg.reporting import labels as report_labels


rule summarise_experiment:
    input:
        summary_inputs,
    output:
        crosseval=report(
            layout.CROSSEVAL,
            caption="../../report/captions/crosseval.rst",
            category=report_labels.EXPERIMENTS,
            subcategory="{experiment}",
            labels={"kind": "data (CSV, download)", "item": "cross-evaluation (tidy)"},
        ),
        robustness=report(
            layout.ROBUSTNESS,
            caption="../../report/captions/robustness_data.rst",
            category=report_labels.EXPERIMENTS,
            subcategory="{experiment}",
            labels={"kind": "data (CSV, download)", "item": "white-box robustness (tidy)"},
        ),
        histories=layout.HISTORIES,
        examples=layout.EXAMPLES,
        timings=layout.TIMINGS,
        figures=report(
            directory(layout.FIGURES),
            patterns=["{name}.png"],
            caption="../../report/captions/experiment_figure.rst",
            category=report_labels.EXPERIMENTS,
            subcategory="{experiment}",
            labels={"kind": "figure", "item": "{name}"},
        ),
        tables=report(
            directory(layout.TABLES),
            patterns=["{name}.html"],
            caption="../../report/captions/experiment_table.rst",
            category=report_labels.EXPERIMENTS,
            subcategory="{experiment}",
            labels={"kind": "table", "item": "{name}"},
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
            patterns=["{item}.{ext,(html|png)}"],
            caption="../../report/captions/paper.rst",
            category=lambda wildcards: report_labels.paper_label(wildcards.paper),
            subcategory=lambda wildcards: report_labels.paper_subcategory(wildcards.item),
            labels=lambda wildcards: {"item": report_labels.item_label(wildcards.item)},
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


rule report_pages:
    input:
        manifest=layout.MANIFEST,
    output:
        summary=report(
            layout.REPORT_SUMMARY,
            caption="../../report/captions/summary.rst",
            category=report_labels.SUMMARY,
            labels={"page": "Summary: claims held per paper, headline numbers, run time and size"},
        ),
        provenance=report(
            layout.REPORT_PROVENANCE,
            caption="../../report/captions/provenance.rst",
            category=report_labels.PROVENANCE,
            labels={"item": "Provenance: config, packages, hashes, time and memory per rule"},
        ),
        timing_figure=report(
            layout.REPORT_TIMING_FIGURE,
            caption="../../report/captions/provenance.rst",
            category=report_labels.PROVENANCE,
            labels={"item": "Wall time and peak memory per rule (figure)"},
        ),
    log:
        "logs/report_pages.log",
    benchmark:
        "results/benchmarks/report/pages.tsv"
    localrule: True
    conda:
        "../../envs/render.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        papers={
            name: {
                "label": report_labels.paper_label(name),
                "title": spec.title,
                "dir": layout.PAPER.format(paper=name),
            }
            for name, (spec, _) in PLAN.papers.items()
        },
        experiments={
            exp.name: {"description": exp.description, "crosseval": layout.experiment_file(layout.CROSSEVAL, exp.name)}
            for exp in PLAN
        },
    script:
        "../../scripts/report_pages.py"
