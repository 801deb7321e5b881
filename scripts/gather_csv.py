"""Rules gather_crosseval and gather_robustness: one tidy CSV per experiment from the per-job CSVs."""

import _library  # noqa: F401  (puts src/ on sys.path)
from advreg.stages.gather import gather_csv
from advreg.stages.job import job

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job(smk.log[0], smk.threads, smk.config, torch_runtime=False) as ctx:
    gather_csv(list(smk.input), smk.output[0])
    ctx.log(f"gathered {len(smk.input)} files")
