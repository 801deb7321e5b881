"""HLDR at paper scale (config/paper.yaml), checked without training: HGD's denoiser at the paper's size (sec. VI:
26,028,363 parameters in the HGD-defended model), pretraining as sec. IV states it (up to 1000 epochs, patience
100), and both datasets in the `hldr` paper's plan (a Snakemake dry run: Figures 2-6 need Fashion-MNIST and
CIFAR-10)."""

import copy
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT

from advreg.ids import ModelId
from advreg.models import MODELS, build_from_params
from advreg.params import ConfigError
from advreg.plan import build_plan

PUBLISHED = yaml.safe_load((ROOT / "config" / "published" / "hldr.yaml").read_text())
SHAPES = {"fashion_mnist": (1, 28, 28), "cifar10": (3, 32, 32)}


def preset(name):
    return build_plan(yaml.safe_load((ROOT / "config" / name).read_text()))


def parameters(module):
    return sum(p.numel() for p in module.parameters())


def hgd_model(exp):
    variant = exp.variant(ModelId.parse("hgd/default"))
    return build_from_params(MODELS[exp.arch], SHAPES[exp.dataset], 10, variant.model)


def test_hgd_has_the_papers_parameter_count_at_paper_scale():
    plan = preset("paper.yaml")
    fmnist, cifar = hgd_model(plan["hldr_fmnist_vgg"]), hgd_model(plan["hldr_cifar_vgg"])
    # Fashion-MNIST (one channel; the authors' code resizes it to 32 x 32, which leaves every count as it is)
    assert parameters(fmnist.target()) == 14_990_794  # VGG-16-BN with the 512-unit dense layer
    assert parameters(fmnist.denoiser) == 11_037_569 > PUBLISHED["hgd_added_parameters_more_than"]
    assert parameters(fmnist) == PUBLISHED["hgd_defended_parameters"] == 26_028_363
    # CIFAR-10: three input channels in the VGG and the denoiser, three output channels of the denoiser
    assert parameters(cifar) == 26_030_797
    assert abs(parameters(cifar) / PUBLISHED["hgd_defended_parameters"] - 1) < 1e-4
    # the default preset keeps its small denoiser
    small = hgd_model(preset("config.yaml")["hldr_fmnist_vgg"])
    assert parameters(small.denoiser) < 10_000


def test_pretraining_follows_section_iv_at_paper_scale():
    plan = preset("paper.yaml")
    for name in ("hldr_fmnist_vgg", "hldr_cifar_vgg"):
        pretrain = plan[name].pretrain
        assert (pretrain.epochs, pretrain.patience, pretrain.select) == (1000, 100, "best_val_loss"), name
        assert plan[name].data.train_size == PUBLISHED["pretrain_samples"]


@pytest.mark.parametrize(
    "config, expected",
    [("paper.yaml", {"hldr_fmnist_vgg", "hldr_cifar_vgg"}), ("config.yaml", {"hldr_fmnist_vgg"})],
)
def test_the_hldr_paper_plan_renders_its_datasets(tmp_path, config, expected):
    shutil.copytree(ROOT / "config", tmp_path / "config")
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "results/papers/hldr", "-n", "--cores", "1", "-s", str(ROOT / "Snakefile"),
         "--directory", str(tmp_path), "--configfile", str(tmp_path / "config" / config)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    job = re.search(r"rule render_paper:\n\s+input: (.*)\n\s+output: results/papers/hldr\n", proc.stdout)
    assert job, proc.stdout[-3000:]
    inputs = job.group(1).split(", ")
    for what in ("crosseval", "robustness", "timings"):
        read = {m.group(1) for text in inputs if (m := re.fullmatch(rf"results/(\w+)/{what}\.csv", text))}
        assert read == expected, what
    summarised = set(re.findall(r"wildcards: experiment=(\w+)", proc.stdout))
    assert summarised == expected


def test_by_dataset_needs_one_experiment_per_dataset():
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["experiments"]["hldr_again"] = copy.deepcopy(config["experiments"]["hldr_fmnist_vgg"])
    config["papers"]["hldr"] = {"by_dataset": ["hldr_fmnist_vgg", "hldr_again"], "attacker": "plain/default"}
    with pytest.raises(ConfigError, match="'hldr_fmnist_vgg' and 'hldr_again' both run on 'fashion_mnist'"):
        build_plan(config)
    config["papers"]["hldr"]["by_dataset"] = ["hldr_fmnist_vgg", "hldr_missing"]
    with pytest.raises(ConfigError, match="experiment 'hldr_missing' is not in this config"):
        build_plan(config)
