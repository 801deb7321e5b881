"""Datasets: registry, parsers (IDX, CIFAR pickles), sources and verified artifacts.

One job per module: ``registry`` (what each dataset is and its pins; numpy only, read when the plan is
built), ``idx`` and ``cifar`` (decoding), ``sources`` (finding or downloading raw files), ``prepare`` (decode +
verify + save, and reading back).
"""
