"""Tests of advreg.models: the registry, the LayeredClassifier API and every architecture's structure."""

from __future__ import annotations

import math
from itertools import pairwise

import pytest
import torch
from torch import nn

from advreg.models import MODEL_NAMES, build_model, model_kwargs
from advreg.models.base import LayeredClassifier

SHAPES = [(1, 28, 28), (3, 32, 32)]
# Small widths keep the convolutional models fast on CPU.
SMALL = {"vgg": {"width": 0.125}, "nin": {"width": 0.0625}, "lwa_cifar": {"width": 0.0625}, "convnet": {"width": 0.25}}


def small(name: str, shape=(1, 28, 28), num_classes: int = 10, seed: int = 0, **kwargs) -> LayeredClassifier:
    torch.manual_seed(seed)
    return build_model(name, shape, num_classes, **{**SMALL.get(name, {}), **kwargs})


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def conv_params(c_in: int, c_out: int, k: int) -> int:
    return c_in * c_out * k * k + c_out


def test_model_names():
    assert set(MODEL_NAMES) == {
        "mlp_datagrad", "mlp_lwa", "mlp_deepdefense", "lenet", "vgg", "convnet", "nin", "lwa_cifar",
    }  # fmt: skip


# ------------------------------------------------------------------------------------------- uniform API


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_builds_and_gives_logits(name, shape):
    model = small(name, shape).eval()
    x = torch.rand(3, *shape)
    logits = model(x)
    assert logits.shape == (3, 10)
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_activations_and_forward_from(name, shape):
    model = small(name, shape).eval()
    x = torch.rand(4, *shape)
    with torch.no_grad():
        logits = model(x)
        logits2, acts = model.forward_with_activations(x)
        assert torch.allclose(logits, logits2, atol=1e-6)
        assert list(acts) == model.hidden_names
        assert len(model.hidden_names) == len(model.blocks) - 1
        assert model.representation_layer in model.hidden_names
        for layer, h in acts.items():
            assert h.shape[0] == 4
            assert torch.allclose(model.forward_from(h, layer), logits, atol=1e-5), layer
            assert torch.equal(model.forward_to(x, layer), h), layer


def test_forward_from_rejects_non_hidden_block():
    model = small("mlp_deepdefense")
    h = torch.rand(2, 500)
    with pytest.raises(ValueError, match="'out'"):
        model.forward_from(h, "out")
    with pytest.raises(ValueError, match="'nope'"):
        model.forward_from(h, "nope")


def test_layered_classifier_validates_blocks():
    with pytest.raises(ValueError, match="twice"):
        LayeredClassifier([("a", nn.Identity()), ("a", nn.Identity())])
    with pytest.raises(ValueError, match="at least two"):
        LayeredClassifier([("a", nn.Identity())])
    with pytest.raises(ValueError, match="'zzz'"):
        LayeredClassifier([("a", nn.Identity()), ("b", nn.Identity())], representation_layer="zzz")
    net = LayeredClassifier([("a", nn.Identity()), ("b", nn.Identity()), ("c", nn.Identity())])
    assert net.hidden_names == ["a", "b"] and net.representation_layer == "b"


def test_state_dict_keys_are_readable():
    keys = set(small("mlp_deepdefense").state_dict())
    assert {"blocks.fc1.linear.weight", "blocks.fc2.linear.bias", "blocks.out.linear.weight"} <= keys
    assert "blocks.conv13.bn.running_mean" in small("vgg").state_dict()


# ------------------------------------------------------------------------------------------- registry errors


def test_unknown_model_name():
    with pytest.raises(ValueError, match="resnet") as err:
        build_model("resnet", (1, 28, 28), 10)
    assert "mlp_datagrad" in str(err.value)  # lists the known names


def test_unknown_kwarg_names_kwarg_and_model():
    with pytest.raises(ValueError, match="depht") as err:
        build_model("mlp_datagrad", (1, 28, 28), 10, depht=2)
    assert "mlp_datagrad" in str(err.value)
    with pytest.raises(ValueError, match="dropout") as err:
        build_model("mlp_deepdefense", (1, 28, 28), 10, dropout=0.5)
    assert "mlp_deepdefense" in str(err.value)


@pytest.mark.parametrize(
    "name, kwargs, culprit",
    [
        ("mlp_lwa", {"activation": "sigmoid"}, "sigmoid"),
        ("lenet", {"conv_activation": "elu"}, "elu"),
        ("vgg", {"order": "bn_first"}, "bn_first"),
        ("vgg", {"width": 0}, "width"),
        ("mlp_lwa", {"dropout": 1.0}, "dropout"),
        ("mlp_lwa", {"hidden": ()}, "hidden"),
        ("nin", {"init": "xavier"}, "xavier"),
    ],
)
def test_invalid_kwarg_values(name, kwargs, culprit):
    with pytest.raises(ValueError, match=culprit) as err:
        build_model(name, (1, 28, 28), 10, **kwargs)
    assert name in str(err.value)


def test_invalid_shapes():
    with pytest.raises(ValueError, match="input_shape"):
        build_model("lenet", (28, 28), 10)
    with pytest.raises(ValueError, match="convnet"):  # too small for Conv-4 after three pools
        build_model("convnet", (3, 16, 16), 10)
    with pytest.raises(ValueError, match="lenet"):  # too small for two unpadded 5x5 convs
        build_model("lenet", (1, 8, 8), 10)


def test_model_kwargs_lists_defaults():
    assert model_kwargs("mlp_datagrad") == {
        "width": 784,
        "depth": 3,
        "aux_classes": 0,
        "representation_layer": None,
        "denoiser": None,
    }
    assert model_kwargs("vgg")["activation"] == "elu"


def test_representation_layer_override():
    model = build_model("mlp_lwa", (1, 28, 28), 10, representation_layer="fc1")
    assert model.representation_layer == "fc1"
    with pytest.raises(ValueError, match="fc9"):
        build_model("mlp_lwa", (1, 28, 28), 10, representation_layer="fc9")


# ------------------------------------------------------------------------------------------- parameter counts


def test_param_count_mlp_deepdefense():
    model = build_model("mlp_deepdefense", (1, 28, 28), 10)
    assert n_params(model) == 784 * 500 + 500 + 500 * 150 + 150 + 150 * 10 + 10


def test_param_count_lenet():
    model = build_model("lenet", (1, 28, 28), 10)
    assert n_params(model) == (20 * 25 + 20) + (50 * 20 * 25 + 50) + (800 * 500 + 500) + (500 * 10 + 10)
    assert model.blocks["fc1"].linear.in_features == 50 * 4 * 4


def test_param_count_mlp_datagrad():
    model = build_model("mlp_datagrad", (1, 28, 28), 10)
    assert n_params(model) == 3 * (784 * 784 + 784) + 784 * 10 + 10
    assert model.hidden_names == ["fc1", "fc2", "fc3"]


def test_param_count_convnet():
    model = build_model("convnet", (3, 32, 32), 10)
    expected = conv_params(3, 32, 5) + conv_params(32, 32, 5) + conv_params(32, 64, 5) + conv_params(64, 64, 4)
    assert n_params(model) == expected + conv_params(64, 10, 1)


def test_param_count_nin():
    model = build_model("nin", (3, 32, 32), 10)
    layers = [(3, 192, 5), (192, 160, 1), (160, 96, 1), (96, 192, 5), (192, 192, 1), (192, 192, 1),
              (192, 192, 3), (192, 192, 1), (192, 10, 1)]  # fmt: skip
    assert n_params(model) == sum(conv_params(*layer) for layer in layers)


def test_param_count_vgg():
    model = build_model("vgg", (3, 32, 32), 10)
    chans = [3, 64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    convs = sum(conv_params(a, b, 3) + 2 * b for a, b in pairwise(chans))  # + BN affine
    assert n_params(model) == convs + (512 * 512 + 512 + 2 * 512) + (512 * 10 + 10)


def test_param_count_lwa_cifar():
    model = build_model("lwa_cifar", (3, 32, 32), 10, width=0.25)
    c1, c2, fc = 32, 64, 512
    convs = conv_params(3, c1, 3) + 2 * conv_params(c1, c1, 3) + conv_params(c1, c2, 3) + 2 * conv_params(c2, c2, 3)
    fcs = (c2 * 8 * 8 * fc + fc) + (fc * fc + fc) + (fc * 10 + 10)
    assert n_params(model) == convs + fcs


# ------------------------------------------------------------------------------------------- initialisation


def test_mlp_datagrad_he_init():
    torch.manual_seed(0)
    model = build_model("mlp_datagrad", (1, 28, 28), 10)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert len(linears) == 4
    for lin in linears:
        expected = math.sqrt(2.0 / lin.in_features)
        assert lin.weight.std().item() == pytest.approx(expected, rel=0.05)
        assert abs(lin.weight.mean().item()) < 0.05 * expected
        assert torch.count_nonzero(lin.bias) == 0


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_same_seed_same_parameters(name):
    a = small(name, seed=123).state_dict()
    torch.rand(1000)  # disturb the RNG between builds
    build_model("lenet", (1, 28, 28), 10)
    b = small(name, seed=123).state_dict()
    c = small(name, seed=124).state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a if a[k].is_floating_point())


@pytest.mark.parametrize("name", ["vgg", "lenet", "convnet", "lwa_cifar"])
def test_construction_has_no_side_effects(name):
    """Shape inference at construction: no RNG draws beyond init, BN stats untouched, train mode kept."""
    model = small(name, dropout=0.5) if name == "lwa_cifar" else small(name)
    assert all(m.training for m in model.modules())
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            assert int(m.num_batches_tracked) == 0 and torch.count_nonzero(m.running_mean) == 0
    # same seed but a different input size (different dummy pass) -> same draws for same-shaped params
    torch.manual_seed(5)
    a = build_model("lenet", (1, 28, 28), 10).blocks["conv1"].conv.weight
    torch.manual_seed(5)
    b = build_model("lenet", (1, 36, 36), 10).blocks["conv1"].conv.weight
    assert torch.equal(a, b)


# ------------------------------------------------------------------------------------------- architectures


def test_vgg_blocks_and_post_bn_activations():
    model = small("vgg", (3, 32, 32))
    assert model.hidden_names == [f"conv{i}" for i in range(1, 14)] + ["fc1"]
    assert isinstance(model.blocks["conv1"].act, nn.ELU)
    assert list(model.blocks["conv1"])[-1] is model.blocks["conv1"].bn  # conv -> act -> BN
    model.train()
    with torch.no_grad():
        _, acts = model.forward_with_activations(torch.rand(6, 3, 32, 32))
    for layer, h in acts.items():
        dims = (0, 2, 3) if h.dim() == 4 else (0,)
        assert h.mean(dim=dims).abs().max().item() < 1e-4, layer  # BN output: per-channel batch mean ~ 0
        assert h.var(dim=dims, unbiased=False).mean().item() == pytest.approx(1.0, abs=0.05), layer
    # spatial sizes: pooling rides at the start of the next block (activations are pre-pool, post-BN)
    assert acts["conv2"].shape[-1] == 32 and acts["conv3"].shape[-1] == 16 and acts["conv13"].shape[-1] == 2


def test_vgg_options():
    model = small("vgg", activation="relu", order="bn_act")
    block = list(model.blocks["conv5"])
    assert isinstance(block[-1], nn.ReLU) and isinstance(block[-2], nn.BatchNorm2d)
    assert small("vgg", width=1 / 64).blocks["conv1"].conv.out_channels == 1  # max(1, round(64 / 64))
    assert small("vgg", width=0.5, dense=100).blocks["fc1"].linear.out_features == 50


def test_lenet_variants():
    plain = small("lenet")
    assert not any(isinstance(m, (nn.ReLU, nn.Tanh)) for m in plain.blocks["conv1"].modules())
    lwa = small("lenet", conv_activation="tanh", activation="tanh", dropout=0.5, fc_width=100)
    assert isinstance(lwa.blocks["conv1"].act, nn.Tanh) and isinstance(lwa.blocks["fc1"].act, nn.Tanh)
    assert isinstance(lwa.blocks["out"].dropout, nn.Dropout) and lwa.blocks["fc1"].linear.out_features == 100


def test_dropout_is_not_part_of_returned_activations():
    model = small("mlp_lwa", dropout=0.5)
    x = torch.rand(8, 1, 28, 28)
    model.train()
    _, acts_train = model.forward_with_activations(x)
    model.eval()
    _, acts_eval = model.forward_with_activations(x)
    assert torch.allclose(acts_train["fc1"], acts_eval["fc1"])  # fc1 has no dropout in it
    model.train()
    torch.manual_seed(0)
    a = model(x)
    torch.manual_seed(1)
    assert not torch.allclose(a, model(x))  # dropout does act in training


def test_lwa_cifar_representation_split():
    model = small("lwa_cifar", (3, 32, 32), dropout=0.5).eval()
    assert model.representation_layer == "fc1"
    assert model.hidden_names[-2:] == ["fc1", "fc2"]
    x = torch.rand(3, 3, 32, 32)
    with torch.no_grad():
        rep = model.forward_to(x, model.representation_layer)
        assert rep.shape == (3, round(2048 * SMALL["lwa_cifar"]["width"]))
        assert torch.allclose(model.forward_from(rep, "fc1"), model(x), atol=1e-6)
        assert not torch.allclose(model.forward_from(rep + 0.5, "fc1"), model(x))


def test_convnet_global_pool_only_when_needed():
    assert not hasattr(small("convnet", (3, 32, 32)).blocks["out"], "gap")
    assert not hasattr(small("convnet", (1, 28, 28)).blocks["out"], "gap")  # ceil-mode pools reach 1x1
    big = small("convnet", (3, 48, 48))
    assert isinstance(big.blocks["out"].gap, nn.AdaptiveAvgPool2d)
    assert big(torch.rand(2, 3, 48, 48)).shape == (2, 10)


def test_nin_dropout_after_pools():
    model = small("nin", (3, 32, 32), dropout=0.5)
    assert [n for n in model.hidden_names if hasattr(model.blocks[n], "dropout")] == ["conv2", "conv3"]
    assert model.hidden_names == ["conv1", "cccp1", "cccp2", "conv2", "cccp3", "cccp4", "conv3", "cccp5"]


def test_gradients_flow_to_input():
    """Double backprop (DataGrad, DeepDefense) needs input gradients through every model."""
    for name in MODEL_NAMES:
        model = small(name).eval()
        x = torch.rand(2, 1, 28, 28, requires_grad=True)
        (grad,) = torch.autograd.grad(model(x).logsumexp(1).sum(), x, create_graph=True)
        assert grad.shape == x.shape and grad.abs().sum() > 0, name


# ------------------------------------------------------------------------------------------- auxiliary head


def test_mlp_datagrad_aux_head():
    """DataGrad sec. 3: a second set of output units on the penultimate layer, He-initialised; the main
    network (its parameters and state-dict keys) is unchanged by it."""
    torch.manual_seed(0)
    plain = build_model("mlp_datagrad", (1, 28, 28), 10)
    torch.manual_seed(0)
    multi = build_model("mlp_datagrad", (1, 28, 28), 10, aux_classes=5)
    a, b = plain.state_dict(), multi.state_dict()
    assert set(b) - set(a) == {"aux_head.weight", "aux_head.bias"} and set(a) <= set(b)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert "aux_head" not in dict(plain.named_children()) and plain.aux_head is None
    head = multi.aux_head
    assert isinstance(head, nn.Linear) and (head.in_features, head.out_features) == (784, 5)
    assert head.weight.std().item() == pytest.approx(math.sqrt(2.0 / 784), rel=0.05)
    assert torch.count_nonzero(head.bias) == 0
    assert n_params(multi) == n_params(plain) + 784 * 5 + 5
    x = torch.rand(4, 1, 28, 28)
    main, aux = multi.forward_aux(x)
    assert main.shape == (4, 10) and aux.shape == (4, 5)
    assert torch.equal(main, multi(x))  # forward() still returns the main logits only
    with pytest.raises(ValueError, match="auxiliary head"):
        plain.forward_aux(x)
    with pytest.raises(ValueError, match="aux_classes"):
        build_model("mlp_datagrad", (1, 28, 28), 10, aux_classes=-1)


def test_a_reference_extends_into_a_multitask_model():
    """A variant may add a head to the reference it fine-tunes: the reference's weights carry over unchanged, the
    new head is fresh, and a variant that changes the architecture is refused."""
    from advreg.stages.train import extend_reference

    reference = small("lenet", seed=1)
    extended = extend_reference(reference, small("lenet", seed=2, aux_classes=5), "job")
    assert all(torch.equal(v, extended.state_dict()[k]) for k, v in reference.state_dict().items())
    main, aux = extended.forward_aux(torch.rand(2, 1, 28, 28))
    assert main.shape == (2, 10) and aux.shape == (2, 5)
    with pytest.raises(ValueError, match="do not fit"):
        extend_reference(reference, small("lenet", fc_width=100), "job")


@pytest.mark.parametrize("name", ["lenet", "mlp_deepdefense"])
def test_matconvnet_init_is_small_gaussian_weights_and_zero_biases(name):
    """``init: matconvnet`` (MatConvNet's cnn_mnist_init, f = 1/100): every conv / linear weight ~ N(0, 0.01^2), every
    bias 0; the default leaves PyTorch's initialisation exactly as it was (same seed, same weights)."""
    torch.manual_seed(0)
    default = build_model(name, (1, 28, 28), 10)
    torch.manual_seed(0)
    explicit = build_model(name, (1, 28, 28), 10, init="default")
    for a, b in zip(default.state_dict().values(), explicit.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    torch.manual_seed(0)
    mcn = build_model(name, (1, 28, 28), 10, init="matconvnet")
    layers = [m for m in mcn.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(layers) >= 3
    weights = torch.cat([m.weight.flatten() for m in layers])
    assert abs(weights.std().item() - 0.01) < 0.0005 and abs(weights.mean().item()) < 0.0005
    assert all(torch.count_nonzero(m.bias) == 0 for m in layers)
    big = [m for m in default.modules() if isinstance(m, nn.Linear)][-1]
    assert big.weight.std().item() > 0.02  # PyTorch's default is not this scheme
    with pytest.raises(ValueError, match="init"):
        build_model(name, (1, 28, 28), 10, init="xavier")


def test_lwa_notebook_init_is_uniform_007_weights_and_zero_biases():
    """``init: lwa_notebook`` on LWA's MLP (the authors' MNIST_2layers notebook: ``mx.rnd.uniform(-0.07, 0.07)`` on
    every weight, biases left at zero): weights within +-0.07 and spread as U(-0.07, 0.07) (std 0.07 / sqrt(3)), every
    bias 0; the default leaves PyTorch's initialisation exactly as it was; LeNet takes it too (the authors' MNIST_LeNet
    notebook), DeepDefense's MLP does not."""
    torch.manual_seed(0)
    default = build_model("mlp_lwa", (1, 28, 28), 10, hidden=(100, 100))
    torch.manual_seed(0)
    explicit = build_model("mlp_lwa", (1, 28, 28), 10, hidden=(100, 100), init="default")
    for a, b in zip(default.state_dict().values(), explicit.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    torch.manual_seed(0)
    notebook = build_model("mlp_lwa", (1, 28, 28), 10, hidden=(100, 100), init="lwa_notebook")
    layers = [m for m in notebook.modules() if isinstance(m, nn.Linear)]
    assert len(layers) == 3
    weights = torch.cat([m.weight.flatten() for m in layers])
    assert weights.abs().max().item() <= 0.07
    assert abs(weights.std().item() - 0.07 / 3**0.5) < 0.001 and abs(weights.mean().item()) < 0.001
    assert all(torch.count_nonzero(m.bias) == 0 for m in layers)
    first = [m for m in default.modules() if isinstance(m, nn.Linear)][0]
    assert first.weight.abs().max().item() < 0.036  # PyTorch's default: U(-1/sqrt(784), 1/sqrt(784)), not this scheme
    lenet = build_model("lenet", (1, 28, 28), 10, init="lwa_notebook")
    assert all(m.weight.abs().max().item() <= 0.07 for m in lenet.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))
    with pytest.raises(Exception, match="init"):
        build_model("mlp_deepdefense", (1, 28, 28), 10, init="lwa_notebook")


def test_lwa_mlp_dropout_acts_on_every_hidden_activation_or_only_the_last():
    """``dropout_at``: LWA's Dropout network drops every hidden activation by default; ``last`` (the authors'
    MNIST_2layers notebook) only the last hidden activation, before the output layer; the weights do not change."""
    torch.manual_seed(0)
    every = build_model("mlp_lwa", (1, 28, 28), 10, hidden=(200, 200), dropout=0.5)
    torch.manual_seed(0)
    last = build_model("mlp_lwa", (1, 28, 28), 10, hidden=(200, 200), dropout=0.5, dropout_at="last")
    where = {name for name, m in every.named_modules() if isinstance(m, nn.Dropout)}
    assert where == {"blocks.fc2.dropout", "blocks.out.dropout"}
    assert {name for name, m in last.named_modules() if isinstance(m, nn.Dropout)} == {"blocks.out.dropout"}
    for a, b in zip(every.state_dict().values(), last.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    x = torch.rand(64, 1, 28, 28)
    last.train()
    h = last.forward_to(x, "fc2")
    assert torch.count_nonzero(h) > 0 and torch.equal(h, last.eval().forward_to(x, "fc2"))  # no dropout before out
