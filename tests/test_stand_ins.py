"""Stand-in datasets and the CPU paper-scale MNIST preset (config/paper-mnist-cpu.yaml): the substitution and its
errors, the preset's plan with the shipped MNIST stand-in (dry run), and a real Snakemake run of a smoke-sized copy
of the preset on a stand-in the test writes itself, whose captions and paper tables must say the data is a
stand-in."""

import copy
import subprocess

import numpy as np
import pytest
import yaml
from conftest import FASHION_DIR, NO_FASHION, ROOT, snakemake_command

from advreg.data.idx import load_idx_dataset, write_idx
from advreg.data.registry import _idx_files, array_digest
from advreg.data.stand_ins import apply_stand_ins, stand_in_note
from advreg.params import ConfigError

PRESET = ROOT / "config" / "paper-mnist-cpu.yaml"
STAND_IN = ROOT / "config" / "stand-ins" / "mnist-partial.yaml"
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist-partial"


def _config():
    return {
        "datasets": {"mine": {"format": "idx", "dir": "somewhere", "description": "my copy"}},
        "stand_ins": {"mnist": "mine"},
        "experiments": {"a": {"dataset": "mnist"}, "b": {"dataset": "fashion_mnist"}},
    }


def test_stand_in_replaces_the_dataset_of_every_experiment_that_names_it():
    config = _config()
    assert apply_stand_ins(config) == {"a": "mnist"}
    assert config["experiments"]["a"]["dataset"] == "mine"
    assert config["experiments"]["b"]["dataset"] == "fashion_mnist"
    assert stand_in_note(config, "mine") == "stand-in data: mine stands in for mnist (my copy)"
    assert stand_in_note(config, "fashion_mnist") == ""


@pytest.mark.parametrize(
    "change, message",
    [
        ({"stand_ins": {"mnsit": "mine"}}, "stand_ins.mnsit: 'mnsit' is not a built-in dataset"),
        ({"stand_ins": {"mnist": "other"}}, "stand_ins.mnist: the stand-in 'other' is not a dataset"),
    ],
)
def test_bad_stand_in_is_refused_naming_the_key(change, message):
    config = {**_config(), **change}
    with pytest.raises(ConfigError, match=message):
        apply_stand_ins(config)


def test_preset_plan_with_the_mnist_stand_in(tmp_path):
    """The CPU preset's dry run on the shipped stand-in: every experiment reads the stand-in, three papers render."""
    (tmp_path / "config.yaml").write_text(PRESET.read_text())
    proc = subprocess.run(
        [*snakemake_command(tmp_path, str(STAND_IN)), "-n", "--cores", "2"], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "dataset=mnist_partial" in out and "dataset=mnist\n" not in out
    for paper in ("datagrad", "lwa", "deepdefense"):
        assert f"paper={paper}" in out
    for exp in (
        "datagrad_mnist",
        "lwa_mnist_mlp",
        "lwa_mnist_lenet",
        "deepdefense_mnist_mlp",
        "deepdefense_mnist_lenet",
    ):
        assert f"train_part_{exp}_0_0" in out


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason=f"{SHARED_MNIST} (real MNIST, partial) is not on this machine")
def test_shipped_stand_in_pins_the_shared_data():
    block = yaml.safe_load(STAND_IN.read_text())["datasets"]["mnist_partial"]
    arrays = load_idx_dataset({role: SHARED_MNIST / name for role, name in _idx_files().items()})
    assert {role: array_digest(a) for role, a in arrays.items()} == block["digests"]
    assert len(arrays["train_labels"]) == 24345 and len(arrays["test_labels"]) == 10000


def smoke_config(preset: dict) -> dict:
    """The preset at smoke size: tiny splits, one epoch, short attacks; everything else (methods, attacks,
    attackers, papers) as the preset has it."""
    config = copy.deepcopy(preset)
    config["device"] = "cpu"
    for exp in config["experiments"].values():
        exp["data"] = {"train_size": 300, "val_size": 100, "test_size": 200}
        for section in ("pretrain", "finetune"):
            if section in exp:
                exp[section] = {**exp[section], "epochs": 1, "batch_size": 50}
                exp[section].pop("monitor", None)
        for method in exp["methods"].values():
            for spec in [method, *(method or {}).get("variants", {}).values()]:
                if spec and "train" in spec:
                    spec["train"] = {**spec["train"], "epochs": 1}
        if "deepdefense" in exp["methods"]:
            # a smoke-sized reference (one epoch on 300 images from MatConvNet's N(0, 0.01^2) initialisation) is nearly
            # untrained, so DeepDefense's regulariser starts far above the preset's divergence bound (measured: 1724
            # at step 4 on LeNet); the smoke test checks the plumbing, not the training
            method = exp["methods"]["deepdefense"] or {}
            exp["methods"]["deepdefense"] = {**method, "train": {**method.get("train", {}), "max_loss": 1.0e12}}
        robustness = exp.get("robustness") or {}
        if "deepfool" in robustness:
            exp["robustness"] = {**robustness, "deepfool": {"max_iter": 5}, "fgs": {**robustness["fgs"], "steps": 6}}
    return config


@pytest.mark.skipif(not FASHION_DIR.is_dir(), reason=NO_FASHION)
def test_smoke_sized_preset_runs_on_a_stand_in(tmp_path):
    """The whole CPU preset, smoke-sized, through Snakemake on a stand-in for MNIST (Fashion-MNIST images written
    as IDX files by the test): every paper renders, and its tables and captions say the data is a stand-in."""
    arrays = load_idx_dataset({role: FASHION_DIR / name for role, name in _idx_files().items()})
    folder = tmp_path / "standin"
    folder.mkdir()
    picked = {"train": np.arange(600), "test": np.arange(300)}
    digests = {}
    for role, name in _idx_files().items():
        array = arrays[role][picked[role.split("_")[0]]]
        write_idx(folder / name, array[..., 0] if array.ndim == 4 else array.astype(np.uint8))
        digests[role] = array_digest(array)
    config = smoke_config(yaml.safe_load(PRESET.read_text()))
    config["datasets"] = {
        "mini": {"format": "idx", "dir": str(folder), "description": "smoke-test data", "digests": digests}
    }
    config["stand_ins"] = {"mnist": "mini"}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    proc = subprocess.run([*snakemake_command(tmp_path), "--cores", "2"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-4000:]
    for paper in ("datagrad", "lwa", "deepdefense"):
        tables = sorted((tmp_path / "results" / "papers" / paper / "tables").glob("*.md"))
        assert tables, paper
        for table in tables:
            assert "**Stand-in data**" in table.read_text() and "stands in for mnist" in table.read_text(), table
    report = tmp_path / "report.html"
    proc = subprocess.run([*snakemake_command(tmp_path), "--report", str(report)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "mini stands in for mnist" in report.read_text(errors="replace")


@pytest.mark.parametrize("path", sorted((ROOT / "config" / "investigations").glob("*.yaml")), ids=lambda p: p.name)
def test_investigation_configs_plan_with_the_stand_in(path):
    """docs/reproduction.md's investigations are runnable: each config (with the stand-in file, or merged into the CPU
    preset when it is an override) builds a plan whose MNIST experiments read the stand-in."""
    from snakemake.utils import update_config

    from advreg.plan import build_plan

    config = yaml.safe_load(path.read_text())
    experiments = config.get("experiments")
    if experiments is None or any("dataset" not in e for e in experiments.values()):
        # an overlay of the preset (which networks a paper renders, one setting of an experiment): merged as
        # Snakemake merges --configfile files, key by key
        merged = yaml.safe_load(PRESET.read_text())
        update_config(merged, config)
        config = merged
    config.update({k: v for k, v in yaml.safe_load(STAND_IN.read_text()).items()})
    apply_stand_ins(config)
    plan = build_plan(config)
    assert {exp.dataset for exp in plan} == {"mnist_partial"}
