"""Datasets: registry, parsers (IDX, CIFAR pickles), sources (local folders, mirrors) and verified artifacts.

One job per module: ``registry`` (what each dataset is and its pins), ``idx`` and ``cifar`` (decoding),
``sources`` (finding or downloading raw files), ``prepare`` (decode + verify + save, and reading back).
"""

from advreg.data.prepare import DatasetChecksumError, load_dataset, prepare_dataset
from advreg.data.registry import DATASETS, DatasetSpec, array_digest, get_spec
from advreg.data.sources import DownloadError

__all__ = [
    "DATASETS",
    "DatasetChecksumError",
    "DatasetSpec",
    "DownloadError",
    "array_digest",
    "get_spec",
    "load_dataset",
    "prepare_dataset",
]
