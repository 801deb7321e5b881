"""Plugins (advreg.plugins): a method, attack and architecture defined outside the repository, found through an
entry point or a config's ``module:`` key, validated, built and reported like built-ins; the worked example
(examples/advreg-trades, TRADES) in a tiny arena end to end. Nothing is installed: the example's src/ goes on
sys.path (and on the snakemake subprocess's PYTHONPATH), and the entry-point test puts a distribution's metadata
folder of its own on sys.path, where importlib.metadata finds installed distributions."""

import copy
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from conftest import FASHION_DIR, NO_FASHION, ROOT, snakemake_command, tiny_config
from snakemake.utils import validate

from advreg.attacks import ATTACKS, build_attack
from advreg.catalog import schema_text
from advreg.methods import METHODS, build_method
from advreg.methods.base import Batch
from advreg.models import MODELS, build_model
from advreg.params import ConfigError
from advreg.plan import build_plan
from advreg.plugins import load_plugins, plugin_provenance, unload_plugins
from advreg.provenance import plugins_in
from advreg.results import Run

EXAMPLE = ROOT / "examples" / "advreg-trades"
EXAMPLE_SRC = str(EXAMPLE / "src")
TRADES_MODULE = "advreg_trades.catalog:TRADES"

# A file next to a config, with an attack and an architecture of its own (named by `module: my_parts.py:NAME`).
PARTS = '''
from dataclasses import dataclass

import torch

from advreg.attacks.base import Attack
from advreg.attacks.catalog import AttackSpec
from advreg.models.base import LayeredClassifier
from advreg.models.catalog import ModelParams, ModelSpec
from advreg.models.mlp import mlp_blocks
from advreg.params import Params, param


@dataclass(frozen=True)
class NoiseSignParams(Params):
    scale: float = param(1.0, "fraction of the budget used", gt=0, le=1)


class NoiseSign(Attack):
    """x + scale * epsilon * sign(noise): a random L-inf corner (a plugin attack)."""

    def craft(self, model, x, y, epsilons, generator, batch_size=500):
        return {"sign": torch.sign(torch.randn(x.shape, generator=generator)).to(torch.int8)}

    def materialise(self, artifact, x, epsilon, index):
        adv = x + self.params.scale * float(epsilon) * artifact["sign"].to(x.device, x.dtype)
        return adv.clamp(0, 1)


NOISE_SIGN = AttackSpec("attack", "noise_sign", NoiseSignParams, "my_parts:NoiseSign", "random sign", norm="linf")
NoiseSign.spec = NOISE_SIGN


@dataclass(frozen=True)
class TinyMLPParams(ModelParams):
    width: int = param(16, "hidden units", ge=1)


def tiny_mlp(input_shape, num_classes, p):
    c, h, w = input_shape
    return LayeredClassifier(mlp_blocks(c * h * w, (p.width,), num_classes, "relu", 0.0))


TINY_MLP = ModelSpec("model", "tiny_mlp", TinyMLPParams, "my_parts:tiny_mlp", "one hidden layer")
BARE = ModelSpec("model", "bare", NoiseSignParams, "my_parts:tiny_mlp", "parameters not ModelParams")
SHADOW = ModelSpec("model", "mlp_lwa", TinyMLPParams, "my_parts:tiny_mlp", "shadows a built-in")
'''


@pytest.fixture
def plugins(tmp_path, monkeypatch):
    """The example's src/ and tmp_path (my_parts.py) importable, the working directory tmp_path; afterwards the
    registries hold only built-ins again."""
    (tmp_path / "my_parts.py").write_text(PARTS)
    monkeypatch.syspath_prepend(EXAMPLE_SRC)
    monkeypatch.chdir(tmp_path)
    unload_plugins()
    yield tmp_path
    unload_plugins()
    sys.modules.pop("my_parts", None)


def trades_config():
    config = tiny_config()
    methods = config["experiments"]["tiny"]["methods"]
    methods["trades"] = {"module": TRADES_MODULE, "params": {"beta": 3.0, "steps": 2}, "grid": {"epsilon": [0.05]}}
    return config


def test_method_plugin_in_the_plan(plugins):
    plan = build_plan(trades_config())
    variant = plan["tiny"].variant(next(m for m in plan["tiny"].model_ids() if m.method == "trades"))
    assert str(variant.id) == "trades/epsilon0.05"
    assert (variant.params.beta, variant.params.steps, variant.params.epsilon) == (3.0, 2, 0.05)
    assert "trades" in METHODS and "trades" not in METHODS.builtin
    assert '"trades"' not in schema_text()  # the schema documents built-ins only


@pytest.mark.parametrize(
    "params, message",
    [
        ({"bta": 1.0}, "experiments.tiny.methods.trades.default.params: unknown parameter(s) ['bta'] for method"),
        ({"beta": -1.0}, "experiments.tiny.methods.trades.default.params.beta: must be >= 0"),
        ({"inner_mode": "test"}, "experiments.tiny.methods.trades.default.params.inner_mode: must be one of"),
    ],
)
def test_plugin_parameters_checked_like_builtins(plugins, params, message):
    config = trades_config()
    config["experiments"]["tiny"]["methods"]["trades"] = {"module": TRADES_MODULE, "params": params}
    with pytest.raises(ConfigError) as info:
        build_plan(config)
    assert str(info.value).startswith(message), info.value


def test_schema_accepts_plugin_keys(plugins):
    config = trades_config()
    exp = config["experiments"]["tiny"]
    exp["attacks"]["noise"] = {"attack": "noise_sign", "module": "my_parts.py:NOISE_SIGN", "epsilons": [0.1]}
    exp["model"] = {"arch": "tiny_mlp", "module": "my_parts.py:TINY_MLP", "kwargs": {"width": 8}}
    validate(copy.deepcopy(config), str(ROOT / "workflow" / "schemas" / "config.schema.yaml"))
    build_plan(config)


def test_attack_and_architecture_plugins_from_a_file(plugins):
    config = tiny_config()
    exp = config["experiments"]["tiny"]
    exp["attacks"]["noise"] = {
        "attack": "noise_sign",
        "module": "my_parts.py:NOISE_SIGN",
        "epsilons": [0.1],
        "params": {"scale": 0.5},
    }
    exp["model"] = {"arch": "tiny_mlp", "module": "my_parts.py:TINY_MLP", "kwargs": {"width": 8}}
    plan = build_plan(config)
    assert plan["tiny"].attacks["noise"].params.scale == 0.5
    assert plan["tiny"].model.width == 8
    torch.manual_seed(0)
    net = build_model("tiny_mlp", (1, 4, 4), 3, width=8)
    x = torch.rand(5, 1, 4, 4)
    assert net(x).shape == (5, 3)
    attack = build_attack("noise_sign", {"scale": 0.5})
    artifact = attack.craft(net, x, torch.zeros(5, dtype=torch.long), [0.1], torch.Generator().manual_seed(1))
    adv = attack.materialise(artifact, x, 0.1, 0)
    assert torch.allclose((adv - x).abs().max(), torch.tensor(0.05)) and attack.norm == "linf"
    with pytest.raises(ConfigError, match=r"experiments.tiny.attacks.noise.params.scale: must be > 0 and <= 1"):
        exp["attacks"]["noise"]["params"]["scale"] = 2.0
        build_plan(config)
    records = {r["name"]: r for r in plugin_provenance(load_plugins(config))}
    assert set(records) == {"noise_sign", "tiny_mlp"}
    digest = records["tiny_mlp"]["modules"]["my_parts"]["sha256"]
    assert len(digest) == 64 and records["tiny_mlp"]["source"] == "experiments.tiny.model.module"


def fake_distribution(folder: Path, entry_points: str) -> None:
    """The metadata folder pip writes for an installed distribution (what importlib.metadata reads)."""
    info = folder / "advreg_trades-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: advreg-trades\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))


def test_entry_points_found(plugins, monkeypatch):
    dist = plugins / "site"
    dist.mkdir()
    fake_distribution(
        dist,
        """
        [advreg.methods]
        trades = advreg_trades.catalog:TRADES
        [advreg.attacks]
        noise_sign = my_parts:NOISE_SIGN
        [advreg.models]
        tiny_mlp = my_parts:TINY_MLP
        """,
    )
    monkeypatch.syspath_prepend(str(dist))
    monkeypatch.syspath_prepend(str(plugins))
    config = tiny_config()
    exp = config["experiments"]["tiny"]
    exp["methods"]["trades"] = {"params": {"beta": 1.0}}  # no module: key, the installed entry point
    exp["attacks"]["noise_sign"] = {"epsilons": [0.1]}
    exp["model"] = {"arch": "tiny_mlp", "kwargs": {"width": 4}}
    plan = build_plan(config)
    assert {m.method for m in plan["tiny"].model_ids()} >= {"trades"}
    assert {"trades", "noise_sign", "tiny_mlp"} <= set(METHODS) | set(ATTACKS) | set(MODELS)
    record = next(r for r in plugin_provenance(load_plugins()) if r["name"] == "trades")
    assert sorted(r["name"] for r in plugins_in(config)) == ["noise_sign", "tiny_mlp", "trades"]
    exp["methods"].pop("trades")
    assert "trades" not in {r["name"] for r in plugins_in(config)}  # installed but unused: not in the manifest
    assert (record["distribution"], record["version"]) == ("advreg-trades", "0.1.0")
    assert record["source"] == "entry point advreg.methods:trades"
    assert record["modules"]["advreg_trades.method"]["sha256"]


def test_shadowing_a_builtin_refused(plugins, monkeypatch):
    config = tiny_config()
    config["experiments"]["tiny"]["methods"]["plain"]["module"] = TRADES_MODULE
    with pytest.raises(ConfigError, match=r"experiments.tiny.methods.plain.module: method 'plain' is built in"):
        build_plan(config)
    unload_plugins()
    dist = plugins / "site"
    dist.mkdir()
    fake_distribution(dist, "[advreg.models]\nmlp_lwa = my_parts:SHADOW\n")
    monkeypatch.syspath_prepend(str(dist))
    monkeypatch.syspath_prepend(str(plugins))
    with pytest.raises(
        ConfigError, match=r"entry point advreg.models:mlp_lwa: plugin architecture 'mlp_lwa'.*built-in"
    ):
        build_plan(tiny_config())
    assert MODELS["mlp_lwa"].impl == "advreg.models.mlp:mlp_lwa"


def test_plugin_errors_name_the_key(plugins):
    config = tiny_config()
    methods = config["experiments"]["tiny"]["methods"]
    methods["mine"] = {"module": TRADES_MODULE}
    with pytest.raises(ConfigError, match=r"methods.mine.module: 'advreg_trades.catalog:TRADES' declares the method"):
        build_plan(config)
    methods["mine"] = {"module": "no_such_package.catalog:SPEC"}
    with pytest.raises(ConfigError, match=r"methods.mine.module: cannot import plugin module 'no_such_package"):
        build_plan(config)
    methods.pop("mine")
    config["experiments"]["tiny"]["model"] = {"arch": "bare", "module": "my_parts.py:BARE"}
    with pytest.raises(
        ConfigError, match=r"model.module: architecture 'bare': its parameters \(NoiseSignParams\) must derive"
    ):
        build_plan(config)
    config["experiments"]["tiny"]["model"] = tiny_config()["experiments"]["tiny"]["model"]
    methods["mine"] = {"module": "my_parts.py:TINY_MLP"}
    with pytest.raises(ConfigError, match=r"methods.mine.module: 'my_parts.py:TINY_MLP' is not a method plugin"):
        build_plan(config)
    del methods["mine"]
    methods["not_installed"] = {}
    with pytest.raises(ConfigError, match=r"unknown method 'not_installed'.*module: 'package.module:NAME'"):
        build_plan(config)


def test_trades_loss_batched_and_deterministic(plugins):
    build_plan(trades_config())
    torch.manual_seed(0)
    net = build_model("mlp_lwa", (1, 6, 6), 3, hidden=[16])
    x, y = torch.rand(8, 1, 6, 6), torch.randint(0, 3, (8,))
    method = build_method("trades", {"beta": 2.0, "epsilon": 0.1, "steps": 3})
    losses = []
    for _ in range(2):
        torch.manual_seed(5)
        method.setup(net, x, y)
        adv = method.adversarial(net, x)
        loss, logs = method.loss(net, Batch(x, y, torch.arange(8)))
        losses.append(loss.item())
        assert (adv - x).abs().max() <= 0.1 + 1e-6 and adv.min() >= 0 and adv.max() <= 1
        assert logs["kl"] >= 0 and loss.item() == pytest.approx(logs["ce"] + 2.0 * logs["kl"], rel=1e-5)
    assert losses[0] == losses[1]


@pytest.mark.slow
@pytest.mark.skipif(not FASHION_DIR.is_dir(), reason=NO_FASHION)
def test_trades_arena_end_to_end(tmp_path):
    """The example's config, shrunk: TRADES trains, is attacked, and is ranked on the arena's leaderboard."""
    config = yaml.safe_load((EXAMPLE / "config.yaml").read_text())
    config["device"] = "cpu"
    exp = config["experiments"]["trades_arena"]
    exp["data"] = {"train_size": 300, "val_size": 100, "test_size": 100}
    exp["model"]["kwargs"] = {"channels": [4, 8], "fc_width": 32}
    exp["pretrain"]["epochs"] = 2
    exp["methods"] = {
        "plain": {},
        "pgd_at": {"params": {"epsilon": 0.1, "steps": 3}},
        "trades": {"module": TRADES_MODULE, "params": {"epsilon": 0.1, "steps": 3}},
    }
    exp["attacks"]["pgd_linf"]["params"]["steps"] = 3
    exp["attacks"]["pgd_linf_long"]["params"]["steps"] = 6
    exp["attacks"]["pgd_l2"]["params"]["steps"] = 3
    exp["robustness"] = {"metrics": ["deepfool", "fgs"], "deepfool": {"max_iter": 5}, "fgs": {"steps": 4}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [EXAMPLE_SRC, os.environ.get("PYTHONPATH")]))}
    cmd = snakemake_command(tmp_path, "--cores", "2")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    table = pd.read_csv(tmp_path / "results" / "papers" / "arena" / "tables" / "leaderboard.csv")
    assert set(table["model"]) == {"plain/default", "pgd_at/default", "trades/default"}
    row = table.set_index("model").loc["trades/default"]
    assert row["method"] == "TRADES"
    pgd = "pgd_linf linf 0.1 (3 steps, 1 restart)"  # columns say what ran
    for column in ("clean", pgd, "rho_2", "rho_inf", "mean rank", "optimiser steps"):
        assert 0 <= float(row[column]) < float("inf"), column
    run = Run(tmp_path)  # advreg.results on the finished run
    assert run.experiments() == ["trades_arena"] and run.papers() == ["arena"]
    frame = run.crosseval()
    trades = frame[frame["target"] == "trades/default"]
    assert set(trades["attacker"]) == {"reference/pretrained", "plain/default", "pgd_at/default", "trades/default"}
    assert trades["accuracy"].between(0, 1).all()
    assert set(run.robustness().query("model == 'trades/default'")["metric"]) >= {"rho_2", "rho_inf"}
    assert run.leaderboard().equals(table)
    claims = run.claims()
    assert set(claims["paper"]) == {"arena"} and set(claims["verdict"]) <= {"held", "not held", "inconclusive"}
    manifest = yaml.safe_load((tmp_path / "results" / "manifest.json").read_text())
    (record,) = manifest["plugins"]
    assert record["name"] == "trades" and len(record["modules"]["advreg_trades.method"]["sha256"]) == 64
