"""Stages that generate adversarial sets and cross-evaluate models on them."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import pandas as pd
import torch

from advreg.artifacts import load_artifact, save_artifact
from advreg.atomic import atomic_write_text
from advreg.attacks import build_attack
from advreg.checkpoints import load_model
from advreg.evaluation import cross_evaluate
from advreg.metrics.robustness import robustness_rows
from advreg.runtime import derive_seed, seed_everything
from advreg.splits import load_test_split
from advreg.stages.job import JobContext


def craft_set(ctx: JobContext, *, dataset_path, attacker_path, out, experiment: str, exp_cfg: Mapping[str, Any], fold: int,
              attack: str, attacker: str) -> None:
    """Run ``attack`` with the attacker's gradients on the experiment's test split; store the artifact."""
    spec = exp_cfg["attacks"][attack] or {}
    test = load_test_split(dataset_path, exp_cfg.get("data", {}), ctx.seed, experiment, fold)
    generator = seed_everything(derive_seed(ctx.seed, experiment, fold, "attack", attack, attacker))
    model, _ = load_model(attacker_path, ctx.device)
    attack_obj = build_attack(attack, spec.get("params"))
    epsilons = [float(e) for e in spec["epsilons"]]
    payload = attack_obj.craft(model, test.x.to(ctx.device), test.y.to(ctx.device), epsilons, generator)
    ctx.log(f"{attack} by {attacker} on {test.x.shape[0]} test inputs: stored {sorted(payload)}")
    save_artifact(out, {"attack": attack, "attacker": attacker, "params": dict(attack_obj.params), "epsilons": epsilons,
                        "n": int(test.x.shape[0]), "payload": {k: v.detach().cpu() for k, v in payload.items()}})


def evaluate_set(ctx: JobContext, *, dataset_path, adversarial_path, target_paths: Mapping[str, str], out, experiment: str,
                 exp_cfg: Mapping[str, Any], fold: int, attack: str, attacker: str) -> None:
    """Every target on one attacker's set at every budget; tidy CSV."""
    test = load_test_split(dataset_path, exp_cfg.get("data", {}), ctx.seed, experiment, fold)
    blob = load_artifact(adversarial_path)
    if blob["n"] != test.x.shape[0] or blob["attack"] != attack or blob["attacker"] != attacker:
        raise ValueError(f"{adversarial_path} was made for {blob['attack']} by {blob['attacker']} on {blob['n']} inputs, "
                         f"not {attack} by {attacker} on {test.x.shape[0]}: rerun its attack rule")
    attack_obj = build_attack(attack, blob["params"])
    targets = {name: load_model(path, ctx.device)[0] for name, path in sorted(target_paths.items())}
    payload = {k: v.to(ctx.device) for k, v in blob["payload"].items()}
    rows = cross_evaluate(targets, attack_obj, payload, test.x.to(ctx.device), test.y.to(ctx.device), blob["epsilons"], attacker)
    frame = pd.DataFrame(rows)
    frame.insert(0, "attack", attack)
    frame.insert(0, "fold", fold)
    frame.insert(0, "experiment", experiment)
    atomic_write_text(out, frame.to_csv(index=False, float_format="%.6g"))
    ctx.log(f"evaluated {len(targets)} targets on {attack} by {attacker}: {len(rows)} rows")


def evaluate_robustness(ctx: JobContext, *, dataset_path, model_path, out, experiment: str, exp_cfg: Mapping[str, Any],
                        fold: int, model_id: str) -> None:
    """White-box robustness metrics of one model on the experiment's test split; tidy CSV."""
    test = load_test_split(dataset_path, exp_cfg.get("data", {}), ctx.seed, experiment, fold)
    seed_everything(derive_seed(ctx.seed, experiment, fold, "robustness", model_id))
    model, _ = load_model(model_path, ctx.device)
    rows = robustness_rows(model, test.x.to(ctx.device), test.y.to(ctx.device), exp_cfg.get("robustness"))
    method, variant = model_id.split("/", 1)
    frame = pd.DataFrame(rows)
    for position, (column, value) in enumerate({"experiment": experiment, "fold": fold, "method": method, "variant": variant}.items()):
        frame.insert(position, column, value)
    atomic_write_text(out, frame.to_csv(index=False, float_format="%.6g"))
    ctx.log(f"robustness of {model_id}: {len(rows)} rows")
