"""Every paper module's name and config block (torch-free: the workflow's plan is built from this).

A paper module renders one paper's tables, figures and claims next to the published numbers, from the
gathered results of the experiments its config block names. Its entry here declares the block's parameters
(:meth:`PaperParams.experiments` says which experiments it reads) and which of each experiment's gathered
files it needs (``reads``: any of ``crosseval``, ``robustness``, ``histories``, ``examples``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from advreg.ids import ModelId
from advreg.params import ConfigError, Params, Registry, Spec, param

READABLE = ("crosseval", "robustness", "histories", "examples", "timings")


@dataclass(frozen=True)
class PaperParams(Params):
    def experiments(self) -> list[str]:
        """The experiments this paper's outputs are computed from."""
        raise NotImplementedError


@dataclass(frozen=True)
class PaperSpec(Spec):
    reads: tuple[str, ...] = ()
    title: str = ""

    def check(self, params: PaperParams, experiments: Mapping[str, Any], where: str) -> None:
        """Cross-checks against the plan: the paper's own, if its params define ``check_plan``."""
        check = getattr(params, "check_plan", None)
        if check is not None:
            check(experiments, where)


def _model_ids(ids: tuple[str, ...], where: str) -> list[ModelId]:
    return [ModelId.parse(text, f"{where}[{i}]") for i, text in enumerate(ids)]


@dataclass(frozen=True)
class DataGradPaper(PaperParams):
    """DataGrad (Ororbia, Kifer, Giles 2017): appendix Tables 1-5, the claims of sec. 3, Figures 1-3."""

    experiment: str = param("", "the experiment holding the paper's models (Rect, L1, L2, DGL1/2, MT, MT-DGL1/2)")
    published: str = param("config/published/datagrad.yaml", "the published numbers (YAML)")
    r1: str = param("fgsm", "the attack playing the paper's R1 (sign) noise")
    r2: str = param("r2_paper", "the attack playing the paper's R2 noise, x + phi * 2g (grad_l2, normalise: false)")
    r2_equal_norm: str = param("", "grad_l2 at the L2 norm of R1 noise (a further finding); '' if not run")
    table_attackers: tuple[str, ...] = param(
        ("rect/default", "l1/default", "l2/default", "dgl1/default", "dgl2/default"),
        "attacker model ids of appendix Tables 1-5, in order (Rect, L1, L2, DGL1, DGL2)",
        min_items=5,
    )

    def experiments(self) -> list[str]:
        return [self.experiment]

    def check(self, where: str) -> None:
        if not self.experiment:
            raise ConfigError(f"{where}.experiment: name the experiment holding the DataGrad models")
        if len(self.table_attackers) != 5:
            raise ConfigError(
                f"{where}.table_attackers: Tables 1-5 need exactly 5 attackers, got {len(self.table_attackers)}"
            )
        _model_ids(self.table_attackers, f"{where}.table_attackers")

    def check_plan(self, experiments: Mapping[str, Any], where: str) -> None:
        exp = experiments[self.experiment]
        for attack in (self.r1, self.r2, self.r2_equal_norm):
            if attack and attack not in exp.attacks:
                raise ConfigError(f"{where}: attack {attack!r} is not run by experiment {self.experiment!r}")
        attackers = set(exp.attackers)
        for model_id in _model_ids(self.table_attackers, f"{where}.table_attackers"):
            if model_id not in attackers:
                raise ConfigError(
                    f"{where}.table_attackers: {model_id} is not an attacker of experiment {self.experiment!r}"
                )


# --- Learning with a Strong Adversary: config block ---

# --- DeepDefense: config block ---

# --- Latent disparity regularisation: config block ---


def paper(name: str, params: type[PaperParams], title: str, reads: tuple[str, ...], summary: str) -> PaperSpec:
    assert set(reads) <= set(READABLE), reads
    return PaperSpec("paper", name, params, f"advreg.papers.{name}:render", summary, reads=reads, title=title)


PAPERS: Registry[PaperSpec] = Registry(
    "paper",
    paper(
        "datagrad",
        DataGradPaper,
        "DataGrad (Ororbia, Kifer, Giles 2017)",
        ("crosseval", "histories", "examples"),
        "appendix Tables 1-5 beside the published numbers, the claims of sec. 3, Figures 1-3",
    ),
    # --- Learning with a Strong Adversary: paper ---
    # --- DeepDefense: paper ---
    # --- Latent disparity regularisation: paper ---
)
