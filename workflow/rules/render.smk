# Stage 6: per experiment, the results gathered over folds and parts with its generic figures and tables;
# per paper, its tables, figures and claims beside the published numbers (src/advreg/papers). Both torch-free.
# Report items are what a browser shows in the page: PNG figures and HTML tables/claims (src/advreg/reporting/html.py);
# the CSV/markdown twins stay beside them as plain outputs. Categories: one per paper, "Experiments", "Provenance"
# and the summary first (src/advreg/reporting/labels.py).
from advreg.evaluation.threats import has_threat_model
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
        # offered as a download by rule report_pages, only where it holds rows (robustness enabled)
        robustness=layout.ROBUSTNESS,
        histories=report(
            layout.HISTORIES,
            caption="../../report/captions/histories.rst",
            category=report_labels.EXPERIMENTS,
            subcategory="{experiment}",
            labels={"kind": "data (CSV, download)", "item": "training histories (tidy)"},
        ),
        examples=layout.EXAMPLES,
        # offered as a download by rule report_pages, only where it holds rows (a clipped L-inf or L2 attack ran)
        worstcase=layout.WORSTCASE,
        timings=report(
            layout.TIMINGS,
            caption="../../report/captions/timings.rst",
            category=report_labels.EXPERIMENTS,
            subcategory="{experiment}",
            labels={"kind": "data (CSV, download)", "item": "training time per model (tidy)"},
        ),
        figures=report(
            directory(layout.FIGURES),
            patterns=["{name}.png"],
            caption="../../report/captions/experiment_figure.rst",
            category=report_labels.EXPERIMENTS,
            subcategory="{experiment}",
            labels=lambda wildcards: {"kind": "figure", "item": report_labels.experiment_item_label(wildcards.name)},
        ),
        tables=report(
            directory(layout.TABLES),
            patterns=["{name}.{ext,(html|csv)}"],
            caption="../../report/captions/experiment_table.rst",
            category=report_labels.EXPERIMENTS,
            subcategory="{experiment}",
            labels=lambda wildcards: {
                "kind": "table" if wildcards.ext == "html" else "data (CSV, download)",
                "item": report_labels.experiment_item_label(wildcards.name),
            },
        ),
    log:
        "logs/{experiment}/summarise.log",
    benchmark:
        "results/benchmarks/{experiment}/summarise.tsv"
    priority: experiment_priority
    localrule: True
    conda:
        "../../envs/render.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        description=lambda wildcards: PLAN[wildcards.experiment].description,
        facts=lambda wildcards: experiment_facts(wildcards.experiment),
        norms=lambda wildcards: shown({n: a.spec.norm for n, a in PLAN[wildcards.experiment].attacks.items()}),
        parts=lambda wildcards: shown(experiment_parts(wildcards.experiment)),
        histories=lambda wildcards: shown(experiment_histories(wildcards.experiment)),
        timings=lambda wildcards: shown(experiment_timings(wildcards.experiment)),
    script:
        "../../scripts/summarise_experiment.py"


rule render_paper:
    input:
        paper_inputs,
    output:
        report(
            directory(layout.PAPER),
            patterns=["{item}.{ext,(html|png|csv)}"],
            caption="../../report/captions/paper.rst",
            category=lambda wildcards: report_labels.paper_label(wildcards.paper),
            subcategory=lambda wildcards: report_labels.paper_subcategory(wildcards.item),
            labels=lambda wildcards: {
                "item": report_labels.item_label(wildcards.item)
                + (" (CSV, download)" if wildcards.ext == "csv" else "")
            },
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
        job=lambda wildcards: shown(paper_params(wildcards)),
        facts=lambda wildcards: shown({e: experiment_facts(e) for e in paper_block(wildcards)[1].experiments()}),
    script:
        "../../scripts/render_paper.py"


rule report_pages:
    input:
        manifest=layout.MANIFEST,
        # the tidy robustness metrics, a download only for the experiments that compute them (else a bare header)
        robustness=[
            report(
                layout.experiment_file(layout.ROBUSTNESS, exp.name),
                caption="../../report/captions/robustness_data.rst",
                category=report_labels.EXPERIMENTS,
                subcategory=exp.name,
                labels={"kind": "data (CSV, download)", "item": "white-box robustness (tidy)"},
            )
            for exp in PLAN
            if exp.robustness.enabled
        ],
        # the per-sample worst case, a download only where an attack of a threat model ran (else a bare header)
        worstcase=[
            report(
                layout.experiment_file(layout.WORSTCASE, exp.name),
                caption="../../report/captions/worstcase.rst",
                category=report_labels.EXPERIMENTS,
                subcategory=exp.name,
                labels={"kind": "data (CSV, download)", "item": "per-sample worst case per threat model (tidy)"},
            )
            for exp in PLAN
            if has_threat_model((a.spec.norm, a.epsilons, a.params.to_dict()) for a in exp.attacks.values())
        ],
    output:
        summary=report(
            layout.REPORT_SUMMARY,
            caption="../../report/captions/summary.rst",
            category=report_labels.SUMMARY,
            labels={"page": "Summary: scale, claims, headline numbers"},
        ),
        provenance=report(
            layout.REPORT_PROVENANCE,
            caption="../../report/captions/provenance.rst",
            category=report_labels.PROVENANCE,
            labels={"item": "Provenance: config, packages, hashes, times"},
        ),
        timing_figure=report(
            layout.REPORT_TIMING_FIGURE,
            caption="../../report/captions/provenance.rst",
            category=report_labels.PROVENANCE,
            labels={"item": "Time and memory per rule (figure)"},
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
        papers=shown(
            {
                name: {
                    "label": report_labels.paper_label(name),
                    "title": spec.title,
                    "dir": layout.PAPER.format(paper=name),
                }
                for name, (spec, _) in PLAN.papers.items()
            }
        ),
        experiments=shown(
            {
                exp.name: {
                    "description": exp.description,
                    "crosseval": layout.experiment_file(layout.CROSSEVAL, exp.name),
                    "norms": {name: a.spec.norm for name, a in exp.attacks.items()},
                }
                for exp in PLAN
            }
        ),
        scale=shown(run_scale()),
    script:
        "../../scripts/report_pages.py"
