"""AutoAttack (advreg.attacks.autoattack, Croce & Hein 2020 sec. 5): the standard version runs APGD-CE, APGD-T,
FAB-T and Square at AutoAttack's settings and is at least as strong as each of them alone; a custom version runs
the chosen components in order, each only on the points the earlier ones left robust, and a component alone gives
the same perturbations as the attack run by itself; the default components (APGD-CE, APGD-T) are today's
ensemble; standard refuses other settings."""

from __future__ import annotations

import conftest
import pytest
import torch
from torch import nn

from advreg.attacks import build_attack
from advreg.attacks.catalog import AUTOATTACK_COMPONENTS
from advreg.params import ConfigError

EPSILONS = [0.0, 0.05, 0.08, 0.1]


@pytest.fixture(scope="module")
def toy():
    return conftest.toy_problem(num_classes=4)


def robust(model: nn.Module, attack, artifact, x, y) -> list[torch.Tensor]:
    """Per budget, the (N,) bool mask of the points the attacker still classifies correctly."""
    with torch.no_grad():
        return [model(attack.materialise(artifact, x, e, i)).argmax(1) == y for i, e in enumerate(EPSILONS)]


def run(model, x, y, name, params, seed=0):
    attack = build_attack(name, params)
    return robust(model, attack, attack.craft(model, x, y, EPSILONS, torch.Generator().manual_seed(seed)), x, y)


def test_standard_is_at_least_as_strong_as_each_component(toy):
    model, x, y = toy
    standard = run(model, x, y, "autoattack", {"version": "standard"})
    components = {
        "apgd_ce": {},
        "apgd_t": {},  # 9 target classes: all K - 1 = 3 used, as in the ensemble
        "fab_t": {},
        "square": {"n_queries": 5000},
    }
    for name, params in components.items():
        alone = run(model, x, y, name, params)
        for e, (ours, theirs) in enumerate(zip(standard, alone, strict=True)):
            # per point: robust to the ensemble only if robust to the component run alone (same random streams)
            assert not (ours & ~theirs).any(), (name, EPSILONS[e])
    accuracy = [m.float().mean().item() for m in standard]
    assert accuracy[0] == 1.0 and accuracy[-1] < 0.9 and accuracy == sorted(accuracy, reverse=True), accuracy


def test_a_single_component_is_the_attack_alone(toy):
    model, x, y = toy
    params = {"n_iter": 10, "n_target_classes": 2, "restarts": 2, "n_queries": 100}
    for name in AUTOATTACK_COMPONENTS:
        ensemble = build_attack("autoattack", {**params, "components": [name]})
        own = {k: v for k, v in params.items() if k in build_attack(name).params.to_dict()}
        alone = build_attack(name, own)
        a = ensemble.craft(model, x, y, EPSILONS, torch.Generator().manual_seed(5))
        b = alone.craft(model, x, y, EPSILONS, torch.Generator().manual_seed(5))
        for i, e in enumerate(EPSILONS):
            assert torch.equal(ensemble.materialise(a, x, e, i), alone.materialise(b, x, e, i)), (name, e)


def test_later_stages_run_only_on_points_still_robust(toy):
    """APGD-CE then FAB-T: every point APGD-CE alone fools is fooled by the pair with APGD-CE's perturbation (the
    first success is kept), and the pair is at least as strong as either alone."""
    model, x, y = toy
    params = {"n_iter": 10, "n_target_classes": 3}
    ce = build_attack("apgd_ce", {"n_iter": 10})
    pair = build_attack("autoattack", {**params, "components": ["apgd_ce", "fab_t"]})
    a = ce.craft(model, x, y, EPSILONS, torch.Generator().manual_seed(1))
    b = pair.craft(model, x, y, EPSILONS, torch.Generator().manual_seed(1))
    fab = run(model, x, y, "fab_t", params, seed=1)
    for i, e in enumerate(EPSILONS):
        with torch.no_grad():
            fooled = model(ce.materialise(a, x, e, i)).argmax(1) != y
        assert torch.equal(a["delta"][fooled, i], b["delta"][fooled, i]), e
        with torch.no_grad():
            pair_robust = model(pair.materialise(b, x, e, i)).argmax(1) == y
        assert not (pair_robust & fooled).any() and not (pair_robust & ~fab[i]).any(), e


def test_default_components_are_apgd_ce_then_apgd_t(toy):
    """The default preset's cell {n_iter: 5, n_target_classes: 2} keeps its meaning: APGD-CE then APGD-T, no
    FAB-T, no Square (the same perturbations as listing those two components)."""
    model, x, y = toy
    default = build_attack("autoattack", {"n_iter": 5, "n_target_classes": 2})
    listed = build_attack("autoattack", {"n_iter": 5, "n_target_classes": 2, "components": ["apgd_ce", "apgd_t"]})
    assert default.components() == ("apgd_ce", "apgd_t")
    a = default.craft(model, x, y, EPSILONS, torch.Generator().manual_seed(2))
    b = listed.craft(model, x, y, EPSILONS, torch.Generator().manual_seed(2))
    assert torch.equal(a["delta"], b["delta"])


def test_standard_refuses_other_settings_and_bad_components():
    assert build_attack("autoattack", {"version": "standard"}).components() == AUTOATTACK_COMPONENTS
    with pytest.raises(ConfigError, match=r"n_iter: version 'standard' fixes n_iter = 100, got 5"):
        build_attack("autoattack", {"version": "standard", "n_iter": 5})
    with pytest.raises(ConfigError, match=r"n_queries: version 'standard' fixes"):
        build_attack("autoattack", {"version": "standard", "n_queries": 200})
    with pytest.raises(ConfigError, match=r"components: version 'standard' runs"):
        build_attack("autoattack", {"version": "standard", "components": ["square"]})
    with pytest.raises(ConfigError, match=r"components: each attack at most once"):
        build_attack("autoattack", {"components": ["fab_t", "fab_t"]})
    with pytest.raises(ConfigError, match=r"components\[0\]: must be one of"):
        build_attack("autoattack", {"components": ["fgsm"]})
