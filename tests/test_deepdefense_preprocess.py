"""DeepDefense's input space (MatConvNet's 0-255 pixels minus the training mean image, models/preprocess.py): the
input layer, the metrics and the regulariser measured there, and the evidence for it on real MNIST (supplementary
Table 1's rho'_2 over Table 1's rho_2 is the mean ||x|| of the test set in that space)."""

import math

import pytest
import torch
import yaml
from conftest import ROOT

from advreg.attacks.base import per_sample_norm
from advreg.attacks.deepfool import deepfool, rho_2
from advreg.data.idx import read_idx
from advreg.methods.deepdefense import deepfool_distances
from advreg.metrics.robustness import robustness_rows
from advreg.models import build_model
from advreg.models.preprocess import MeanImageInput, fit_input_layers, input_space

SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist-partial"


def fitted_pair(seed=0, shape=(1, 4, 4)):
    """(matconvnet model fitted on random data, the same function as a [0, 1]-pixel model, the data)."""
    torch.manual_seed(seed)
    x = torch.rand(64, *shape, dtype=torch.float64)
    model = build_model("mlp_deepdefense", shape, 3, hidden=(12, 8), preprocess="matconvnet").double()
    assert fit_input_layers(model, x[:40]) and not fit_input_layers(model, x)  # fitted once, never refitted
    plain = build_model("mlp_deepdefense", shape, 3, hidden=(12, 8)).double()
    state = {k: v for k, v in model.state_dict().items() if not k.startswith("blocks.fc1.input.")}
    mean = model.blocks["fc1"].input.mean.flatten()
    with torch.no_grad():  # W (255 x - mean) + b == (255 W) x + (b - W mean)
        state["blocks.fc1.linear.bias"] = state["blocks.fc1.linear.bias"] - state["blocks.fc1.linear.weight"] @ mean
        state["blocks.fc1.linear.weight"] = 255 * state["blocks.fc1.linear.weight"]
    plain.load_state_dict(state)
    return model.eval(), plain.eval(), x


def test_input_layer_maps_pixels_to_255x_minus_the_training_mean_and_travels_in_the_state_dict():
    model, plain, x = fitted_pair()
    layer = model.blocks["fc1"].input
    assert isinstance(layer, MeanImageInput)
    assert torch.allclose(layer.mean, 255 * x[:40].mean(dim=0))  # the training split's mean image, 0-255 units
    assert torch.allclose(model(x), plain(x), atol=1e-9)
    assert set(model.state_dict()) - set(plain.state_dict()) == {"blocks.fc1.input.mean", "blocks.fc1.input.fitted"}
    # a fine-tuned model loads the reference's state dict: it inherits the fitted mean, never refits it
    child = build_model("mlp_deepdefense", (1, 4, 4), 3, hidden=(12, 8), preprocess="matconvnet").double()
    child.load_state_dict(model.state_dict())
    assert not fit_input_layers(child, torch.zeros_like(x)) and torch.equal(child.blocks["fc1"].input.mean, layer.mean)
    with pytest.raises(RuntimeError, match="not fitted"):
        build_model("mlp_deepdefense", (1, 4, 4), 3, preprocess="matconvnet")(x.float())
    for arch, shape in (("lenet", (1, 28, 28)), ("convnet", (3, 32, 32)), ("nin", (3, 32, 32))):
        net = build_model(arch, shape, 10, preprocess="matconvnet", **({"width": 0.0625} if arch != "lenet" else {}))
        assert list(net.blocks[net.hidden_names[0]].named_children())[0][0] == "input"
        assert input_space(net).scale == 255 and input_space(build_model(arch, shape, 10)).layer is None


def test_rho_2_and_the_regulariser_are_measured_in_the_paper_space():
    model, plain, x = fitted_pair(1)
    mean = model.blocks["fc1"].input.mean
    space = input_space(model)
    r = 0.01 * torch.randn_like(x)
    expected = per_sample_norm(255 * r) / per_sample_norm(255 * x - mean)
    normalised, unnormalised = rho_2(space.perturbation(r), space.inputs(x))
    assert normalised == pytest.approx(expected.mean().item(), rel=1e-9)
    assert unnormalised == pytest.approx(per_sample_norm(255 * r).mean().item(), rel=1e-9)
    assert normalised != pytest.approx(rho_2(r, x)[0], rel=0.01)  # the [0, 1] reading differs
    # the regulariser's ||r|| / ||x|| (eq. 6) in the paper space; DeepFool's steps are the same in both
    y = model(x).argmax(dim=1)
    settings = dict(max_iter=5, overshoot=0.02, step_eps=0.0, towards_true=True, batched=False)
    ratio, result = deepfool_distances(model, x, y, y, space=space, **settings)
    ratio_plain, result_plain = deepfool_distances(plain, x, y, y, **settings)
    assert torch.allclose(result.perturbation, result_plain.perturbation, atol=1e-8)
    paper = per_sample_norm(255 * result.perturbation) / per_sample_norm(255 * x - mean)
    assert torch.allclose(ratio, paper) and not torch.allclose(ratio, ratio_plain, rtol=0.01)


def test_robustness_metrics_report_the_paper_space():
    model, plain, x = fitted_pair(2)
    y = model(x).argmax(dim=1)
    y[:20] = (y[:20] + 1) % 3
    settings = {"deepfool": {"step_eps": 0.0, "max_iter": 20}, "fgs": {"eps_max": 50.0, "steps": 30}}
    ours = {r["metric"]: r["value"] for r in robustness_rows(model, x, y, settings)}
    theirs = {r["metric"]: r["value"] for r in robustness_rows(plain, x, y, settings)}
    assert ours["input_scale"] == 255 and theirs["input_scale"] == 1
    assert ours["clean_accuracy"] == theirs["clean_accuracy"]
    assert ours["rho_2_unnormalised"] == pytest.approx(255 * theirs["rho_2_unnormalised"], rel=1e-6)
    result = deepfool(plain, x, plain(x).argmax(dim=1), step_eps=0.0, max_iter=20)
    mean = model.blocks["fc1"].input.mean
    paper = (per_sample_norm(result.perturbation) / per_sample_norm(x - mean / 255)).mean().item()
    assert ours["rho_2"] == pytest.approx(paper, rel=1e-6)
    # FGS: epsilons in [0, 1] pixels (the same in both), rho_inf = 255 eps_50 / ||255 x - mean||_inf (eq. 8)
    assert ours["eps_50"] == theirs["eps_50"] and ours["acc_at_0.5_eps_ref"] == theirs["acc_at_0.5_eps_ref"]
    x_inf = per_sample_norm(255 * x - mean, float("inf"))
    assert ours["rho_inf"] == pytest.approx(255 * ours["eps_50"] * (1 / x_inf).mean().item(), rel=1e-6)


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason="real MNIST (../shared/data/mnist-partial) is not here")
def test_published_rho2_ratio_is_the_mean_norm_of_mnist_in_the_matconvnet_space():
    """Supplementary Table 1's rho'_2 = mean ||r|| over Table 1's rho_2 = mean ||r|| / ||x|| is about the mean
    ||x|| of the MNIST test set in the paper's space: 1846-1888 for all 8 models. The input layer fitted on the
    training images gives 1838 on the test set; raw 0-255 pixels give 2370 and [0, 1] pixels 9.3."""

    def images(name):
        return torch.from_numpy(read_idx(SHARED_MNIST / name)).unsqueeze(1).double() / 255

    train, test = images("train-images-idx3-ubyte.gz"), images("t10k-images-idx3-ubyte.gz")
    model = build_model("lenet", (1, 28, 28), 10, preprocess="matconvnet").double()
    fit_input_layers(model, train)
    space = input_space(model)
    paper_norm = per_sample_norm(space.inputs(test)).mean().item()
    pixel_norm = per_sample_norm(test).mean().item()
    assert paper_norm == pytest.approx(1838, abs=2) and 255 * pixel_norm == pytest.approx(2370, abs=2)
    published = yaml.safe_load((ROOT / "config" / "published" / "deepdefense.yaml").read_text())
    ratios = [
        published["rho2_unnormalised"][network][role] / published["table1"][network]["rows"][role]["rho_2"]
        for network in ("mnist_mlp", "mnist_lenet")
        for role in ("reference", "parseval", "deepfool_at", "deepdefense")
    ]
    assert len(ratios) == 8
    for ratio in ratios:  # rho_2 is printed to 3 digits: the ratios scatter by ~1%
        assert ratio == pytest.approx(paper_norm, rel=0.03)
        assert not ratio == pytest.approx(255 * pixel_norm, rel=0.2) and not ratio == pytest.approx(pixel_norm, rel=0.2)
    # a DeepFool perturbation's rho_2 is then ||255 r|| / ||255 x - mean||, not ||r|| / ||x||
    r = 0.01 * test[:5]
    assert rho_2(space.perturbation(r), space.inputs(test[:5]))[0] > 1.1 * rho_2(r, test[:5])[0]


def test_fgs_of_eq_9_is_unclipped_by_default():
    """On a black background (MNIST's zeros) FGS steps below 0 count unless the pixel box is asked for."""
    from torch import nn

    from advreg.metrics.catalog import RobustnessParams

    torch.manual_seed(3)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    with torch.no_grad():  # class 1 wins as the pixels go negative: the only way to fool class 0 at x = 0
        model[1].weight.copy_(torch.tensor([[1.0, 1.0, 1.0, 1.0], [-1.0, -1.0, -1.0, -1.0]]))
        model[1].bias.copy_(torch.tensor([0.1, 0.0]))
    x, y = torch.zeros(10, 1, 2, 2), torch.zeros(10, dtype=torch.long)
    assert RobustnessParams.parse(None, "robustness").fgs.clip is False
    settings = {"metrics": ["fgs"]}
    unclipped = {r["metric"]: r["value"] for r in robustness_rows(model, x, y, settings)}
    clipped = {r["metric"]: r["value"] for r in robustness_rows(model, x, y, {**settings, "fgs": {"clip": True}})}
    assert unclipped["eps_50"] == pytest.approx(0.0125, abs=1e-4)  # 8 eps > 0.1
    assert unclipped["acc_at_1_eps_ref"] == 0.0 and unclipped["acc_at_0.5_eps_ref"] == 1.0
    assert math.isnan(clipped["eps_50"])  # clipping to [0, 1] blocks every step
