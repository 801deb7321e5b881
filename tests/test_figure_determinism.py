"""Figures are bit-identical from run to run (make verify hashes them), also a line plot over several folds with
its band (the range over the folds; it was seaborn's bootstrap, which had to be seeded)."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from advreg.reporting.figures import accuracy_vs_epsilon


def test_accuracy_band_over_folds_is_drawn_the_same_every_time(tmp_path):
    spread = np.random.default_rng(0).uniform(0.0, 0.2, size=(10, 2, 3))  # 10 folds, every point spread
    rows = [
        {
            "fold": fold,
            "attack": "fgsm",
            "attacker": "a/x",
            "target": target,
            "white_box": target == "a/x",
            "epsilon": eps,
            "accuracy": 0.9 - eps - spread[fold, t, e],
        }
        for fold in range(10)
        for t, target in enumerate(("a/x", "b/x"))
        for e, eps in enumerate((0.0, 0.1, 0.2))
    ]
    digests = set()
    for i in range(3):
        path = tmp_path / f"figure{i}.png"
        accuracy_vs_epsilon(pd.DataFrame(rows), "fgsm", path, "folds")
        digests.add(hashlib.sha256(path.read_bytes()).hexdigest())
    assert len(digests) == 1
