"""Cross-evaluation rows on hand-made models where the answer is known."""

import pytest
import torch
from torch import nn

from advreg.attacks import build_attack
from advreg.evaluation.crosseval import cross_evaluate
from advreg.evaluation.points import decode_mask
from advreg.models.base import LayeredClassifier


def fixed_model(weight):
    linear = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor(weight))
    return LayeredClassifier([("flat", nn.Flatten()), ("out", linear)]).eval()


def test_rows_count_correct_predictions_per_budget():
    # Model A predicts class 1 iff x1 > x0; model B always favours class 0 by a wide margin.
    a = fixed_model([[1.0, 0.0], [0.0, 1.0]])
    b = fixed_model([[10.0, 10.0], [0.0, 0.0]])
    x = torch.tensor([[0.2, 0.6], [0.7, 0.1], [0.45, 0.55]]).reshape(3, 1, 1, 2)
    y = torch.tensor([1, 0, 1])
    attack = build_attack("fgsm", {"clip": True})
    art = attack.craft(a, x, y, [0.0, 0.1], torch.Generator())
    rows = cross_evaluate({"a/x": a, "b/y": b}, attack, art, x, y, [0.0, 0.1], attacker="a/x")
    by = {(r["target"], r["epsilon"]): r for r in rows}
    assert by[("a/x", 0.0)]["correct"] == 3  # clean: all right
    assert by[("a/x", 0.1)]["correct"] == 2  # the 0.45/0.55 sample flips (margin 0.1 < 2 * 0.1)
    assert by[("b/y", 0.0)]["correct"] == 1 and by[("b/y", 0.1)]["correct"] == 1
    assert by[("a/x", 0.1)]["white_box"] and not by[("b/y", 0.1)]["white_box"]
    assert {r["attacker"] for r in rows} == {"a/x"}
    assert all(r["n"] == 3 and r["accuracy"] == r["correct"] / 3 for r in rows)
    # each row's mask: which points the target got right (the paired verdicts compare models point by point)
    assert decode_mask(by[("a/x", 0.1)]["mask"], 3).tolist() == [True, True, False]
    assert decode_mask(by[("b/y", 0.0)]["mask"], 3).tolist() == [False, True, False]


def test_success_rate_and_perturbation_norms():
    a = fixed_model([[1.0, 0.0], [0.0, 1.0]])
    x = torch.tensor([[0.2, 0.6], [0.7, 0.1], [0.45, 0.55], [0.9, 0.3]]).reshape(4, 1, 1, 2)
    y = torch.tensor([1, 0, 0, 0])  # sample 2 is misclassified when clean
    attack = build_attack("fgsm", {"clip": False})
    art = attack.craft(a, x, y, [0.1], torch.Generator())
    (row,) = cross_evaluate({"a/x": a}, attack, art, x, y, [0.1], attacker="a/x")
    assert row["clean_correct"] == 3
    # margins of the clean-correct samples: 0.4, 0.6, 0.6 > 2 * 0.1, so none is fooled
    assert row["fooled"] == 0 and row["success_rate"] == 0.0
    assert abs(row["mean_linf"] - 0.1) < 1e-6 and abs(row["mean_l2"] - 0.1 * 2**0.5) < 1e-6
    (row,) = cross_evaluate({"a/x": a}, attack, art, x, y, [0.25], attacker="a/x")
    assert row["fooled"] == 1 and abs(row["success_rate"] - 1 / 3) < 1e-9  # only the 0.4-margin sample flips


def test_only_correctly_classified_points_are_perturbed_when_asked():
    """With a `keep` mask (evaluation.perturb: correct, LWA's protocol) the points the attacker misclassifies
    when clean stay clean for every target."""
    a = fixed_model([[1.0, 0.0], [0.0, 1.0]])
    x = torch.tensor([[0.2, 0.6], [0.7, 0.1], [0.45, 0.55], [0.9, 0.3]]).reshape(4, 1, 1, 2)
    y = torch.tensor([1, 0, 0, 0])  # sample 2 is misclassified by a when clean
    attack = build_attack("fgsm", {"clip": False})
    art = attack.craft(a, x, y, [0.3], torch.Generator())
    moved = attack.adversarial(art, x, 0.3, 0)
    assert not torch.equal(moved[2], x[2])
    art["keep"] = torch.tensor([False, False, True, False])
    kept = attack.adversarial(art, x, 0.3, 0)
    assert torch.equal(kept[2], x[2]) and torch.equal(kept[[0, 1, 3]], moved[[0, 1, 3]])
    (row,) = cross_evaluate({"a/x": a}, attack, art, x, y, [0.3], attacker="a/x")
    assert row["mean_linf"] == pytest.approx(0.3 * 3 / 4)
