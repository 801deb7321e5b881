"""Properties every registered attack must have, checked on a small trained model.

Budgets are respected (L-inf or L2 ball), clipping keeps inputs in [0, 1], epsilon 0 changes nothing,
artifacts are sliceable along the sample axis, results are reproducible from the generator, and accuracy
does not rise with the budget on a trained model.
"""

import math

import conftest
import pytest
import torch

from advreg.attacks import ATTACKS, build_attack
from advreg.methods import build_method
from advreg.models import build_model
from advreg.runtime import seed_everything
from advreg.splits import Split
from advreg.training.loop import train
from advreg.training.settings import TrainSettings

EPSILONS = {"linf": [0.0, 0.05, 0.1, 0.2], "l2": [0.0, 0.25, 0.5, 1.0], "sigma": [0.0, 0.1, 0.3, 0.6]}
FAST = {
    "pgd_linf": {"steps": 5},
    "pgd_l2": {"steps": 5},
    "apgd_ce": {"n_iter": 10},
    "apgd_t": {"n_iter": 10, "n_target_classes": 2},
    "autoattack": {"n_iter": 10, "n_target_classes": 2},
    "fab_t": {"n_iter": 10, "n_target_classes": 2},
    "deepfool": {"max_iter": 20},
    "square": {"n_queries": 200},
}


@pytest.fixture(scope="module")
def trained():
    gen = seed_everything(0)
    n = 240
    y = torch.randint(0, 3, (n,), generator=gen)
    x = torch.rand(n, 1, 4, 4, generator=gen) * 0.5
    x[torch.arange(n), 0, 1, y] += 0.4
    model = build_model("mlp_lwa", (1, 4, 4), 3, hidden=(16,))
    data = Split(x, y, torch.arange(n))
    train(
        model,
        build_method("plain"),
        TrainSettings.of(epochs=15, batch_size=30, optimizer={"name": "sgd", "lr": 0.3, "momentum": 0.9}),
        data,
        data,
        gen,
        "contract",
        log=lambda m: None,
    )
    return model.eval(), x[:60], y[:60]


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_contract(trained, name):
    model, x, y = trained
    cls = ATTACKS[name]
    params = dict(FAST.get(name, {}))
    if hasattr(cls.params(), "clip"):
        params["clip"] = True
    attack = build_attack(name, params)
    epsilons = EPSILONS[cls.norm]
    art = attack.craft(model, x, y, epsilons, torch.Generator().manual_seed(3))
    again = attack.craft(model, x, y, epsilons, torch.Generator().manual_seed(3))
    assert art.keys() == again.keys() and all(torch.equal(art[k], again[k]) for k in art)
    assert all(v.shape[0] == x.shape[0] for v in art.values()), "artifacts must have the sample axis first"
    previous = math.inf
    for index, eps in enumerate(epsilons):
        adv = attack.materialise(art, x, eps, index)
        assert adv.shape == x.shape and adv.dtype == x.dtype
        assert adv.min() >= 0 and adv.max() <= 1
        if eps == 0:
            assert torch.equal(adv, x)
        delta = (adv - x).flatten(1)
        if cls.norm == "linf":
            assert delta.abs().max() <= eps + 1e-6
        elif cls.norm == "l2":
            assert delta.norm(dim=1).max() <= eps + 1e-5
        # sliced artifacts give the same inputs (the cross-evaluation works in slices)
        part = {k: v[10:25] for k, v in art.items()}
        assert torch.equal(attack.materialise(part, x[10:25], eps, index), adv[10:25])
        acc = conftest.accuracy(model, adv, y)
        if cls.norm != "sigma":
            assert acc <= previous + 1e-9, f"{name}: accuracy rose from {previous} to {acc} at eps={eps}"
        previous = acc
    if cls.norm != "sigma":
        assert previous < conftest.accuracy(model, x, y), f"{name} did not lower accuracy at its largest budget"
