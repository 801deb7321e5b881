"""Config errors are caught before any job runs and name the offending key; the plan is built without torch."""

import copy
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from advreg.ids import REFERENCE, ModelId
from advreg.plan import ConfigError, build_plan, grid_variant_name

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = str(ROOT / "workflow" / "schemas" / "config.schema.yaml")


# The experiment the error cases below mutate (the shipped presets change; these cases must not).
GENERIC_EXPERIMENT = yaml.safe_load(
    """
  fmnist_mlp:
    description: "MLP 784-500-150-10 (DeepDefense), Fashion-MNIST, reduced"
    dataset: fashion_mnist
    data: {train_size: 10000, val_size: 2000, test_size: 2000}
    model: {arch: mlp_deepdefense}
    pretrain:
      epochs: 6
      batch_size: 100
      optimizer: {name: sgd, lr: 0.05, momentum: 0.9, weight_decay: 0.0005}
      select: best_val
    finetune:
      init: reference
      epochs: 2
      batch_size: 100
      optimizer: {name: sgd, lr: 0.0005, momentum: 0.9, weight_decay: 0.0005}
      lr_schedule: {milestones: [0.8], gamma: 0.5}
    methods:
      plain: {}
    # Budgets: L-inf attacks in [0,1] pixel units, L2 attacks as L2 norms (LWA: 1.5 on MNIST), agn as sigma.
    attacks:
      fgsm:
        epsilons: [0.0, 0.01, 0.02, 0.05, 0.1, 0.2]
        params: {clip: true}
      grad_l2: {epsilons: [0.0, 0.5, 1.0, 1.5, 2.0, 3.0]}
      sign_l2: {epsilons: [0.0, 0.5, 1.0, 1.5, 2.0, 3.0]}
      lwa_alpha: {epsilons: [0.0, 0.5, 1.0, 1.5, 2.0, 3.0]}
      deepfool: {epsilons: [0.0, 0.5, 1.0, 1.5, 2.0, 3.0]}
      agn: {epsilons: [0.0, 0.05, 0.1, 0.2, 0.3]}
      pgd_linf: {epsilons: [0.0, 0.02, 0.05, 0.1], params: {steps: 10}}
      pgd_l2: {epsilons: [0.0, 0.5, 1.0, 2.0], params: {steps: 10}}
      autoattack: {epsilons: [0.0, 0.02, 0.05, 0.1], params: {n_iter: 20, n_target_classes: 3}}
    attackers: all
    evaluation: {jobs: 2}   # two assessment jobs (one per model) run side by side
    robustness:
      fgs: {eps_max: 0.5, steps: 16}
"""
)["fmnist_mlp"]


@pytest.fixture
def default_config(default_config):
    """The shipped default preset plus the generic experiment ``fmnist_mlp`` the error cases mutate."""
    default_config["experiments"]["fmnist_mlp"] = copy.deepcopy(GENERIC_EXPERIMENT)
    return default_config


def valid(config):
    validate(config, SCHEMA)
    return build_plan(config)


def test_default_and_paper_configs_are_valid(default_config):
    plan = valid(default_config)
    assert plan.experiments and all(exp.variants for exp in plan)
    paper = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())
    assert valid(paper).papers


def test_schema_fills_defaults(default_config):
    del default_config["device"]
    validate(default_config, SCHEMA)
    assert default_config["device"] == "auto"
    assert default_config["experiments"]["fmnist_mlp"]["folds"] == 1


@pytest.mark.parametrize(
    "mutate, needle",
    [
        (lambda c: c["experiments"]["fmnist_mlp"]["pretrain"].update(epochz=3), "epochz"),
        (lambda c: c["experiments"]["fmnist_mlp"]["attacks"]["fgsm"].update(epsilons=[0.1, -0.2]), "-0.2"),
        (lambda c: c.update(seeed=1), "seeed"),
        (lambda c: c["experiments"]["fmnist_mlp"].update(folds=0), "folds"),
        (lambda c: c["experiments"]["fmnist_mlp"].update(train_jobs="two"), "train_jobs"),
        (lambda c: c["experiments"]["fmnist_mlp"].update(priority=-1), "priority"),
        # Parameter sections are derived from the declarations (components.schema.json).
        (lambda c: c["experiments"]["fmnist_mlp"]["attacks"]["fgsm"].update(params={"clip": "yes"}), "'yes'"),
        (lambda c: c["experiments"]["fmnist_mlp"]["model"].update(kwargs={"hidden": [500, 0]}), "hidden"),
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
        (
            lambda e: e["model"].update(arch="resnet50"),
            "experiments.fmnist_mlp.model.arch: unknown architecture 'resnet50'",
        ),
        (
            lambda e: e["methods"].update(dataggrad={}),
            "experiments.fmnist_mlp.methods.dataggrad: unknown method 'dataggrad'",
        ),
        (
            lambda e: e["attacks"].update(pgd={"epsilons": [0.1]}),
            "experiments.fmnist_mlp.attacks.pgd: unknown attack 'pgd'",
        ),
        (lambda e: e.update(attackers=["plain/nope"]), "experiments.fmnist_mlp.attackers: ['plain/nope']"),
        (lambda e: e.pop("pretrain"), "there is no 'pretrain' section"),
        (lambda e: e["methods"].update(reference={}), "'reference' is reserved"),
        (
            lambda e: e["methods"].update(plain={"model": {"hidden": [10]}}),
            "experiments.fmnist_mlp.methods.plain.default.model",
        ),
        (lambda e: e.update(evaluation={"jobs": 3}), "experiments.fmnist_mlp.evaluation.jobs: 3 jobs for 2 models"),
        (lambda e: e.update(train_jobs=2), "experiments.fmnist_mlp.train_jobs: 2 training jobs per fold for 1 models"),
    ],
)
def test_plan_errors_name_the_key(default_config, mutate, needle):
    mutate(default_config["experiments"]["fmnist_mlp"])
    with pytest.raises(ConfigError) as info:
        valid(default_config)
    assert needle in str(info.value)


@pytest.mark.parametrize(
    "mutate, needle",
    [  # the typed validator alone (no schema): every message names the full key
        (
            lambda e: e["methods"].update(plain={"params": {"lam": 1}}),
            "experiments.fmnist_mlp.methods.plain.default.params: unknown parameter(s) ['lam'] for method 'plain'",
        ),
        (
            lambda e: e["attacks"]["fgsm"].update(params={"clipping": True}),
            "experiments.fmnist_mlp.attacks.fgsm.params: unknown parameter(s) ['clipping'] for attack 'fgsm'",
        ),
        (
            lambda e: e["attacks"]["pgd_linf"].update(params={"steps": 0}),
            "experiments.fmnist_mlp.attacks.pgd_linf.params.steps: must be >= 1, got 0",
        ),
        (
            lambda e: e["attacks"]["autoattack"].update(params={"rho": 1.5}),
            "experiments.fmnist_mlp.attacks.autoattack.params.rho: must be > 0 and <= 1, got 1.5",
        ),
        (
            lambda e: e["methods"].update(plain={"train": {"optimizer": {"name": "adam", "lr": 0.1, "momentum": 0.9}}}),
            "experiments.fmnist_mlp.methods.plain.default.train.optimizer: momentum and nesterov apply to sgd only",
        ),
        (
            lambda e: e["model"].update(kwargs={"hidden": [500, "wide"]}),
            "experiments.fmnist_mlp.model.kwargs.hidden[1]: must be an integer, got 'wide'",
        ),
        (
            lambda e: e["robustness"].update(fgs={"eps_max": -1}),
            "experiments.fmnist_mlp.robustness.fgs.eps_max: must be > 0, got -1",
        ),
        (
            lambda e: e["attacks"]["deepfool"].update(params={"start": "random"}),
            "experiments.fmnist_mlp.attacks.deepfool.params.start: must be one of ['true', 'predicted'], got 'random'",
        ),
    ],
)
def test_typed_validator_names_the_full_key(default_config, mutate, needle):
    mutate(default_config["experiments"]["fmnist_mlp"])
    with pytest.raises(ConfigError) as info:
        build_plan(default_config)
    assert needle in str(info.value)


def test_grid_expands_to_named_variants(default_config):
    exp = default_config["experiments"]["fmnist_mlp"]
    exp["methods"]["plain"] = {"grid": {"a": [0.01, 0.1], "b": [1]}, "variants": {"hand": {}}}
    # 'plain' has no parameters, so a grid over it must be refused by name ...
    with pytest.raises(ConfigError, match=r"\['a', 'b'\]"):
        build_plan(copy.deepcopy(default_config))
    # ... while the expansion itself names points predictably.
    assert grid_variant_name({"lam": 0.01, "phi": 0.1}) == "lam0.01_phi0.1"
    assert grid_variant_name({"lam": 1e-05, "flag": True}) == "lam1e-05_flagtrue"


def test_model_ids_and_attackers(default_config):
    exp = valid(default_config)["fmnist_mlp"]
    assert exp.model_ids() == [REFERENCE, ModelId("plain", "default")]
    assert exp.attackers == exp.model_ids()
    assert str(ModelId.parse("dgl1/lam0.01_phi0.1")) == "dgl1/lam0.01_phi0.1"
    with pytest.raises(ConfigError, match="not a model id"):
        ModelId.parse("dgl1")


def test_parts_share_out_the_models(default_config):
    default_config["experiments"]["datagrad_fmnist"]["evaluation"] = {"jobs": 3}
    exp = valid(default_config)["datagrad_fmnist"]
    parts = [exp.part_models(k) for k in range(3)]
    assert sorted(m for part in parts for m in part) == sorted(exp.model_ids())
    assert all(parts) and not set(parts[0]) & set(parts[1])


def test_memory_settings_are_not_identity(default_config):
    """Batch sizes live in `runtime`, read by the jobs directly: they are in no rule's params."""
    plan = valid(default_config)
    bigger = copy.deepcopy(default_config)
    bigger["runtime"] = {"batch_size": 7, "eval_batch_size": 9}
    other = valid(bigger)
    for name, exp in plan.experiments.items():
        assert exp.assess_params(0) == other[name].assess_params(0)
        assert [v.job_params() for v in exp.variants] == [v.job_params() for v in other[name].variants]
    assert "batch_size" not in str(plan["fmnist_mlp"].assess_params(0)["attacks"])


PLAN_WITHOUT_TORCH = """
import sys, yaml
sys.path.insert(0, {src!r})
from advreg.plan import build_plan
config = yaml.safe_load(open({config!r}))
plan = build_plan(config)
heavy = sorted(m for m in ("torch", "pandas", "matplotlib") if m in sys.modules)
assert not heavy, heavy
print(len(plan.experiments), "experiments", sum(len(e.variants) for e in plan), "variants")
"""


def test_plan_is_built_without_torch():
    script = PLAN_WITHOUT_TORCH.format(src=str(ROOT / "src"), config=str(ROOT / "config" / "paper.yaml"))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "experiments" in proc.stdout


def test_snakemake_refuses_a_bad_config_before_any_job(tmp_path, default_config):
    default_config["experiments"]["fmnist_mlp"]["attacks"]["fgsm"]["epsilons"] = [-0.1]
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(yaml.safe_dump(default_config))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-n",
            "--cores",
            "1",
            "-s",
            str(ROOT / "Snakefile"),
            "--directory",
            str(tmp_path),
            "--configfile",
            str(cfg),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0
    assert "-0.1" in proc.stdout + proc.stderr and "epsilons" in proc.stdout + proc.stderr
    assert not (tmp_path / "results").exists()


def test_a_config_given_on_the_command_line_stands_alone(tmp_path, default_config):
    """`--configfile` replaces the default preset instead of being merged into it, even where config/config.yaml
    is present in the working directory (as in a clone)."""
    shutil.copytree(ROOT / "config", tmp_path / "config")
    one = {key: default_config[key] for key in ("seed", "device", "data")}
    one["experiments"] = {"solo": copy.deepcopy(GENERIC_EXPERIMENT)}
    (tmp_path / "solo.yaml").write_text(yaml.safe_dump(one))
    for extra in (["--configfile", str(tmp_path / "solo.yaml")], []):
        proc = subprocess.run(
            [sys.executable, "-m", "snakemake", "-n", "--cores", "1", "-s", str(ROOT / "Snakefile"),
             "--directory", str(tmp_path), *extra],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]
        planned = set(re.findall(r"results/([a-z0-9_]+)/crosseval\.csv", proc.stdout))
        shipped = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["experiments"]
        assert planned == ({"solo"} if extra else set(shipped)), planned


def test_a_config_may_declare_its_own_dataset(default_config):
    default_config["datasets"] = {"mine": {"format": "npz", "dir": "data/mine", "classes": ["a", "b"]}}
    default_config["experiments"]["fmnist_mlp"]["dataset"] = "mine"
    plan = valid(default_config)
    assert plan["fmnist_mlp"].dataset == "mine" and plan.datasets["mine"].format == "npz"
    default_config["experiments"]["fmnist_mlp"]["dataset"] = "yours"
    with pytest.raises(ConfigError, match="unknown dataset 'yours' \\(known: mnist, fashion_mnist, cifar10, mine\\)"):
        valid(default_config)


def test_train_jobs_share_out_the_variants_and_keep_their_settings(default_config):
    experiment = default_config["experiments"]["fmnist_mlp"]
    experiment["methods"] = {"plain": {"variants": {"a": {}, "b": {"train": {"epochs": 1}}, "c": {}}}}
    assert build_plan(default_config)["fmnist_mlp"].train_parts() == []  # one job per model
    experiment["train_jobs"] = 2
    exp = build_plan(default_config)["fmnist_mlp"]
    assert [[str(m) for m in part] for part in exp.train_parts()] == [["plain/a", "plain/c"], ["plain/b"]]
    params = exp.train_part_params(1)
    assert list(params["models"]) == ["plain/b"] and params["models"]["plain/b"]["train"]["epochs"] == 1
    assert params["arch"] == "mlp_deepdefense" and params["data"] == exp.data.to_dict()
    experiment["train_jobs"] = 0
    with pytest.raises(Exception, match="train_jobs"):
        validate(default_config, SCHEMA)


def test_priority_is_a_scheduling_hint_only(default_config):
    """An experiment's `priority` reaches every one of its jobs (rules pretrain, train, train_part_*, assess,
    summarise_experiment) and nothing else: the job parameters, which decide the results, do not carry it."""
    validate(default_config, SCHEMA)
    before = build_plan(default_config)["fmnist_mlp"]
    assert before.priority == 0
    default_config["experiments"]["fmnist_mlp"]["priority"] = 3
    after = build_plan(default_config)["fmnist_mlp"]
    assert after.priority == 3
    assert [after.variant(m).job_params() for m in after.model_ids()[1:]] == [
        before.variant(m).job_params() for m in before.model_ids()[1:]
    ]
    rules = "".join(
        (ROOT / "workflow" / "rules" / name).read_text() for name in ("train.smk", "assess.smk", "render.smk")
    )
    assert rules.count("priority: experiment_priority") == 4 and rules.count("priority: _exp.priority") == 1
