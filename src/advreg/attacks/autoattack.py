"""``autoattack``: the AutoAttack ensemble of Croce & Hein (2020), "Reliable evaluation of adversarial robustness
with an ensemble of diverse parameter-free attacks" (ICML), sec. 5, L-infinity.

``version: standard`` is the authors' ``version='standard'``: at each budget, APGD-CE (100 iterations, 1 restart)
on every point, then APGD-T (9 target classes, 100 iterations), FAB-T (9 target classes, 100 iterations) and Square
(5000 queries), each only on the points all earlier stages left robust; a point counts as robust if none fools it.
``version: custom`` runs ``components`` (a list of apgd_ce, apgd_t, fab_t, square) in the order given, with the
counts given (``n_iter``, ``n_target_classes``, ``restarts`` shared by APGD and FAB-T as in the authors' class,
``n_queries`` for Square); the default components [apgd_ce, apgd_t] are APGD-CE then APGD-T only.

The stages are the attacks of :mod:`advreg.attacks.apgd`, :mod:`advreg.attacks.fab` and
:mod:`advreg.attacks.square`, run on one :class:`advreg.attacks.pgd.Selection` per budget: each point keeps the first
stored point that fools the attacker (else the one of highest cross-entropy). Every stage draws its randomness
from the same derived generators as when run alone (seeds named after the stage, from one draw of the job's
generator) and treats points independently, so per point the ensemble is the union of its components run alone
with the same parameters and generator: its robust accuracy is at most that of each component. The artifact is
the per-budget float16 ``delta`` of :class:`advreg.attacks.pgd.PerBudgetAttack`.

Cost per budget: the sum of the components' costs, each over the points still robust when it starts.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from advreg.attacks import ATTACKS
from advreg.attacks.apgd import APGDCE, APGDT, Budget, craft_budgets
from advreg.attacks.base import DEFAULT_BATCH_SIZE
from advreg.attacks.catalog import AUTOATTACK_COMPONENTS, APGDTParams, FABParams, SquareParams
from advreg.attacks.fab import FABT
from advreg.attacks.pgd import PerBudgetAttack
from advreg.attacks.square import Square


class AutoAttack(PerBudgetAttack):
    """AutoAttack, standard or custom (see the module docstring)."""

    spec = ATTACKS["autoattack"]

    def components(self) -> tuple[str, ...]:
        """The stages run, in order."""
        return AUTOATTACK_COMPONENTS if self.params.version == "standard" else tuple(self.params.components)

    def stage(self, name: str) -> APGDCE | APGDT | FABT | Square:
        """The component ``name`` with the parameters this ensemble gives it."""
        p = self.params.to_dict()

        def pick(params: type) -> dict:
            return {key: p[key] for key in params.__dataclass_fields__}

        if name == "apgd_ce":
            return APGDCE({k: v for k, v in pick(APGDTParams).items() if k != "n_target_classes"})
        if name == "apgd_t":
            return APGDT(pick(APGDTParams))
        if name == "fab_t":
            return FABT(pick(FABParams))
        return Square(pick(SquareParams))

    def craft(
        self,
        model: nn.Module,
        x: Tensor,
        y: Tensor,
        epsilons: Sequence[float],
        generator: torch.Generator,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> dict[str, Tensor]:
        if x.ndim != 4 and "square" in self.components():
            raise ValueError(
                f"attack '{self.name}': its Square stage needs image inputs (N, C, H, W), got {tuple(x.shape)}"
            )
        stages = [self.stage(name) for name in self.components()]
        # APGD-T and FAB-T rank the targets alike (highest clean logits first): once for both
        count = self.params.n_target_classes if {"apgd_t", "fab_t"} & set(self.components()) else None

        def runs(budget: Budget) -> None:
            for i, stage in enumerate(stages):
                stage.budget_runs(budget, first_covers_all=i == 0)

        return craft_budgets(self, model, x, y, epsilons, generator, batch_size, count, runs)
