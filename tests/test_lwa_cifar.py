"""LWA's CIFAR-10 network with the paper's preprocessing as its input layer (sec. 7): (255 x - 117) / 128 (or the
printed / 256, or the authors' code's (255 x - 128) / 128) and 28 x 28 crops (random per sample in training, drawn by
the loop, centred in eval), so budgets stay in [0, 1] pixel units."""

from __future__ import annotations

import pytest
import torch
import yaml
from conftest import ROOT

from advreg.models import build_model
from advreg.models.cifar import PREPROCESS, PaperInput

SMALL = {"width": 0.0625}


def model(**kwargs):
    torch.manual_seed(0)
    return build_model("lwa_cifar", (3, 32, 32), 10, **{**SMALL, **kwargs})


def conv1_input(net, x):
    seen = []
    hook = net.blocks["conv1"].conv.register_forward_pre_hook(lambda m, a: seen.append(a[0].detach()))
    net(x)
    hook.remove()
    return seen[0]


@pytest.mark.parametrize(
    ("preprocess", "mean", "divisor"), [("paper", 117.0, 128.0), ("paper_256", 117.0, 256.0), ("code", 128.0, 128.0)]
)
def test_paper_normalisation_maps_pixels_to_the_papers_units(preprocess, mean, divisor):
    """paper: sec. 7's mean 117 over 128, the divisor that gives about its range (-1, 1); paper_256: as printed;
    code: the authors' MXNet iterator, (x - 128) * 0.0078125."""
    net = model(**({} if preprocess == "paper" else {"preprocess": preprocess})).eval()
    pixels = torch.tensor([0.0, 117.0, 255.0]) / 255.0
    x = pixels.reshape(1, 3, 1, 1).expand(1, 3, 32, 32).clone()
    seen = conv1_input(net, x)
    torch.testing.assert_close(seen[0, :, 0, 0], (torch.tensor([0.0, 117.0, 255.0]) - mean) / divisor)
    assert seen.shape == (1, 3, 32, 32)  # no crop by default
    low, high = (0.0 - mean) / divisor, (255.0 - mean) / divisor
    assert (low > -1 and high < 1) if preprocess == "paper_256" else (low >= -1 and 0.99 < high < 1.1)


def test_unknown_preprocessing_is_rejected():
    with pytest.raises(ValueError, match="unknown preprocess 'paper_512'"):
        PaperInput("paper_512", 0, (3, 32, 32))


def test_no_preprocessing_feeds_pixels_and_adds_no_layer():
    net = model(preprocess="none").eval()
    assert not hasattr(net.blocks["conv1"], "input")
    x = torch.rand(2, 3, 32, 32)
    assert torch.equal(conv1_input(net, x), x)


def test_state_dict_does_not_depend_on_the_input_layer():
    a, b = model().state_dict(), model(preprocess="none", crop=0).state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_centre_crop_in_eval_mode():
    net = model(crop=28, preprocess="none").eval()
    x = torch.rand(2, 3, 32, 32)
    assert torch.equal(conv1_input(net, x), x[:, :, 2:30, 2:30])
    assert net.blocks["fc1"].linear.in_features == 16 * 7 * 7  # 28 -> 14 -> 7 after the two pools
    assert net(x).shape == (2, 10)


def test_training_mode_takes_the_loops_crop():
    """In training the random window is drawn once per step by the loop (tests/test_lwa_crops.py): the input layer
    passes a cropped input through and refuses a full-size one."""
    net = model(crop=28, preprocess="none").train()
    x = torch.rand(2, 3, 32, 32)
    assert torch.equal(conv1_input(net, x[:, :, 1:29, 3:31]), x[:, :, 1:29, 3:31])
    with pytest.raises(ValueError, match="random 28x28 crop is drawn once per training step"):
        net(x)


def test_gradient_reaches_the_pixels_through_the_input_layer():
    net = model(crop=28).eval()
    x = torch.rand(2, 3, 32, 32, requires_grad=True)
    net(x).sum().backward()
    assert x.grad[:, :, 2:30, 2:30].abs().sum() > 0
    assert x.grad[:, :, :2].abs().sum() == 0 and x.grad[:, :, :, 30:].abs().sum() == 0  # outside the centre crop


def test_crop_larger_than_the_input_is_rejected():
    with pytest.raises(ValueError, match="crop 40"):
        model(crop=40)


def test_paper_preset_budgets_are_table_3s_in_the_input_layers_units():
    """config/paper.yaml's CIFAR-10 budgets are Table 3's 0.5 in the units of lwa_cifar's input layer (pixel units
    x 255 / divisor), to the 255/256 the MNIST budgets keep too; LWA trains and monitors at that budget."""
    config = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())
    experiment = config["experiments"][config["papers"]["lwa"]["cifar_experiment"]]
    _, divisor = PREPROCESS[experiment["model"]["kwargs"].get("preprocess", "paper")]
    epsilon = config["papers"]["lwa"]["cifar_epsilon"]
    assert epsilon * 255 / divisor == pytest.approx(0.5, rel=0.005)
    assert experiment["methods"]["lwa"]["params"]["c"] == epsilon == experiment["finetune"]["monitor"]["epsilon"]
    assert all(epsilon in attack["epsilons"] for attack in experiment["attacks"].values())
