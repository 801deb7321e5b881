"""Rule robustness_metrics: white-box robustness metrics (rho_2, rho_inf, eps_ref, latent disparity) of one model."""

import _library  # noqa: F401  (puts src/ on sys.path)
from advreg.stages.adversarial import evaluate_robustness
from advreg.stages.job import job

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job(smk.log[0], smk.threads, smk.config) as ctx:
    evaluate_robustness(
        ctx,
        dataset_path=smk.input.dataset,
        model_path=smk.input.model,
        out=smk.output[0],
        experiment=smk.wildcards.experiment,
        exp_cfg=smk.params.experiment,
        fold=int(smk.wildcards.fold),
        model_id=f"{smk.wildcards.method}/{smk.wildcards.variant}",
    )
