"""Rule render_robustness: robustness table and latent-disparity figure of one experiment."""

import _library  # noqa: F401  (puts src/ on sys.path)
from advreg.stages.job import job
from advreg.stages.render import render_robustness

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job(smk.log[0], smk.threads, smk.config, torch_runtime=False) as ctx:
    render_robustness(
        smk.input[0],
        experiment=smk.wildcards.experiment,
        description=smk.params.description,
        figure_out=smk.output.figure,
        table_csv=smk.output.table_csv,
        table_md=smk.output.table_md,
    )
