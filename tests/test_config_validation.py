"""Config errors are caught before any job runs and name the offending key."""

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from advreg.plan import REFERENCE_ID, ConfigError, build_plan, grid_variant_name

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = str(ROOT / "workflow" / "schemas" / "config.schema.yaml")


def valid(config):
    validate(config, SCHEMA)
    return build_plan(config)


def test_default_and_paper_configs_are_valid(default_config):
    plan = valid(default_config)
    assert plan and all(exp.variants for exp in plan.values())
    paper = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())
    assert valid(paper)


def test_schema_fills_defaults(default_config):
    del default_config["device"]
    validate(default_config, SCHEMA)
    assert default_config["device"] == "auto"
    assert all(e["folds"] == 1 for e in default_config["experiments"].values())


@pytest.mark.parametrize(
    "mutate, needle",
    [
        (lambda c: c["experiments"]["fmnist_mlp"]["pretrain"].update(epochz=3), "epochz"),
        (lambda c: c["experiments"]["fmnist_mlp"]["attacks"]["fgsm"].update(epsilons=[0.1, -0.2]), "-0.2"),
        (lambda c: c.update(seeed=1), "seeed"),
        (lambda c: c["experiments"]["fmnist_mlp"].update(folds=0), "folds"),
    ],
)
def test_schema_errors_name_the_key(default_config, mutate, needle):
    mutate(default_config)
    with pytest.raises(Exception) as info:
        validate(default_config, SCHEMA)
    assert needle in str(info.value)


@pytest.mark.parametrize(
    "mutate, needle",
    [
        (lambda e: e.update(dataset="svhn"), "experiments.fmnist_mlp.dataset: unknown dataset 'svhn'"),
        (lambda e: e["model"].update(arch="resnet50"), "experiments.fmnist_mlp.model.arch: unknown architecture 'resnet50'"),
        (lambda e: e["methods"].update(dataggrad={}), "experiments.fmnist_mlp.methods.dataggrad: unknown method 'dataggrad'"),
        (lambda e: e["methods"].update(plain={"params": {"lam": 1}}), "unknown parameter(s) ['lam'] for method 'plain'"),
        (lambda e: e["attacks"].update(pgd={"epsilons": [0.1]}), "experiments.fmnist_mlp.attacks.pgd: unknown attack 'pgd'"),
        (lambda e: e["attacks"]["fgsm"].update(params={"clipping": True}), "unknown parameter(s) ['clipping'] for attack 'fgsm'"),
        (lambda e: e.update(attackers=["plain/nope"]), "experiments.fmnist_mlp.attackers: ['plain/nope']"),
        (lambda e: e.pop("pretrain"), "there is no 'pretrain' section"),
        (lambda e: e["methods"].update(reference={}), "'reference' is reserved"),
    ],
)
def test_plan_errors_name_the_key(default_config, mutate, needle):
    mutate(default_config["experiments"]["fmnist_mlp"])
    with pytest.raises(ConfigError) as info:
        valid(default_config)
    assert needle in str(info.value)


def test_grid_expands_to_named_variants(default_config):
    exp = default_config["experiments"]["fmnist_mlp"]
    exp["methods"]["plain"] = {"grid": {"a": [0.01, 0.1], "b": [1]}, "variants": {"hand": {}}}
    # 'plain' has no parameters, so a grid over it must be refused by name ...
    with pytest.raises(ConfigError, match=r"\['a', 'b'\]"):
        valid(copy.deepcopy(default_config))
    # ... while the expansion itself names points predictably.
    assert grid_variant_name({"lam": 0.01, "phi": 0.1}) == "lam0.01_phi0.1"
    assert grid_variant_name({"lam": 1e-05, "flag": True}) == "lam1e-05_flagtrue"


def test_model_ids_and_attackers(default_config):
    plan = valid(default_config)
    exp = plan["fmnist_mlp"]
    assert exp.model_ids() == [REFERENCE_ID, "plain/default"]
    assert exp.attackers() == exp.model_ids()


def test_snakemake_refuses_a_bad_config_before_any_job(tmp_path, default_config):
    default_config["experiments"]["fmnist_mlp"]["attacks"]["fgsm"]["epsilons"] = [-0.1]
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(yaml.safe_dump(default_config))
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--cores", "1", "-s", str(ROOT / "Snakefile"),
         "--directory", str(tmp_path), "--configfile", str(cfg)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode != 0
    assert "-0.1" in proc.stdout + proc.stderr and "epsilons" in proc.stdout + proc.stderr
    assert not (tmp_path / "results").exists()
