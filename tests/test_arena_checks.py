"""The arena's gradient-masking checks (advreg.papers.masking): each flags tidy rows built to fail it and passes
healthy ones; on real tiny models, a network whose input gradients vanish (a huge softmax temperature, as in
defensive distillation) fails checks 1, 3 and 5, one whose temperature rises off the 8-bit pixel grid fails checks
2 and 4, while the same decision function without the temperature passes.
A check that cannot run is refused at plan time (config) or shown as "not run" (results), never as passed."""

from __future__ import annotations

import copy
from pathlib import Path

import conftest
import pandas as pd
import pytest
import torch
import yaml
from torch import nn

from advreg.attacks.fgsm import FGSM
from advreg.attacks.pgd import PGDLinf
from advreg.attacks.square import Square
from advreg.evaluation.crosseval import cross_evaluate
from advreg.papers import arena, masking
from advreg.papers.catalog import PAPERS
from advreg.plan import ConfigError, build_plan

ROOT = Path(__file__).resolve().parents[1]


def row(attack: str, attacker: str, target: str, eps: float, acc: float, fold: int = 0) -> dict[str, object]:
    return {
        "fold": fold,
        "attack": attack,
        "attacker": attacker,
        "target": target,
        "epsilon": eps,
        "white_box": attacker == target,
        "accuracy": acc,
    }


def flags(result: pd.DataFrame) -> dict[str, bool]:
    return dict(zip(result["target"], result["flagged"], strict=True))


def test_transfer_stronger_than_white_box_is_flagged():
    frame = pd.DataFrame(
        [
            row("pgd_linf", "a/x", "a/x", 0.1, 0.80),  # masked: its own gradient barely hurts it
            row("pgd_linf", "b/x", "a/x", 0.1, 0.20),  # ... but b's examples do
            row("pgd_linf", "b/x", "b/x", 0.1, 0.10),
            row("pgd_linf", "a/x", "b/x", 0.1, 0.70),
            row("pgd_linf", "a/x", "a/x", 0.0, 0.99),  # budget 0 is ignored
            row("pgd_linf", "b/x", "a/x", 0.0, 0.99),
        ]
    )
    result = masking.transfer_stronger(frame, ["pgd_linf"], tol=0.02)
    assert flags(result) == {"a/x": True, "b/x": False}
    assert "transferred from b/x 0.200" in result.set_index("target").loc["a/x", "evidence"]


def test_transfer_within_tolerance_and_folds_averaged():
    frame = pd.DataFrame(
        [
            row("fgsm", "a/x", "a/x", 0.1, 0.50, fold=0),
            row("fgsm", "a/x", "a/x", 0.1, 0.54, fold=1),
            row("fgsm", "b/x", "a/x", 0.1, 0.51, fold=0),
            row("fgsm", "b/x", "a/x", 0.1, 0.51, fold=1),
        ]
    )
    assert flags(masking.transfer_stronger(frame, ["fgsm"], tol=0.02)) == {"a/x": False}  # 0.52 vs 0.51
    assert flags(masking.transfer_stronger(frame, ["fgsm"], tol=0.0)) == {"a/x": True}


def test_fgsm_stronger_than_pgd_is_flagged():
    frame = pd.DataFrame(
        [
            row("fgsm", "a/x", "a/x", 0.1, 0.30),
            row("pgd_linf", "a/x", "a/x", 0.1, 0.60),  # the iterative attack is weaker: masked
            row("fgsm", "b/x", "b/x", 0.1, 0.40),
            row("pgd_linf", "b/x", "b/x", 0.1, 0.20),
            row("fgsm", "b/x", "b/x", 0.3, 0.10),
            row("pgd_linf", "b/x", "b/x", 0.3, 0.00),
        ]
    )
    assert flags(masking.fgsm_stronger_than_pgd(frame, "fgsm", "pgd_linf")) == {"a/x": True, "b/x": False}


def test_no_collapse_is_flagged_for_a_plateau_and_for_a_rise():
    rows = []
    for eps, plateau, rising, healthy in [(0.0, 0.9, 0.9, 0.9), (0.1, 0.6, 0.3, 0.4), (0.5, 0.6, 0.05, 0.0)]:
        rows += [row("pgd_linf", "p/x", "p/x", eps, plateau), row("pgd_linf", "h/x", "h/x", eps, healthy)]
        rows.append(row("pgd_linf", "r/x", "r/x", eps, rising if eps != 0.5 else 0.05))
    rows.append(row("pgd_linf", "r/x", "r/x", 0.3, 0.5))  # rises between 0.1 and 0.3
    result = masking.no_collapse(pd.DataFrame(rows), "pgd_linf", max_accuracy=0.1)
    assert flags(result) == {"p/x": True, "h/x": False, "r/x": True}


def test_more_steps_weaker_is_flagged():
    frame = pd.DataFrame(
        [
            row("pgd_linf", "a/x", "a/x", 0.1, 0.30),
            row("pgd_linf_long", "a/x", "a/x", 0.1, 0.45),  # 50 steps worse than 10: the optimisation is erratic
            row("pgd_linf", "b/x", "b/x", 0.1, 0.30),
            row("pgd_linf_long", "b/x", "b/x", 0.1, 0.25),
        ]
    )
    assert flags(masking.more_effort_not_stronger(frame, "pgd_linf", "pgd_linf_long")) == {"a/x": True, "b/x": False}


def test_gradient_free_stronger_than_gradient_attacks_is_flagged():
    frame = pd.DataFrame(
        [
            row("square", "a/x", "a/x", 0.1, 0.20),  # random search beats every gradient attack: masked
            row("fgsm", "a/x", "a/x", 0.1, 0.55),
            row("pgd_linf", "a/x", "a/x", 0.1, 0.60),
            row("square", "b/x", "b/x", 0.1, 0.32),  # within tol of the strongest gradient attack (pgd)
            row("fgsm", "b/x", "b/x", 0.1, 0.50),
            row("pgd_linf", "b/x", "b/x", 0.1, 0.30),
            row("pgd_linf", "b/x", "b/x", 0.3, 0.90),  # a budget Square did not run: not compared
            row("square", "c/x", "c/x", 0.3, 0.00),  # no common budget with a gradient attack: not judged
            row("pgd_linf", "c/x", "c/x", 0.1, 0.50),
            row("square", "a/x", "b/x", 0.1, 0.00),  # transfer rows do not count
        ]
    )
    result = masking.gradient_free_stronger(frame, "square", ["fgsm", "pgd_linf"], tol=0.02)
    assert flags(result) == {"a/x": True, "b/x": False}
    assert "strongest gradient attack fgsm 0.550" in result.set_index("target").loc["a/x", "evidence"]
    completed = masking.not_run(result, ["a/x", "b/x", "c/x"], masking.GRADIENT_FREE, "no common budget")
    assert completed.set_index("target")["result"].to_dict() == {"a/x": "flagged", "b/x": "passed", "c/x": "not run"}
    assert not completed.set_index("target").loc["c/x", "flagged"]


def test_summarise_joins_failed_checks_per_target():
    checks = pd.DataFrame(
        [
            {"target": "a/x", "check": masking.TRANSFER, "flagged": True, "evidence": ""},
            {"target": "a/x", "check": masking.COLLAPSE, "flagged": True, "evidence": ""},
            {"target": "b/x", "check": masking.TRANSFER, "flagged": False, "evidence": ""},
        ]
    )
    summary = masking.summarise(checks)
    assert summary.to_dict() == {"a/x": f"{masking.TRANSFER}; {masking.COLLAPSE}", "b/x": ""}


def every_model_attacks_every_model(models, attacks, x, y, epsilons) -> pd.DataFrame:
    """Crosseval rows (fold 0) of every (label, attack) crafted on every model of ``models``, evaluated on all."""
    rows = []
    for label, attack in attacks:
        for name, model in models.items():
            artifact = attack.craft(model, x, y, epsilons, torch.Generator().manual_seed(0))
            for r in cross_evaluate(models, attack, artifact, x, y, epsilons, name):
                rows.append({"attack": label, "fold": 0, **r})
    return pd.DataFrame(rows)


class HotSoftmax(nn.Module):
    """The same decision function with logits times 1e4: the softmax saturates, so the cross-entropy's input
    gradient is exactly 0 in float32 at every correctly classified point (gradient masking by construction)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x) * 1e4


@pytest.fixture(scope="module")
def real_rows() -> pd.DataFrame:
    smooth, x, y = conftest.toy_problem(num_classes=3)
    models = {"smooth/x": smooth, "masked/x": HotSoftmax(smooth).eval()}
    epsilons = [0.0, 0.1, 0.3, 0.5]
    attacks = (
        ("fgsm", FGSM()),
        ("pgd_linf", PGDLinf({"steps": 10, "random_start": False})),
        ("square", Square({"n_queries": 100})),
    )
    return every_model_attacks_every_model(models, attacks, x, y, epsilons)


def test_real_masked_model_fails_transfer_and_collapse_checks(real_rows):
    transfer = flags(masking.transfer_stronger(real_rows, ["fgsm", "pgd_linf"]))
    collapse = flags(masking.no_collapse(real_rows, "pgd_linf", max_accuracy=0.1))
    assert transfer == {"smooth/x": False, "masked/x": True}
    assert collapse == {"smooth/x": False, "masked/x": True}
    wb = real_rows[real_rows["white_box"] & (real_rows["epsilon"] == 0.5)].set_index(["attack", "target"])
    assert wb.loc[("pgd_linf", "masked/x"), "accuracy"] > 0.9  # its own gradient moves nothing
    assert wb.loc[("pgd_linf", "smooth/x"), "accuracy"] < 0.05


def test_real_masked_model_fails_the_gradient_free_check(real_rows):
    result = masking.gradient_free_stronger(real_rows, "square", ["fgsm", "pgd_linf"])
    assert flags(result) == {"smooth/x": False, "masked/x": True}
    wb = real_rows[real_rows["white_box"] & (real_rows["epsilon"] == 0.3)].set_index(["attack", "target"])
    assert wb.loc[("square", "masked/x"), "accuracy"] < 0.1  # the random search sees through the temperature
    assert wb.loc[("pgd_linf", "masked/x"), "accuracy"] > 0.9


class OffGridMasked(nn.Module):
    """The same decision function with logits times a temperature that is 1 on the 8-bit pixel grid (every clean
    image) and 1e4 a little off it: the input gradient is the smooth model's at a clean image and exactly 0 in
    float32 once an iterate leaves the grid (the saturated softmax of :class:`HotSoftmax`). One full step from
    the clean image (FGSM, or PGD whose first step already reaches the budget) sees the true gradient; PGD whose
    steps are a fraction of the budget takes one short step and stops (gradient masking that fools checks 2
    and 4, as quantising or stochastic defences can)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        off_grid = x - torch.round(x * 255) / 255  # 0 on the grid; its square has gradient 0 there
        heat = (1e8 * off_grid.pow(2).flatten(1).mean(1)).clamp(max=1.0)
        return self.model(x) * (1 + 1e4 * heat)[:, None]


@pytest.fixture(scope="module")
def off_grid_rows() -> pd.DataFrame:
    smooth, x, y = conftest.toy_problem(num_classes=3)
    x = torch.round(x * 255) / 255  # clean images on the 8-bit grid, as every image dataset's
    models = {"smooth/x": smooth, "masked/x": OffGridMasked(smooth).eval()}
    epsilons = [0.0, 0.3]
    attacks = (
        ("fgsm", FGSM()),
        ("pgd_linf", PGDLinf({"steps": 5, "random_start": False})),  # first step 0.5 x the budget
        ("pgd_linf_long", PGDLinf({"steps": 20, "random_start": False})),  # first step 0.125 x the budget
    )
    return every_model_attacks_every_model(models, attacks, x, y, epsilons)


def test_real_off_grid_masked_model_fails_fgsm_and_effort_checks(off_grid_rows):
    """Checks 2 (FGSM > PGD) and 4 (more steps weaker) on a real model built to fail them; the smooth model with
    the same decisions passes both."""
    fgsm_pgd = masking.fgsm_stronger_than_pgd(off_grid_rows, "fgsm", "pgd_linf")
    effort = masking.more_effort_not_stronger(off_grid_rows, "pgd_linf", "pgd_linf_long")
    assert flags(fgsm_pgd) == {"smooth/x": False, "masked/x": True}
    assert flags(effort) == {"smooth/x": False, "masked/x": True}
    wb = off_grid_rows[off_grid_rows["white_box"]].set_index(["attack", "target", "epsilon"])["accuracy"]
    assert wb[("fgsm", "masked/x", 0.0)] == wb[("fgsm", "smooth/x", 0.0)] > 0.8  # the same clean decisions
    assert wb[("fgsm", "masked/x", 0.3)] == wb[("fgsm", "smooth/x", 0.3)]  # FGSM sees the smooth gradient
    assert wb[("pgd_linf", "smooth/x", 0.3)] <= wb[("fgsm", "smooth/x", 0.3)]
    assert wb[("pgd_linf_long", "masked/x", 0.3)] > wb[("pgd_linf", "masked/x", 0.3)] > wb[("fgsm", "masked/x", 0.3)]


def test_arena_shows_a_check_that_cannot_run_as_not_run(real_rows):
    """Results without Square, and with FGSM and PGD at no common budget: checks 2 and 5 are "not run" for every
    model (never passed); the checks that can run still judge."""
    frame = real_rows[
        (real_rows["attack"] != "square") & ~((real_rows["attack"] == "fgsm") & (real_rows["epsilon"] > 0))
    ]
    frame = pd.concat([frame, pd.DataFrame([row("fgsm", t, t, 0.2, 0.5) for t in ("smooth/x", "masked/x")])])
    params = PAPERS["arena"].parse({"arenas": ["ar"], "pgd_long": "", "transfer_attacks": ["pgd_linf"]})
    checks = arena.masking_checks(frame, params)
    results = checks.set_index(["check", "target"])["result"]
    for check in (masking.FGSM_PGD, masking.GRADIENT_FREE):
        assert {results[(check, t)] for t in ("smooth/x", "masked/x")} == {"not run"}, check
    assert "not run: no results of square" in set(checks["evidence"])
    assert results[(masking.COLLAPSE, "masked/x")] == "flagged"
    assert masking.EFFORT not in set(checks["check"])  # pgd_long: '' leaves check 4 out on purpose
    assert not checks[checks["result"] == "not run"]["flagged"].any()


def default_config() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a, p: a["square"].update(epsilons=[0.2]), "masking check 5 cannot run.*no budget > 0 with"),
        (lambda a, p: a.pop("square"), "attack 'square' is not run"),
        (lambda a, p: a["pgd_linf"].update(epsilons=[0.1]), "masking check 3 cannot run.*0.5"),
        (lambda a, p: a["pgd_linf_long"].update(epsilons=[0.2]), "pgd_long: masking check 4 cannot run"),
        (lambda a, p: a["fgsm"].update(epsilons=[0.0, 0.2]), "fgsm: masking check 2 cannot run"),
        (lambda a, p: p.update(gradient_attacks=["pgd_linf", "pgd_l2"]), "masking check 5.*'pgd_l2' is l2"),
        (lambda a, p: p.update(transfer_attacks=["pgd_linf", "fgsm_clean"]), "masking check 1.*no budget > 0"),
    ],
)
def test_a_check_that_cannot_run_is_a_config_error(change, message):
    config = copy.deepcopy(default_config())
    attacks = config["experiments"]["arena_fmnist_lenet"]["attacks"]
    attacks["fgsm_clean"] = {"attack": "fgsm", "epsilons": [0.0]}
    build_plan(copy.deepcopy(config))  # the shipped arena plans
    change(attacks, config["papers"]["arena"])
    with pytest.raises(ConfigError, match=message):
        build_plan(config)
