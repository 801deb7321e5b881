"""Rule manifest: hashes of every result file, config, packages, commit, machine (advreg.provenance)."""

import _library  # noqa: F401  (puts src/ on sys.path)

from advreg.provenance import build_manifest, write_manifest
from advreg.stages.job import job

smk = snakemake  # noqa: F821 (injected by Snakemake)
with job(smk.log[0], smk.config, torch_runtime=False) as ctx:
    manifest = build_manifest("results", smk.config, smk.params.lock, smk.params.workflow_dir, "logs")
    write_manifest(smk.output[0], manifest)
    ctx.log(f"manifest: {len(manifest['artifacts'])} reproducible and {len(manifest['timed'])} timed files")
