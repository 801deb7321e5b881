"""Issue 24 (items 3 and 5): the arena says what ran. Attack labels built from the configured parameters, the
leaderboard's column names, protocol table and training note on a hand-built frame and config, and the optimiser
step count the training loop reports."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch
from test_arena_report import crosseval, params, robustness

from advreg.attacks.describe import describe
from advreg.methods import build_method
from advreg.models import build_model
from advreg.papers import arena
from advreg.runtime import seed_everything
from advreg.splits import Split
from advreg.training.loop import train
from advreg.training.settings import TrainSettings

AA_CUSTOM = "custom: APGD-CE, APGD-T 2 targets, 5 iterations; no FAB-T, no Square"


def test_describe_states_steps_and_every_departure_from_the_standard():
    assert describe("autoattack", {"n_iter": 5, "n_target_classes": 2}) == AA_CUSTOM
    # the catalog's defaults are AutoAttack's counts, but without FAB-T and Square it is still not the standard
    assert describe("autoattack", {}) == "custom: APGD-CE, APGD-T 9 targets, 100 iterations; no FAB-T, no Square"
    assert describe("autoattack", {"n_iter": 5, "restarts": 2, "rho": 0.5}) == (
        "custom: APGD-CE, APGD-T 9 targets, 5 iterations, 2 restarts; no FAB-T, no Square; rho 0.5"
    )
    assert describe("autoattack", {"version": "standard"}) == "standard"  # APGD-CE, APGD-T, FAB-T, Square
    assert describe("autoattack", {"components": ["apgd_ce", "apgd_t", "fab_t", "square"]}) == "standard"
    assert describe("autoattack", {"n_iter": 5, "n_target_classes": 2, "components": ["apgd_t", "fab_t"]}) == (
        "custom: APGD-T 2 targets, FAB-T 2 targets, 5 iterations; no APGD-CE, no Square"
    )
    assert describe("autoattack", {"components": ["apgd_ce", "square"], "n_queries": 200}) == (
        "custom: APGD-CE, Square 200 queries, 100 iterations; no APGD-T, no FAB-T"
    )
    assert describe("fab_t", {}) == "9 targets, 100 iterations, 1 restart"
    assert describe("fab_t", {"n_iter": 20, "n_target_classes": 3, "eta": 1.1}) == (
        "custom: 3 targets, 20 iterations, 1 restart; eta 1.1"
    )
    assert describe("pgd_linf", {"steps": 5, "clip": True}) == "5 steps, 1 restart"
    assert describe("pgd_linf", {"steps": 100, "restarts": 5}) == "100 steps, 5 restarts"
    assert describe("pgd_l2", {"steps": 40, "step_ratio": 1.5, "random_start": False}) == (
        "40 steps, 1 restart, no random start; step ratio 1.5"
    )
    assert describe("apgd_ce", {}) == "100 iterations, 1 restart"
    assert describe("apgd_t", {"n_target_classes": 3}) == "custom: 3 targets, 100 iterations, 1 restart"
    assert describe("deepfool", {"clip": True}) == ""  # 50 iterations: the standard
    assert describe("deepfool", {"max_iter": 5}) == "custom: 5 iterations"
    for one_step in ("fgsm", "grad_l2", "sign_l2", "lwa_alpha", "agn"):
        assert describe(one_step, {"clip": True}) == "", one_step


def hand_built_context() -> dict:
    attacks = {
        "fgsm": {"attack": "fgsm", "norm": "linf", "params": {"clip": True}},
        "pgd_linf": {"attack": "pgd_linf", "norm": "linf", "params": {"steps": 5, "restarts": 1}},
        "pgd_linf_long": {"attack": "pgd_linf", "norm": "linf", "params": {"steps": 10}},
        "pgd_l2": {"attack": "autoattack", "norm": "l2", "params": {"n_iter": 5, "n_target_classes": 2}},
    }
    training = {
        "plain/default": {"epochs": 10, "batch_size": 100, "select": "best_val"},
        "pgd_at/default": {"epochs": 10, "batch_size": 100, "select": "last"},
        "hgd/default": {"epochs": 10, "batch_size": 100, "select": "best_val"},
    }
    return {"dataset": "synthetic", "arch": "lenet", "attacks": attacks, "training": training}


def test_leaderboard_names_columns_by_what_ran_and_states_optimiser_steps(tmp_path):
    context = hand_built_context()
    notes = arena.attack_notes(context["attacks"])
    assert notes["pgd_linf"] == "5 steps, 1 restart" and notes["pgd_l2"] == AA_CUSTOM and notes["fgsm"] == ""
    timings = pd.DataFrame(
        {
            "model": ["plain/default", "pgd_at/default", "hgd/default"] * 2,
            "fold": [0, 0, 0, 1, 1, 1],
            "steps": [500, 500, 1500, 500, 500, 1500],
        }
    )
    steps = arena.optimiser_steps(timings)
    norms = {k: a["norm"] for k, a in context["attacks"].items()}
    table = arena.leaderboard(crosseval(), robustness(), params(), norms, None, notes, steps).set_index("model")
    assert table.loc["hgd/default", "optimiser steps"] == 1500 and table.loc["plain/default", "optimiser steps"] == 500
    assert table.loc["pgd_at/default", "pgd_linf linf 0.1 (5 steps, 1 restart) white-box"] == pytest.approx(70.0)
    assert f"pgd_l2 l2 1.5 ({AA_CUSTOM})" in table.columns and "fgsm linf 0.1" in table.columns
    assert arena.optimiser_steps(timings.assign(steps=[500, None, 1, 1, 1, 1])).empty  # an older timing: no count

    files = {}
    for name, frame in (("crosseval", crosseval()), ("robustness", robustness()), ("timings", timings)):
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
        files[name] = str(tmp_path / f"{name}.csv")
    arena.render(params(), {"arena": files}, {"experiments": {"arena": context}}, tmp_path / "out", lambda _: None)
    md = (tmp_path / "out" / "tables" / "leaderboard.md").read_text()
    header = next(line for line in md.splitlines() if line.startswith("| model"))
    assert "optimiser steps" in header
    assert f"pgd_l2 l2 1.5 ({AA_CUSTOM})" in header and "pgd_linf linf 0.1 (5 steps, 1 restart)" in header
    assert "rank pgd_linf linf 0.1 " in header and "rank pgd_linf linf 0.1 (" not in header  # ranks: short names
    protocol = [line for line in md.splitlines() if line.startswith("| pgd_linf linf 0.1 (5 steps, 1 restart)")]
    assert len(protocol) == 1 and "| 5 steps, 1 restart " in protocol[0]
    assert "one gradient step" in md and "clipped" in md
    assert "Training: 10 epochs, batches of 100 (every model)." in md
    assert "Model kept: its last epoch (PGD-AT); its epoch of best validation accuracy (HGD, Plain)." in md
    assert "The same epochs are not the same number of optimiser updates" in md
    assert "'optimiser steps': each model's count (folds averaged)." in md
    equal = {m: {**t, "equal_steps": True} for m, t in context["training"].items()}
    note = arena.training_note(equal, list(equal), steps_shown=False)
    assert "10 epochs, batches of 100, each the updates of one pass over the given training split" in note
    assert "Every method makes the same number of optimiser updates" in note and "'optimiser steps'" not in note
    claims = (tmp_path / "out" / "claims.md").read_text()
    assert "under pgd_linf linf 0.1 (5 steps, 1 restart)" in claims  # the headline names what ran


def toy_split(n: int, seed: int) -> Split:
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.rand(n, 1, 4, 4, generator=g) * 0.3
    x[:, 0, 0, 0] += 0.7 * y
    return Split(x, y, torch.arange(n))


def test_training_reports_its_optimiser_steps_of_the_set_it_trains_on():
    plain = build_method("plain")
    settings = TrainSettings.of(epochs=3, batch_size=16, optimizer={"name": "sgd", "lr": 0.1})
    counts = {}
    for name, method in (("plain", plain), ("doubled", doubled_method())):
        timing: dict[str, float] = {}
        model = build_model("mlp_lwa", (1, 4, 4), 2, hidden=(8,))
        train(model, method, settings, toy_split(100, 1), toy_split(20, 2), seed_everything(0), name, timing=timing)
        counts[name] = timing["steps"]
    assert counts == {"plain": 3 * math.ceil(100 / 16), "doubled": 3 * math.ceil(200 / 16)}

    early = TrainSettings.of(
        epochs=20, batch_size=50, optimizer={"name": "sgd", "lr": 1e-12}, select="best_val", patience=1
    )
    timing = {}
    history = train(
        build_model("mlp_lwa", (1, 4, 4), 2, hidden=(8,)),
        plain,
        early,
        toy_split(100, 1),
        toy_split(20, 2),
        seed_everything(0),
        "early",
        timing=timing,
    )  # lr ~0: validation never improves after epoch 1, so training stops after epoch 2
    assert len(history) - 1 == 2 and timing["steps"] == 2 * 2


class Interrupted(Exception):
    """Raised after an epoch's checkpoint: stands for a killed job."""


def doubled_method():
    plain = build_method("plain")

    class Doubled(type(plain)):  # a method training on an enlarged set, as multitask's rotations or HLDR's pairs
        def prepare_data(self, train_split: Split, model: torch.nn.Module) -> Split:
            n = train_split.x.shape[0]
            return Split(train_split.x.repeat(2, 1, 1, 1), train_split.y.repeat(2), torch.arange(2 * n))

    return Doubled(plain.params)


def run_equal(method, equal_steps: bool, checkpoint=None, stop_after=None, log=None):
    settings = TrainSettings.of(
        epochs=3, batch_size=16, optimizer={"name": "sgd", "lr": 0.1, "momentum": 0.9}, equal_steps=equal_steps
    )
    generator = seed_everything(0)
    model = build_model("mlp_lwa", (1, 4, 4), 2, hidden=(8,))
    timing: dict[str, float] = {}

    def after_epoch(epoch: int) -> None:
        if epoch == stop_after:
            raise Interrupted

    train(
        model,
        method,
        settings,
        toy_split(100, 1),
        toy_split(20, 2),
        generator,
        "equal steps",
        log=log or (lambda _: None),
        timing=timing,
        checkpoint=checkpoint,
        after_epoch=after_epoch,
    )
    return model.state_dict(), timing


def same_bits(a, b) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_equal_steps_gives_an_enlarged_set_the_updates_of_the_given_one_and_resumes_mid_shuffle(tmp_path):
    per_epoch = math.ceil(100 / 16)  # 7 updates per epoch; the doubled set's shuffle has 13 batches
    plain_state, plain_timing = run_equal(build_method("plain"), equal_steps=False)
    same_state, same_timing = run_equal(build_method("plain"), equal_steps=True)
    assert same_bits(plain_state, same_state)  # an unenlarged set: equal_steps changes nothing
    assert plain_timing["steps"] == same_timing["steps"] == 3 * per_epoch
    _, doubled = run_equal(doubled_method(), equal_steps=False)
    reference, equal = run_equal(doubled_method(), equal_steps=True)
    assert doubled["steps"] == 3 * math.ceil(200 / 16) and equal["steps"] == 3 * per_epoch
    # 21 updates: the first shuffle's 13 batches (the last one of 8 samples), then 8 of the second's
    assert equal["samples"] == 12 * 16 + 8 + 8 * 16
    ckpt = tmp_path / "model.pt.ckpt"
    with pytest.raises(Interrupted):
        run_equal(doubled_method(), True, ckpt, stop_after=1)  # epoch 1 ends at batch 7 of 13 of the first shuffle
    lines: list[str] = []
    resumed, _ = run_equal(doubled_method(), True, ckpt, log=lines.append)
    assert any("resumed from checkpoint" in line and "after epoch 1/" in line for line in lines), lines
    assert same_bits(resumed, reference)
