"""Rule cross_evaluate: every target model on one attacker's adversarial set."""

import _library  # noqa: F401  (puts src/ on sys.path)
from advreg.stages.adversarial import evaluate_set
from advreg.stages.job import job

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job(smk.log[0], smk.threads, smk.config) as ctx:
    evaluate_set(
        ctx,
        dataset_path=smk.input.dataset,
        adversarial_path=smk.input.adversarial,
        target_paths=dict(zip(smk.params.target_ids, smk.input.targets)),
        out=smk.output[0],
        experiment=smk.wildcards.experiment,
        exp_cfg=smk.params.experiment,
        fold=int(smk.wildcards.fold),
        attack=smk.wildcards.attack,
        attacker=f"{smk.wildcards.amethod}/{smk.wildcards.avariant}",
    )
