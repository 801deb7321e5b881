"""Put the project's ``src/`` on ``sys.path`` so rule scripts import ``advreg`` without installing it
(conda environments, cluster nodes). Snakemake adds this folder to the path of every script it runs."""

import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")
if SRC not in sys.path:
    sys.path.insert(0, SRC)
