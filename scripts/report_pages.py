"""Rule report_pages: the report's summary page and provenance page (advreg.reporting.pages)."""

import _library  # noqa: F401  (puts src/ on sys.path)

from advreg.reporting.pages import write_pages
from advreg.stages.job import job

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job(smk.log[0], smk.config, torch_runtime=False) as ctx:
    write_pages(
        papers=smk.params.papers,
        experiments=smk.params.experiments,
        manifest=smk.input.manifest,
        benchmarks="results/benchmarks",
        results="results",
        config=smk.config,
        scale=smk.params.scale,
        outputs=dict(smk.output.items()),
    )
    ctx.log(f"report pages: {', '.join(smk.output)}")
