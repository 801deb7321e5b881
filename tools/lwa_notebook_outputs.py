"""The outputs the LWA authors' MNIST notebooks were published with, beside LWA Tables 1-2 (docs/reproduction.md).

    .venv/bin/python tools/lwa_notebook_outputs.py AUTHORS_REPO [--published config/published/lwa.yaml] > cells.md

``AUTHORS_REPO`` is a checkout of github.com/ruitonghuang/LearningwithaStrongAdversary (the notebooks are read as
JSON; nothing is executed). Each network's evaluation cell prints five lines, in Table 1's column order::

    Normal Validation: 0.977          clean accuracy on the 10,000 test images     -> Validation
    Fixed set perturbation: 0.361     the first network's Adv_Loss set at 1.5      -> Fixed
    L0 perturbation: 0.287            own L2-scaled sign set (a misnomer)          -> Adv_Loss_Sign
    L2 perturbation: 0.201            own normalised-gradient set                  -> Adv_Loss
    Alpha perturbation: 0.074         own Algorithm 1 set                          -> Adv_Alpha

Every network is evaluated in that order, once: Normal, Dropout, Goodfellow's method, LWA (in both notebooks, read
from their code: the Dropout network's ``Dropout`` layer, Goodfellow's summed clean and sign-step gradients, LWA's
normalised-gradient step). This prints, per notebook, each network's five outputs with the paper's value and the
difference in points where the paper has the row.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import yaml

NOTEBOOKS = {1: "MNIST_2layers.ipynb", 2: "MNIST_LeNet.ipynb"}  # LWA table -> notebook
ROLES = ("normal", "dropout", "goodfellow", "lwa")  # the order each notebook evaluates its networks in
PRINTED = {  # printed label -> Table 1's column
    "Normal Validation": "validation",
    "Fixed set perturbation": "fixed",
    "L0 perturbation": "adv_loss_sign",
    "L2 perturbation": "adv_loss",
    "Alpha perturbation": "adv_alpha",
}
LINE = re.compile(r"^(" + "|".join(PRINTED) + r"):\s*([0-9.]+)\s*$")


def printed_values(notebook: Path) -> list[dict[str, float]]:
    """Every evaluation the notebook's saved outputs hold, in order: Table 1's column -> accuracy (a fraction).
    An evaluation starts at its ``Normal Validation`` line; a label printed twice within one is an error."""
    cells = json.loads(notebook.read_text())["cells"]
    evaluations: list[dict[str, float]] = []
    for cell in cells:
        for output in cell.get("outputs", []):
            text = output.get("text") or output.get("data", {}).get("text/plain", "")
            for line in ("".join(text) if isinstance(text, list) else text).splitlines():
                match = LINE.match(line.strip())
                if not match:
                    continue
                column = PRINTED[match.group(1)]
                if column == "validation":
                    evaluations.append({})
                elif not evaluations or column in evaluations[-1]:
                    raise ValueError(f"{notebook}: {match.group(1)!r} outside an evaluation block")
                evaluations[-1][column] = float(match.group(2))
    return evaluations


def table(number: int, repo: Path, published: dict) -> str:
    name = NOTEBOOKS[number]
    evaluations = printed_values(repo / name)
    if len(evaluations) != len(ROLES):
        raise ValueError(f"{name}: {len(evaluations)} evaluations printed, expected {len(ROLES)} ({', '.join(ROLES)})")
    columns = published["columns"]
    rows = published["tables"][number]["rows"]
    labels = published["labels"]
    lines = [
        f"### LWA Table {number}: `{name}`'s saved outputs / the paper (difference, points)",
        "",
        "| network | " + " | ".join(labels[c] for c in columns) + " |",
        "| --- |" + " ---: |" * len(columns),
    ]
    for role, values in zip(ROLES, evaluations, strict=True):
        cells = []
        for i, column in enumerate(columns):
            ours = values.get(column)
            paper = rows.get(role, [None] * len(columns))[i]
            if ours is None:
                cells.append("")
            elif paper is None:
                cells.append(f"{100 * ours:.2f}")
            else:
                cells.append(f"{100 * ours:.2f} / {100 * paper:.2f} ({100 * (ours - paper):+.1f})")
        lines.append(f"| {published['roles'][role]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path, help="checkout of the authors' repository")
    parser.add_argument("--published", type=Path, default=Path("config/published/lwa.yaml"))
    args = parser.parse_args()
    published = yaml.safe_load(args.published.read_text())
    print("\n\n".join(table(number, args.repo, published) for number in NOTEBOOKS))


if __name__ == "__main__":
    main()
