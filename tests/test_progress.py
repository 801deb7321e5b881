"""Progress bars in job logs (advreg.progress): plain lines at a bounded rate, off at 0, and no effect on results."""

import math

import torch
from test_training import tiny_model, toy_split

from advreg.methods import build_method
from advreg.progress import progress
from advreg.runtime import seed_everything
from advreg.stages.job import file_log
from advreg.training.loop import train
from advreg.training.settings import TrainSettings


def test_every_update_is_one_plain_line_in_the_log_file(tmp_path):
    path = tmp_path / "job.log"
    with file_log(path) as log:
        log("advreg job: first line")
        with progress(log, 1e-9, 4, "crafting", unit="step") as bar:
            for i in range(4):
                bar.set_postfix_str(f"attack {i}")
                bar.update()
        log("done")
    text = path.read_text()
    assert "\r" not in text
    lines = text.splitlines()
    assert lines[0] == "advreg job: first line" and lines[-1] == "done"
    bars = lines[1:-1]
    assert len(bars) == 4, bars  # one line per update; the closing line is not repeated
    assert all(line.startswith("crafting:") and "|" in line for line in bars)
    assert "4/4" in bars[-1] and "100%" in bars[-1] and "attack 3" in bars[-1]
    assert all(ch.isascii() for ch in text)


def test_quick_work_and_zero_seconds_write_nothing():
    lines = []
    with progress(lines.append, 60, 5, "quick") as bar:  # first line only after 60 s of work
        bar.update(5)
    with progress(lines.append, 0, 5, "off") as bar:
        bar.set_postfix_str("x")
        bar.update(5)
    assert lines == []


def test_training_progress_lines_change_nothing():
    """A bar on every step (tiny interval) against none: the same history and weights, bit for bit; the log gets
    the step counts of the whole run beside the per-epoch lines."""
    settings = TrainSettings.of(epochs=3, batch_size=32, optimizer={"name": "sgd", "lr": 0.5, "momentum": 0.9})
    runs = []
    for seconds in (0.0, 1e-9):
        lines = []
        gen = seed_everything(3)
        model = tiny_model()
        history = train(
            model,
            build_method("plain"),
            settings,
            toy_split(100, 1),
            toy_split(40, 2),
            gen,
            "toy job",
            lines.append,
            progress_seconds=seconds,
        )
        runs.append((history, model.state_dict(), lines))
    (h0, s0, log0), (h1, s1, log1) = runs
    assert len(h0) == len(h1) == 4
    for a, b in zip(h0, h1, strict=True):
        assert a.keys() == b.keys()
        assert all(a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])) for k in a)
    assert all(torch.equal(s0[k], s1[k]) for k in s0)
    assert not [line for line in log0 if "|" in line]
    bars = [line for line in log1 if "|" in line]
    total = 3 * math.ceil(100 / 32)
    assert bars and all(line.startswith("toy job:") for line in bars)
    assert f"{total}/{total}" in bars[-1] and "epoch 3/3" in bars[-1]
    assert [line for line in log1 if "|" not in line] == log0  # the per-epoch lines are untouched
