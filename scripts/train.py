"""Rule train: train one method variant (from the reference or from scratch)."""

import _library  # noqa: F401  (puts src/ on sys.path)

from advreg.ids import ModelId
from advreg.stages.job import job
from advreg.stages.train import train_variant

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job(smk.log[0], smk.config) as ctx:
    p = smk.params.job
    train_variant(
        ctx,
        dataset_path=smk.input.dataset,
        reference_path=smk.input.get("reference"),
        model_out=smk.output.model,
        history_out=smk.output.history,
        timing_out=smk.output.timing,
        experiment=smk.wildcards.experiment,
        fold=int(smk.wildcards.fold),
        model_id=ModelId(smk.wildcards.method, smk.wildcards.variant),
        arch=p["arch"],
        data=p["data"],
        params=p["params"],
        train_settings=p["train"],
        model_kwargs=p["model_kwargs"],
    )
