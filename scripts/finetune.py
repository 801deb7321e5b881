"""Rule finetune: train one method variant (from the reference or from scratch)."""

import _library  # noqa: F401  (puts src/ on sys.path)
from advreg.stages.job import job
from advreg.stages.train import finetune_variant

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job(smk.log[0], smk.threads, smk.config) as ctx:
    finetune_variant(
        ctx,
        dataset_path=smk.input.dataset,
        reference_path=smk.input.get("reference"),
        model_out=smk.output.model,
        history_out=smk.output.history,
        experiment=smk.wildcards.experiment,
        exp_cfg=smk.params.experiment,
        fold=int(smk.wildcards.fold),
        method=smk.wildcards.method,
        variant=smk.wildcards.variant,
        params=smk.params.variant["params"],
        train_overrides=smk.params.variant["train"],
        model_overrides=smk.params.variant["model_kwargs"],
    )
