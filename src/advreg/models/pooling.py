"""2 x 2 / stride-2 max-pooling: the same numbers as ``nn.MaxPool2d(2, 2)``, several times faster on CPU.

Every LeNet and VGG of the four papers pools 2 x 2 with stride 2. ATen's CPU kernel for it is slow (on the
machines we measured, 23 ms for a (1000, 6, 24, 24) batch on one thread, where the elementwise maximum of the
window's four strided views takes 4 ms: ``benchmarks/pooling.py``), and the cross-evaluation runs thousands of
such forward passes. :class:`MaxPool2x2` is a drop-in ``nn.MaxPool2d`` (same class for ``isinstance``, no
parameters, same state dict) whose forward computes the pool from the four views:

- the values are bit-identical to ``F.max_pool2d`` (a maximum is exact; NaN propagates in both);
- ``ceil_mode`` on odd sizes pads the last row/column with -inf, which never wins a window that has a real value;
- only where no gradient is recorded (evaluation, predictions, attack steps that need no graph through the pool);
  under autograd ATen's kernel runs, because its fused backward is faster than any composition of views we
  tried (twice as fast as routing the gradient with four masks), and gradients stay ATen's by construction.

Other devices, non-4-D or integer tensors use ATen as well.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["MaxPool2x2", "max_pool_2x2"]


def _views(x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The four elements of every window, as strided views: (0, 0), (0, 1), (1, 0), (1, 1)."""
    return x[..., 0::2, 0::2], x[..., 0::2, 1::2], x[..., 1::2, 0::2], x[..., 1::2, 1::2]


def max_pool_2x2(x: Tensor, ceil_mode: bool = False) -> Tensor:
    """``F.max_pool2d(x, 2, 2, ceil_mode=ceil_mode)``; the fast path for a 4-D CPU tensor outside autograd."""
    recorded = torch.is_grad_enabled() and x.requires_grad  # ATen's backward is faster than ours
    if recorded or x.device.type != "cpu" or x.dim() != 4 or not x.is_floating_point() or min(x.shape[-2:]) < 2:
        return F.max_pool2d(x, 2, 2, ceil_mode=ceil_mode)
    h, w = x.shape[-2:]
    if ceil_mode and (h % 2 or w % 2):
        x = F.pad(x, (0, w % 2, 0, h % 2), value=float("-inf"))
    elif h % 2 or w % 2:
        x = x[..., : h - h % 2, : w - w % 2]
    a, b, c, d = _views(x)
    return torch.maximum(torch.maximum(a, b), torch.maximum(c, d))


class MaxPool2x2(nn.MaxPool2d):
    """``nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=...)`` computed by :func:`max_pool_2x2`."""

    def __init__(self, ceil_mode: bool = False) -> None:
        super().__init__(kernel_size=2, stride=2, ceil_mode=ceil_mode)

    def forward(self, x: Tensor) -> Tensor:
        return max_pool_2x2(x, self.ceil_mode)
