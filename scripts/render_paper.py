"""Rule render_paper: one paper's tables, figures and claims beside the published numbers."""

import _library  # noqa: F401  (puts src/ on sys.path)

from advreg.papers import PAPERS
from advreg.stages.job import job
from advreg.stages.paper import render_paper

smk = snakemake  # noqa: F821 (injected by Snakemake)
PAPERS[smk.wildcards.paper].load()  # the paper module's imports (pandas, matplotlib) count as start-up
with job(smk.log[0], smk.config, torch_runtime=False) as ctx:
    p = smk.params.job
    render_paper(
        paper=smk.wildcards.paper,
        params=p["params"],
        inputs=p["inputs"],
        context=p["context"],
        out_dir=smk.output[0],
        log=ctx.log,
    )
