"""``parseval``: Parseval training (Cisse et al. 2017) as DeepDefense compares against it (sec. 4).

"A projection update is performed after each stochastic gradient descent (SGD) iteration to ensure all weight
matrices' Parseval tightness. Following the original paper, we uniformly sample 30% of columns to perform this
update. We set the hyper-parameter beta = 0.0001 for MNIST, and beta = 0.0003 for CIFAR-10." The loss is the
plain cross-entropy; after every optimiser step (:meth:`Parseval.after_step`), for every weight W (a linear
layer's (out, in) matrix, a convolution kernel unfolded to (out, in * kh * kw)) a random subset S of
``fraction`` of its output units is drawn and

    W_S <- (1 + beta) W_S - beta W_S W_S^T W_S

(Parseval networks, Alg. 1: one gradient step on beta/2 ||W_S W_S^T - I||^2, pulling the sampled rows towards
an orthonormal set). The "columns" of DeepDefense's text are output units in its notation (eq. 4: W_0^T x),
i.e. the rows of PyTorch's (out, in) weights, as Parseval networks' "rows". ``layers: all`` projects every
weight (DeepDefense: "all weight matrices"), ``hidden`` all but the output layer's (Parseval networks' Alg. 1).
Biases are untouched; convolution kernels get no extra rescaling. The subsets are drawn from a generator seeded
once from the job's global seed, so a rerun draws the same subsets.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from advreg.methods import METHODS
from advreg.methods.base import Batch, Method


def parseval_retraction(weight: torch.Tensor, rows: torch.Tensor, beta: float) -> None:
    """In place: W_S <- (1 + beta) W_S - beta W_S W_S^T W_S for the rows ``rows`` of ``weight`` unfolded to 2-d."""
    matrix = weight.view(weight.shape[0], -1)
    sub = matrix[rows]
    matrix[rows] = (1 + beta) * sub - beta * (sub @ sub.T) @ sub


def projected_weights(model: nn.Module, layers: str) -> list[torch.Tensor]:
    """The weights Parseval's step applies to: every matrix/kernel (``ndim >= 2``), the output block's excluded
    when ``layers == "hidden"`` (a model without named blocks: the last such weight)."""
    named = [(name, p) for name, p in model.named_parameters() if p.requires_grad and p.ndim >= 2]
    if layers == "all":
        return [p for _, p in named]
    output = getattr(model, "output_name", None)
    if output is None:
        return [p for _, p in named[:-1]]
    return [p for name, p in named if not name.startswith(f"blocks.{output}.")]


class Parseval(Method):
    """Parseval training (DeepDefense sec. 4): CE, then the orthonormality step after every SGD step."""

    spec = METHODS["parseval"]

    def setup(self, model: nn.Module, train_x: torch.Tensor, train_y: torch.Tensor) -> None:
        self.weights = projected_weights(model, self.params.layers)
        if not self.weights:
            raise ValueError(f"method '{self.name}': the model has no weight matrix to project")
        seed = int(torch.randint(0, 2**62, (1,)).item())  # from the job's seeded global generator
        self.generator = torch.Generator().manual_seed(seed)

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        return F.cross_entropy(model(batch.x), batch.y), {}

    @torch.no_grad()
    def after_step(self, model: nn.Module) -> None:
        if not hasattr(self, "weights"):
            raise RuntimeError(f"method '{self.name}': setup() must run before after_step() (the loop calls it)")
        for weight in self.weights:
            n = weight.shape[0]
            count = max(1, round(self.params.fraction * n))
            rows = torch.randperm(n, generator=self.generator)[:count].to(weight.device)
            parseval_retraction(weight, rows, self.params.beta)
