# Stage 7: the run's manifest, once everything else is done: the SHA256 of every result file, the config and its
# hash, package versions, the git commit, the machine and every job's numeric settings (src/advreg/provenance.py).


rule manifest:
    input:
        final_outputs(),
    output:
        report(
            layout.MANIFEST,
            caption="../../report/captions/manifest.rst",
            category="Provenance",
            labels={"file": "run manifest (JSON)"},
        ),
    log:
        "logs/manifest.log",
    benchmark:
        "results/benchmarks/manifest.tsv"
    localrule: True
    conda:
        "../../envs/render.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        lock=workflow_file("requirements.lock"),
        workflow_dir=workflow.basedir,
    script:
        "../../scripts/manifest.py"
