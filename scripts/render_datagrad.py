"""Rule render_datagrad: the DataGrad paper's Tables 1-5 next to the published numbers, its claims, Figures 1-3."""

import _library  # noqa: F401  (puts src/ on sys.path)
from advreg.stages.job import job
from advreg.stages.paper_datagrad import render_datagrad

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job(smk.log[0], smk.threads, smk.config) as ctx:
    render_datagrad(
        ctx,
        crosseval_csv=smk.input.crosseval,
        histories=dict(zip(smk.params.model_ids, smk.input.histories)),
        r1_sets=dict(zip(smk.params.r1_ids, smk.input.r1_sets)),
        dataset_path=smk.input.dataset,
        published_path=smk.input.published,
        experiment=smk.wildcards.experiment,
        exp_cfg=smk.params.experiment,
        out_dir=smk.params.out_dir,
    )
