"""LWA's CIFAR-10 network with the paper's preprocessing as its input layer (sec. 7): (255 x - 117) / 256 and
28 x 28 crops (random per sample in training, centred in eval), so budgets stay in [0, 1] pixel units."""

from __future__ import annotations

import pytest
import torch

from advreg.models import build_model

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


def test_paper_normalisation_maps_pixels_to_the_papers_units():
    net = model().eval()
    pixels = torch.tensor([0.0, 117.0, 255.0]) / 255.0
    x = pixels.reshape(1, 3, 1, 1).expand(1, 3, 32, 32).clone()
    seen = conv1_input(net, x)
    torch.testing.assert_close(seen[0, :, 0, 0], torch.tensor([-117.0, 0.0, 138.0]) / 256.0)
    assert seen.shape == (1, 3, 32, 32)  # no crop by default


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


def test_random_crop_per_sample_in_training():
    net = model(crop=28, preprocess="none").train()
    x = torch.arange(32.0).reshape(1, 1, 1, 32).expand(64, 3, 32, 32).clone()  # value = column
    x = x + 100 * torch.arange(32.0).reshape(1, 1, 32, 1)  # + 100 * row
    torch.manual_seed(3)
    seen = conv1_input(net, x)
    top, left = (seen[:, 0, 0, 0] // 100).long(), (seen[:, 0, 0, 0] % 100).long()
    for i in range(64):  # every sample is one contiguous 28 x 28 window of itself, all channels alike
        assert torch.equal(seen[i], x[i, :, top[i] : top[i] + 28, left[i] : left[i] + 28])
    assert top.min() >= 0 and top.max() <= 4 and left.max() <= 4
    assert len(set(zip(top.tolist(), left.tolist(), strict=True))) > 5  # offsets differ between samples
    torch.manual_seed(3)
    assert torch.equal(conv1_input(net, x), seen)  # from torch's seeded generator


def test_gradient_reaches_the_pixels_through_the_input_layer():
    net = model(crop=28).eval()
    x = torch.rand(2, 3, 32, 32, requires_grad=True)
    net(x).sum().backward()
    assert x.grad[:, :, 2:30, 2:30].abs().sum() > 0
    assert x.grad[:, :, :2].abs().sum() == 0 and x.grad[:, :, :, 30:].abs().sum() == 0  # outside the centre crop


def test_crop_larger_than_the_input_is_rejected():
    with pytest.raises(ValueError, match="crop 40"):
        model(crop=40)
