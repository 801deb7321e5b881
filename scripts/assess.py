"""Rule assess: robustness metrics, adversarial sets and cross-evaluation for one part of a fold's models."""

import _library  # noqa: F401  (puts src/ on sys.path)

from advreg.stages.assess import assess_part
from advreg.stages.job import job

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job(smk.log[0], smk.config) as ctx:
    p = smk.params.job
    assess_part(
        ctx,
        dataset_path=smk.input.dataset,
        model_paths={name: smk.input[name] for name in p["targets"]},
        outputs=dict(smk.output.items()),
        experiment=smk.wildcards.experiment,
        fold=int(smk.wildcards.fold),
        params=p,
    )
