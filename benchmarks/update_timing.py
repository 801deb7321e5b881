"""Timing one training update per method, shared by benchmarks/datagrad.py and benchmarks/lwa.py.

An update is what the training loop does per batch: zero the gradients, the method's loss, read its value (the
loop's divergence check), backward, SGD step. Methods are timed in turn within each repeat (so drift of the
machine's speed hits all alike), after three warm-up updates each; the table gives the median and the fastest
update of each method in ms and as a multiple of ``plain``'s.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import torch
from torch import nn

from advreg.methods.base import Batch, Method


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def make_update(model: nn.Module, method: Method, batch: Batch, lr: float = 1e-3) -> Callable[[], None]:
    """One update as a closure (``lr`` 0: every repeat sees the same model, the same work)."""
    optimiser = torch.optim.SGD(model.parameters(), lr=lr)

    def update() -> None:
        optimiser.zero_grad(set_to_none=True)
        loss, _ = method.loss(model, batch)
        loss.item()  # the loop reads the value every step (divergence check)
        loss.backward()
        optimiser.step()

    return update


def time_updates(updates: Mapping[str, Callable[[], None]], repeats: int, device: torch.device) -> None:
    """Time every update ``repeats`` times and print the table (``updates`` must include ``plain``)."""
    for update in updates.values():
        for _ in range(3):  # warm-up
            update()
    sync(device)
    times: dict[str, list[float]] = {name: [] for name in updates}
    for _ in range(repeats):
        for name, update in updates.items():
            start = time.perf_counter()
            update()
            sync(device)
            times[name].append(1000 * (time.perf_counter() - start))
    median = {name: sorted(t)[len(t) // 2] for name, t in times.items()}
    fastest = {name: min(t) for name, t in times.items()}
    print(f"{'method':<12}{'median ms':>11}{'x plain':>9}{'min ms':>9}{'x plain':>9}")
    for name in updates:
        print(
            f"{name:<12}{median[name]:>11.2f}{median[name] / median['plain']:>9.2f}"
            f"{fastest[name]:>9.2f}{fastest[name] / fastest['plain']:>9.2f}"
        )
