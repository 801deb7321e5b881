"""Rule summarise_experiment: gather an experiment's results and render its generic figures and tables."""

import _library  # noqa: F401  (puts src/ on sys.path)

from advreg.stages.job import job
from advreg.stages.render import summarise_experiment

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job(smk.log[0], smk.config, torch_runtime=False) as ctx:
    summarise_experiment(
        experiment=smk.wildcards.experiment,
        description=smk.params.description,
        norms=smk.params.norms,
        parts=smk.params.parts,
        histories=smk.params.histories,
        timings=smk.params.timings,
        outputs=dict(smk.output.items()),
        log=ctx.log,
    )
