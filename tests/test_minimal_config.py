"""The README's minimal config (no `data:` section, no `pretrain`: every model from scratch) validates, plans and
runs; sizes a built-in dataset cannot give are refused at plan time, naming the key."""

import copy
import re
import subprocess

import pandas as pd
import pytest
import yaml
from conftest import FASHION_DIR, NO_FASHION, ROOT, snakemake_command, tiny_config
from snakemake.utils import validate

from advreg.params import ConfigError
from advreg.plan import build_plan

SCHEMA = str(ROOT / "workflow" / "schemas" / "config.schema.yaml")


def readme_minimal_config() -> dict:
    text = (ROOT / "README.md").read_text()
    section = text.split("### A minimal config", 1)[1]
    return yaml.safe_load(re.search(r"```yaml\n(.*?)```", section, re.S).group(1))


def test_minimal_config_validates_and_plans():
    config = readme_minimal_config()
    assert set(config) == {"seed", "experiments"}
    validate(config, SCHEMA)  # fills the defaults, as the workflow does
    assert config["data"] == {"local_dir": None, "download_dir": "resources/downloads"}
    plan = build_plan(config)
    exp = plan["mine"]
    assert not exp.has_reference and [str(m) for m in exp.model_ids()] == ["plain/default", "pgd_at/default"]
    assert {v.train.init for v in exp.variants} == {"scratch"}


def test_fine_tuning_without_a_reference_still_refused():
    config = readme_minimal_config()
    config["experiments"]["mine"]["finetune"] = {"init": "reference"}
    with pytest.raises(ConfigError, match=r"experiments.mine: methods fine-tune from the reference"):
        build_plan(config)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"train_size": 60000, "val_size": 1000}, r"experiments.tiny.data.train_size: 60000 training samples, but "),
        ({"val_size": 60001}, r"experiments.tiny.data.val_size: 60001 validation samples, but dataset 'fashion_m"),
        ({"test_size": 10001}, r"experiments.tiny.data.test_size: 10001 test samples, but .* 10000 test samples"),
        (
            {"scheme": "cv", "folds": 10, "train_size": 50000, "pool_size": 25000},
            r"experiments.tiny.data.pool_size: 25000 samples, but the pool .* holds 20000",
        ),
    ],
)
def test_impossible_sizes_refused_at_plan_time(data, message):
    config = tiny_config()
    config["experiments"]["tiny"]["data"] = data
    with pytest.raises(ConfigError, match=message):
        build_plan(config)


def test_possible_sizes_and_unknown_sizes_pass():
    config = tiny_config()
    config["experiments"]["tiny"]["data"] = {"train_size": 59000, "val_size": 1000, "test_size": 10000}
    build_plan(config)
    own = copy.deepcopy(config)  # a config's own dataset: sizes unknown until its data job reads it
    own["datasets"] = {"mine": {"format": "npz", "dir": "somewhere"}}
    own["experiments"]["tiny"]["dataset"] = "mine"
    own["experiments"]["tiny"]["data"] = {"train_size": 10**7}
    build_plan(own)


@pytest.mark.slow
@pytest.mark.skipif(not FASHION_DIR.is_dir(), reason=NO_FASHION)
def test_minimal_config_runs(tmp_path):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(readme_minimal_config()))
    cmd = snakemake_command(tmp_path, "--cores", "2")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    frame = pd.read_csv(tmp_path / "results" / "mine" / "crosseval.csv")
    assert set(frame["target"]) == {"plain/default", "pgd_at/default"}
    assert frame["accuracy"].between(0, 1).all()
