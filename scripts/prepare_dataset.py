"""Rule prepare_dataset: find or download a dataset, verify its pinned checksums, store it compactly."""

import _library  # noqa: F401  (puts src/ on sys.path)

from advreg.data.prepare import prepare_dataset
from advreg.data.registry import CustomDatasetParams, custom_spec
from advreg.stages.job import job

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job(smk.log[0], smk.config) as ctx:
    name = smk.wildcards.dataset
    declared = smk.params.declared
    summary = prepare_dataset(
        custom_spec(name, CustomDatasetParams.parse(declared, f"datasets.{name}")) if declared else name,
        smk.output[0],
        local_dir=smk.params.local_dir,
        download_dir=smk.params.download_dir,
        mirrors=smk.params.mirrors,
        log=ctx.log,
    )
    ctx.log(f"prepared {smk.wildcards.dataset}: {summary}")
