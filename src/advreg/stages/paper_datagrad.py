"""Stage that renders the DataGrad paper's tables, claims and Figures 1-3 (see advreg.reporting.datagrad)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import yaml

from advreg.artifacts import load_artifact
from advreg.attacks import build_attack
from advreg.plan import expand_variants
from advreg.reporting import datagrad as dg
from advreg.splits import load_test_split
from advreg.stages.job import JobContext

FIGURE3_METHODS = ("rect", "l1", "dgl1")


def render_datagrad(ctx: JobContext, *, crosseval_csv, histories: Mapping[str, str], r1_sets: Mapping[str, str], dataset_path,
                    published_path, experiment: str, exp_cfg: Mapping[str, Any], out_dir) -> None:
    out_dir = Path(out_dir)
    spec = exp_cfg["published"]
    frame = pd.read_csv(crosseval_csv)
    frame = frame[frame["experiment"] == experiment]
    published = yaml.safe_load(Path(published_path).read_text())
    best = dg.best_by_validation({mid: pd.read_csv(path) for mid, path in histories.items()})
    ctx.log(f"best-validation variants: {best}")
    dataset = exp_cfg["dataset"]
    keys = {v.model_id: dg.published_key(v.model_id, v.params)
            for method, mspec in exp_cfg["methods"].items() for v in expand_variants(method, mspec or {}, method)}
    dg.write_tables(frame, published, spec["tables"], spec["r1"], out_dir, dataset, keys)
    claims = dg.check_claims(frame, best, spec["r1"], spec.get("r2", ""))
    dg.write_claims(claims, out_dir / "claims.md", dataset)
    dg.figure_own_adversary(frame, best, [a for a in (spec["r1"], spec.get("r2")) if a], out_dir / "figure1.png",
                            f"DataGrad Fig. 1 ({dataset}): each model as its own adversary")
    dg.figure_fixed_adversaries(frame, best, spec["r1"], out_dir / "figure2.png", f"DataGrad Fig. 2 ({dataset}): Rect and MT as adversaries")

    test = load_test_split(dataset_path, exp_cfg.get("data", {}), ctx.seed, experiment, 0)
    x = test.x[:1]
    phis = [float(e) for e in exp_cfg["attacks"][spec["r1"]]["epsilons"]]
    images = {}
    for method in FIGURE3_METHODS:
        model_id = best.get(method)
        if model_id is None or model_id not in r1_sets:
            continue
        blob = load_artifact(r1_sets[model_id])
        attack = build_attack(spec["r1"], blob["params"])
        payload = {k: v[:1] for k, v in blob["payload"].items()}
        stack = [attack.materialise(payload, x, phi, i)[0].clamp(0, 1).mean(0).numpy() for i, phi in enumerate(phis)]
        images[dg.paper_label(model_id)] = np.stack(stack)
    dg.figure_samples(images, phis, out_dir / "figure3.png", f"DataGrad Fig. 3 ({dataset}): each model's own R1 noise on one test image")
