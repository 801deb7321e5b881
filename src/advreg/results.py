"""A finished run's tidy tables as pandas DataFrames, for notebooks and scripts (torch-free).

::

    from advreg.results import Run

    run = Run(".")                        # the working directory of the run (the folder holding results/)
    run.experiments()                     # ['arena_fmnist_lenet', 'datagrad_fmnist', ...]
    run.crosseval("arena_fmnist_lenet")   # one row per (fold, attack, attacker, target, epsilon): accuracy, ...
    run.robustness()                      # every experiment's metrics, one row per (fold, model, metric, layer)
    run.leaderboard()                     # the arena's leaderboard (papers.arena), one row per model
    run.claims()                          # every paper's claims and verdicts, with a 'paper' column

The tables are the files the pipeline writes (:mod:`advreg.layout`): ``results/<experiment>/crosseval.csv``
(every target on every attacker's adversarial sets; ``white_box`` marks attacker == target),
``results/<experiment>/robustness.csv`` (rho_2, rho_inf, latent disparities, clean accuracy),
``results/<experiment>/histories.csv`` (per-epoch training losses), ``results/<experiment>/worstcase.csv`` (per
target and threat model the points robust to every attack of it; :meth:`Run.worstcase`),
``results/papers/<paper>/claims.csv`` (the verdict of each paper claim and further finding, with its evidence) and
``results/papers/<paper>/tables/*.csv`` (a paper's tables, the arena's leaderboard and masking checks among
them). Model ids are ``method/variant`` strings (``reference/pretrained`` is the pretrained reference). Called
without an experiment, a loader concatenates every experiment's table (each row names its experiment). A missing
file raises :class:`FileNotFoundError` naming it and the run's folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from advreg import layout

__all__ = ["Run"]


class Run:
    """The results of one run, read from ``root`` (the run's working directory, or its ``results`` folder)."""

    def __init__(self, root: str | Path = ".") -> None:
        root = Path(root)
        self.root = root.parent if root.name == "results" and not (root / "results").is_dir() else root
        if not (self.root / "results").is_dir():
            raise FileNotFoundError(f"{self.root.resolve()}: no results/ folder (run the pipeline there first)")

    def __repr__(self) -> str:
        return f"Run({str(self.root)!r})"

    def path(self, relative: str) -> Path:
        return self.root / relative

    def _read(self, relative: str, reader: Callable[[Path], pd.DataFrame] = pd.read_csv) -> pd.DataFrame:
        path = self.path(relative)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: not written by this run (is the run finished? `snakemake {relative}`)")
        return reader(path)

    # -- what the run holds -----------------------------------------------------------------------------

    def experiments(self) -> list[str]:
        """The experiments whose cross-evaluation is gathered (``results/<experiment>/crosseval.csv``), sorted."""
        return sorted(p.parent.name for p in (self.root / "results").glob("*/crosseval.csv"))

    def papers(self) -> list[str]:
        """The papers rendered (``results/papers/<paper>/claims.csv``), sorted."""
        return sorted(p.parent.name for p in (self.root / "results" / "papers").glob("*/claims.csv"))

    def _per_experiment(
        self, pattern: str, experiment: str | None, reader: Callable[[Path], pd.DataFrame] = pd.read_csv
    ) -> pd.DataFrame:
        names = [experiment] if experiment is not None else self.experiments()
        if not names:
            raise FileNotFoundError(f"{self.root / 'results'}: no experiment's tables (is the run finished?)")
        frames = [self._read(layout.experiment_file(pattern, name), reader) for name in names]
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

    # -- per experiment ----------------------------------------------------------------------------------

    def crosseval(self, experiment: str | None = None) -> pd.DataFrame:
        """Accuracy of every target on every attacker's adversarial set: columns experiment, fold, attack (the
        config's label), attacker, target, epsilon, white_box, n, correct, accuracy, clean_correct, fooled,
        success_rate, mean_l2, mean_linf."""
        return self._per_experiment(layout.CROSSEVAL, experiment)

    def robustness(self, experiment: str | None = None) -> pd.DataFrame:
        """White-box metrics per model: columns experiment, fold, model, metric, layer, value."""
        return self._per_experiment(layout.ROBUSTNESS, experiment)

    def worstcase(self, experiment: str | None = None) -> pd.DataFrame:
        """Per-sample worst case per threat model: columns experiment, fold, target, norm, epsilon, n, robust,
        accuracy, attacks, attackers, mask (hex of ``np.packbits``; :func:`advreg.evaluation.worstcase.decode_mask`)."""
        from advreg.evaluation import worstcase

        return self._per_experiment(layout.WORSTCASE, experiment, worstcase.read)  # masks kept as text

    def histories(self, experiment: str | None = None) -> pd.DataFrame:
        """Per-epoch training records: columns experiment, fold, model, epoch, train_loss, val_loss, val_acc, lr."""
        return self._per_experiment(layout.HISTORIES, experiment)

    # -- per paper ---------------------------------------------------------------------------------------

    def claims(self, paper: str | None = None) -> pd.DataFrame:
        """Claims and verdicts (columns paper, kind, claim, verdict, evidence, source, and a paper's own extra
        columns), one paper's or every rendered paper's."""
        names = [paper] if paper is not None else self.papers()
        if not names:
            raise FileNotFoundError(f"{self.root / 'results' / 'papers'}: no paper was rendered")
        frames = [
            self._read(f"{layout.PAPER.format(paper=name)}/claims.csv").assign(paper=name).pipe(_paper_first)
            for name in names
        ]
        return pd.concat(frames, ignore_index=True)

    def table(self, paper: str, name: str) -> pd.DataFrame:
        """A paper's table ``results/papers/<paper>/tables/<name>.csv`` (e.g. ``("arena", "masking")``)."""
        return self._read(f"{layout.PAPER.format(paper=paper)}/tables/{name}.csv")

    def tables(self, paper: str) -> list[str]:
        """The names of a paper's tables (for :meth:`table`)."""
        return sorted(p.stem for p in (self.path(layout.PAPER.format(paper=paper)) / "tables").glob("*.csv"))

    def leaderboard(self, paper: str = "arena") -> pd.DataFrame:
        """The arena's leaderboard: one row per model (method display name, model id, accuracy per threat model,
        rho metrics, ranks, mean rank, masking flags), best mean rank first."""
        return self.table(paper, "leaderboard")


def _paper_first(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[["paper", *[c for c in frame.columns if c != "paper"]]]
