"""The training loop: it learns, selects on validation, and stops with a named error on divergence."""

import math

import pytest
import torch

from advreg.methods import build_method
from advreg.models import build_model
from advreg.runtime import seed_everything
from advreg.settings import DataParams
from advreg.splits import Split, make_splits, to_model_input
from advreg.training.loop import TrainingDivergedError, train
from advreg.training.settings import TrainSettings


def toy_split(n, seed):
    """Two linearly separable blobs in 1x4x4 images."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.rand(n, 1, 4, 4, generator=g) * 0.3
    x[:, 0, 0, 0] += 0.7 * y  # the label is written in one pixel
    return Split(x, y, torch.arange(n))


def tiny_model():
    return build_model("mlp_lwa", (1, 4, 4), 2, hidden=(8,))


def test_training_learns_a_separable_problem():
    gen = seed_everything(0)
    model = tiny_model()
    settings = TrainSettings.of(epochs=15, batch_size=16, optimizer={"name": "sgd", "lr": 0.5, "momentum": 0.9})
    history = train(model, build_method("plain"), settings, toy_split(256, 1), toy_split(128, 2), gen, "test job")
    assert len(history) == 16 and math.isnan(history[0]["train_loss"])
    assert history[-1]["train_loss"] < 0.5 * history[1]["train_loss"]
    assert history[-1]["val_acc"] > 0.95


def test_divergence_names_method_variant_and_epoch():
    gen = seed_everything(0)
    model = tiny_model()
    settings = TrainSettings.of(epochs=3, batch_size=16, optimizer={"name": "sgd", "lr": 1e6}, max_loss=50.0)
    with pytest.raises(TrainingDivergedError) as info:
        train(
            model,
            build_method("plain"),
            settings,
            toy_split(256, 1),
            toy_split(64, 2),
            gen,
            "method plain, variant huge_lr",
        )
    message = str(info.value)
    assert "method plain, variant huge_lr" in message and "epoch" in message


def test_nan_loss_is_caught():
    gen = seed_everything(0)
    model = tiny_model()
    train_split = toy_split(64, 1)
    train_split.x[3] = float("nan")
    with pytest.raises(TrainingDivergedError, match="nan"):
        train(
            model,
            build_method("plain"),
            TrainSettings.of(epochs=1, batch_size=64),
            train_split,
            toy_split(8, 2),
            gen,
            "nan job",
        )


def test_best_val_selection_restores_the_best_epoch():
    gen = seed_everything(0)
    model = tiny_model()
    settings = TrainSettings.of(epochs=6, batch_size=16, optimizer={"name": "sgd", "lr": 0.5}, select="best_val")
    history = train(model, build_method("plain"), settings, toy_split(128, 1), toy_split(64, 2), gen, "select job")
    from advreg.training.loop import evaluate_accuracy

    val = toy_split(64, 2)
    _, acc = evaluate_accuracy(model, val.x, val.y)
    assert acc == max(row["val_acc"] for row in history[1:])


def test_training_is_bit_reproducible():
    def run():
        gen = seed_everything(3)
        model = tiny_model()
        train(
            model,
            build_method("plain"),
            TrainSettings.of(epochs=2, batch_size=16, optimizer={"name": "sgd", "lr": 0.1, "momentum": 0.9}),
            toy_split(128, 1),
            toy_split(32, 2),
            gen,
            "repro",
        )
        return torch.cat([p.detach().flatten() for p in model.parameters()])

    assert torch.equal(run(), run())


def test_unknown_training_setting_is_named():
    with pytest.raises(ValueError, match=r"finetune: unknown parameter\(s\) \['epochz'\]"):
        TrainSettings.parse({"epochz": 3}, "finetune")
    with pytest.raises(ValueError, match="finetune.optimizer.lr: must be > 0"):
        TrainSettings.parse({"optimizer": {"name": "sgd", "lr": 0}}, "finetune")


def test_splits_are_disjoint_seeded_and_sized():
    n_train, n_test = 100, 40
    dataset = {
        "train_images": torch.arange(n_train * 4, dtype=torch.int64)
        .remainder(256)
        .to(torch.uint8)
        .reshape(n_train, 2, 2, 1),
        "train_labels": torch.arange(n_train) % 10,
        "test_images": torch.zeros(n_test, 2, 2, 1, dtype=torch.uint8),
        "test_labels": torch.arange(n_test) % 10,
    }
    cfg = DataParams.of(train_size=50, val_size=20, test_size=30)
    a = make_splits(dataset, cfg, 1, "exp", 0)
    b = make_splits(dataset, cfg, 1, "exp", 0)
    c = make_splits(dataset, cfg, 1, "exp", 1)
    assert [len(a[k].y) for k in ("train", "val", "test")] == [50, 20, 30]
    assert not set(a["train"].index.tolist()) & set(a["val"].index.tolist())
    assert torch.equal(a["train"].index, b["train"].index) and not torch.equal(a["train"].index, c["train"].index)
    assert a["train"].x.shape == (50, 1, 2, 2) and a["train"].x.dtype == torch.float32 and a["train"].x.max() <= 1
    with pytest.raises(ValueError, match="train_size"):
        make_splits(dataset, DataParams.of(train_size=95, val_size=10), 1, "exp", 0)


def test_to_model_input_layout():
    images = torch.zeros(2, 3, 4, 3, dtype=torch.uint8)
    images[1, 2, 3, 0] = 255
    x = to_model_input(images)
    assert x.shape == (2, 3, 3, 4) and x[1, 0, 2, 3] == 1.0 and x.sum() == 1.0


def test_monitors_add_learning_curves_and_change_nothing():
    """Per-epoch accuracy under attack and rho_2 land in the history; the trained weights are bit-identical."""

    def run(monitor):
        gen = seed_everything(3)
        model = tiny_model()
        settings = TrainSettings.of(epochs=2, batch_size=16, optimizer={"name": "sgd", "lr": 0.3}, monitor=monitor)
        history = train(model, build_method("plain"), settings, toy_split(128, 1), toy_split(64, 2), gen, "monitor")
        return history, torch.cat([p.detach().flatten() for p in model.parameters()])

    plain_history, plain_weights = run({})
    history, weights = run({"attack": "fgsm", "epsilon": 0.3, "rho_2": True, "samples": 32})
    assert torch.equal(weights, plain_weights)
    assert [row["val_acc"] for row in history] == [row["val_acc"] for row in plain_history]
    assert all("val_acc_fgsm" in row and "val_rho_2" in row for row in history)  # epoch 0 included
    assert all(0 <= row["val_acc_fgsm"] <= 1 and row["val_rho_2"] > 0 for row in history)
    assert "val_rho_2" not in plain_history[0]


def test_shared_seeding_gives_every_variant_the_same_start():
    """``seeding: shared`` (one script, one seed): two variants draw the same initial weights; ``per_model``: not."""
    from advreg.ids import ModelId
    from advreg.stages.train import training_seed

    a, b = ModelId.parse("rect/default"), ModelId.parse("dgl1/lam0.01_phi0.1")

    def start(model_id, seeding):
        seed_everything(training_seed(7, "datagrad_mnist", 0, model_id, seeding))
        return torch.cat([p.detach().flatten() for p in tiny_model().parameters()])

    assert torch.equal(start(a, "shared"), start(b, "shared"))
    assert not torch.equal(start(a, "per_model"), start(b, "per_model"))
    assert torch.equal(start(a, "per_model"), start(a, "per_model"))
    assert training_seed(7, "datagrad_mnist", 0, a, "shared") != training_seed(7, "datagrad_mnist", 1, a, "shared")
