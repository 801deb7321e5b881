"""DataGrad's multitask methods (datagrad.md sec. 3, eq. 3.1, footnote 4): rotated training set, auxiliary
head, and the MT-DGL update."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from advreg.checkpoints import load_model, save_model
from advreg.methods import build_method
from advreg.methods.base import Batch
from advreg.methods.multitask import MT, ROTATION_ANGLES, rotate_images, rotated_training_set
from advreg.models import build_model
from advreg.runtime import seed_everything
from advreg.splits import Split
from advreg.training.loop import train
from advreg.training.settings import TrainSettings


def bar_image(size: int = 9) -> torch.Tensor:
    """A vertical bar from the centre pixel up to the top edge: asymmetric under rotation."""
    img = torch.zeros(1, 1, size, size)
    img[0, 0, : size // 2 + 1, size // 2] = 1.0
    return img


def aux_model(seed: int = 0, aux_classes: int = 5, shape=(1, 4, 4)):
    torch.manual_seed(seed)
    return build_model("mlp_datagrad", shape, 3, width=16, depth=2, aux_classes=aux_classes).double()


# ------------------------------------------------------------------------------ rotations (footnote 4)


def test_rotation_angles_follow_footnote_4():
    # 0, 15 left, 30 left, 15 right, 30 right; "left" = counter-clockwise = positive in torchvision
    assert ROTATION_ANGLES == (0.0, 15.0, 30.0, -15.0, -30.0)


def test_zero_rotation_is_identity():
    x = torch.rand(5, 1, 7, 7)
    assert torch.equal(rotate_images(x, 0.0), x)


def test_left_and_right_rotations():
    img = bar_image()
    left, right = rotate_images(img, 15.0), rotate_images(img, -15.0)
    centre = img.shape[-1] // 2
    # counter-clockwise moves the top of the bar to the left half, clockwise to the right half
    assert left[..., :centre].sum() > 3 * left[..., centre + 1 :].sum()
    assert right[..., centre + 1 :].sum() > 3 * right[..., :centre].sum()
    # the bar is mirror-symmetric, so +15 and -15 are mirror images of each other
    assert torch.allclose(left, right.flip(-1), atol=1e-6)
    assert not torch.allclose(left, right, atol=1e-3)
    # 30 degrees moves it further out than 15
    assert rotate_images(img, 30.0)[..., : centre - 1].sum() > left[..., : centre - 1].sum()
    # rotations are deterministic, batched results equal per-image ones, and values stay in [0, 1]
    batch = torch.cat([img, torch.rand(2, 1, 9, 9)])
    out = rotate_images(batch, 30.0)
    assert torch.equal(out, rotate_images(batch, 30.0))
    assert torch.allclose(out[1:2], rotate_images(batch[1:2], 30.0))
    assert out.min() >= 0 and out.max() <= 1 + 1e-6


def test_prepare_data_builds_the_five_fold_set():
    g = torch.Generator().manual_seed(0)
    n = 6
    split = Split(
        torch.rand(n, 1, 8, 8, generator=g), torch.randint(0, 10, (n,), generator=g), torch.arange(100, 100 + n)
    )
    method = build_method("mt")
    expanded = method.prepare_data(split, None)
    assert expanded.x.shape == (5 * n, 1, 8, 8) and expanded.x.dtype == torch.float32
    assert torch.equal(expanded.y, split.y.repeat(5))
    assert torch.equal(expanded.index, torch.arange(5 * n))
    assert torch.equal(method.rotation, torch.arange(5).repeat_interleave(n))
    for k, angle in enumerate(ROTATION_ANGLES):
        assert torch.equal(expanded.x[k * n : (k + 1) * n], rotate_images(split.x, angle))
    assert torch.equal(expanded.x[:n], split.x)
    again, _ = rotated_training_set(split)
    assert torch.equal(again.x, expanded.x)


# ------------------------------------------------------------------------------ auxiliary head


def test_forward_aux_shapes():
    model = aux_model()
    x = torch.rand(7, 1, 4, 4, dtype=torch.float64)
    main, aux = model.forward_aux(x)
    assert main.shape == (7, 3) and aux.shape == (7, 5)
    assert torch.allclose(main, model(x))


@pytest.mark.parametrize("name", ["mt", "mt_dgl1", "mt_dgl2"])
def test_multitask_needs_an_aux_head(name):
    torch.manual_seed(0)
    model = build_model("mlp_datagrad", (1, 4, 4), 3, width=16, depth=2)
    method = build_method(name)
    with pytest.raises(ValueError, match=rf"'{name}'.*aux_classes: 5"):
        method.setup(model, torch.zeros(1, 1, 4, 4), torch.zeros(1, dtype=torch.int64))
    method.rotation = torch.zeros(4, dtype=torch.int64)
    with pytest.raises(ValueError, match=rf"'{name}'.*aux_classes: 5"):
        method.loss(model, Batch(torch.rand(4, 1, 4, 4), torch.zeros(4, dtype=torch.int64), torch.arange(4)))


def test_multitask_checks_aux_head_size_and_prepare_data():
    model, method = aux_model(aux_classes=3), build_method("mt")
    batch = Batch(torch.rand(4, 1, 4, 4, dtype=torch.float64), torch.zeros(4, dtype=torch.int64), torch.arange(4))
    with pytest.raises(RuntimeError, match="prepare_data"):
        method.loss(model, batch)
    method.rotation = torch.zeros(4, dtype=torch.int64)
    with pytest.raises(ValueError, match="3 outputs"):
        method.loss(model, batch)


# ------------------------------------------------------------------------------ losses and updates


def rotated_batch(method, n: int = 4, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    split = Split(torch.rand(n, 1, 4, 4, generator=g), torch.randint(0, 3, (n,), generator=g), torch.arange(n))
    expanded = method.prepare_data(split, None)
    pick = torch.randperm(5 * n, generator=g)[:10]
    return Batch(expanded.x[pick].double(), expanded.y[pick], expanded.index[pick])


def test_mt_loss_is_eq_3_1_without_datagrad():
    model, method = aux_model(), build_method("mt", {"gamma": 0.3})
    batch = rotated_batch(method)
    loss, logs = method.loss(model, batch)
    main, aux = model.forward_aux(batch.x)
    rotation = method.rotation[batch.index]
    expected = F.cross_entropy(main, batch.y) + 0.3 * F.cross_entropy(aux, rotation)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    assert logs["ce_aux"] == pytest.approx(F.cross_entropy(aux, rotation).item(), rel=1e-12)


@pytest.mark.parametrize("reg", ["1", "2"])
def test_mt_dgl_update_matches_hand_computed_combination(reg):
    model = aux_model()
    gamma, lam, phi, lam0 = 0.4, 0.05, 0.1, 0.9
    method = build_method(f"mt_dgl{reg}", {"gamma": gamma, "lam": lam, "phi": phi, "lam0": lam0})
    batch = rotated_batch(method)
    rotation = method.rotation[batch.index]
    params = list(model.parameters())

    def grads(fn):
        out = torch.autograd.grad(fn(), params, allow_unused=True)
        return [torch.zeros_like(p) if g is None else g for p, g in zip(params, out, strict=True)]

    x = batch.x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(F.cross_entropy(model(x), batch.y, reduction="sum"), x)  # direction from L0 only
    x_r = batch.x + phi * (g.sign() if reg == "1" else 2 * g)
    g0 = grads(lambda: F.cross_entropy(model(batch.x), batch.y))
    g1 = grads(lambda: F.cross_entropy(model.forward_aux(batch.x)[1], rotation))
    g0r = grads(lambda: F.cross_entropy(model(x_r), batch.y))
    expected = torch.cat(
        [(lam0 * a + gamma * b + lam / phi * (c - a)).flatten() for a, b, c in zip(g0, g1, g0r, strict=True)]
    )

    model.zero_grad(set_to_none=True)
    loss, logs = method.loss(model, batch)
    loss.backward()
    got = torch.cat([p.grad.flatten() for p in params])
    assert torch.allclose(got, expected, rtol=1e-10, atol=1e-12)
    # the auxiliary head is trained by gamma * L1 only
    aux_w = next(i for i, p in enumerate(params) if p is model.aux_head.weight)
    assert torch.allclose(model.aux_head.weight.grad, gamma * g1[aux_w], rtol=1e-10)
    with torch.no_grad():
        l0 = F.cross_entropy(model(batch.x), batch.y).item()
        l1 = F.cross_entropy(model.forward_aux(batch.x)[1], rotation).item()
        l0r = F.cross_entropy(model(x_r), batch.y).item()
    assert loss.item() == pytest.approx(lam0 * l0 + gamma * l1 + lam / phi * (l0r - l0), rel=1e-12)
    assert set(logs) == {"ce", "ce_adv", "reg", "ce_aux"}


def test_defaults_and_unknown_parameters():
    assert build_method("mt").params.to_dict() == {"gamma": 0.5}
    assert build_method("mt_dgl2").params.to_dict() == {"gamma": 0.5, "lam": 0.01, "phi": 0.1, "lam0": 1.0}
    with pytest.raises(ValueError, match="phi"):
        build_method("mt", {"phi": 0.1})
    with pytest.raises(ValueError, match="mt_dgl1.*gamma"):
        build_method("mt_dgl1", {"gamma": -0.5})


# ------------------------------------------------------------------------------ loop and checkpoints


class RecordingMT(MT):
    name = "mt"

    def __init__(self, params=None):
        super().__init__(params)
        self.seen: list[int] = []

    def loss(self, model, batch):
        self.seen.extend(batch.index.tolist())
        return super().loss(model, batch)


def test_loop_trains_on_the_prepared_split():
    gen = seed_everything(0)
    g = torch.Generator().manual_seed(3)
    n = 20
    train_split = Split(torch.rand(n, 1, 6, 6, generator=g), torch.randint(0, 3, (n,), generator=g), torch.arange(n))
    val_split = Split(torch.rand(8, 1, 6, 6, generator=g), torch.randint(0, 3, (8,), generator=g), torch.arange(8))
    model = build_model("mlp_datagrad", (1, 6, 6), 3, width=8, depth=1, aux_classes=5)
    method = RecordingMT()
    history = train(model, method, TrainSettings.of(epochs=2, batch_size=16), train_split, val_split, gen, "method mt")
    assert sorted(method.seen) == sorted(list(range(5 * n)) * 2)  # every one of the 5N samples, each epoch
    assert len(history) == 3


def test_aux_model_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    model = build_model("mlp_datagrad", (1, 8, 8), 10, width=12, depth=2, aux_classes=5)
    path = tmp_path / "model.pt"
    save_model(
        path,
        model,
        arch="mlp_datagrad",
        arch_kwargs={"width": 12, "depth": 2, "aux_classes": 5},
        input_shape=(1, 8, 8),
        num_classes=10,
    )
    loaded, meta = load_model(path)
    assert meta["arch_kwargs"]["aux_classes"] == 5
    a, b = model.state_dict(), loaded.state_dict()
    assert a.keys() == b.keys() and {"aux_head.weight", "aux_head.bias"} <= set(a)
    assert all(torch.equal(a[k], b[k]) for k in a)
    x = torch.rand(3, 1, 8, 8)
    assert all(torch.equal(u, v) for u, v in zip(model.eval().forward_aux(x), loaded.forward_aux(x), strict=True))
