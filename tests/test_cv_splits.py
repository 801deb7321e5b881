"""HLDR's protocol (sec. IV): the reference's pretraining set, then a stratified k-fold cross-validation over the rest
of the data (disjoint, stratified folds, no test sample ever pretrained on), the holdout scheme unchanged, the plan's
checks, and early stopping on the validation loss."""

import copy

import pytest
import torch
from conftest import tiny_config

from advreg.methods import build_method
from advreg.methods.base import Batch, Method
from advreg.methods.catalog import METHODS
from advreg.models import build_model
from advreg.params import ConfigError
from advreg.plan import build_plan
from advreg.runtime import derive_seed
from advreg.settings import DataParams
from advreg.splits import Split, cv_partition, make_splits, reference_splits, stratified_folds
from advreg.training.loop import evaluate_accuracy, train
from advreg.training.settings import TrainSettings


def dataset(n_train=500, n_test=200, seed=0):
    """Imbalanced labels (class k about twice as frequent as class k + 1), each image tagged by its pool number."""
    g = torch.Generator().manual_seed(seed)
    weights = torch.tensor([8.0, 4.0, 2.0, 1.0])
    labels = torch.multinomial(weights, n_train + n_test, replacement=True, generator=g)
    tags = torch.arange(n_train + n_test)
    images = torch.stack([tags % 256, tags // 256, torch.zeros_like(tags), torch.zeros_like(tags)], 1).to(torch.uint8)
    images = images.reshape(-1, 2, 2, 1)
    return {
        "train_images": images[:n_train],
        "train_labels": labels[:n_train],
        "test_images": images[n_train:],
        "test_labels": labels[n_train:],
    }


def pool_numbers(split):
    """The pool number each image carries (from its pixels): proves the images match their index."""
    x = (split.x * 255).round().to(torch.int64)
    return x[:, 0, 0, 0] + 256 * x[:, 0, 0, 1]


CV = DataParams.of(scheme="cv", train_size=150, val_size=50, folds=4)


def test_folds_are_stratified_disjoint_and_cover_the_pool():
    data = dataset()
    part = cv_partition(data, CV, 3, "e")
    labels = torch.cat([data["train_labels"], data["test_labels"]])
    assert part.pool.shape[0] == 700 - 200 and torch.equal(part.pool, part.pool.unique())
    subsets = [part.subset(k) for k in range(4)]
    assert torch.equal(torch.cat(subsets).sort().values, part.pool)  # disjoint and covering
    sizes = [s.shape[0] for s in subsets]
    assert max(sizes) - min(sizes) <= 1
    for c in range(4):
        counts = [int((labels[s] == c).sum()) for s in subsets]
        assert max(counts) - min(counts) <= 1, (c, counts)  # stratified
    # the reference's samples are training samples, disjoint from each other and from the pool
    reference = torch.cat([part.reference_train, part.reference_val])
    assert reference.unique().shape[0] == 200 and (reference < 500).all()
    assert not set(reference.tolist()) & set(part.pool.tolist())
    assert set(range(500, 700)) <= set(part.pool.tolist())  # the whole test split is in the pool


def test_fold_splits_test_on_their_subset_and_fine_tune_on_the_others():
    data = dataset()
    params = DataParams.of(scheme="cv", train_size=150, val_size=50, folds=4, finetune_size=200, finetune_val_size=40)
    part = cv_partition(data, params, 3, "e")
    reference = reference_splits(data, params, 3, "e")
    pretrained = set(reference["train"].index.tolist()) | set(reference["val"].index.tolist())
    assert torch.equal(pool_numbers(reference["train"]), reference["train"].index)
    seen_tests = []
    for fold in range(4):
        splits = make_splits(data, params, 3, "e", fold)
        test, tune, val = splits["test"], splits["train"], splits["val"]
        assert torch.equal(test.index, part.subset(fold))
        for split in (test, tune, val):
            assert torch.equal(pool_numbers(split), split.index)
            labels = torch.cat([data["train_labels"], data["test_labels"]])[split.index]
            assert torch.equal(split.y, labels)
        assert tune.x.shape[0] == 200 and val.x.shape[0] == 40
        assert not set(test.index.tolist()) & (set(tune.index.tolist()) | set(val.index.tolist()))
        assert not set(tune.index.tolist()) & set(val.index.tolist())
        assert not set(test.index.tolist()) & pretrained  # no test sample was in the pretraining set
        seen_tests.append(set(test.index.tolist()))
        again = make_splits(data, params, 3, "e", fold)
        assert torch.equal(again["train"].index, tune.index) and torch.equal(again["train"].x, tune.x)
    assert set().union(*seen_tests) == set(part.pool.tolist())
    with pytest.raises(ValueError, match="fold 4 does not exist"):
        make_splits(data, params, 3, "e", 4)


def test_pool_size_and_errors():
    data = dataset()
    part = cv_partition(data, DataParams.of(scheme="cv", train_size=150, val_size=50, folds=3, pool_size=90), 1, "e")
    assert part.pool.shape[0] == 90 and [part.subset(k).shape[0] for k in range(3)] == [30, 30, 30]
    with pytest.raises(ValueError, match="only 500 samples"):
        cv_partition(data, DataParams.of(scheme="cv", train_size=600, folds=3), 1, "e")
    with pytest.raises(ValueError, match="finetune_size"):
        make_splits(data, DataParams.of(scheme="cv", train_size=150, folds=2, finetune_size=1000), 1, "e", 0)
    with pytest.raises(ConfigError, match="scheme 'cv' needs the number of folds"):
        DataParams.of(scheme="cv")
    with pytest.raises(ConfigError, match=r"\['folds'\] apply to scheme 'cv' only"):
        DataParams.of(folds=3)
    with pytest.raises(ConfigError, match="test sets are the folds"):
        DataParams.of(scheme="cv", folds=3, test_size=10)


def test_stratified_folds_by_hand():
    labels = torch.tensor([0, 0, 0, 0, 1, 1, 2])
    fold_of = stratified_folds(labels, 2, torch.Generator().manual_seed(0))
    assert sorted((fold_of[labels == 0]).tolist()) == [0, 0, 1, 1]
    assert sorted((fold_of[labels == 1]).tolist()) == [0, 1]
    assert int((fold_of == 0).sum()) in (3, 4)


def test_holdout_scheme_is_unchanged():
    """The holdout splits are exactly the foundation's algorithm (same generator, same draws)."""
    data = dataset()
    params = DataParams.of(train_size=100, val_size=30, test_size=50)
    splits = make_splits(data, params, 9, "exp", 2)
    gen = torch.Generator().manual_seed(derive_seed(9, "exp", "split", 2))
    order = torch.randperm(500, generator=gen)
    assert torch.equal(splits["val"].index, order[:30]) and torch.equal(splits["train"].index, order[30:130])
    assert torch.equal(splits["test"].index, torch.randperm(200, generator=gen)[:50].sort().values)
    reference = reference_splits(data, params, 9, "exp")
    fold0 = make_splits(data, params, 9, "exp", 0)
    assert torch.equal(reference["train"].x, fold0["train"].x) and torch.equal(reference["val"].y, fold0["val"].y)


def cv_config():
    config = copy.deepcopy(tiny_config())
    exp = config["experiments"]["tiny"]
    exp["data"] = {"scheme": "cv", "train_size": 1000, "val_size": 200, "folds": 3, "finetune_size": 500}
    exp["folds"] = 3
    return config


def test_plan_runs_at_most_the_cross_validations_folds_and_checks_the_latent_source():
    plan = build_plan(cv_config())
    assert plan["tiny"].folds == 3 and plan["tiny"].data.scheme == "cv"
    config = cv_config()
    config["experiments"]["tiny"]["folds"] = 4
    with pytest.raises(ConfigError, match="experiments.tiny.folds: 4 folds run, but data.folds splits the pool into 3"):
        build_plan(config)
    config = cv_config()
    config["experiments"]["tiny"]["robustness"] = {"latent": {"source": "hldr/default"}}
    with pytest.raises(ConfigError, match="robustness.latent.source: 'hldr/default' is not a model"):
        build_plan(config)
    config["experiments"]["tiny"]["robustness"] = {"latent": {"source": "plain/default"}, "metrics": ["latent", "x"]}
    with pytest.raises(ConfigError, match=r"robustness.metrics: unknown metric groups \['x'\]"):
        build_plan(config)


class _Unlearn(Method):
    """Pushes the model away from the labels: the validation loss rises every epoch."""

    spec = METHODS["plain"]

    def loss(self, model, batch: Batch):
        return -torch.nn.functional.cross_entropy(model(batch.x), batch.y), {}


def test_early_stopping_on_the_validation_loss_keeps_the_best_epoch():
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(60, 1, 4, 4, generator=g), torch.arange(60) % 3
    split = Split(x, y, torch.arange(60))
    torch.manual_seed(0)
    model = build_model("mlp_lwa", (1, 4, 4), 3, hidden=(8,))
    settings = TrainSettings.of(
        epochs=10, batch_size=20, optimizer={"name": "sgd", "lr": 0.5}, select="best_val_loss", patience=2
    )
    history = train(model, _Unlearn(), settings, split, split, torch.Generator().manual_seed(1), "test", print)
    losses = [row["val_loss"] for row in history]
    assert len(history) == 4 and losses[1] < losses[2] < losses[3]  # epochs 2 and 3 did not improve: stop
    assert evaluate_accuracy(model, x, y)[0] == pytest.approx(losses[1])  # epoch 1's weights are back
    with pytest.raises(ConfigError, match="patience: early stopping needs select"):
        TrainSettings.of(patience=3)
    plain = TrainSettings.of(epochs=2, batch_size=20, select="best_val_loss")
    assert len(train(model, build_method("plain"), plain, split, split, torch.Generator(), "t", print)) == 3
