"""Rule pretrain: train an experiment's reference model."""

import _library  # noqa: F401  (puts src/ on sys.path)

from advreg.stages.job import job
from advreg.stages.train import pretrain_reference

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job(smk.log[0], smk.config) as ctx:
    p = smk.params.job
    pretrain_reference(
        ctx,
        dataset_path=smk.input.dataset,
        model_out=smk.output.model,
        history_out=smk.output.history,
        experiment=smk.wildcards.experiment,
        arch=p["arch"],
        model_kwargs=p["model_kwargs"],
        data=p["data"],
        pretrain=p["pretrain"],
    )
