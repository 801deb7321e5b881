"""Rule render_accuracy: accuracy-vs-epsilon figure and accuracy tables for one experiment and attack."""

import _library  # noqa: F401  (puts src/ on sys.path)
from advreg.stages.job import job
from advreg.stages.render import render_attack

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job(smk.log[0], smk.threads, smk.config, torch_runtime=False) as ctx:
    render_attack(
        smk.input[0],
        experiment=smk.wildcards.experiment,
        attack=smk.wildcards.attack,
        norm=smk.params.norm,
        description=smk.params.description,
        figure_out=smk.output.figure,
        table_csv=smk.output.table_csv,
        table_md=smk.output.table_md,
    )
