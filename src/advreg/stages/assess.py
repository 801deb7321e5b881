"""The assessment of a fold's models, one job per part of them (config ``evaluation.jobs``).

For every model of the part: its white-box robustness metrics; for every model of the part that is an
attacker: every attack's adversarial set of the test split, stored compactly, and the cross-evaluation of
every target model of the fold on it at every budget; per target and threat model (norm and budget), the points
robust to every attack of the part, white-box or transferred (:mod:`advreg.evaluation.worstcase`). One process
does all of it, so torch is imported and the models and data are loaded once (see README, "What reruns when").
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from advreg.artifacts import save_artifact
from advreg.attacks import build_attack
from advreg.attacks.base import predicted_labels
from advreg.checkpoints import load_model
from advreg.evaluation import worstcase
from advreg.evaluation.crosseval import cross_evaluate
from advreg.metrics.catalog import RobustnessParams
from advreg.metrics.robustness import reference_epsilon, robustness_rows
from advreg.progress import progress
from advreg.reporting.examples import COUNT, example_key, write_examples
from advreg.runtime import derive_seed, seed_everything
from advreg.settings import DataParams
from advreg.splits import load_test_split
from advreg.stages.job import JobContext
from advreg.tidy import CROSSEVAL_KEYS, ROBUSTNESS_KEYS, write_tidy


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(k, C, H, W) in [0, 1] (clamped) -> uint8 (k, H, W, C)."""
    return images.detach().clamp(0, 1).mul(255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def assess_part(
    ctx: JobContext,
    *,
    dataset_path: str | Path,
    model_paths: Mapping[str, str],
    outputs: Mapping[str, str],
    experiment: str,
    fold: int,
    params: Mapping[str, Any],
) -> None:
    """``params``: :meth:`advreg.plan.Experiment.assess_params` of this part; ``model_paths``: every target.

    ``outputs`` without ``"adversarial"`` (``evaluation.keep_adversarial: false``, rule ``assess_drop_sets``): the
    sets are evaluated, then dropped; every other output is the same. A progress bar over the robustness metrics,
    crafting and cross-evaluation goes to the log (``runtime.progress_seconds``)."""
    test = load_test_split(dataset_path, DataParams.parse(params["data"], "data"), ctx.seed, experiment, fold)
    x, y = test.x.to(ctx.device), test.y.to(ctx.device)
    models = {name: load_model(path, ctx.device)[0] for name, path in sorted(model_paths.items())}
    batch, eval_batch = ctx.runtime.batch_size, ctx.runtime.eval_batch_size

    robustness = RobustnessParams.parse(params["robustness"], "robustness")
    keep_sets = "adversarial" in outputs
    units = (len(params["models"]) if robustness.enabled else 0) + 2 * len(params["attackers"]) * len(params["attacks"])
    bar = progress(ctx.log, ctx.runtime.progress_seconds, units, f"{experiment} fold {fold} assessment", unit="step")
    robustness_frames = []
    if robustness.enabled:
        eps_ref = None  # DeepDefense Table 1: one model's 50% FGS epsilon for every model
        reference = robustness.fgs.eps_ref_model
        if reference and "fgs" in robustness.metrics and params["models"]:
            if reference not in models:
                raise ValueError(
                    f"experiment {experiment}: robustness.fgs.eps_ref_model {reference!r} is not one of its models "
                    f"(known: {', '.join(sorted(models))})"
                )
            eps_ref = reference_epsilon(models[reference], x, y, robustness, eval_batch)
            ctx.log(f"eps_ref = {eps_ref:.6g}, the 50% FGS epsilon of {reference}")
        for name in params["models"]:
            bar.set_postfix_str(f"robustness of {name}")
            started = time.perf_counter()
            seed_everything(derive_seed(ctx.seed, experiment, fold, "robustness", name))
            source = models[robustness.latent.source] if robustness.latent.source else None
            rows = pd.DataFrame(
                robustness_rows(models[name], x, y, robustness, eval_batch, latent_source=source, eps_ref=eps_ref)
            )
            robustness_frames.append(rows.assign(experiment=experiment, fold=fold, model=name))
            ctx.log(f"robustness of {name}: {len(rows)} rows ({time.perf_counter() - started:.1f} s)")
            bar.update()

    targets = {name: models[name] for name in params["targets"]}
    clean_ok = {name: predicted_labels(model, x, eval_batch) == y for name, model in targets.items()}
    examples = {"clean": to_uint8(x[:COUNT])}
    worst = worstcase.WorstCase({name: ok.cpu().numpy() for name, ok in clean_ok.items()})
    sets: dict[str, Any] = {}
    crosseval_frames = []
    for attacker in params["attackers"]:
        sets[attacker] = {}
        for attack_name, spec in params["attacks"].items():  # by label
            bar.set_postfix_str(f"crafting {attack_name} by {attacker}")
            started = time.perf_counter()
            attack = build_attack(spec["attack"], spec["params"])
            epsilons = [float(e) for e in spec["epsilons"]]
            generator = seed_everything(derive_seed(ctx.seed, experiment, fold, "attack", attack_name, attacker))
            payload = attack.craft(models[attacker], x, y, epsilons, generator, batch_size=batch)
            if params["perturb"] == "correct":  # LWA's evaluation: points the attacker gets wrong stay clean
                payload["keep"] = ~clean_ok[attacker]
            if keep_sets:
                sets[attacker][attack_name] = {
                    "epsilons": epsilons,
                    "params": attack.params.to_dict(),
                    "payload": {k: v.detach().cpu() for k, v in payload.items()},
                }
            bar.update()
            bar.set_postfix_str(f"evaluating {attack_name} by {attacker}")
            threats = [worstcase.threat_model(attack.norm, eps, attack.params.to_dict()) for eps in epsilons]
            per_point: dict[tuple[str, int], torch.Tensor] | None = {} if any(threats) else None
            rows = cross_evaluate(
                targets, attack, payload, x, y, epsilons, attacker, eval_batch, clean_ok, per_point=per_point
            )
            for (target, index), ok in (per_point or {}).items():
                if threats[index] is not None:
                    worst.add(threats[index], attack_name, attacker, target, ok.cpu().numpy())
            crosseval_frames.append(pd.DataFrame(rows).assign(experiment=experiment, fold=fold, attack=attack_name))
            head = {k: v[:COUNT] for k, v in payload.items()}
            for i, eps in enumerate(epsilons):
                examples[example_key(attacker, attack_name, eps)] = to_uint8(
                    attack.adversarial(head, x[:COUNT], eps, i)
                )
            ctx.log(
                f"{attack_name} by {attacker} on {x.shape[0]} test inputs: {len(rows)} rows "
                f"({time.perf_counter() - started:.1f} s)"
            )
            bar.update()
    bar.close()

    if keep_sets:
        blob = {"experiment": experiment, "fold": fold, "n": int(x.shape[0]), "sets": sets}
        save_artifact(outputs["adversarial"], blob)
    else:
        ctx.log("adversarial sets not kept (evaluation.keep_adversarial: false)")
    write_tidy(outputs["crosseval"], crosseval_frames, CROSSEVAL_KEYS)
    write_tidy(outputs["robustness"], robustness_frames, ROBUSTNESS_KEYS + ["metric", "layer", "value"])
    write_examples(outputs["examples"], examples)
    worstcase.write(outputs["worstcase"], worst.frame(experiment, fold))
