"""Every model of the shipped presets trains: a few steps of each variant of config/config.yaml and
config/paper.yaml on tiny random data of the dataset's shape, with the variant's own method, parameters and
training settings (optimizer, learning rate, divergence bound). No preset can be broken silently again."""

from pathlib import Path

import pytest
import torch
import yaml

from advreg.ids import REFERENCE
from advreg.methods import build_method
from advreg.models import MODELS, build_from_params
from advreg.plan import build_plan
from advreg.runtime import seed_everything
from advreg.splits import Split
from advreg.training.loop import train

ROOT = Path(__file__).resolve().parents[1]
SHAPES = {"mnist": (1, 28, 28), "fashion_mnist": (1, 28, 28), "cifar10": (3, 32, 32)}


def jobs():
    for preset in ("config.yaml", "paper.yaml", "paper-mnist-cpu.yaml"):
        plan = build_plan(yaml.safe_load((ROOT / "config" / preset).read_text()))
        for exp in plan:
            if exp.pretrain is not None:
                yield pytest.param(exp, REFERENCE, id=f"{preset}:{exp.name}:{REFERENCE}")
            for variant in exp.variants:
                yield pytest.param(exp, variant.id, id=f"{preset}:{exp.name}:{variant.id}")


def tiny_split(shape, n, seed):
    g = torch.Generator().manual_seed(seed)
    return Split(torch.rand(n, *shape, generator=g), torch.randint(0, 10, (n,), generator=g), torch.arange(n))


@pytest.mark.parametrize("exp, model_id", list(jobs()))
def test_every_preset_model_trains(exp, model_id):
    shape = SHAPES[exp.dataset]
    if model_id.is_reference:
        settings, method, kwargs = exp.pretrain, build_method("plain"), exp.model
    else:
        variant = exp.variant(model_id)
        settings, method, kwargs = variant.train, build_method(model_id.method, variant.params), variant.model
    generator = seed_everything(0)
    model = build_from_params(MODELS[exp.arch], shape, 10, kwargs)
    batch = min(settings.batch_size, 8)
    settings = settings.replace(epochs=1, batch_size=batch)
    history = train(model, method, settings, tiny_split(shape, 2 * batch, 1), tiny_split(shape, 4, 2), generator,
                    f"{exp.name} {model_id}", log=lambda m: None)  # fmt: skip
    assert len(history) == 2 and torch.isfinite(torch.tensor(history[1]["train_loss"]))


def claim_experiments(config, plan):
    """The experiments a paper's claims are judged on: every experiment the ``papers:`` block names, the arena's
    excepted (its findings are ours, not a paper's)."""
    names = {exp.name for exp in plan}
    found = set()
    for paper, block in config["papers"].items():
        if paper == "arena":
            continue
        for value in block.values():
            for name in value if isinstance(value, list) else [value]:
                if isinstance(name, str) and name in names:
                    found.add(name)
    return found


def merged(*files):
    from snakemake.utils import update_config

    config = {}
    for path in files:
        update_config(config, yaml.safe_load((ROOT / path).read_text()))
    return config


@pytest.mark.parametrize(
    "files, once",
    [
        # the default trains DataGrad and DeepDefense's Figures 4-5 grid once (the 15-minute budget; README)
        (["config/config.yaml"], {"datagrad_fmnist", "deepdefense_fmnist_mlp_grid"}),
        (["config/config.yaml", "config/overlays/all-replicates.yaml"], set()),
        (["config/paper.yaml"], set()),
    ],
    ids=["default", "default+all-replicates", "paper"],
)
def test_claims_are_judged_on_three_replicates(files, once):
    """Issue 22 item 1: every model a paper claim is judged on is trained from at least 3 seeds (HLDR: folds), but
    for the default's two documented exceptions, which config/overlays/all-replicates.yaml lifts."""
    config = merged(*files)
    plan = {exp.name: exp for exp in build_plan(config)}
    judged = claim_experiments(config, plan.values())
    assert len(judged) >= 4, judged
    assert {name for name in judged if plan[name].folds < 3} == once
