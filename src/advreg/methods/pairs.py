"""HLDR's fine-tuning sets (latent-disparity-regularization.md, sec. IV): the pairs D and D_N.

D holds one pair ``(x, x_a)`` per benign fine-tuning sample ``x`` and FGSM budget ``eps`` in
``{0, 16/255, 32/255}``: ``x_a = x + eps * sign(grad_x L(x, y))`` (eq. 1), the gradient taken once, on the
model as fine-tuning starts (the pretrained reference, in eval mode: the paper crafts the pairs on the pretrained
model and every fold starts from it). D_N adds one AGN pair ``(x, x_n)`` per sample, ``x_n = x + n`` with
``n ~ N(0, sigma^2)`` per pixel (sigma = 32/255).

The noise is drawn once, from a generator seeded by the method's ``noise_seed`` and the fold's fine-tuning
samples (their indices), so every method of a fold (HLDR, FIMR, HGD on D_N, AGNT) sees the same noisy copies,
and every fold its own. With ``clip`` the perturbed inputs are clamped to the [0, 1] pixel box (the evaluation
attacks clip too; the paper's formulas do not say).

Layout of an expanded set: budget-major, ``k * N + i`` is sample ``i`` paired with its ``k``-th partner (the
budgets in order, then the noise); the benign inputs are repeated accordingly and the expanded split's ``index``
is ``0 .. K * N - 1``, so a method finds a batch's partners as ``partners[batch.index]``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from advreg.attacks.base import clip_box, input_gradient
from advreg.methods.base import Batch, Method
from advreg.params import Params
from advreg.runtime import derive_seed
from advreg.splits import Split

CRAFT_BATCH_SIZE = 500


def target_network(model: nn.Module) -> nn.Module:
    """The network a denoised model (HGD) defends, without its denoiser; any other model itself."""
    target = getattr(model, "target", None)
    return target() if callable(target) else model


def fgsm_partners(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, budgets: Sequence[float], clip: bool
) -> torch.Tensor:
    """``x + eps * sign(grad_x L)`` for every budget, budget-major (len(budgets) * N samples), on x's device.

    The gradient is the summed cross-entropy's (attacks.base.input_gradient) of the model in eval mode; the
    model's mode is restored afterwards."""
    device = next(model.parameters()).device
    network = target_network(model)
    was_training = model.training
    model.eval()
    try:
        sign = torch.sign(input_gradient(network, x.to(device), y.to(device), CRAFT_BATCH_SIZE)).to(x.device)
    finally:
        model.train(was_training)
    return torch.cat([clip_box(x + float(eps) * sign, clip) for eps in budgets])


def noise_generator(train: Split, noise_seed: int) -> torch.Generator:
    """A CPU generator seeded by ``noise_seed`` and the samples' indices (the same for every method of a fold)."""
    digest = hashlib.sha256(train.index.to(torch.int64).cpu().numpy().tobytes()).hexdigest()
    return torch.Generator().manual_seed(derive_seed(noise_seed, "agn", digest))


def agn_copies(train: Split, sigma: float, noise_seed: int, clip: bool) -> torch.Tensor:
    """``x + sigma * n``, n standard normal per pixel, drawn from :func:`noise_generator`."""
    noise = torch.randn(train.x.shape, generator=noise_generator(train, noise_seed), dtype=torch.float32)
    return clip_box(train.x + float(sigma) * noise.to(train.x.device), clip)


def fine_tuning_pairs(
    train: Split,
    model: nn.Module,
    budgets: Sequence[float],
    *,
    noise: bool,
    sigma: float,
    noise_seed: int,
    clip: bool,
) -> tuple[Split, torch.Tensor]:
    """D (and D_N with ``noise``): the benign split expanded to one entry per pair, and the partners x_a / x_n."""
    partners = [fgsm_partners(model, train.x, train.y, budgets, clip)]
    copies = len(budgets)
    if noise:
        partners.append(agn_copies(train, sigma, noise_seed, clip))
        copies += 1
    benign = train.x.repeat(copies, *([1] * (train.x.ndim - 1)))
    expanded = Split(benign, train.y.repeat(copies), torch.arange(copies * train.x.shape[0]))
    return expanded, torch.cat(partners)


@contextmanager
def batchnorm_statistics_kept(model: nn.Module) -> Iterator[None]:
    """BatchNorm running statistics are those of before on exit: a forward pass in training mode inside normalises
    with its own batch statistics but leaves the running ones (used at test time) as they were. HLDR's adversarial
    branch has its own BatchNorm layers in the authors' code, so its statistics never reach the evaluated model.

    The pass updates copies of the buffers, and the originals are put back afterwards (no in-place write: autograd
    keeps the tensors the pass saved)."""
    saved = []
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            buffers = {name: buffer for name, buffer in module.named_buffers(recurse=False) if buffer is not None}
            for name, buffer in buffers.items():
                setattr(module, name, buffer.clone())
            saved.append((module, buffers))
    try:
        yield
    finally:
        for module, buffers in saved:
            for name, buffer in buffers.items():
                setattr(module, name, buffer)


class PairedMethod(Method):
    """A method trained on D / D_N: :meth:`prepare_data` builds the pairs, :meth:`partners` looks them up."""

    def __init__(self, params: Mapping[str, Any] | Params | None = None) -> None:
        super().__init__(params)
        self._partners: torch.Tensor | None = None

    def prepare_data(self, train: Split, model: nn.Module) -> Split:
        p = self.params
        expanded, self._partners = fine_tuning_pairs(
            train, model, p.budgets, noise=p.noise, sigma=p.sigma, noise_seed=p.noise_seed, clip=p.clip
        )
        return expanded

    def partners(self, batch: Batch) -> torch.Tensor:
        """The batch's adversarial (or noisy) partners x_a, on the batch's device, cut to the windows of the
        batch's inputs when the model crops (:meth:`Batch.same_crop`)."""
        if self._partners is None:
            raise RuntimeError(f"method '{self.name}': prepare_data() must run before loss() (the training loop does)")
        return batch.same_crop(self._partners[batch.index.cpu()].to(batch.x.device))
