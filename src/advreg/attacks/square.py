"""``square``: the L-infinity Square Attack of Andriushchenko, Croce, Flammarion, Hein (2020), "Square Attack: a
query-efficient black-box adversarial attack via random search" (ECCV), sec. 3 (Algorithm 1), sec. 3.1
(Algorithm 2, the L-infinity proposal distribution, the vertical-stripe initialisation and the schedule of p).

Gradient-free: the attack only queries the model's logits (forward passes under ``torch.no_grad``), so a defence
that hides its input gradients does not hide from it (AutoAttack's fourth attack, Croce & Hein 2020, sec. 5).
Random search on the margin loss L(x) = z_y(x) - max_{k != y} z_k(x) (logits z; negative = misclassified),
vectorised over samples (every sample has its own squares):

    x^ = init(x): vertical stripes, x^_{c,:,j} = x_{c,:,j} + eps * rho_{c,j}, rho uniform in {-1, 1}
    l* = L(x^), i = 1
    while i < N and l* > 0:                                   N = n_queries (the init is the first query)
        h = side length of the square (schedule below)
        delta = 0; (r, s) uniform in {0 .. H - h} x {0 .. W - h}; per channel c: delta[c, r:r+h, s:s+h] = +-2 eps
        x_new = P(x^ + delta)                                  P: onto the eps ball around x, then the [0, 1] box
        if L(x_new) < l*: x^ = x_new, l* = L(x_new)
        i = i + 1

Because every coordinate of x^ - x is already +-eps (stripes, then squares), P(x^ + delta) sets the square to
x + rho_c * eps per channel (clipped to the box) and leaves the rest: the state is a sign tensor in {-1, 1}.

Schedule (sec. 3.1 and the appendix): p, the fraction of the image's pixels the square covers, starts at
``p_init`` and is halved after iterations 10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000 of a 10000-query
budget, these iterations rescaled to ``n_queries`` (:func:`fraction`); h = the closest integer to sqrt(p * H * W), at
least 1 and at most min(H, W).

Redraws: a proposal that leaves the point as it is (the square already holds those signs) wastes a query. The
authors' code redraws the square until it changes the point; here each iteration draws ``draws`` proposals per
sample and queries the first that changes it (the last when none does; ``draws: 1`` is Algorithm 2 as printed).
Whether a proposal changes the point is read off 2-D prefix sums of the sign tensor, so redraws cost no query.

Points the attacker misclassifies when clean are not attacked (their perturbation is 0, as in AutoAttack), so
the attack never makes a point correct; points it fools stop at the first success. Randomness: one base seed is
drawn from the job's generator; each budget derives its own CPU generator from it, which draws the stripes and,
every iteration, the proposals for *all* N samples (each sample uses its rows): results do not depend on
``batch_size``, on which samples are still being attacked, or on the device. Each candidate is judged exactly as
:meth:`PerBudgetAttack.materialise` rebuilds it from the float16 artifact (``delta`` (N, E, C, H, W)).

Cost per budget, in forward passes over the attacked samples: at most ``n_queries`` (plus one over every sample
for the clean margins); fooled samples drop out. The L2 version of the paper (Algorithm 3) is not implemented.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from advreg.attacks import ATTACKS
from advreg.attacks.apgd import Budget
from advreg.attacks.base import DEFAULT_BATCH_SIZE
from advreg.attacks.pgd import (
    PerBudgetAttack,
    batches,
    check_logits,
    run_generator,
)

# Iterations (of a 10000-query budget) after which p halves: Andriushchenko et al. 2020, sec. 3.1 / appendix.
HALVINGS = (10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000)


def fraction(i: int, n_queries: int, p_init: float) -> float:
    """p at iteration ``i`` (0 = the first proposal after the init, as the authors' code counts; Algorithm 1
    counts it as 1, which only matters for small budgets): ``p_init`` halved once per entry of :data:`HALVINGS`
    that ``i``, rescaled to a 10000-query budget, has passed."""
    scaled = int(i / n_queries * 10000)
    return p_init / 2 ** sum(scaled > h for h in HALVINGS)


def side_length(p: float, height: int, width: int) -> int:
    """The square's side: the closest integer to sqrt(p * H * W), within [1, min(H, W)]."""
    return min(max(round(math.sqrt(p * height * width)), 1), height, width)


def margin(logits: Tensor, y: Tensor) -> Tensor:
    """z_y - max_{k != y} z_k per sample (the margin loss minimised; <= 0 once misclassified, ties included)."""
    true = logits.gather(1, y[:, None]).squeeze(1)
    others = logits.scatter(1, y[:, None], -math.inf)
    return true - others.max(dim=1).values


def window_counts(plus: Tensor, rows: Tensor, cols: Tensor, side: int) -> Tensor:
    """For proposals at top-left corners (rows, cols) (each (B, T)) of a ``side`` x ``side`` square: how many
    entries of each channel's square are True in ``plus`` (B, C, H, W), as (B, T, C), from 2-D prefix sums."""
    b, c, h, w = plus.shape
    prefix = torch.zeros((b, c, h + 1, w + 1), dtype=torch.int32, device=plus.device)
    prefix[:, :, 1:, 1:] = plus.to(torch.int32).cumsum(2).cumsum(3)
    flat = prefix.reshape(b, c, (h + 1) * (w + 1))

    def at(r: Tensor, s: Tensor) -> Tensor:  # (B, T) corners -> (B, T, C)
        index = (r * (w + 1) + s)[:, None, :].expand(b, c, r.shape[1])
        return flat.gather(2, index).transpose(1, 2)

    return at(rows + side, cols + side) - at(rows, cols + side) - at(rows + side, cols) + at(rows, cols)


class Square(PerBudgetAttack):
    """Square Attack, L-infinity (Andriushchenko et al. 2020, Algorithms 1 and 2; see the module docstring).

    The state is ``plus`` (N, C, H, W) bool: True where x^ - x = +eps. The two points every coordinate can take,
    x + eps and x - eps as realised from storage (:meth:`PerBudgetAttack.realise`, elementwise), are computed once
    per budget, so a query's input is one ``where``."""

    spec = ATTACKS["square"]

    def search(
        self,
        model: nn.Module,
        x: Tensor,
        y: Tensor,
        eps: float,
        generator: torch.Generator,
        batch_size: int,
        active: Tensor | None = None,
    ) -> Tensor:
        """The signs (N, C, H, W) of the kept perturbation at budget ``eps``; zero rows for points not attacked
        (misclassified when clean, or outside ``active`` (N,) bool when given: AutoAttack's later stages). The
        random draws cover all N points whatever ``active``, so an attacked point's search does not depend on it."""
        n, c, height, width = x.shape
        draws = self.params.draws
        up, down = self.realise(torch.full_like(x, eps), x, eps), self.realise(torch.full_like(x, -eps), x, eps)
        stripes = torch.randint(0, 2, (n, c, 1, width), generator=generator).to(torch.bool)
        plus = stripes.expand(n, c, height, width).to(x.device).contiguous()
        loss = torch.empty(n, dtype=x.dtype, device=x.device)
        active = torch.ones(n, dtype=torch.bool, device=x.device) if active is None else active
        attacked = torch.zeros(n, dtype=torch.bool, device=x.device)
        with torch.no_grad():
            for part in batches(torch.arange(n, device=x.device), batch_size):
                clean = model(self.realise(torch.zeros_like(x[part]), x[part], eps))
                attacked[part] = (clean.argmax(1) == y[part]) & active[part]
                loss[part] = margin(model(torch.where(plus[part], up[part], down[part])), y[part])
            # the samples still searched (margin >= 0: possibly classified correctly), compacted so that every
            # batch is a slice; written back to plus / loss when some succeed, and at the end
            index = (attacked & (loss >= 0)).nonzero().flatten()
            state = [plus[index], loss[index], up[index], down[index], y[index]]
            for i in range(1, self.params.n_queries):
                side = side_length(fraction(i - 1, self.params.n_queries, self.params.p_init), height, width)
                rows = torch.randint(0, height - side + 1, (n, draws), generator=generator).to(x.device)
                cols = torch.randint(0, width - side + 1, (n, draws), generator=generator).to(x.device)
                rho = torch.randint(0, 2, (n, draws, c), generator=generator).to(device=x.device, dtype=torch.bool)
                if index.numel() == 0:
                    break
                now, best, hi, lo, labels = state
                rows, cols, rho = rows[index], cols[index], rho[index]
                for start in range(0, index.numel(), batch_size):
                    b = slice(start, start + batch_size)
                    proposal = self.proposal(now[b], rows[b], cols[b], rho[b], side)
                    new = margin(model(torch.where(proposal, hi[b], lo[b])), labels[b])
                    better = new < best[b]  # Algorithm 1, step 7
                    now[b] = torch.where(better.reshape(-1, 1, 1, 1), proposal, now[b])
                    best[b] = torch.where(better, new, best[b])
                done = best < 0
                if done.any():
                    plus[index], loss[index] = now, best
                    index, state = index[~done], [t[~done] for t in state]
            plus[index], loss[index] = state[0], state[1]
        signs = plus.to(x.dtype) * 2 - 1
        return torch.where(attacked.reshape(-1, 1, 1, 1), signs, torch.zeros_like(signs))

    def budget_runs(self, b: Budget, first_covers_all: bool) -> None:
        """Square at budget ``b`` as a stage of AutoAttack: on every point (``first_covers_all``) or on those
        ``b.kept`` has not fooled, offered to ``b.kept``; same random stream as the attack run alone."""
        active = torch.ones_like(b.kept.fooled) if first_covers_all else ~b.kept.fooled
        if not active.any():
            return
        signs = self.search(b.model, b.x, b.y, b.eps, run_generator(b.seed, "square", b.index), b.batch_size, active)
        for part in batches(active.nonzero().flatten(), b.batch_size):
            b.kept.offer(part, b.x[part] + b.eps * signs[part])

    @staticmethod
    def proposal(plus: Tensor, rows: Tensor, cols: Tensor, rho: Tensor, side: int) -> Tensor:
        """Algorithm 2 for a batch: of each sample's proposals (corners ``rows``, ``cols`` (B, T), signs ``rho``
        (B, T, C), True = +), the first that changes ``plus`` (the last if none does), applied to it."""
        count = window_counts(plus, rows, cols, side)  # (B, T, C): +eps entries in each proposal's square
        same = torch.where(rho, count == side * side, count == 0).all(dim=2)  # (B, T): changes nothing
        pick = (~same).to(torch.int64).argmax(dim=1)
        pick = torch.where(same.all(dim=1), torch.full_like(pick, same.shape[1] - 1), pick)
        take = torch.arange(plus.shape[0], device=plus.device)
        r, s, sign = rows[take, pick], cols[take, pick], rho[take, pick]  # (B,), (B,), (B, C)
        along_h = torch.arange(plus.shape[2], device=plus.device)[None, :]
        along_w = torch.arange(plus.shape[3], device=plus.device)[None, :]
        in_rows = (along_h >= r[:, None]) & (along_h < r[:, None] + side)
        in_cols = (along_w >= s[:, None]) & (along_w < s[:, None] + side)
        square = (in_rows[:, :, None] & in_cols[:, None, :])[:, None]  # (B, 1, H, W)
        return torch.where(square, sign[:, :, None, None], plus)

    def craft(
        self,
        model: nn.Module,
        x: Tensor,
        y: Tensor,
        epsilons: Sequence[float],
        generator: torch.Generator,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> dict[str, Tensor]:
        x, y, epsilons, batch_size, seed, out = self.begin_craft(x, y, epsilons, generator, batch_size)
        if x.ndim != 4:
            raise ValueError(
                f"attack '{self.name}': Square needs image inputs (N, C, H, W) for its squares, got {tuple(x.shape)}"
            )
        if x.shape[0] == 0 or all(eps == 0 for eps in epsilons):
            return {"delta": out}
        with torch.no_grad():
            check_logits(self.name, model(x[:1]), 1, min_classes=2)
        for e, eps in enumerate(epsilons):
            if eps == 0:
                continue
            signs = self.search(model, x, y, eps, run_generator(seed, self.name, e), batch_size)
            out[:, e] = (eps * signs).to(torch.float16)
        return {"delta": out}
