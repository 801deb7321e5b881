"""An adversarial set must never be easier than the clean set for the model that crafted it.

Checked for every attack but random noise on a model of about 70% accuracy, where many test points are
already misclassified (an attack moving those onto their true class would overstate robust accuracy; the
attack-contract test uses a nearly perfect model and could not see it).
"""

import pytest
import torch
from torch.nn import functional as F

from advreg.attacks import ATTACKS, build_attack
from advreg.models import build_model

EPSILONS = {"linf": [0.0, 0.02, 0.05, 0.1, 0.3], "l2": [0.0, 0.1, 0.3, 1.0, 3.0, 1e6]}
FAST = {"pgd_linf": {"steps": 5}, "pgd_l2": {"steps": 5}, "apgd_ce": {"n_iter": 10}, "apgd_t": {"n_iter": 10},
        "autoattack": {"n_iter": 10}, "square": {"n_queries": 200}, "fab_t": {"n_iter": 10}}  # fmt: skip


@pytest.fixture(scope="module")
def mediocre():
    """4 overlapping Gaussian classes on 1x6x6 images and a small MLP that gets about 70% of them right."""
    g = torch.Generator().manual_seed(11)
    means = torch.rand(4, 1, 6, 6, generator=g) * 0.4 + 0.3

    def draw(n):
        y = torch.randint(0, 4, (n,), generator=g)
        return (means[y] + 0.4 * torch.randn(n, 1, 6, 6, generator=g)).clamp(0, 1), y

    x_train, y_train = draw(800)
    x, y = draw(300)
    torch.manual_seed(0)
    model = build_model("mlp_lwa", (1, 6, 6), 4, hidden=(16,))
    optimiser = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(60):
        idx = torch.randint(0, 800, (64,), generator=g)
        optimiser.zero_grad()
        F.cross_entropy(model(x_train[idx]), y_train[idx]).backward()
        optimiser.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(x).argmax(1) == y).float().mean().item()
    assert 0.6 <= accuracy <= 0.8, accuracy
    return model, x, y, accuracy


@pytest.mark.parametrize("name", sorted(n for n in ATTACKS if n != "agn"))
def test_accuracy_under_attack_never_exceeds_clean_accuracy(mediocre, name):
    model, x, y, clean = mediocre
    attack = build_attack(name, FAST.get(name))
    epsilons = EPSILONS[ATTACKS[name].norm]
    artifact = attack.craft(model, x, y, epsilons, torch.Generator().manual_seed(0))
    with torch.no_grad():
        wrong_clean = model(x).argmax(1) != y
    for index, eps in enumerate(epsilons):
        with torch.no_grad():
            right = model(attack.materialise(artifact, x, eps, index)).argmax(1) == y
        acc = right.float().mean().item()
        assert acc <= clean + 1e-9, f"{name} at {eps}: accuracy {acc:.4f} above the clean {clean:.4f}"
        # Stronger: no point the attacker misclassifies when clean becomes correct under its own attack.
        helped = int((wrong_clean & right).sum())
        assert helped == 0, f"{name} at {eps}: {helped} of {int(wrong_clean.sum())} misclassified points made correct"


def test_deepfool_from_the_predicted_label_can_help_the_target(mediocre):
    """Why evaluation sets start from the true label: from the prediction, misclassified points are moved away
    from their wrong label, often onto the true one (rho_2 keeps this start, as DeepDefense's code does)."""
    model, x, y, clean = mediocre
    attack = build_attack("deepfool", {"start": "predicted"})
    artifact = attack.craft(model, x, y, [1e6], torch.Generator())
    with torch.no_grad():
        wrong_clean = model(x).argmax(1) != y
        now_right = model(attack.materialise(artifact, x, 1e6, 0)).argmax(1) == y
    assert (wrong_clean & now_right).sum() > 0
