"""Crash and resume: a training interrupted after an epoch resumes from its checkpoint and ends with the
bit-identical model and history of an uninterrupted run; a checkpoint of another run, or a damaged one, is never
resumed; and a real training job killed with SIGKILL under Snakemake resumes to the same model SHA256."""

import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch
import yaml
from conftest import FASHION_DIR, NO_FASHION, ROOT, snakemake_command

from advreg.artifacts import digest_path
from advreg.layout import checkpoint_path, is_reproducible
from advreg.methods import build_method
from advreg.models import build_model
from advreg.runtime import seed_everything
from advreg.splits import Split
from advreg.training.loop import train
from advreg.training.settings import TrainSettings


class Interrupted(Exception):
    """Raised by the test's after-epoch hook: stands for a job killed once a checkpoint is on disk."""


def toy_split(n, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    x = torch.rand(n, 1, 4, 4, generator=g) * 0.4
    x[:, 0, 0, 0] += 0.3 * y
    return Split(x, y, torch.arange(n))


CASES = {
    # momentum, a learning-rate schedule, dropout (torch's global generator), best-epoch selection
    "plain_sgd_schedule_dropout": (
        "plain",
        {},
        {
            "epochs": 4,
            "batch_size": 16,
            "optimizer": {"name": "sgd", "lr": 0.3, "momentum": 0.9},
            "lr_schedule": {"milestones": [0.5], "gamma": 0.1},
            "select": "best_val",
        },
        0.3,
    ),
    # a method with a generator of its own (Parseval's row subsets), Adam's step counts and moments
    "parseval_adam": ("parseval", {"fraction": 0.5}, {"epochs": 3, "batch_size": 32, "optimizer": {"name": "adam"}}, 0),
    # early stopping: the stop decided at the interrupted epoch survives the resume
    "early_stop": (
        "plain",
        {},
        {
            "epochs": 6,
            "batch_size": 64,
            "optimizer": {"name": "sgd", "lr": 1e-6},
            "select": "best_val_loss",
            "patience": 1,
        },
        0,
    ),
}


def run(case, checkpoint=None, stop_after=None, log=None, lr=None):
    """One training of ``case`` from the same seed and initial weights; ``stop_after`` interrupts it after that
    epoch's checkpoint. Returns (state_dict, history)."""
    method, params, settings, dropout = CASES[case]
    if lr is not None:
        settings = {**settings, "optimizer": {**settings["optimizer"], "lr": lr}}
    generator = seed_everything(0)
    model = build_model("mlp_lwa", (1, 4, 4), 3, hidden=(12, 8), dropout=dropout)

    def after_epoch(epoch):
        if epoch == stop_after:
            raise Interrupted

    history = train(
        model,
        build_method(method, params),
        TrainSettings.of(**settings),
        toy_split(192, 1),
        toy_split(64, 2),
        generator,
        f"resume test {case}",
        log=log or (lambda _: None),
        checkpoint=checkpoint,
        after_epoch=after_epoch,
    )
    return model.state_dict(), history


def same_bits(a, b):
    return a.keys() == b.keys() and all(
        a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and torch.equal(a[k], b[k]) for k in a
    )


def as_text(history):
    return json.dumps(history, sort_keys=True)  # NaN != NaN, so compare the exact text


@pytest.mark.parametrize("case", sorted(CASES))
def test_resumed_training_is_bit_identical(tmp_path, case):
    reference_state, reference_history = run(case)
    ckpt = tmp_path / "model.pt.ckpt"
    with pytest.raises(Interrupted):
        run(case, ckpt, stop_after=1)
    assert ckpt.is_file() and digest_path(ckpt).is_file()
    lines = []
    state, history = run(case, ckpt, log=lines.append)
    assert any("resumed from checkpoint" in line and "after epoch 1/" in line for line in lines), lines
    assert same_bits(state, reference_state)
    assert as_text(history) == as_text(reference_history)
    if case == "early_stop":
        assert len(history) < CASES[case][2]["epochs"] + 1  # it did stop early


def test_the_method_generator_is_restored(tmp_path):
    """Without the method's generator in the checkpoint, Parseval would draw other rows after the resume: the
    comparison above can fail."""
    _, _, settings, _ = CASES["parseval_adam"]
    reference_state, _ = run("parseval_adam")
    ckpt = tmp_path / "model.pt.ckpt"
    with pytest.raises(Interrupted):
        run("parseval_adam", ckpt, stop_after=1)
    blob = torch.load(ckpt, weights_only=True)
    assert set(blob["method"]) == {"generator"}
    blob["method"] = {}  # as if the hook did not exist
    from advreg.artifacts import save_artifact

    save_artifact(ckpt, blob)
    state, _ = run("parseval_adam", ckpt)
    assert not same_bits(state, reference_state)


def test_a_checkpoint_of_another_run_is_not_resumed(tmp_path):
    ckpt = tmp_path / "model.pt.ckpt"
    with pytest.raises(Interrupted):
        run("plain_sgd_schedule_dropout", ckpt, stop_after=2, lr=0.1)
    expected_state, expected_history = run("plain_sgd_schedule_dropout", lr=0.2)
    lines = []
    state, history = run("plain_sgd_schedule_dropout", ckpt, log=lines.append, lr=0.2)
    assert any("made by another training run" in line for line in lines), lines
    assert not any("resumed" in line for line in lines)
    assert same_bits(state, expected_state) and as_text(history) == as_text(expected_history)


def test_a_damaged_checkpoint_is_not_resumed(tmp_path):
    ckpt = tmp_path / "model.pt.ckpt"
    with pytest.raises(Interrupted):
        run("plain_sgd_schedule_dropout", ckpt, stop_after=1)
    data = bytearray(ckpt.read_bytes())
    data[len(data) // 2] ^= 0xFF
    ckpt.write_bytes(bytes(data))
    expected_state, _ = run("plain_sgd_schedule_dropout")
    lines = []
    state, _ = run("plain_sgd_schedule_dropout", ckpt, log=lines.append)
    assert any(str(ckpt) in line and "differs" in line for line in lines), lines
    assert same_bits(state, expected_state)


def test_checkpoints_are_not_results():
    path = checkpoint_path("results/E/fold0/models/plain/default/model.pt")
    assert path == "results/E/fold0/models/plain/default/model.pt.ckpt"
    assert not is_reproducible(path) and not is_reproducible(path + ".sha256")
    assert is_reproducible("results/E/fold0/models/plain/default/model.pt")


# --- A real job, killed with SIGKILL under Snakemake, then rerun --------------------------------------------------


def kill_config():
    """One reference pretraining long enough (about 30 short epochs) to be killed between two checkpoints."""
    return {
        "seed": 5,
        "device": "cpu",
        "data": {"local_dir": None},
        "experiments": {
            "k": {
                "dataset": "fashion_mnist",
                "data": {"train_size": 4000, "val_size": 200, "test_size": 100},
                "model": {"arch": "mlp_deepdefense", "kwargs": {"hidden": [128, 64]}},
                "pretrain": {
                    "epochs": 30,
                    "batch_size": 50,
                    "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
                    "lr_schedule": {"milestones": [0.5], "gamma": 0.1},
                    "select": "best_val",
                },
                "methods": {"plain": {}},
                "attacks": {"fgsm": {"epsilons": [0.0, 0.1]}},
                "robustness": {"enabled": False},
            }
        },
    }


TARGET = "results/k/reference/model.pt"


def snakemake_cmd(workdir, *args):
    return snakemake_command(workdir, "--cores", "1", *args)


def snakemake(workdir, *args):
    proc = subprocess.run(snakemake_cmd(workdir, *args), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"snakemake {args} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.mark.slow
@pytest.mark.skipif(not FASHION_DIR.is_dir(), reason=NO_FASHION)
def test_a_killed_training_job_resumes_to_the_same_model(tmp_path):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    for workdir in (whole, killed):
        workdir.mkdir()
        (workdir / "config.yaml").write_text(yaml.safe_dump(kill_config()))
    snakemake(whole, TARGET)  # uninterrupted
    assert not Path(checkpoint_path(whole / TARGET)).exists()  # deleted once the model is written

    snakemake(killed, "results/data/fashion_mnist.pt")
    proc = subprocess.Popen(
        snakemake_cmd(killed, TARGET), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    ckpt = killed / checkpoint_path(TARGET)
    deadline = time.monotonic() + 300
    while not ckpt.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the job ended before its first checkpoint: make the training longer"
    time.sleep(0.3)  # a few more epochs
    os.killpg(proc.pid, signal.SIGKILL)  # Snakemake and the job at once, as a crash of the machine would
    proc.wait()
    assert not (killed / TARGET).exists()
    epoch = torch.load(ckpt, weights_only=True)["epoch"]
    assert 1 <= epoch < 30

    snakemake(killed, "--unlock")  # a killed Snakemake leaves its lock behind
    snakemake(killed, TARGET)
    log = (killed / "logs/k/pretrain.log").read_text()
    assert f"resumed from checkpoint {checkpoint_path(TARGET)} after epoch {epoch}/30" in log, log
    assert sha256(killed / TARGET) == sha256(whole / TARGET)
    assert sha256(killed / "results/k/reference/history.csv") == sha256(whole / "results/k/reference/history.csv")
    assert not ckpt.exists() and not digest_path(ckpt).exists()


@pytest.mark.parametrize("profile", ["default", "slurm"])
def test_profiles_rerun_incomplete_jobs(profile):
    """A rerun after a crash reruns the interrupted jobs (Snakemake 8/9 key ``rerun-incomplete``), which resume."""
    assert yaml.safe_load((ROOT / "profiles" / profile / "config.yaml").read_text())["rerun-incomplete"] is True


class _Killed(BaseException):
    """Stands for SIGKILL at one point of a write (a BaseException, as nothing in the write may catch it)."""


@pytest.mark.parametrize("killed_at", [1, 2, 3], ids=["record-of-both", "checkpoint-rename", "final-record"])
def test_a_kill_between_a_checkpoints_renames_leaves_it_resumable(tmp_path, monkeypatch, killed_at):
    """A checkpoint and its SHA256 record are two renames; a job killed between them (CI caught one: 'checkpoint ...
    cannot be resumed, starting over: ... SHA256 ... differs') must still find a checkpoint its record accepts, the
    old or the new one. Each write of the replacement is interrupted in turn (1: the record listing both digests,
    2: the checkpoint's rename, 3: the record of the new one alone)."""
    from advreg import artifacts
    from advreg.training.checkpoint import STATE_KEYS, load_checkpoint, save_checkpoint

    path = tmp_path / "model.pt.ckpt"
    old = {key: {"epoch": 1} for key in STATE_KEYS}
    new = {key: {"epoch": 2} for key in STATE_KEYS}
    save_checkpoint(path, "fp", old)
    writes = {"n": 0}
    real_bytes, real_text = artifacts.atomic_write_bytes, artifacts.atomic_write_text

    def counted(real):
        def write(*args, **kwargs):
            writes["n"] += 1
            if writes["n"] == killed_at:
                raise _Killed
            return real(*args, **kwargs)

        return write

    monkeypatch.setattr(artifacts, "atomic_write_bytes", counted(real_bytes))
    monkeypatch.setattr(artifacts, "atomic_write_text", counted(real_text))
    with pytest.raises(_Killed):
        save_checkpoint(path, "fp", new)
    monkeypatch.undo()
    lines = []
    blob = load_checkpoint(path, "fp", lines.append)
    assert blob is not None, lines
    assert blob["model"]["epoch"] == (1 if killed_at < 3 else 2)  # before the rename the old one, after it the new
