"""DataGrad's multitask models: ``mt``, ``mt_dgl1``, ``mt_dgl2`` (datagrad.md, sec. 3, eq. 3.1, footnote 4).

Eq. 3.1::

    L_DG(t, d, Theta) = L0(t, d, Theta) + gamma * L1(t, d, Theta) + lam * R(J_L0(t, d, Theta))

``L0``: cross-entropy of the main head (the 10 digit classes); ``L1``: cross-entropy of the auxiliary
head, which predicts the rotation class of the input. The network is the dual-task rectifier net: "two
disjoint sets of output units, each connected to the penultimate hidden layer by a separate set of
parameters" (build ``mlp_datagrad`` with ``aux_classes: 5``; :meth:`LayeredClassifier.forward_aux`).
``mt`` has no DataGrad term (*MT*); ``mt_dgl1`` / ``mt_dgl2`` add it on ``L0`` only (*MT-DGL1/2*),
optimised by the same finite difference as ``dgl1`` / ``dgl2`` (eq. 2.4): the adversarial direction comes
from ``grad_x L0``, and the update is::

    lam0 * grad L0(x) + gamma * grad L1(x) + (lam/phi) * (grad L0(x_r) - grad L0(x)).

``lam0`` (1 in eq. 3.1) is kept as a parameter for symmetry with ``dgl*``. Cost: two forward passes and
three backward passes (the auxiliary loss needs its own vector-Jacobian product through the shared
layers, since the adversarial direction must be the gradient of ``L0`` alone).

The auxiliary task (footnote 4): "we artificially rotate each sample in the training set five times (once
for each category) and record that rotation as a label"; the categories are 0 deg, 15 deg left, 30 deg
left, 15 deg right, 30 deg right -> rotation labels 0..4, and the expanded set (5N samples, main labels
unchanged) is the training set (:meth:`prepare_data`). Choices the paper leaves open, made here:

- "left" is counter-clockwise, which is a *positive* angle in torchvision;
- rotation about the image centre, same output size (corners cut off), bilinear interpolation, fill 0
  (the background of MNIST-like images); 0 deg is an exact copy. The rotated images are float (bilinear
  values are not on the 1/255 grid), so the expanded set takes 5x the training set's memory (about
  0.8 GB for 50k 28x28 images);
- the expanded set is laid out rotation-major: sample ``k * N + i`` is sample ``i`` rotated by
  ``ROTATION_ANGLES[k]``, with rotation label ``k``; it is shuffled by the loop like any training set;
- validation and test data are not rotated (the main task is evaluated on the original images).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from advreg.methods import METHODS
from advreg.methods.base import Batch, Method
from advreg.methods.datagrad import finite_difference_step
from advreg.params import Params
from advreg.splits import Split

# Rotation label k -> angle in degrees; positive = counter-clockwise = "to the left" (footnote 4).
ROTATION_ANGLES: tuple[float, ...] = (0.0, 15.0, 30.0, -15.0, -30.0)
ROTATION_CLASSES = len(ROTATION_ANGLES)


def rotate_images(x: torch.Tensor, angle: float, chunk: int = 4096) -> torch.Tensor:
    """Rotate a float batch (N, C, H, W) by ``angle`` degrees counter-clockwise about the image centre.

    Bilinear interpolation, same output size, fill 0; deterministic. ``angle == 0`` returns an exact copy.
    """
    from torchvision.transforms.v2 import functional as TF  # imported here: only multitask training needs it

    if angle == 0:
        return x.clone()
    parts = [
        TF.rotate(
            x[start : start + chunk], float(angle), interpolation=TF.InterpolationMode.BILINEAR, expand=False, fill=0.0
        )
        for start in range(0, x.shape[0], chunk)
    ]
    return torch.cat(parts) if parts else x.clone()


def rotated_training_set(train: Split) -> tuple[Split, torch.Tensor]:
    """Footnote 4's expanded set: every sample in each of the five rotations; also the rotation labels."""
    n = train.x.shape[0]
    x = torch.cat([rotate_images(train.x, angle) for angle in ROTATION_ANGLES])
    y = train.y.repeat(ROTATION_CLASSES)
    rotation = torch.arange(ROTATION_CLASSES, dtype=torch.int64).repeat_interleave(n)
    return Split(x, y, torch.arange(ROTATION_CLASSES * n)), rotation


class _MultiTask(Method):
    def __init__(self, params: Mapping[str, Any] | Params | None = None) -> None:
        super().__init__(params)
        self.rotation: torch.Tensor | None = None  # rotation label of each sample of the expanded set

    def prepare_data(self, train: Split, model: nn.Module) -> Split:
        expanded, self.rotation = rotated_training_set(train)
        return expanded

    def _check_model(self, model: nn.Module) -> None:
        if getattr(model, "aux_head", None) is None or not hasattr(model, "forward_aux"):
            raise ValueError(
                f"method '{self.name}' needs a model with an auxiliary head for the rotation task "
                f"(DataGrad sec. 3, eq. 3.1): set model kwargs aux_classes: {ROTATION_CLASSES}"
            )

    def setup(self, model: nn.Module, train_x: torch.Tensor, train_y: torch.Tensor) -> None:
        self._check_model(model)

    def _rotation_labels(self, batch: Batch, device: torch.device) -> torch.Tensor:
        if self.rotation is None:
            raise RuntimeError(
                f"method '{self.name}': prepare_data() must run before loss() (the training loop calls it)"
            )
        return self.rotation[batch.index.cpu()].to(device)

    def _clean_pass(
        self, model: nn.Module, x: torch.Tensor, batch: Batch
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Summed L0, mean L1 and the main logits on ``x`` (the shared layers run once)."""
        self._check_model(model)
        rotation = self._rotation_labels(batch, x.device)
        main, aux = model.forward_aux(x)
        if aux.shape[1] != ROTATION_CLASSES:
            raise ValueError(
                f"method '{self.name}': the auxiliary head has {aux.shape[1]} outputs, the rotation task has "
                f"{ROTATION_CLASSES} classes: set model kwargs aux_classes: {ROTATION_CLASSES}"
            )
        l0_sum = F.cross_entropy(main, batch.y, reduction="sum")
        l1 = F.cross_entropy(aux, rotation)
        return l0_sum, l1, main


class MT(_MultiTask):
    """*MT* (sec. 3, eq. 3.1 without the DataGrad term): ``L0 + gamma * L1`` on the rotated set."""

    spec = METHODS["mt"]

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        l0_sum, l1, _ = self._clean_pass(model, batch.x, batch)
        l0 = l0_sum / batch.x.shape[0]
        return l0 + self.params.gamma * l1, {"ce": l0.item(), "ce_aux": l1.item()}


class _MultiTaskDataGrad(_MultiTask):
    reg: str = "l1"

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        gamma = self.params.gamma
        aux_value: dict[str, float] = {}

        def clean_pass(x_in: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            l0_sum, l1, _ = self._clean_pass(model, x_in, batch)
            aux_value["ce_aux"] = l1.item()
            return l0_sum, gamma * l1

        loss, logs = finite_difference_step(
            model,
            batch.x,
            clean_pass,
            lambda x_r: F.cross_entropy(model(x_r), batch.y),  # main head only: R acts on J_L0 (eq. 3.1)
            reg=self.reg,
            lam=self.params.lam,
            phi=self.params.phi,
            lam0=self.params.lam0,
        )
        return loss, {**logs, **aux_value}


class MTDGL1(_MultiTaskDataGrad):
    """*MT-DGL1* (sec. 3, eq. 3.1 with R1): multitask plus DataGrad-L1 on the main task, by eq. 2.4."""

    spec = METHODS["mt_dgl1"]
    reg = "l1"


class MTDGL2(_MultiTaskDataGrad):
    """*MT-DGL2* (sec. 3, eq. 3.1 with R2): multitask plus DataGrad-L2 on the main task, by eq. 2.4."""

    spec = METHODS["mt_dgl2"]
    reg = "l2"
