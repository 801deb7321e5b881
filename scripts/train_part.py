"""Rules train_part_*: train one training part's models in turn (an experiment with ``train_jobs``)."""

import _library  # noqa: F401  (puts src/ on sys.path)

from advreg.stages.job import job
from advreg.stages.train import train_part

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job(smk.log[0], smk.config) as ctx:
    train_part(
        ctx,
        dataset_path=smk.input.dataset,
        reference_path=smk.input.get("reference"),
        outputs={what: list(getattr(smk.output, what)) for what in ("models", "histories", "timings")},
        logs=list(smk.log),
        experiment=smk.params.experiment,
        fold=int(smk.params.fold),
        params=smk.params.job,
    )
