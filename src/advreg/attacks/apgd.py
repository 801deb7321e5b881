"""``apgd_ce`` and ``apgd_t``: Auto-PGD (L-infinity) of Croce & Hein (2020), "Reliable
evaluation of adversarial robustness with an ensemble of diverse parameter-free attacks" (ICML), sec. 3
(Algorithm 1) and sec. 4 (the DLR losses, eq. 5 targeted); the AutoAttack ensemble (sec. 5) that runs them is
:mod:`advreg.attacks.autoattack`.

Algorithm 1, vectorised over samples (every sample has its own step size and checkpoint decisions), with
P the projection onto the eps ball around x intersected with the [0, 1] box (when ``clip``):

    x1 = P(x0 + eta sign(grad f(x0))),                      eta = 2 eps
    for k = 1 .. N_iter - 1:
        z    = P(x_k + eta sign(grad f(x_k)))
        x_k+1 = P(x_k + alpha (z - x_k) + (1 - alpha)(x_k - x_k-1))
        keep (x_max, f_max), the highest-loss point so far
        if k is a checkpoint w_j and (condition 1 or condition 2): eta <- eta / 2, x_k+1 <- x_max

Checkpoints w_j = ceil(p_j N_iter), p_0 = 0, p_1 = 0.22, p_j+1 = p_j + max(p_j - p_j-1 - 0.03, 0.06) while
p_j <= 1 (:func:`checkpoints`). Condition 1: fewer than rho (w_j - w_j-1) of the steps i = w_j-1 .. w_j - 1
increased the loss, f(x_i+1) > f(x_i). Condition 2: eta was not reduced at w_j-1 and f_max did not change
since w_j-1. A run returns, per sample, its latest misclassified iterate if it had one (as the authors' code),
else x_max (the authors' code returns the start; x_max transfers better to the other targets).

Restarts and target classes are runs over the budget (:class:`advreg.attacks.pgd.Selection`): the first
run covers every sample, later ones only those the attacker still classifies correctly as stored, and each
sample keeps the first run that fools it (else the run of highest cross-entropy). Random starts are uniform
in the ball, drawn per (budget, target rank, restart) for all N samples from a generator derived from one
draw of the job's generator, so results do not depend on ``batch_size`` or on which samples a run covers.
The artifact is the per-budget float16 ``delta`` of :class:`advreg.attacks.pgd.PerBudgetAttack`.

Cost per budget, in forward+backward passes over the attacked samples: apgd_ce ``restarts * (n_iter + 1)``;
apgd_t up to ``n_target_classes * restarts * (n_iter + 1)`` (runs after the first cover only the samples not
yet fooled). Each run adds one forward pass to
judge its points as stored. The targeted DLR loss needs K >= 4 classes; with 2 or 3 classes apgd_t uses
the targeted cross-entropy instead (see :func:`targeted_loss`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from advreg.attacks import ATTACKS
from advreg.attacks.base import DEFAULT_BATCH_SIZE
from advreg.attacks.pgd import (
    PerBudgetAttack,
    Selection,
    batches,
    check_logits,
    logits_and_grad,
    project,
    random_start,
    run_generator,
)


def checkpoint_fractions() -> list[Fraction]:
    """p_0 = 0, p_1 = 0.22, p_j+1 = p_j + max(p_j - p_j-1 - 0.03, 0.06), while p_j <= 1 (exact arithmetic)."""
    p = [Fraction(0), Fraction(22, 100)]
    while True:
        nxt = p[-1] + max(p[-1] - p[-2] - Fraction(3, 100), Fraction(6, 100))
        if nxt > 1:
            return p
        p.append(nxt)


def checkpoints(n_iter: int) -> list[int]:
    """The checkpoints w_j = ceil(p_j * n_iter) of Algorithm 1 (w_0 = 0 first), duplicates merged (they occur
    only for small ``n_iter``). For n_iter = 100: [0, 22, 41, 57, 70, 80, 87, 93, 99]."""
    out: list[int] = []
    for p in checkpoint_fractions():
        w = math.ceil(p * n_iter)
        if not out or w != out[-1]:
            out.append(w)
    return out


def dlr_targeted_loss(logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Targeted DLR loss (Croce & Hein 2020, eq. 5), per sample:

        -(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2)

    with z_pi1 >= z_pi2 >= ... the sorted logits. Maximising it pushes the target logit above the true one;
    the denominator makes it invariant to shifting and rescaling the logits. It needs K >= 4 classes (z_pi4);
    with K = 3 the natural stand-in (z_pi1 - z_pi3) is maximised just as well by pushing the one remaining
    logit down without bound, and on a toy 3-class model APGD-T then fails where FGSM succeeds, so fewer than
    4 classes are refused here (:func:`targeted_loss` falls back). 1e-12 guards against a zero denominator
    (as the authors' code).
    """
    k = logits.shape[1]
    if k < 4:
        raise ValueError(f"the targeted DLR loss (Croce & Hein 2020, eq. 5) needs at least 4 classes; got {k}")
    ranked = logits.sort(dim=1, descending=True).values
    z_true = logits.gather(1, y[:, None]).squeeze(1)
    z_target = logits.gather(1, target[:, None]).squeeze(1)
    scale = ranked[:, 0] - 0.5 * (ranked[:, 2] + ranked[:, 3])
    return -(z_true - z_target) / (scale + 1e-12)


def targeted_loss(logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """APGD-T's loss: the targeted DLR loss (eq. 5) with K >= 4 classes; with K = 2 or 3, where eq. 5 is
    undefined, the targeted cross-entropy -CE(f(x), t) (the authors' code's ``ce-targeted`` loss)."""
    if logits.shape[1] >= 4:
        return dlr_targeted_loss(logits, y, target)
    return -F.cross_entropy(logits, target, reduction="none")


def target_ranking(model: nn.Module, x: torch.Tensor, y: torch.Tensor, count: int, batch_size: int) -> torch.Tensor:
    """(N, count): the non-true classes ranked by the clean logits, highest first (ties: lower class first)."""
    ranks = []
    with torch.no_grad():
        for part in batches(torch.arange(x.shape[0], device=x.device), batch_size):
            logits = model(x[part]).clone()
            logits[torch.arange(part.numel(), device=x.device), y[part]] = -math.inf
            ranks.append(logits.sort(dim=1, descending=True, stable=True).indices[:, :count])
    return torch.cat(ranks) if ranks else torch.zeros((0, count), dtype=torch.long, device=x.device)


def ranked_targets(name: str, model: nn.Module, x: Tensor, y: Tensor, count: int, batch_size: int) -> Tensor:
    """(N, min(count, K - 1)): :func:`target_ranking` for at most ``count`` targets, K read from one probe pass
    (AutoAttack's target ranks, shared by APGD-T and FAB-T; ``name`` is the attack an error names)."""
    with torch.no_grad():
        k = check_logits(name, model(x[:1]), 1, min_classes=2)
    return target_ranking(model, x, y, min(count, k - 1), batch_size)


def craft_budgets(
    attack: PerBudgetAttack,
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    epsilons: Sequence[float],
    generator: torch.Generator,
    batch_size: int,
    target_count: int | None,
    runs: Callable[[Budget], None],
) -> dict[str, Tensor]:
    """The craft of an attack made of runs per budget (APGD, FAB-T, AutoAttack): the checks and zero deltas of
    :meth:`PerBudgetAttack.begin_craft`, the ranked targets once (``target_count`` of them; None: none), then per
    budget > 0 a :class:`Budget` that ``runs`` fills, its kept deltas stored as float16."""
    x, y, epsilons, batch_size, seed, out = attack.begin_craft(x, y, epsilons, generator, batch_size)
    if x.shape[0] == 0 or all(eps == 0 for eps in epsilons):
        return {"delta": out}
    targets = None
    if target_count is not None:
        targets = ranked_targets(attack.name, model, x, y, target_count, batch_size)
    for e, eps in enumerate(epsilons):
        if eps == 0:
            continue
        budget = Budget(model, x, y, eps, e, seed, Selection(attack, model, x, y, eps), targets, batch_size)
        runs(budget)
        out[:, e] = budget.kept.delta.to(torch.float16)
    return {"delta": out}


def _cross_entropy(logits: Tensor, y: Tensor) -> Tensor:
    return F.cross_entropy(logits, y, reduction="none")


@dataclass
class Budget:
    """One budget's runs: the attacker, its inputs, the budget and its index, the job's seed, the points kept
    so far (:class:`Selection`), the ranked target classes (apgd_t) and the batch size."""

    model: nn.Module
    x: Tensor
    y: Tensor
    eps: float
    index: int
    seed: int
    kept: Selection
    targets: Tensor | None
    batch_size: int


class _APGDBase(PerBudgetAttack):
    uses_targets = False  # whether the attack needs the ranked target classes (apgd_t)

    # -- Algorithm 1 ------------------------------------------------------------------------------------

    def apgd_run(
        self,
        model: nn.Module,
        x: torch.Tensor,
        y: torch.Tensor,
        eps: float,
        start: torch.Tensor,
        loss_fn: Callable[[torch.Tensor], torch.Tensor],
    ) -> torch.Tensor:
        """One run of Algorithm 1 from ``x + start`` maximising ``loss_fn(logits)`` (per sample)."""
        n_iter, rho, alpha, clip = self.params.n_iter, self.params.rho, self.params.alpha, self.params.clip
        checks = checkpoints(n_iter)

        def proj(a: Tensor) -> Tensor:
            return project(a, x, eps, "linf", clip)

        def col(v: Tensor) -> Tensor:  # (n,) -> broadcastable over x
            return v.reshape(-1, *([1] * (x.ndim - 1)))

        x_prev = proj(x + start)
        f_prev, logits, g_prev = logits_and_grad(model, x_prev, loss_fn)
        found = logits.argmax(1) != y  # some iterate was misclassified
        x_found = x_prev.clone()  # the latest misclassified iterate
        eta = torch.full((x.shape[0],), 2.0 * eps, dtype=x.dtype, device=x.device)

        x_cur = proj(x_prev + col(eta) * torch.sign(g_prev))
        f_cur, logits, g_cur = logits_and_grad(model, x_cur, loss_fn, need_grad=n_iter > 1)
        wrong = logits.argmax(1) != y
        x_found = torch.where(col(wrong), x_cur, x_found)
        found |= wrong
        better = f_cur > f_prev
        x_max = torch.where(col(better), x_cur, x_prev)
        f_max = torch.where(better, f_cur, f_prev)
        g_max = torch.where(col(better), g_cur, g_prev) if g_cur is not None else None
        increases = better.to(x.dtype)  # steps i = w_j-1 .. with f(x_i+1) > f(x_i)
        last_w, last_eta, last_f_max = 0, eta.clone(), f_max.clone()

        for k in range(1, n_iter):
            z = proj(x_cur + col(eta) * torch.sign(g_cur))
            x_new = proj(x_cur + alpha * (z - x_cur) + (1.0 - alpha) * (x_cur - x_prev))
            f_new, logits, g_new = logits_and_grad(model, x_new, loss_fn, need_grad=k < n_iter - 1)
            wrong = logits.argmax(1) != y
            x_found = torch.where(col(wrong), x_new, x_found)
            found |= wrong
            better = f_new > f_max
            x_max = torch.where(col(better), x_new, x_max)
            f_max = torch.where(better, f_new, f_max)
            if g_new is not None:
                g_max = torch.where(col(better), g_new, g_max)
            if k in checks:
                cond1 = increases < rho * (k - last_w)
                cond2 = (eta == last_eta) & (f_max == last_f_max)
                reduce = cond1 | cond2
                last_w, last_eta, last_f_max = k, eta.clone(), f_max.clone()
                eta = torch.where(reduce, eta / 2.0, eta)
                x_new = torch.where(col(reduce), x_max, x_new)
                f_new = torch.where(reduce, f_max, f_new)
                if g_new is not None:
                    g_new = torch.where(col(reduce), g_max, g_new)
                increases = torch.zeros_like(increases)
            increases += (f_new > f_cur).to(x.dtype)
            x_prev, x_cur, f_cur, g_cur = x_cur, x_new, f_new, g_new
        return torch.where(col(found), x_found, x_max)

    # -- runs over one budget --------------------------------------------------------------------------

    def ce_runs(self, b: Budget, first_covers_all: bool) -> None:
        """APGD-CE's restarts at budget ``b``, offered to ``b.kept``."""
        for r in range(self.params.restarts):
            if r == 0 and first_covers_all:
                index = torch.arange(b.x.shape[0], device=b.x.device)
            else:
                index = b.kept.remaining()
            if index.numel() == 0:
                return
            start = self.start(b.x, b.eps, run_generator(b.seed, "apgd_ce", b.index, r))
            for part in batches(index, b.batch_size):
                loss_fn = functools.partial(_cross_entropy, y=b.y[part])
                b.kept.offer(part, self.apgd_run(b.model, b.x[part], b.y[part], b.eps, start[part], loss_fn))

    def targeted_runs(self, b: Budget, first_covers_all: bool) -> None:
        """APGD-T's runs at budget ``b``: per target rank, its restarts, offered to ``b.kept``."""
        assert b.targets is not None
        for j in range(b.targets.shape[1]):
            for r in range(self.params.restarts):
                first = j == 0 and r == 0 and first_covers_all
                index = torch.arange(b.x.shape[0], device=b.x.device) if first else b.kept.remaining()
                if index.numel() == 0:
                    return
                start = self.start(b.x, b.eps, run_generator(b.seed, "apgd_t", b.index, j, r))
                for part in batches(index, b.batch_size):
                    loss_fn = functools.partial(targeted_loss, y=b.y[part], target=b.targets[part, j])
                    b.kept.offer(part, self.apgd_run(b.model, b.x[part], b.y[part], b.eps, start[part], loss_fn))

    def start(self, x: Tensor, eps: float, generator: torch.Generator) -> Tensor:
        if self.params.random_start:
            return random_start(x, eps, "linf", generator)
        return torch.zeros_like(x)

    def craft(
        self,
        model: nn.Module,
        x: Tensor,
        y: Tensor,
        epsilons: Sequence[float],
        generator: torch.Generator,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> dict[str, Tensor]:
        count = self.params.n_target_classes if self.uses_targets else None
        return craft_budgets(self, model, x, y, epsilons, generator, batch_size, count, self.budget_runs)

    def budget_runs(self, b: Budget, first_covers_all: bool = True) -> None:
        """The attack's runs at budget ``b``, offered to ``b.kept``; the first on every point if
        ``first_covers_all`` (else only on those not yet fooled: a later stage of AutoAttack)."""
        raise NotImplementedError


class APGDCE(_APGDBase):
    """APGD-CE (Croce & Hein 2020, Algorithm 1 on the cross-entropy; untargeted, L-infinity)."""

    spec = ATTACKS["apgd_ce"]

    def budget_runs(self, b: Budget, first_covers_all: bool = True) -> None:
        self.ce_runs(b, first_covers_all)


class APGDT(_APGDBase):
    """APGD-T (Croce & Hein 2020, Algorithm 1 on the targeted DLR loss, eq. 5), run once per target class
    among the ``n_target_classes`` highest-ranked non-true classes of the clean logits (at most K - 1);
    each sample keeps the first target run that fools the attacker. Models with fewer than 4 classes get
    the targeted cross-entropy instead of the DLR loss (:func:`targeted_loss`)."""

    spec = ATTACKS["apgd_t"]
    uses_targets = True

    def budget_runs(self, b: Budget, first_covers_all: bool = True) -> None:
        self.targeted_runs(b, first_covers_all)
