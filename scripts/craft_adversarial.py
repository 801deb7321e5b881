"""Rule craft_adversarial_set: one attacker model, one attack, the experiment's test split."""

import _library  # noqa: F401  (puts src/ on sys.path)
from advreg.stages.adversarial import craft_set
from advreg.stages.job import job

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job(smk.log[0], smk.threads, smk.config) as ctx:
    craft_set(
        ctx,
        dataset_path=smk.input.dataset,
        attacker_path=smk.input.attacker,
        out=smk.output[0],
        experiment=smk.wildcards.experiment,
        exp_cfg=smk.params.experiment,
        fold=int(smk.wildcards.fold),
        attack=smk.wildcards.attack,
        attacker=f"{smk.wildcards.amethod}/{smk.wildcards.avariant}",
    )
