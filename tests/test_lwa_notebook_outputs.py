"""tools/lwa_notebook_outputs.py: reads the five printed accuracies of each network from a notebook's saved outputs
(as the authors' notebooks store them: stream text, a list of lines) and sets them beside LWA's published rows; a
notebook whose outputs hold another number of evaluations is refused, naming it."""

import json
import subprocess
import sys

import pytest
from conftest import ROOT

TOOL = ROOT / "tools" / "lwa_notebook_outputs.py"
PRINTS = ("Normal Validation", "Fixed set perturbation", "L0 perturbation", "L2 perturbation", "Alpha perturbation")


def notebook(evaluations: list[list[float]]) -> dict:
    cells = [{"cell_type": "code", "source": ["train()"], "outputs": [{"name": "stdout", "text": ["epoch 1\n"]}]}]
    for values in evaluations:
        lines = [f"{label}: {value:.4f}\n" for label, value in zip(PRINTS, values, strict=True)]
        # the authors' cells print the Alpha line in a second output, after a warning on stderr
        outputs = [
            {"name": "stdout", "output_type": "stream", "text": lines[:4]},
            {"name": "stderr", "output_type": "stream", "text": ["DeprecationWarning: ...\n"]},
            {"name": "stdout", "output_type": "stream", "text": ["Alpha gradien being 0 : 88\n", lines[4]]},
        ]
        cells.append({"cell_type": "code", "source": ["print(...)"], "outputs": outputs})
    return {"cells": cells}


def write_repo(tmp_path, mlp: list[list[float]], lenet: list[list[float]]):
    (tmp_path / "MNIST_2layers.ipynb").write_text(json.dumps(notebook(mlp)))
    (tmp_path / "MNIST_LeNet.ipynb").write_text(json.dumps(notebook(lenet)))


def run(tmp_path) -> subprocess.CompletedProcess:
    published = ROOT / "config" / "published" / "lwa.yaml"
    return subprocess.run(
        [sys.executable, str(TOOL), str(tmp_path), "--published", str(published)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_outputs_beside_the_paper(tmp_path):
    rows = [[0.977, 0.361, 0.287, 0.201, 0.074], [0.98, 0.4, 0.4, 0.3, 0.2], [0.99, 0.9, 0.9, 0.8, 0.8]]
    write_repo(tmp_path, [*rows, [0.99, 0.974, 0.944, 0.867, 0.862]], [*rows, [0.9934, 0.98, 0.98, 0.96, 0.96]])
    result = run(tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    normal = next(line for line in lines if line.startswith("| Normal |"))
    # Table 1's Normal row: 0.980, 0.320, 0.187, 0.085, 0.073
    assert "97.70 / 98.00 (-0.3)" in normal and "20.10 / 8.50 (+11.6)" in normal and "7.40 / 7.30 (+0.1)" in normal
    # Table 2 has no Dropout row: the notebook's values stand alone
    lenet_dropout = [line for line in lines if line.startswith("| Dropout |")][1]
    assert "98.00 |" in lenet_dropout and "/" not in lenet_dropout


def test_wrong_number_of_evaluations_refused(tmp_path):
    write_repo(tmp_path, [[0.9, 0.1, 0.1, 0.1, 0.1]] * 3, [[0.9, 0.1, 0.1, 0.1, 0.1]] * 4)
    result = run(tmp_path)
    assert result.returncode != 0
    assert "MNIST_2layers.ipynb: 3 evaluations printed, expected 4" in result.stderr


@pytest.mark.parametrize("label", ["L2 perturbation", "Alpha perturbation"])
def test_label_outside_an_evaluation_refused(tmp_path, label):
    nb = notebook([[0.9, 0.1, 0.1, 0.1, 0.1]] * 4)
    nb["cells"].insert(1, {"cell_type": "code", "outputs": [{"text": [f"{label}: 0.5\n"]}]})
    (tmp_path / "MNIST_2layers.ipynb").write_text(json.dumps(nb))
    (tmp_path / "MNIST_LeNet.ipynb").write_text(json.dumps(notebook([[0.9, 0.1, 0.1, 0.1, 0.1]] * 4)))
    result = run(tmp_path)
    assert result.returncode != 0 and f"{label!r} outside an evaluation block" in result.stderr
