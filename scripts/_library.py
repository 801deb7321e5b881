"""What every rule script imports first: the project's ``src/`` on ``sys.path`` (so scripts import ``advreg``
without installing it: conda environments, cluster nodes), then the numeric libraries' code paths and thread
counts fixed from the config's ``reproducibility`` section, before any script imports torch
(:mod:`advreg.reproducibility`). Snakemake adds this folder to the path of every script it runs; the script's
``snakemake`` object is read from the running script's module."""

import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")
if SRC not in sys.path:
    sys.path.insert(0, SRC)

from advreg.reproducibility import apply  # noqa: E402
from advreg.settings import reproducibility_settings  # noqa: E402

_smk = getattr(sys.modules["__main__"], "snakemake", None)
if _smk is not None:
    apply(reproducibility_settings(_smk.config))
    from advreg.plugins import load_plugins  # noqa: E402

    load_plugins(_smk.config)  # the config's plugins, by name, as in the plan (advreg.plugins)
