"""The arena's gradient-masking checks (advreg.papers.masking): each flags tidy rows built to fail it and passes
healthy ones; on real tiny models, a network whose input gradients vanish (a huge softmax temperature, as in
defensive distillation) fails checks 1 and 3 while the same decision function without the temperature passes."""

from __future__ import annotations

import conftest
import pandas as pd
import pytest
import torch
from torch import nn

from advreg.attacks.fgsm import FGSM
from advreg.attacks.pgd import PGDLinf
from advreg.evaluation.crosseval import cross_evaluate
from advreg.papers import masking


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
    rows = []
    for label, attack in (("fgsm", FGSM()), ("pgd_linf", PGDLinf({"steps": 10, "random_start": False}))):
        for name, model in models.items():
            artifact = attack.craft(model, x, y, epsilons, torch.Generator().manual_seed(0))
            for r in cross_evaluate(models, attack, artifact, x, y, epsilons, name):
                rows.append({"attack": label, "fold": 0, **r})
    return pd.DataFrame(rows)


def test_real_masked_model_fails_transfer_and_collapse_checks(real_rows):
    transfer = flags(masking.transfer_stronger(real_rows, ["fgsm", "pgd_linf"]))
    collapse = flags(masking.no_collapse(real_rows, "pgd_linf", max_accuracy=0.1))
    assert transfer == {"smooth/x": False, "masked/x": True}
    assert collapse == {"smooth/x": False, "masked/x": True}
    wb = real_rows[real_rows["white_box"] & (real_rows["epsilon"] == 0.5)].set_index(["attack", "target"])
    assert wb.loc[("pgd_linf", "masked/x"), "accuracy"] > 0.9  # its own gradient moves nothing
    assert wb.loc[("pgd_linf", "smooth/x"), "accuracy"] < 0.05
