"""BatchNorm of HLDR's adversarial branch normalised with the benign batch's statistics
(latent-disparity-regularization.md, sec. III, eq. 3 and Fig. 1).

Eq. 3 compares ``s_i(x)`` with ``s_i(x_a)``, "the activity that would be induced in the i-th layer by stimulating
the given neural network with an adversarially perturbed version of the same input": one network, whose layers
(Fig. 1: shared weights) map each input to its activity. In training mode a BatchNorm layer's map depends on the
batch; :func:`benign_batch_statistics` makes both branches use the same map, the one the benign batch defines:

- the benign pass (``record``) normalises with its batch's mean and biased variance, as ``nn.BatchNorm`` in
  training mode, updates the running statistics the same way, and keeps the statistics (with their graph, so the
  penalty is differentiated through them as through the benign branch);
- the adversarial pass (``reuse``) normalises with those statistics and touches no running statistic.

A pair with ``x_a = x`` (budget 0) then gives ``s_i(x_a) = s_i(x)`` bit for bit, whatever else the batch holds.
Both passes normalise by the same expression, :func:`_normalise` (not ATen's kernel, whose rounding differs).
Layers in eval mode (or without running statistics tracking and not training) keep their own forward: they are a
fixed map already.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import Tensor, nn

_BatchNorm = nn.modules.batchnorm._BatchNorm


def _normalise(module: _BatchNorm, x: Tensor, mean: Tensor, var: Tensor) -> Tensor:
    shape = (1, -1) + (1,) * (x.ndim - 2)
    y = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + module.eps)
    if module.affine:
        y = y * module.weight.view(shape) + module.bias.view(shape)
    return y


def _uses_batch_statistics(module: _BatchNorm) -> bool:
    return module.training or module.running_mean is None


def _update_running(module: _BatchNorm, mean: Tensor, var: Tensor, count: int) -> None:
    """``nn.BatchNorm``'s update in training mode: momentum (or the cumulative average) on the batch's mean and
    unbiased variance."""
    if not (module.training and module.track_running_stats and module.running_mean is not None):
        return
    with torch.no_grad():
        module.num_batches_tracked.add_(1)
        factor = 1.0 / float(module.num_batches_tracked) if module.momentum is None else module.momentum
        unbiased = var * (count / max(count - 1, 1))
        module.running_mean.mul_(1 - factor).add_(mean.detach(), alpha=factor)
        module.running_var.mul_(1 - factor).add_(unbiased.detach(), alpha=factor)


class BranchStatistics:
    """The benign batch's statistics per BatchNorm layer, recorded by one pass and reused by the next."""

    def __init__(self) -> None:
        self.stats: dict[_BatchNorm, tuple[Tensor, Tensor]] = {}

    def record(self, module: _BatchNorm, x: Tensor) -> Tensor:
        if not _uses_batch_statistics(module):
            return type(module).forward(module, x)
        dims = [0, *range(2, x.ndim)]
        mean, var = x.mean(dims), x.var(dims, unbiased=False)
        _update_running(module, mean, var, x.numel() // x.shape[1])
        self.stats[module] = (mean, var)
        return _normalise(module, x, mean, var)

    def reuse(self, module: _BatchNorm, x: Tensor) -> Tensor:
        if not _uses_batch_statistics(module):
            return type(module).forward(module, x)
        if module not in self.stats:
            raise RuntimeError("HLDR: the adversarial pass reached a BatchNorm layer the benign pass did not")
        mean, var = self.stats[module]
        return _normalise(module, x, mean, var)


@contextmanager
def _forwards(model: nn.Module, forward: Callable[[_BatchNorm, Tensor], Tensor]) -> Iterator[None]:
    modules = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    for module in modules:
        module.forward = lambda x, module=module: forward(module, x)  # an instance attribute shadows the class's
    try:
        yield
    finally:
        for module in modules:
            del module.forward


@contextmanager
def recording(model: nn.Module, stats: BranchStatistics) -> Iterator[None]:
    """Inside, the model's BatchNorm layers normalise by their batch and record its statistics (the benign pass)."""
    with _forwards(model, stats.record):
        yield


@contextmanager
def reusing(model: nn.Module, stats: BranchStatistics) -> Iterator[None]:
    """Inside, the model's BatchNorm layers normalise by the recorded statistics (the adversarial pass)."""
    with _forwards(model, stats.reuse):
        yield
