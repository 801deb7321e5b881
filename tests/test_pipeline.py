"""End to end: the real `snakemake` on a tiny config (real Fashion-MNIST), twice, bit for bit."""

import hashlib
import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from conftest import FASHION_DIR, NO_FASHION, snakemake_command, tiny_config

from advreg.artifacts import load_artifact
from advreg.checkpoints import load_model
from advreg.layout import is_reproducible
from advreg.reporting.examples import read_examples

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not FASHION_DIR.is_dir(), reason=NO_FASHION)]


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = snakemake_command(workdir, *args)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc


def digests(root: Path) -> dict[str, str]:
    """SHA256 of every reproducible result file (not timings, Snakemake benchmarks or the report)."""
    out = {}
    for path in sorted((root / "results").rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and is_reproducible(rel):
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    runs = []
    for name in ("a", "b"):
        workdir = tmp_path_factory.mktemp(f"run_{name}")
        (workdir / "config.yaml").write_text(yaml.safe_dump(tiny_config()))
        snakemake(workdir, "--cores", "2")
        runs.append(workdir)
    return runs


def test_outputs_exist_and_models_learn(two_runs):
    run = two_runs[0]
    exp = run / "results" / "tiny"
    model, meta = load_model(exp / "reference" / "model.pt")
    assert meta["arch"] == "mlp_deepdefense" and meta["arch_kwargs"]["hidden"] == [64, 32]
    for variant in ("default", "short"):
        assert (exp / "fold0" / "models" / "plain" / variant / "model.pt").is_file()
        history = pd.read_csv(exp / "fold0" / "models" / "plain" / variant / "history.csv")
        assert history["epoch"].iloc[-1] >= 1
    # evaluation.jobs = 2 in the tiny config: the three models are shared out between two assessment parts
    sets = {}
    for part in (0, 1):
        blob = load_artifact(exp / "fold0" / "assess" / f"part{part}" / "adversarial.pt")
        assert blob["n"] == 300
        sets.update(blob["sets"])
    assert sorted(sets) == ["plain/default", "plain/short", "reference/pretrained"]
    assert all(sorted(s) == ["fgsm", "grad_l2"] for s in sets.values())
    assert sets["reference/pretrained"]["fgsm"]["payload"]["sign"].dtype == torch.int8
    assert "batch_size" not in sets["reference/pretrained"]["fgsm"]["params"]  # memory settings are not stored

    frame = pd.read_csv(exp / "crosseval.csv")
    assert len(frame) == 2 * 3 * 3 * 3  # attacks x attackers x targets x budgets
    assert set(frame["attack"]) == {"fgsm", "grad_l2"}
    clean = frame[frame["epsilon"] == 0.0]
    assert (clean["accuracy"] > 0.5).all(), "models should be far above chance (10%) on clean data"
    fgsm = frame[frame["attack"] == "fgsm"]
    white = fgsm[fgsm["white_box"]].groupby("epsilon")["accuracy"].mean()
    assert white[0.2] < white[0.0] - 0.2, "FGSM at 0.2 must hurt white-box accuracy"
    assert (fgsm["mean_linf"] <= fgsm["epsilon"] + 1e-6).all() and (frame["success_rate"].between(0, 1)).all()

    robustness = pd.read_csv(exp / "robustness.csv")
    robustness["layer"] = robustness["layer"].fillna("")
    values = robustness.set_index(["model", "metric", "layer"])["value"]
    for model in ("reference/pretrained", "plain/default", "plain/short"):
        assert values[(model, "deepfool_success_rate", "")] == 1.0
        assert 0 < values[(model, "rho_2", "")] < 1 and 0 < values[(model, "eps_ref", "")] < 0.5
        assert values[(model, "latent_disparity", "fc1")] > 0
    assert (exp / "figures" / "latent_disparity.png").stat().st_size > 5_000
    assert "rho_2" in (exp / "tables" / "robustness.md").read_text()
    # Every target sees the same clean inputs whatever the attacker: its clean accuracy is one number.
    assert (clean.groupby("target")["accuracy"].nunique() == 1).all()
    manifest = json.loads((run / "results" / "manifest.json").read_text())
    assert "results/tiny/reference/model.pt" in manifest["artifacts"] and manifest["config"]["seed"] == 7
    assert any("reproducibility=portable" in line for line in manifest["jobs"])
    timings = pd.read_csv(exp / "timings.csv")
    assert set(timings["model"]) == {"plain/default", "plain/short"} and (timings["seconds_per_sample"] > 0).all()
    histories = pd.read_csv(exp.parent / "tiny" / "histories.csv")
    assert set(histories["model"]) == {"reference/pretrained", "plain/default", "plain/short"}
    examples = read_examples(exp / "examples.npz")
    assert examples["clean"].dtype.name == "uint8" and examples["plain/short|fgsm|0.2"].shape == (4, 28, 28, 1)

    png = exp / "figures" / "accuracy_fgsm.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    table = (exp / "tables" / "accuracy_fgsm.md").read_text()
    assert "Attacker: reference/pretrained" in table and "eps=0.2" in table
    log = (run / "logs" / "tiny" / "pretrain.log").read_text()
    assert log.startswith("advreg job: device=cpu threads=1") and "advreg start-up:" in log
    assert (run / "results" / "benchmarks" / "tiny" / "pretrain.tsv").is_file()


def test_reruns_are_bit_identical(two_runs):
    a, b = (digests(run) for run in two_runs)
    assert a.keys() == b.keys() and len(a) > 10
    different = [path for path in a if a[path] != b[path]]
    assert not different, f"outputs differ between two runs: {different}"


def test_second_run_has_nothing_to_do_and_report_builds(two_runs):
    run = two_runs[0]
    proc = snakemake(run, "-n")
    assert "Nothing to be done" in proc.stdout + proc.stderr
    snakemake(run, "--report", "results/report.html")
    html = (run / "results" / "report.html").read_text(errors="replace")
    assert len(html) > 100_000 and "accuracy_fgsm.png" in html


def test_results_do_not_depend_on_how_models_are_shared_out(two_runs, tmp_path):
    """evaluation.jobs = 1 (one assessment job) and train_jobs = 1 (the fold's models trained one after the other
    in one job) give the same models and tidy results as the per-model jobs and two parts of the runs above; with
    evaluation.keep_adversarial = false the adversarial sets are evaluated but not left behind."""
    config = tiny_config()
    config["experiments"]["tiny"]["evaluation"] = {"jobs": 1, "keep_adversarial": False}
    config["experiments"]["tiny"]["train_jobs"] = 1
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    proc = snakemake(tmp_path, "--cores", "2")
    assert "train_part_tiny_0_0" in proc.stdout + proc.stderr and "assess_drop_sets" in proc.stdout + proc.stderr
    assert (tmp_path / "results" / "tiny" / "fold0" / "assess" / "part0" / "crosseval.csv").is_file()
    assert not list((tmp_path / "results").rglob("adversarial.pt*"))
    manifest = json.loads((tmp_path / "results" / "manifest.json").read_text())
    assert manifest["artifacts"] and not [path for path in manifest["artifacts"] if "adversarial" in path]
    models = sorted((two_runs[0] / "results" / "tiny").rglob("fold0/models/*/*/model.pt"))
    assert len(models) == 2
    for path in models:
        rel = path.relative_to(two_runs[0])
        assert (tmp_path / rel).read_bytes() == path.read_bytes(), rel
        log = (tmp_path / "logs" / "tiny" / "fold0" / "train" / rel.parent.parent.name / rel.parent.name).with_suffix(
            ".log"
        )
        assert "epoch 1/" in log.read_text(), log
    part_log = (tmp_path / "logs" / "tiny" / "fold0" / "train" / "part0.log").read_text()
    assert "advreg start-up:" in part_log and part_log.count(": done") == 2
    for name in ("crosseval.csv", "robustness.csv", "histories.csv"):
        ours = (tmp_path / "results" / "tiny" / name).read_bytes()
        assert ours == (two_runs[0] / "results" / "tiny" / name).read_bytes(), name
