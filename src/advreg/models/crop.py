"""Random crops drawn once per training step (learning-with-a-strong-adversary.md, sec. 7: "randomly cropped to size
28x28").

A random crop is data augmentation: the authors' MXNet code crops in the data iterator (``ImageRecordIter(
rand_crop=True)``), so every forward pass of a training step sees the same window of each image. That matters for
every method with several passes per step: LWA computes r at the clean crop and takes the loss at that crop plus r
(Alg. 2 lines 3-7: the pseudo-sample ``x + c r*/||r*||``); Goodfellow's method, DataGrad and DeepDefense pass the
same batch several times; HLDR compares a sample with its adversarial partner. So the training loop
(:mod:`advreg.training.loop`) draws each sample's window once per step from its own generator (:func:`step_crop`,
deterministic from the job's seed and saved in checkpoints), crops the batch before the method sees it and hands the
method the crop (:meth:`advreg.methods.base.Batch.same_crop`) for any other per-sample tensor (HLDR's partners).

A model's random-crop input layer (:class:`RandomCropInput`) passes an input of the crop's size through; it crops
a full-size input to the centre in eval mode and refuses one in training mode (a forward pass that drew its own
window would no longer share the step's window). Its ``mirror`` flag adds the authors' random horizontal flips
(``rand_mirror=True``; the paper mentions none), drawn with the windows.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

__all__ = ["RandomCropInput", "StepCrop", "crop_settings", "crop_windows", "step_crop"]


def crop_windows(x: Tensor, top: Tensor, left: Tensor, size: int) -> Tensor:
    """``x[i, :, top[i] : top[i] + size, left[i] : left[i] + size]`` for every sample ``i``, batched (a gather)."""
    n = x.shape[0]
    steps = torch.arange(size, device=x.device)
    rows = (top.to(x.device)[:, None] + steps)[:, None, :, None]  # (N, 1, size, 1)
    cols = (left.to(x.device)[:, None] + steps)[:, None, None, :]  # (N, 1, 1, size)
    samples = torch.arange(n, device=x.device)[:, None, None, None]
    channels = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    return x[samples, channels, rows, cols]


class RandomCropInput(nn.Module):
    """Base of input layers that crop ``crop x crop`` windows: random ones drawn by the training loop, the centred
    one in eval mode. ``crop`` = 0: no crop. ``mirror``: the loop also flips each sample horizontally with
    probability 1/2 (never in eval mode)."""

    crop: int
    mirror: bool = False

    def cropped(self, x: Tensor) -> Tensor:
        if not self.crop or tuple(x.shape[-2:]) == (self.crop, self.crop):
            return x  # no crop, or already cropped (by the training loop's step crop)
        height, width = x.shape[-2:]
        if self.training:
            raise ValueError(
                f"{type(self).__name__}: got a {height}x{width} input in training mode; its random {self.crop}x"
                f"{self.crop} crop is drawn once per training step by the training loop (advreg.models.crop."
                "step_crop, Batch.same_crop), so that every pass of the step sees the same window: crop the input "
                "with it, or call the model in eval mode (centre crop)"
            )
        top, left = (height - self.crop) // 2, (width - self.crop) // 2
        return x[:, :, top : top + self.crop, left : left + self.crop]


def crop_settings(model: nn.Module) -> tuple[int, bool]:
    """The window size (0: none) and the mirror flag of the model's random-crop input layers, in whatever mode (a
    frozen part in eval mode still trains on the step's crops); (0, False) if there is none."""
    found = {(m.crop, m.mirror) for m in model.modules() if isinstance(m, RandomCropInput) and (m.crop or m.mirror)}
    if len(found) > 1:
        raise ValueError(f"{type(model).__name__} has random-crop input layers of several settings {sorted(found)}")
    return found.pop() if found else (0, False)


@dataclass(frozen=True)
class StepCrop:
    """The windows of one training step: sample ``i`` of the batch is cropped at ``(top[i], left[i])`` to
    ``size x size`` and flipped horizontally where ``flip[i]`` (``flip`` None: never); applies to any (N, C, H, W)
    tensor of the batch's samples (the inputs, their partners)."""

    top: Tensor
    left: Tensor
    size: int
    full: tuple[int, int]
    flip: Tensor | None = None

    def __call__(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[0] != self.top.shape[0] or tuple(x.shape[-2:]) != self.full:
            raise ValueError(
                f"the step's crop takes ({self.top.shape[0]}, C, {self.full[0]}, {self.full[1]}) tensors of the "
                f"batch's samples, got shape {tuple(x.shape)}"
            )
        out = crop_windows(x, self.top, self.left, self.size)
        if self.flip is None:
            return out
        return torch.where(self.flip.to(x.device).reshape(-1, 1, 1, 1), out.flip(-1), out)


def step_crop(model: nn.Module, x: Tensor, generator: torch.Generator) -> StepCrop | None:
    """One random window per sample of the batch ``x`` for the model's random crop (offsets uniform, drawn on the CPU
    from ``generator``, so the windows are the same on every device) and, with ``mirror``, one coin per sample for
    the flip; None when the model neither crops nor mirrors ``x``."""
    size, mirror = crop_settings(model)
    n, _, height, width = x.shape
    if not mirror and (not size or (height, width) == (size, size)):
        return None
    if not size and height != width:
        raise ValueError(f"mirror without crop takes square inputs (windows are square), got {height}x{width}")
    size = size or height
    if size > min(height, width):
        raise ValueError(f"crop {size} is larger than the {height}x{width} training inputs")
    top = torch.randint(0, height - size + 1, (n,), generator=generator)
    left = torch.randint(0, width - size + 1, (n,), generator=generator)
    flip = torch.randint(0, 2, (n,), generator=generator).bool() if mirror else None
    return StepCrop(top, left, size, (height, width), flip)
