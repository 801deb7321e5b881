"""Issue 24 (item 2): robust accuracy per threat model as RobustBench defines it, per test point. On hand-made
models and sets where the answer is known: the per-sample worst case against the per-attack minimum, the AND
across assessment parts, which attacks form a threat model, and byte-identical files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from test_crosseval import fixed_model

from advreg.attacks import build_attack
from advreg.evaluation import worstcase
from advreg.evaluation.crosseval import cross_evaluate
from advreg.papers import arena

# model a predicts class 1 iff x1 > x0; every point has margin 0.1, so FGSM at 0.1 flips each one it moves
X = torch.tensor([[0.3, 0.4], [0.6, 0.5], [0.35, 0.45], [0.55, 0.45]]).reshape(4, 1, 1, 2)
Y = torch.tensor([1, 0, 1, 0])


def two_attacks_fooling_different_halves() -> tuple[list[dict], dict[str, np.ndarray], worstcase.WorstCase]:
    """Two FGSM sets at 0.1 by attacker a: the first leaves points 2-3 clean (a ``keep`` mask, as LWA's
    ``perturb: correct`` sets), the second points 0-1. Each fools one half; together they fool every point."""
    model = fixed_model([[1.0, 0.0], [0.0, 1.0]])
    targets = {"a/x": model}
    clean_ok = {"a/x": model(X).argmax(1) == Y}
    assert clean_ok["a/x"].all()
    worst = worstcase.WorstCase({k: v.numpy() for k, v in clean_ok.items()})
    rows, points = [], {}
    for label, keep in (("first", [False, False, True, True]), ("second", [True, True, False, False])):
        attack = build_attack("fgsm", {"clip": True})
        payload = attack.craft(model, X, Y, [0.0, 0.1], torch.Generator())
        payload["keep"] = torch.tensor(keep)
        per_point: dict = {}
        out = cross_evaluate(targets, attack, payload, X, Y, [0.0, 0.1], "a/x", per_point=per_point)
        assert out == cross_evaluate(targets, attack, payload, X, Y, [0.0, 0.1], "a/x")  # rows unchanged
        rows += [{**r, "experiment": "e", "fold": 0, "attack": label} for r in out]
        points[label] = per_point[("a/x", 1)].numpy()
        assert torch.equal(per_point[("a/x", 0)], clean_ok["a/x"])  # budget 0: the clean predictions
        for index, eps in enumerate([0.0, 0.1]):
            key = worstcase.threat_model(attack.norm, eps, attack.params.to_dict())
            if key is not None:
                worst.add(key, label, "a/x", "a/x", per_point[("a/x", index)].numpy())
    return rows, points, worst


def test_worst_case_is_the_per_point_minimum_over_attacks_not_the_minimum_of_accuracies():
    rows, points, worst = two_attacks_fooling_different_halves()
    crosseval = pd.DataFrame(rows)
    at = crosseval[crosseval["epsilon"] == 0.1].set_index("attack")["accuracy"]
    assert at["first"] == at["second"] == 0.5  # each attack alone: 50%
    assert points["first"].tolist() == [False, False, True, True]
    assert points["second"].tolist() == [True, True, False, False]
    # the old aggregate: the minimum over attacks of min(white-box, best transfer) still says 50%
    old = min(arena.threat_accuracy(crosseval, attack, 0.1).loc["a/x", "worst"] for attack in at.index)
    assert old == 0.5
    (row,) = worst.frame("e", 0).to_dict("records")
    assert (row["norm"], row["epsilon"], row["n"], row["robust"], row["accuracy"]) == ("linf", 0.1, 4, 0, 0.0)
    assert row["attacks"] == "first;second" and row["attackers"] == "a/x"
    assert not worstcase.decode_mask(row["mask"], 4).any()
    # the per-point AND equals the per-point minimum over the attacks
    assert np.array_equal(worstcase.decode_mask(row["mask"], 4), np.minimum(points["first"], points["second"]))


def test_a_point_wrong_when_clean_is_never_robust():
    worst = worstcase.WorstCase({"t/x": np.array([True, False, True])})
    worst.add(("l2", 1.5), "pgd_l2", "s/x", "t/x", np.array([True, True, False]))  # point 1: right only attacked
    (row,) = worst.frame("e", 0).to_dict("records")
    assert worstcase.decode_mask(row["mask"], 3).tolist() == [True, False, False] and row["robust"] == 1
    with pytest.raises(ValueError, match="2 predictions for 3 points"):
        worst.add(("l2", 1.5), "pgd_l2", "s/x", "t/x", np.array([True, True]))


def test_only_clipped_linf_and_l2_attacks_at_a_budget_form_threat_models():
    assert worstcase.threat_model("linf", 0.1, {"clip": True}) == ("linf", 0.1)
    assert worstcase.threat_model("l2", 1.5, {"steps": 5}) == ("l2", 1.5)  # PGD: always in the pixel box
    assert worstcase.threat_model("sigma", 0.3) is None  # AGN: a corruption, its own column
    assert worstcase.threat_model("linf", 0.0) is None  # clean
    assert worstcase.threat_model("l2", 1.5, {"clip": False}) is None  # leaves the [0, 1] box
    assert worstcase.threat_model("linf", 0.1) == worstcase.threat_model("linf", 0.1000000000001)


def part_frame(part: int, masks: dict[str, list[bool]], attackers: str) -> pd.DataFrame:
    rows = [
        worstcase.mask_row("e", 0, target, ("linf", 0.1), np.array(mask), ["pgd_linf", f"fgsm{part}"], [attackers])
        for target, mask in masks.items()
    ]
    return pd.DataFrame(rows, columns=worstcase.COLUMNS)


def test_parts_are_anded_per_fold_target_and_threat_model(tmp_path):
    one = part_frame(0, {"t/x": [True, True, False, True, True, True, True, True, True]}, "a/x")
    two = part_frame(1, {"t/x": [True, False, True, True, True, True, True, True, False]}, "b/x")
    for i, frame in enumerate((one, two)):
        worstcase.write(tmp_path / f"part{i}.csv", frame)
    empty = tmp_path / "empty.csv"
    worstcase.write(empty, pd.DataFrame(columns=worstcase.COLUMNS))  # a part without attackers: header only
    parts = [worstcase.read(tmp_path / p) for p in ("part0.csv", "empty.csv", "part1.csv")]
    (row,) = worstcase.combine(parts).to_dict("records")
    assert worstcase.decode_mask(row["mask"], 9).tolist() == [True, False, False, True, True, True, True, True, False]
    assert row["robust"] == 6 and row["accuracy"] == pytest.approx(6 / 9)
    assert row["attacks"] == "fgsm0;fgsm1;pgd_linf" and row["attackers"] == "a/x;b/x"
    with pytest.raises(ValueError, match=r"the parts hold \[2, 9\] points"):
        worstcase.combine([one, part_frame(1, {"t/x": [True, True]}, "b/x")])
    # every part without a threat model's attack (LWA: unclipped L2 attacks only): a header-only file
    none = worstcase.combine([worstcase.read(empty), worstcase.read(empty)])
    assert none.empty and list(none.columns) == worstcase.COLUMNS
    worstcase.write(tmp_path / "none.csv", none)
    assert (tmp_path / "none.csv").read_text().strip() == ",".join(worstcase.COLUMNS)


def test_files_are_byte_identical_on_rerun(tmp_path):
    contents = []
    for run in range(2):
        _, _, worst = two_attacks_fooling_different_halves()
        worstcase.write(tmp_path / f"part{run}.csv", worst.frame("e", 0))
        combined = worstcase.combine([worstcase.read(tmp_path / f"part{run}.csv")])
        worstcase.write(tmp_path / f"all{run}.csv", combined)
        contents.append(((tmp_path / f"part{run}.csv").read_bytes(), (tmp_path / f"all{run}.csv").read_bytes()))
    assert contents[0] == contents[1]
    assert contents[0][0] == contents[0][1]  # one part: the gathered file is the part's
    mask = np.random.default_rng(0).random(1001) < 0.5
    assert np.array_equal(worstcase.decode_mask(worstcase.encode_mask(mask), 1001), mask)
